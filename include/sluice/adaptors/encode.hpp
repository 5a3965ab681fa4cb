#pragma once
/// \file
/// `encode(encoder)`: turns records into byte chunks through a record encoder
/// (core/record_encoder.hpp). The encoder appends each record's
/// bytes to a reused chunk; a full chunk (64 KiB by default) is yielded as `chunk&`, so
/// steady-state encoding allocates nothing per record.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/record_encoder.hpp"
#include "../core/adaptor.hpp"
#include "../core/stage.hpp"

namespace sluice {

/// Options of `encode`.
struct encode_options {
    /// A chunk is handed on once it holds at least this many bytes.
    std::size_t chunk_size = default_chunk_size;
};

namespace detail {

template <class Up, class E>
class encode_stage : public stage_base<encode_stage<Up, E>, Up> {
    using base = stage_base<encode_stage<Up, E>, Up>;

public:
    using reference = chunk&;

    encode_stage(Up up, E e, encode_options o)
        : base(std::move(up)), enc_(std::move(e)), opt_(o) {}

    maybe<chunk&> next() {
        if (done_) return {};
        prepare();
        while (buf_.size() < opt_.chunk_size) {
            auto r = this->up_.next();
            if (!r) {
                finish_encoding();
                if (buf_.empty()) return {};
                return buf_;
            }
            enc_.encode(detail::unwrap(r), buf_);
        }
        return buf_;
    }

    template <class F>
    bool for_each_while(F&& f) {
        if (done_) return true;
        prepare();
        downstream out(f);
        this->up_.for_each_while([&](auto&& rec) -> bool {
            enc_.encode(SLUICE_FWD(rec), buf_);
            if (buf_.size() >= opt_.chunk_size) [[unlikely]] {
                if (!out(buf_)) return false;
                prepare();
            }
            return true;
        });
        if (out.stopped()) return false;
        finish_encoding();
        if (!buf_.empty()) return f(buf_);
        return true;
    }

    void bind(run_context& ctx) {
        this->up_.bind(ctx);
        ctx.memory.hold("encode", opt_.chunk_size + opt_.chunk_size / 4, "output chunk");
    }

    /// The encoder (e.g. to read a count it kept).
    E& encoder() noexcept { return enc_; }

    /// The upstream's row count, when it keeps one (`pg::rows`: rows received), so that
    /// `pg::json_lines(...)` reports `rows_done()` like `pg::copy_out` does.
    std::uint64_t rows_done() const noexcept
        requires requires(const Up& u) {
            { u.rows_done() } -> std::convertible_to<std::uint64_t>;
        }
    {
        return this->up_.rows_done();
    }

private:
    /// Starts a fresh chunk: the previous one has been consumed (or moved away).
    void prepare() {
        buf_.clear();
        // Headroom past the threshold so a record straddling it rarely forces a regrow.
        buf_.reserve(opt_.chunk_size + opt_.chunk_size / 4);
        if (!started_) {
            started_ = true;
            if constexpr (requires { enc_.begin(buf_); }) enc_.begin(buf_);
        }
    }
    void finish_encoding() {
        done_ = true;
        if constexpr (requires { enc_.end(buf_); }) enc_.end(buf_);
    }

    E enc_;
    encode_options opt_;
    chunk buf_;
    bool started_ = false;
    bool done_ = false;
};

}  // namespace detail

/// `records | encode(encoder)` yields `chunk&` holding the encoded records.
struct encode_fn : adaptor<encode_fn, encode_options> {
    template <class Up, class E, class... O>
    using rules = adaptor_rules<rule<record_encoder_for<E, reference_t<Up>>,
                                     "sluice::encode: this encoder cannot encode the upstream's "
                                     "records (it needs encode(record, sluice::chunk&))">>;
    template <class Up, class E>
    static auto make(Up up, E e, encode_options o = {}) {
        return detail::encode_stage<Up, E>(std::move(up), std::move(e), o);
    }
};
inline constexpr encode_fn encode{};

}  // namespace sluice
