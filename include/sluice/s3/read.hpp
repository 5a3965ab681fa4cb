#pragma once
/// \file
/// `s3::read(client_or_config, bucket, key, options)`: a source of the object's bytes as
/// `chunk&` blocks (valid until the next pull), streamed by a GET.
///
/// A producer thread runs the GET and hands full blocks to the pipeline through a bounded
/// queue (`queue_blocks` blocks of `block_size`): when the pipeline is slower than the
/// network, the body callback waits and TCP flow control holds the sender back, so memory
/// stays at (queue_blocks + 2) x block_size whatever the object's size.
/// A connection dropped mid-body is resumed where it stopped with a Range request that
/// carries If-Match with the ETag of the first answer, so an object replaced meanwhile
/// fails cleanly (412) instead of splicing two versions. Attempts without progress are
/// bounded by the client's retry policy; any progress resets the count.

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "../policy/retry.hpp"
#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../core/stage.hpp"
#include "../net/http.hpp"
#include "../net/send.hpp"
#include "client.hpp"
#include "config.hpp"

namespace sluice::s3 {

/// Options of `s3::read`.
struct read_options {
    /// Size of the blocks handed downstream.
    std::size_t block_size = 1024 * 1024;
    /// Full blocks buffered between the network and the pipeline (>= 1).
    std::size_t queue_blocks = 4;
};

namespace detail {

/// State shared by the GET thread and the pipeline.
class object_reader {
public:
    object_reader(client c, std::string bucket, std::string key, read_options o)
        : cli_(std::move(c)), bucket_(std::move(bucket)), key_(std::move(key)), opt_(o) {
        if (opt_.block_size < 1) opt_.block_size = 1;
        if (opt_.queue_blocks < 1) opt_.queue_blocks = 1;
    }
    object_reader(const object_reader&) = delete;
    object_reader& operator=(const object_reader&) = delete;
    ~object_reader() {
        stop_.request_stop();
        space_cv_.notify_all();
        thread_ = {};  // join before the members the thread uses go away
    }

    /// Links the run's stop token to the GET.
    void bind(const std::stop_token& run_stop) {
        run_stop_.emplace(run_stop, [this] {
            stop_.request_stop();
            space_cv_.notify_all();
            data_cv_.notify_all();
        });
    }

    /// The next block, or null at the end. Rethrows the producer's failure.
    chunk* next() {
        if (!started_) {
            started_ = true;
            thread_ = std::jthread([this] { produce(); });
        }
        std::unique_lock lk(m_);
        if (cur_.capacity()) free_.push_back(std::move(cur_));
        space_cv_.notify_one();
        data_cv_.wait(lk, [&] { return !full_.empty() || done_ || stop_.stop_requested(); });
        if (!full_.empty()) {
            cur_ = std::move(full_.front());
            full_.pop_front();
            space_cv_.notify_one();
            return &cur_;
        }
        if (failure_) std::rethrow_exception(failure_);
        if (stop_.stop_requested() && !done_) throw cancelled_error("s3.read");
        return nullptr;
    }

    /// Bytes received so far.
    std::uint64_t offset() const noexcept { return offset_; }

private:
    void produce() {
        try {
            fetch_all();
            std::lock_guard lk(m_);
            if (fill_.size()) full_.push_back(std::move(fill_));
            done_ = true;
        } catch (...) {
            std::lock_guard lk(m_);
            failure_ = std::current_exception();
            done_ = true;
        }
        data_cv_.notify_all();
    }

    /// GETs until the whole object is in, resuming after transient failures.
    void fetch_all() {
        const retry_policy& policy = cli_.settings().retry;
        int failures = 0;
        for (;;) {
            std::uint64_t before = offset_;
            try {
                // The last try of the budget counts toward the breakers; earlier ones do not.
                get_from(offset_, failures + 1 < (policy.max_attempts < 1 ? 1 : policy.max_attempts));
                return;
            } catch (const error& e) {
                if (!net::is_retryable(e)) throw;
                if (offset_ > before) failures = 0;  // progress: a fresh budget of attempts
                if (++failures >= (policy.max_attempts < 1 ? 1 : policy.max_attempts)) throw;
                auto delay = sluice::detail::backoff_delay(policy, failures - 1);
                if (policy.on_retry) policy.on_retry(failures, e, delay);
                if (!sluice::detail::sleep_unless_stopped(delay, stop_.get_token()))
                    throw cancelled_error("s3.read");
            }
        }
    }

    /// One GET from `from` (a Range request with If-Match after the first).
    void get_from(std::uint64_t from, bool retried_after) {
        s3_call c = cli_.call("GetObject", "GET", bucket_, key_, stop_.get_token());
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
        c.on_body = [&](std::string_view data) { return accept(data); };
        net::http_response r = cli_.execute(c);
        if (from > 0 && r.status != 206)
            throw error(errc::network, "s3.read",
                        "GetObject " + client::where(bucket_, key_) +
                            ": the server ignored the Range header when resuming at byte " +
                            std::to_string(from));
        if (etag_.empty()) etag_ = r.header("ETag");
    }

    /// Body bytes: fill blocks, queue the full ones (waiting for room).
    bool accept(std::string_view data) {
        while (!data.empty()) {
            if (fill_.capacity() == 0) {
                std::lock_guard lk(m_);
                if (!free_.empty()) {
                    fill_ = std::move(free_.back());
                    free_.pop_back();
                    fill_.clear();
                }
            }
            fill_.reserve(opt_.block_size);
            std::size_t n = std::min(opt_.block_size - fill_.size(), data.size());
            fill_.append(data.substr(0, n));
            data.remove_prefix(n);
            offset_ += n;
            if (fill_.size() == opt_.block_size) {
                std::unique_lock lk(m_);
                space_cv_.wait(lk, [&] {
                    return full_.size() < opt_.queue_blocks || stop_.stop_requested();
                });
                if (stop_.stop_requested()) return false;
                full_.push_back(std::move(fill_));
                fill_ = chunk();
                data_cv_.notify_one();
            }
        }
        return true;
    }

    client cli_;
    std::string bucket_, key_;
    read_options opt_;
    std::string etag_;
    std::uint64_t offset_ = 0;  // producer thread only (and after join)

    std::stop_source stop_;
    std::optional<std::stop_callback<std::function<void()>>> run_stop_;
    std::mutex m_;
    std::condition_variable data_cv_, space_cv_;
    std::deque<chunk> full_;
    std::vector<chunk> free_;
    chunk fill_;  // producer only
    chunk cur_;   // consumer only
    bool done_ = false;
    bool started_ = false;
    std::exception_ptr failure_;
    std::jthread thread_;
};

/// The source `s3::read` returns.
class object_source : public root_source<object_source> {
public:
    using reference = chunk&;

    explicit object_source(std::unique_ptr<object_reader> r) : r_(std::move(r)) {}

    void bind(run_context& ctx) {
        root_source<object_source>::bind(ctx);
        r_->bind(ctx.stop);
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
                                     read_options o = {}) const {
        return detail::object_source(std::make_unique<detail::object_reader>(
            c, std::move(bucket), std::move(key), o));
    }
    detail::object_source operator()(const config& c, std::string bucket, std::string key,
                                     read_options o = {}) const {
        return (*this)(client(c), std::move(bucket), std::move(key), o);
    }
};
/// See `read_fn`.
inline constexpr read_fn read{};

}  // namespace sluice::s3
