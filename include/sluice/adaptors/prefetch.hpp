#pragma once
/// \file
/// `prefetch(n)`: pipeline parallelism. Everything upstream of the stage runs on a thread of
/// its own and hands records to the downstream through a queue of at most `n` records, so
/// decoding and encoding can use one core while compression or an upload uses another.
///
/// - Records cross the thread boundary by move: a `chunk&` is moved out of the producing
///   stage (which then allocates a fresh buffer), views are turned into owning values
///   (`to_owned`) first. The stage yields `T&` to the owned record (a chunk for byte
///   pipelines), valid until the next pull; the consumer may move from it.
/// - Memory bound: at most `n` records in the queue, plus one the producer is making and one
///   the consumer holds. A slow consumer stalls the producer; nothing grows.
/// - Errors: an exception upstream (on the producer thread) is parked and rethrown at the
///   consumer's pull that reaches it, after the records produced before it.
/// - Cancellation: the run's stop token wakes both sides; the consumer throws `cancelled`.
/// - Threads: the producer starts at the first pull (after `bind`), and is joined when the
///   run ends (a `run_context::at_end` cleanup) or, without a run, when the stage is
///   destroyed. No thread outlives the run.
/// - Counters (in the run's `metrics`, under `options.name`): in/out, bytes, the time the
///   consumer waited for records (`blocked_upstream_ns`), the time the producer waited for
///   room (`blocked_downstream_ns`), and the queue's high water against its capacity.

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
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/closure.hpp"
#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/metrics.hpp"
#include "../core/stage.hpp"
#include "../policy/error_policy.hpp"

namespace sluice {

/// Options of `prefetch`.
struct prefetch_options {
    /// Records the queue holds at most (at least 1).
    std::size_t capacity = 8;
    /// The counters' name in the run's metrics.
    std::string name = "prefetch";
};

namespace detail {

/// Nanoseconds since `t0`, for the blocked-time counters (measured only around real waits).
inline std::uint64_t ns_since(std::chrono::steady_clock::time_point t0) noexcept {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                             t0)
            .count());
}

/// Wakes a threaded stage's waiters when the run's stop token is triggered.
template <class State>
struct stop_forwarder {
    State* s;
    void operator()() const noexcept { s->stop.request_stop(); }
};

template <class Up>
class prefetch_stage : public source_base<prefetch_stage<Up>> {
public:
    using item = crossing_t<reference_t<Up>>;
    using reference = item&;

    prefetch_stage(Up up, prefetch_options o)
        : s_(std::make_shared<state>(std::move(up), std::move(o))) {}

    void bind(run_context& ctx) {
        s_->up.bind(ctx);  // upstream first: the registry lists stages in pipeline order
        s_->run_stop = ctx.stop;
        if (ctx.metrics) s_->counters = ctx.metrics->counters(s_->opt.name);
        s_->counters->set_queue_capacity(s_->opt.capacity);
        // However the run ends, the producer is stopped and joined before `run` returns.
        ctx.at_end([w = std::weak_ptr<state>(s_)] {
            if (auto s = w.lock()) s->halt();
        });
    }

    maybe<reference> next() {
        state& s = *s_;
        s.start();
        s.cur.reset();
        if (!s.pop(s.cur)) return {};
        count_out(*s.cur);
        return *s.cur;
    }

    template <class F>
    bool for_each_while(F&& f) {
        state& s = *s_;
        s.start();
        for (;;) {
            s.cur.reset();
            if (!s.pop(s.cur)) return true;
            count_out(*s.cur);
            if (!f(*s.cur)) {
                // The consumer is done: the producer need not fill the queue any further.
                s.stop.request_stop();
                return false;
            }
        }
    }

    /// The counters (the run's when it has a registry, else the stage's own).
    const std::shared_ptr<stage_counters>& counters() const noexcept { return s_->counters; }

private:
    void count_out(const item& x) {
        s_->counters->add_out();
        if constexpr (byte_like<item>) s_->counters->add_bytes(bytes_of(x).size());
    }

    // Everything the two threads share lives on the heap, so the stage stays movable (a
    // source must be) and the producer never sees a moved stage.
    struct state {
        state(Up u, prefetch_options o) : up(std::move(u)), opt(std::move(o)) {
            if (opt.capacity == 0) opt.capacity = 1;
            counters = std::make_shared<stage_counters>(opt.name);
        }
        ~state() { halt(); }

        void start() {
            if (started) return;
            started = true;
            thread = std::jthread([this] { produce(); });
            on_run_stop.emplace(run_stop, stop_forwarder<state>{this});
        }

        /// Stops and joins the producer; idempotent, called at the end of the run.
        void halt() noexcept {
            on_run_stop.reset();
            stop.request_stop();
            if (thread.joinable()) thread.join();
        }

        /// The producer thread: pushes upstream's records into the queue until exhausted,
        /// stopped or failed. Its exception is parked for the consumer.
        void produce() {
            const std::stop_token st = stop.get_token();
            try {
                up.for_each_while([&](auto&& r) -> bool {
                    item x = take_across(SLUICE_FWD(r));
                    counters->add_in();
                    std::unique_lock lk(mu);
                    if (q.size() >= opt.capacity) {
                        const auto t0 = std::chrono::steady_clock::now();
                        producer_waiting = true;
                        space.wait(lk, st, [&] { return q.size() < opt.capacity; });
                        producer_waiting = false;
                        counters->add_blocked_downstream(ns_since(t0));
                        if (q.size() >= opt.capacity) return false;  // stopped
                    }
                    q.push_back(std::move(x));
                    counters->note_queue_depth(q.size());
                    const bool wake = consumer_waiting;
                    lk.unlock();
                    if (wake) items.notify_one();
                    return !st.stop_requested();
                });
            } catch (...) {
                std::lock_guard lk(mu);
                err = std::current_exception();
            }
            {
                std::lock_guard lk(mu);
                done = true;
            }
            items.notify_all();
        }

        /// The consumer side: the next record into `out`; false at the end. Rethrows a
        /// parked exception once the records before it are out.
        bool pop(std::optional<item>& out) {
            const std::stop_token st = stop.get_token();
            if (run_stop.stop_requested()) [[unlikely]]
                throw cancelled_error("prefetch");
            std::unique_lock lk(mu);
            if (q.empty() && !done) {
                const auto t0 = std::chrono::steady_clock::now();
                consumer_waiting = true;
                items.wait(lk, st, [&] { return !q.empty() || done; });
                consumer_waiting = false;
                counters->add_blocked_upstream(ns_since(t0));
            }
            if (!q.empty()) {
                out.emplace(std::move(q.front()));
                q.pop_front();
                const bool wake = producer_waiting;
                lk.unlock();
                if (wake) space.notify_one();
                return true;
            }
            if (done) {
                if (err) std::rethrow_exception(std::exchange(err, nullptr));
                return false;
            }
            // Woken by a stop: the run's (cancel) or our own after an early end downstream.
            if (run_stop.stop_requested()) throw cancelled_error("prefetch");
            return false;
        }

        Up up;
        prefetch_options opt;
        std::shared_ptr<stage_counters> counters;
        std::stop_token run_stop;
        std::stop_source stop;  // ours: ends the producer and wakes both sides
        std::mutex mu;
        std::condition_variable_any items, space;
        std::deque<item> q;
        std::optional<item> cur;  // the record the consumer holds
        std::exception_ptr err;
        bool done = false;
        bool started = false;
        bool consumer_waiting = false;
        bool producer_waiting = false;
        std::jthread thread;
        // Declared after `thread`, so it is gone before the thread is joined.
        std::optional<std::stop_callback<stop_forwarder<state>>> on_run_stop;
    };

    std::shared_ptr<state> s_;
};

}  // namespace detail

/// `prefetch(n)` / `prefetch({.capacity = n, .name = "..."})`: runs the upstream on its own
/// thread behind a queue of `n` records (see the file comment for the guarantees).
struct prefetch_fn {
    template <class S>
        requires pipeable_input<S>
    auto operator()(S&& s, prefetch_options o) const {
        auto up = as_source(std::forward<S>(s));
        return detail::prefetch_stage<decltype(up)>(std::move(up), std::move(o));
    }
    template <class S>
        requires pipeable_input<S>
    auto operator()(S&& s, std::size_t capacity = 8) const {
        prefetch_options o;
        o.capacity = capacity;
        return (*this)(std::forward<S>(s), std::move(o));
    }
    auto operator()(prefetch_options o) const { return make_closure<prefetch_fn>(std::move(o)); }
    auto operator()(std::size_t capacity = 8) const {
        prefetch_options o;
        o.capacity = capacity;
        return make_closure<prefetch_fn>(std::move(o));
    }
};
inline constexpr prefetch_fn prefetch{};

}  // namespace sluice
