#pragma once
/// \file
/// The one worker primitive of the threaded stages: `bounded_queue<T>` carries records or
/// jobs between the pipeline's thread and worker threads, and `worker` owns those threads.
/// `prefetch`, `parallel_map`, the block-parallel gzip encoder, the S3 read-ahead and the S3
/// upload's part workers are all built from these two and have no condition variable, stop
/// callback or thread joining of their own.
///
/// - **Threads**: `worker::spawn(body)` starts a thread running `body(stop_token)`. The
///   worker's stop source is linked to the run's stop token by `bind(run_context&)`, and the
///   threads are joined when the run ends (a `run_context::at_end` cleanup) or, without a
///   run, when the worker is destroyed. No thread outlives the run.
/// - **Errors**: an exception that leaves a body is parked (the first one wins) and the worker
///   stops, so every wait on its token wakes. The pipeline's side rethrows it with
///   `rethrow_if_failed()` at its next pull, push or finish. A body may also park an error
///   itself (`park`) and carry on, e.g. to drain the jobs already queued.
/// - **Bounded queue**: at most `capacity` items. `push` waits for room and `pop` for an
///   item; both wake when the given stop token is triggered. `close()` ends the queue after
///   the items in it. A side notifies the other only when the other is waiting, and a wait
///   is timed only when it really waits (for the `blocked_*_ns` counters).
/// - Owners keep a `worker` as the last member of the state its threads use, so the threads
///   are joined before anything they touch is destroyed.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

#include "context.hpp"
#include "error.hpp"

namespace sluice {

namespace detail {

/// Nanoseconds since `t0`, for the blocked-time counters (measured only around real waits).
inline std::uint64_t ns_since(std::chrono::steady_clock::time_point t0) noexcept {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                             t0)
            .count());
}

/// The default `on_exit` of `worker::spawn`.
struct no_exit_action {
    void operator()() const noexcept {}
};

}  // namespace detail

/// A queue of at most `capacity` items between threads; every blocking call waits on a stop
/// token as well. Not copyable or movable: the threads using it hold its address.
template <class T>
class bounded_queue {
public:
    explicit bounded_queue(std::size_t capacity = 1) : cap_(capacity ? capacity : 1) {}
    bounded_queue(const bounded_queue&) = delete;
    bounded_queue& operator=(const bounded_queue&) = delete;

    /// The most items the queue holds.
    std::size_t capacity() const noexcept { return cap_; }

    /// Waits for room, then appends `x`. Returns the queue's length after the push (for
    /// high-water counters), or 0, leaving `x` as it was, when `stop` is triggered or the
    /// queue closed first. Time spent waiting is added to `*waited_ns`.
    std::size_t push(T&& x, const std::stop_token& stop, std::uint64_t* waited_ns = nullptr) {
        std::unique_lock lk(mu_);
        if (q_.size() >= cap_ && !closed_) {
            const auto t0 = std::chrono::steady_clock::now();
            ++pushers_waiting_;
            space_.wait(lk, stop, [&] { return q_.size() < cap_ || closed_; });
            --pushers_waiting_;
            if (waited_ns) *waited_ns += detail::ns_since(t0);
        }
        if (closed_ || q_.size() >= cap_) return 0;
        return append(std::move(x), lk);
    }

    /// Appends `x` if there is room; false (leaving `x` as it was) when full or closed.
    bool try_push(T&& x) {
        std::unique_lock lk(mu_);
        if (closed_ || q_.size() >= cap_) return false;
        append(std::move(x), lk);
        return true;
    }

    /// Waits for an item and moves it into `out`. False when the queue is closed and empty,
    /// or when `stop` is triggered while it is empty (items already queued are still handed
    /// out after a stop). Time spent waiting is added to `*waited_ns`.
    bool pop(std::optional<T>& out, const std::stop_token& stop,
             std::uint64_t* waited_ns = nullptr) {
        std::unique_lock lk(mu_);
        if (q_.empty() && !closed_) {
            const auto t0 = std::chrono::steady_clock::now();
            ++poppers_waiting_;
            items_.wait(lk, stop, [&] { return !q_.empty() || closed_; });
            --poppers_waiting_;
            if (waited_ns) *waited_ns += detail::ns_since(t0);
        }
        if (q_.empty()) return false;
        take(out, lk);
        return true;
    }

    /// Moves the oldest item into `out` if there is one; never waits.
    bool try_pop(std::optional<T>& out) {
        std::unique_lock lk(mu_);
        if (q_.empty()) return false;
        take(out, lk);
        return true;
    }

    /// No more pushes: `pop` hands out what is queued, then returns false. Idempotent.
    void close() {
        {
            std::lock_guard lk(mu_);
            closed_ = true;
        }
        items_.notify_all();
        space_.notify_all();
    }

    /// True once `close()` was called.
    bool closed() const {
        std::lock_guard lk(mu_);
        return closed_;
    }

    /// Items queued now.
    std::size_t size() const {
        std::lock_guard lk(mu_);
        return q_.size();
    }

private:
    std::size_t append(T&& x, std::unique_lock<std::mutex>& lk) {
        q_.push_back(std::move(x));
        const std::size_t n = q_.size();
        const bool wake = poppers_waiting_ != 0;
        lk.unlock();
        if (wake) items_.notify_one();
        return n;
    }
    void take(std::optional<T>& out, std::unique_lock<std::mutex>& lk) {
        out.emplace(std::move(q_.front()));
        q_.pop_front();
        const bool wake = pushers_waiting_ != 0;
        lk.unlock();
        if (wake) space_.notify_one();
    }

    mutable std::mutex mu_;
    std::condition_variable_any items_, space_;
    std::deque<T> q_;
    std::size_t cap_;
    unsigned pushers_waiting_ = 0;
    unsigned poppers_waiting_ = 0;
    bool closed_ = false;
};

/// The threads of one stage: started on demand, stopped by the run's stop token, joined at
/// the end of the run, their first exception parked for the pipeline's thread. Not copyable
/// or movable (keep it in the stage's heap state, as its last member).
class worker {
public:
    /// `stage` names the stage in the `cancelled` error (a string literal).
    explicit worker(const char* stage) : c_(std::make_shared<core>()) { c_->stage = stage; }
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;
    ~worker() { halt(); }

    /// Links the run: its stop token stops the threads, and its end joins them (however the
    /// run ends, and even when the stage outlives the run).
    void bind(run_context& ctx) {
        c_->run_stop = ctx.stop;
        c_->on_run_stop.emplace(ctx.stop, forward_stop{c_.get()});
        ctx.at_end([w = std::weak_ptr<core>(c_)] {
            if (auto c = w.lock()) c->halt();
        });
    }

    /// Starts a thread running `body(stop_token)`. An exception leaving `body` is parked and
    /// stops the worker; then `on_exit()` runs on that thread (it must not throw), e.g. to
    /// close the queue the body fed, after the error is parked.
    template <class Body, class OnExit = detail::no_exit_action>
    void spawn(Body body, OnExit on_exit = {}) {
        core* c = c_.get();
        c->threads.emplace_back([c, body = std::move(body), on_exit = std::move(on_exit)]() mutable {
            try {
                body(c->stop.get_token());
            } catch (...) {
                c->park(std::current_exception());
                c->stop.request_stop();
            }
            on_exit();
        });
    }

    /// True once a thread was spawned.
    bool started() const noexcept { return !c_->threads.empty(); }
    /// The token every thread and every wait of the stage watches.
    std::stop_token token() const noexcept { return c_->stop.get_token(); }
    /// Stops the threads (e.g. when the consumer is done early); they still need `halt()`.
    void stop() noexcept { c_->stop.request_stop(); }
    /// True once the worker was stopped (by `stop`, the run, a failure, or `halt`).
    bool stop_requested() const noexcept { return c_->stop.stop_requested(); }

    /// True when the run was cancelled (its stop token triggered).
    bool cancelled() const noexcept { return c_->run_stop.stop_requested(); }
    /// Throws `cancelled` naming the stage if the run was cancelled.
    void throw_if_cancelled() const { throw_if_stopped(c_->run_stop, c_->stage); }

    /// Parks `e` for the pipeline's thread unless an error is parked already.
    void park(std::exception_ptr e) noexcept { c_->park(std::move(e)); }
    /// True once an error is parked (cheap: one atomic load).
    bool failed() const noexcept { return c_->failed.load(std::memory_order_acquire); }
    /// Rethrows the parked error, if any (it stays parked: later calls rethrow it again).
    void rethrow_if_failed() const {
        if (!failed()) return;
        std::exception_ptr e;
        {
            std::lock_guard lk(c_->mu);
            e = c_->err;
        }
        std::rethrow_exception(e);
    }

    /// Waits for the threads to return without stopping them (their bodies must be ending,
    /// e.g. because their queue was closed).
    void join() noexcept { c_->join(); }
    /// Stops and joins the threads; idempotent.
    void halt() noexcept { c_->halt(); }

private:
    struct core;
    struct forward_stop {
        core* c;
        void operator()() const noexcept { c->stop.request_stop(); }
    };
    struct core {
        const char* stage = "worker";
        std::stop_source stop;
        std::stop_token run_stop;
        std::mutex mu;
        std::exception_ptr err;
        std::atomic<bool> failed{false};
        std::vector<std::jthread> threads;
        std::optional<std::stop_callback<forward_stop>> on_run_stop;

        ~core() { halt(); }
        void park(std::exception_ptr e) noexcept {
            std::lock_guard lk(mu);
            if (err) return;
            err = std::move(e);
            failed.store(true, std::memory_order_release);
        }
        void join() noexcept {
            for (auto& t : threads)
                if (t.joinable()) t.join();
        }
        void halt() noexcept {
            // The run's callback goes first, so it never runs on a worker being torn down.
            on_run_stop.reset();
            stop.request_stop();
            join();
        }
    };

    std::shared_ptr<core> c_;
};

}  // namespace sluice
