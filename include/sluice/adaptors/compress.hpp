#pragma once
/// \file
/// `compress(codec)` / `decompress(codec)`: map a byte stream through a streaming codec
/// (gzip, zstd, identity, ...), yielding `chunk&`s of at most the chunk size. The output
/// buffer never grows, which also bounds what a decompression bomb can cost.

#include <concepts>
#include <cstddef>
#include <string_view>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/closure.hpp"
#include "../core/error.hpp"
#include "../core/stage.hpp"

namespace sluice {

/// A streaming byte transform. Contract:
/// - `process(in, out)` consumes a prefix of `in` and returns its length; it writes only
///   into `out`'s spare capacity (never grows it). When `out.spare() > 0` it makes progress:
///   it consumes input or produces output.
/// - `finish(out)` flushes what is buffered into `out`'s spare capacity and returns true
///   once everything is out; it is called again (with a fresh chunk) while it returns false.
template <class C>
concept codec = std::move_constructible<C> && requires(C& c, std::string_view in, chunk& out) {
    { c.process(in, out) } -> std::convertible_to<std::size_t>;
    { c.finish(out) } -> std::convertible_to<bool>;
};

/// Options of `compress` / `decompress`.
struct codec_options {
    /// Size of the chunks handed downstream (the stage's whole output buffer).
    std::size_t chunk_size = default_chunk_size;
};

namespace detail {

template <class Up, class C>
class codec_stage : public stage_base<codec_stage<Up, C>, Up> {
    using base = stage_base<codec_stage<Up, C>, Up>;

public:
    using reference = chunk&;

    codec_stage(Up up, C c, codec_options o, const char* name)
        : base(std::move(up)), codec_(std::move(c)), opt_(o), name_(name) {}

    maybe<chunk&> next() {
        if (done_) return {};
        prepare();
        for (;;) {
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
        bool stopped = false;
        // Drains `pending_` into full chunks handed to f.
        auto drain = [&]() -> bool {
            while (!pending_.empty()) {
                feed();
                if (out_.spare() == 0) {
                    if (!f(out_)) return false;
                    prepare();
                }
            }
            return true;
        };
        if (!drain()) return false;
        if (!up_done_) {
            this->up_.for_each_while([&](auto&& bytes) -> bool {
                pending_ = bytes_of(bytes);
                in_bytes_ += pending_.size();
                if (!drain()) {
                    stopped = true;
                    return false;
                }
                return true;
            });
            if (stopped) return false;
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

template <const char* Name>
struct codec_fn {
    template <class S, class C>
        requires pipeable_input<S>
    auto operator()(S&& s, C c, codec_options o = {}) const {
        auto up = as_source(std::forward<S>(s));
        using Up = decltype(up);
        static_assert(byte_like<reference_t<Up>>,
                      "sluice::compress: the upstream must yield bytes (use encode first)");
        static_assert(codec<C>, "sluice::compress: the argument must model sluice::codec "
                                "(process(in, out) and finish(out))");
        return codec_stage<Up, C>(std::move(up), std::move(c), o, Name);
    }
    template <class C>
        requires(!pipeable_input<C>)
    auto operator()(C c, codec_options o = {}) const {
        return make_closure<codec_fn>(std::move(c), o);
    }
};

inline constexpr char compress_name[] = "compress";
inline constexpr char decompress_name[] = "decompress";

}  // namespace detail

/// `bytes | compress(codec)`: yields the codec's output in chunks.
inline constexpr detail::codec_fn<detail::compress_name> compress{};
/// `bytes | decompress(codec)`: the same stage, named for reading direction and errors.
inline constexpr detail::codec_fn<detail::decompress_name> decompress{};

}  // namespace sluice
