#pragma once
/// \file
/// `s3::read(client_or_config, bucket, key, options)`: a source of the object's bytes as
/// `chunk&` blocks (valid until the next pull), streamed by a GET.
///
/// A producer thread (a `sluice::worker`, joined at the end of the run) runs the GET and
/// hands full blocks to the pipeline through a bounded queue (`queue_blocks` blocks of
/// `block_size`): when the pipeline is slower than the
/// network, the body callback waits and TCP flow control holds the sender back, so memory
/// stays at (queue_blocks + 2) x block_size whatever the object's size.
/// A connection dropped mid-body is resumed where it stopped with a Range request that
/// carries If-Match with the ETag of the first answer, so an object replaced meanwhile
/// fails cleanly (412) instead of splicing two versions. Attempts without progress are
/// bounded by the client's retry policy; any progress resets the count.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/stage.hpp"
#include "../core/worker.hpp"
#include "../net/http.hpp"
#include "../net/send.hpp"
#include "../policy/retry.hpp"
#include "client.hpp"
#include "config.hpp"

namespace sluice::s3 {

/// Options of `s3::read`.
struct read_object_options {
    /// Size of the blocks handed downstream.
    std::size_t block_size = 1024 * 1024;
    /// Full blocks buffered between the network and the pipeline (>= 1).
    std::size_t queue_blocks = 4;
};

namespace detail {

/// State shared by the GET thread and the pipeline.
class object_reader {
public:
    object_reader(client c, std::string bucket, std::string key, read_object_options o)
        : cli_(std::move(c)), bucket_(std::move(bucket)), key_(std::move(key)),
          opt_(normalized(o)), full_(opt_.queue_blocks), free_(opt_.queue_blocks + 2) {}
    object_reader(const object_reader&) = delete;
    object_reader& operator=(const object_reader&) = delete;

    /// Links the run: its stop token cancels the GET, its end joins the GET thread.
    void bind(run_context& ctx) { w_.bind(ctx); }
    /// The most block bytes alive at once: the queue's, the free list's, the one the GET
    /// fills and the one the pipeline holds, plus a connection's buffers.
    std::size_t buffered_bytes() const noexcept {
        return (opt_.queue_blocks + 2 + 2) * opt_.block_size + 256 * 1024;
    }

    /// The next block, or null at the end. Rethrows the producer's failure.
    chunk* next() {
        if (!w_.started())
            // The queue closes after the GET's error (if any) is parked.
            w_.spawn([this](std::stop_token st) { produce(st); }, [this] { full_.close(); });
        // The block handed out last goes back to the GET thread for reuse.
        if (cur_ && cur_->capacity()) free_.try_push(std::move(*cur_));
        if (full_.pop(cur_, w_.token())) return &*cur_;
        w_.rethrow_if_failed();
        if (!full_.closed()) throw cancelled_error("s3.read");
        return nullptr;
    }

    /// Bytes received so far.
    std::uint64_t offset() const noexcept { return offset_; }

private:
    static read_object_options normalized(read_object_options o) {
        if (o.block_size < 1) o.block_size = 1;
        if (o.queue_blocks < 1) o.queue_blocks = 1;
        return o;
    }

    void produce(const std::stop_token& st) {
        fetch_all(st);
        if (fill_.size()) full_.push(std::move(fill_), st);
    }

    /// GETs until the whole object is in, resuming after transient failures.
    void fetch_all(const std::stop_token& st) {
        const retry_policy& policy = cli_.settings().retry;
        int failures = 0;
        for (;;) {
            std::uint64_t before = offset_;
            try {
                // The last try of the budget counts toward the breakers; earlier ones do not.
                get_from(offset_, failures + 1 < (policy.max_attempts < 1 ? 1 : policy.max_attempts),
                         st);
                return;
            } catch (const error& e) {
                if (!net::is_retryable(e)) throw;
                if (offset_ > before) failures = 0;  // progress: a fresh budget of attempts
                if (++failures >= (policy.max_attempts < 1 ? 1 : policy.max_attempts)) throw;
                auto delay = sluice::detail::backoff_delay(policy, failures - 1);
                if (policy.on_retry) policy.on_retry(failures, e, delay);
                if (!sluice::detail::sleep_unless_stopped(delay, st))
                    throw cancelled_error("s3.read");
            }
        }
    }

    /// One GET from `from` (a Range request with If-Match after the first).
    void get_from(std::uint64_t from, bool retried_after, const std::stop_token& st) {
        s3_call c = cli_.call("GetObject", "GET", bucket_, key_, st);
        c.max_attempts = 1;  // fetch_all retries, with the Range moved on
        c.caller_retries = retried_after;
        if (from > 0) {
            c.headers.emplace_back("Range", "bytes=" + std::to_string(from) + "-");
            if (!etag_.empty()) c.headers.emplace_back("If-Match", etag_);
            c.detail = " from byte " + std::to_string(from);
        }
        c.on_headers = [&](const net::http_response& r) {
            if (etag_.empty()) etag_ = r.header("ETag");
        };
        c.on_body = [&](std::string_view data) { return accept(data, st); };
        net::http_response r = cli_.execute(c);
        if (from > 0 && r.status != 206)
            throw error(errc::network, "s3.read",
                        "GetObject " + client::where(bucket_, key_) +
                            ": the server ignored the Range header when resuming at byte " +
                            std::to_string(from));
        if (etag_.empty()) etag_ = r.header("ETag");
    }

    /// Body bytes: fill blocks, queue the full ones (waiting for room). False (which ends
    /// the transfer) when stopped.
    bool accept(std::string_view data, const std::stop_token& st) {
        while (!data.empty()) {
            if (fill_.capacity() == 0) {
                std::optional<chunk> reused;
                if (free_.try_pop(reused)) {
                    fill_ = std::move(*reused);
                    fill_.clear();
                }
            }
            fill_.reserve(opt_.block_size);
            std::size_t n = std::min(opt_.block_size - fill_.size(), data.size());
            fill_.append(data.substr(0, n));
            data.remove_prefix(n);
            offset_ += n;
            if (fill_.size() == opt_.block_size) {
                if (full_.push(std::move(fill_), st) == 0) return false;
                fill_ = chunk();
            }
        }
        return true;
    }

    client cli_;
    std::string bucket_, key_;
    read_object_options opt_;
    std::string etag_;
    std::uint64_t offset_ = 0;  // GET thread only (and after join)

    bounded_queue<chunk> full_;  // blocks for the pipeline
    bounded_queue<chunk> free_;  // blocks handed back for reuse
    chunk fill_;                 // GET thread only
    std::optional<chunk> cur_;   // pipeline only
    worker w_{"s3.read"};        // last: the GET thread is joined before the rest goes
};

/// The source `s3::read` returns.
class object_source : public root_source<object_source> {
public:
    using reference = chunk&;

    explicit object_source(std::unique_ptr<object_reader> r) : r_(std::move(r)) {}

    void bind(run_context& ctx) {
        root_source<object_source>::bind(ctx);
        r_->bind(ctx);
        ctx.memory.hold("s3.read", r_->buffered_bytes(), "GET blocks (queue + filling + in use)");
    }

    maybe<chunk&> next() {
        check_stop("s3.read");
        chunk* c = r_->next();
        if (!c) return {};
        return *c;
    }

private:
    std::unique_ptr<object_reader> r_;
};

}  // namespace detail

/// `s3::read(client_or_config, bucket, key, options)`: see the file comment.
struct read_fn {
    detail::object_source operator()(const client& c, std::string bucket, std::string key,
                                     read_object_options o = {}) const {
        return detail::object_source(std::make_unique<detail::object_reader>(
            c, std::move(bucket), std::move(key), o));
    }
    detail::object_source operator()(const config& c, std::string bucket, std::string key,
                                     read_object_options o = {}) const {
        return (*this)(client(c), std::move(bucket), std::move(key), o);
    }
};
/// See `read_fn`.
inline constexpr read_fn read{};

}  // namespace sluice::s3
