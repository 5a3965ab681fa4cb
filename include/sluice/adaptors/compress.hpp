#pragma once
/// \file
/// `compress(codec)` / `decompress(codec)`: map a byte stream through a streaming codec
/// (gzip, zstd, identity, ...), yielding `chunk&`s of at most the chunk size. The output
/// buffer never grows, which also bounds what a decompression bomb can cost.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/adaptor.hpp"
#include "../core/codec.hpp"
#include "../core/error.hpp"
#include "../core/stage.hpp"

namespace sluice {

/// Options of `compress` / `decompress`.
struct codec_options {
    /// Size of the chunks handed downstream (the stage's whole output buffer).
    std::size_t chunk_size = default_chunk_size;
    /// An identity codec (or auto_decompress finding no compression) hands the upstream's
    /// chunks on as they are instead of copying them into chunks of `chunk_size`: a copy
    /// of the input fewer, and chunks as large as the upstream's (turn it off where memory
    /// downstream is planned in chunks of `chunk_size`, e.g. a queue of them).
    bool pass_through = true;
};

namespace detail {

template <class Up, class C>
class codec_stage : public stage_base<codec_stage<Up, C>, Up> {
    using base = stage_base<codec_stage<Up, C>, Up>;

public:
    using reference = chunk&;

    codec_stage(Up up, C c, codec_options o, const char* name)
        : base(std::move(up)), codec_(std::move(c)), opt_(o), name_(name) {}

    void bind(run_context& ctx) {
        this->up_.bind(ctx);
        // A codec with threads (the parallel gzip encoder) joins them at the end of the run.
        if constexpr (requires(run_context& x) { codec_.bind(x); }) codec_.bind(ctx);
        // The output chunk, then the codec's own state (a window, blocks, threads' buffers)
        // when it reports it (core/memory_budget.hpp).
        ctx.memory.hold(name_, opt_.chunk_size, "output chunk");
        if constexpr (requires(memory_plan& p) { codec_.plan_memory(p, name_); })
            codec_.plan_memory(ctx.memory, name_);
    }

    maybe<chunk&> next() {
        if (done_) return {};
        prepare();
        for (;;) {
            if constexpr (may_pass_through) {
                if (can_pass_through()) {
                    // An identity codec: the upstream's chunks go on as they are, after
                    // what it copied before it knew (the bytes before detection).
                    if (!out_.empty()) return out_;
                    auto r = this->up_.next();
                    if (!r) {
                        up_done_ = true;
                        done_ = codec_.finish(out_);
                        if (!out_.empty()) return out_;
                        if (done_) return {};
                        continue;
                    }
                    in_bytes_ += r->size();
                    if (r->empty()) continue;
                    return *r;
                }
            }
            if (!pending_.empty()) {
                feed();
                if (out_.spare() == 0) return out_;
                continue;
            }
            if (!up_done_) {
                auto r = this->up_.next();
                if (r) {
                    pending_ = bytes_of(*r);
                    in_bytes_ += pending_.size();
                    continue;
                }
                up_done_ = true;
            }
            // Upstream exhausted: flush the codec chunk by chunk.
            if (codec_.finish(out_)) {
                done_ = true;
                if (out_.empty()) return {};
                return out_;
            }
            if (out_.spare() == 0) return out_;
            no_progress();
        }
    }

    template <class F>
    bool for_each_while(F&& f) {
        if (done_) return true;
        prepare();
        downstream out(f);
        // Drains `pending_` into full chunks handed to f.
        auto drain = [&]() -> bool {
            while (!pending_.empty()) {
                feed();
                if (out_.spare() == 0) {
                    if (!out(out_)) return false;
                    prepare();
                }
            }
            return true;
        };
        if (!drain()) return false;
        if (!up_done_) {
            this->up_.for_each_while([&](auto&& bytes) -> bool {
                if constexpr (may_pass_through) {
                    if (can_pass_through()) {
                        in_bytes_ += bytes.size();
                        if (!out_.empty()) {  // what the codec produced before deciding
                            if (!out(out_)) return false;
                            prepare();
                        }
                        return bytes.empty() || out(bytes);
                    }
                }
                pending_ = bytes_of(bytes);
                in_bytes_ += pending_.size();
                return drain();
            });
            if (out.stopped()) return false;
            up_done_ = true;
        }
        for (;;) {
            bool flushed = codec_.finish(out_);
            if (flushed) {
                done_ = true;
                return out_.empty() ? true : f(out_);
            }
            if (out_.spare() != 0) no_progress();
            if (!f(out_)) return false;
            prepare();
        }
    }

    C& codec() noexcept { return codec_; }
    /// Bytes taken from upstream so far.
    std::uint64_t bytes_in() const noexcept { return in_bytes_; }

private:
    /// Whether the codec copies bytes unchanged now (identity, or auto-detection that found
    /// no compression) and nothing of its own is pending, so the upstream's chunks can be
    /// handed on as they are: a copy of the whole input fewer when reading plain text
    /// through auto_decompress (the CLI's every input).
    static constexpr bool may_pass_through =
        std::is_same_v<reference_t<Up>, chunk&> && requires(const C& c) { c.passes_through(); };
    bool can_pass_through() const noexcept {
        if constexpr (may_pass_through)
            return opt_.pass_through && pending_.empty() && codec_.passes_through();
        else
            return false;
    }
    void prepare() {
        out_.clear();
        out_.reserve(opt_.chunk_size);
    }
    void feed() {
        std::size_t before = out_.size();
        std::size_t used = codec_.process(pending_, out_);
        if (used == 0 && out_.size() == before && out_.spare() != 0) no_progress();
        pending_.remove_prefix(used);
    }
    [[noreturn]] void no_progress() const {
        throw error(errc::failed, name_, "codec made no progress (a codec contract violation)");
    }

    C codec_;
    codec_options opt_;
    const char* name_;
    chunk out_;
    std::string_view pending_;
    std::uint64_t in_bytes_ = 0;
    bool up_done_ = false;
    bool done_ = false;
};

}  // namespace detail

/// What `compress` and `decompress` share: the codec stage, its rules, its options.
template <class Def>
struct codec_adaptor : adaptor<Def, codec_options> {
    template <class Up, class C, class... O>
    using rules = adaptor_rules<
        rule<byte_like<reference_t<Up>>,
             "sluice::compress: the upstream must yield bytes (use encode first)">,
        rule<codec<C>, "sluice::compress: the argument must model sluice::codec (process(in, "
                       "out) and finish(out))">>;
    template <class Up, class C>
    static auto make(Up up, C c, codec_options o = {}) {
        return detail::codec_stage<Up, C>(std::move(up), std::move(c), o, Def::name);
    }
};

/// `bytes | compress(codec)`: yields the codec's output in chunks.
struct compress_fn : codec_adaptor<compress_fn> {
    static constexpr const char* name = "compress";
};
inline constexpr compress_fn compress{};

/// `bytes | decompress(codec)`: the same stage, named for reading direction and errors.
struct decompress_fn : codec_adaptor<decompress_fn> {
    static constexpr const char* name = "decompress";
};
inline constexpr decompress_fn decompress{};

}  // namespace sluice
