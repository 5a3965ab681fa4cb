#pragma once
/// \file
/// `parallel_map(fn, {workers, ordered, window})`: `map(fn)` on a fixed pool of worker
/// threads, for stages where `fn` is the expensive part (parsing, hashing, compressing a
/// batch, calling a service).
///
/// - At most `window` records are in flight (queued, running, or finished and waiting to be
///   handed on), like TBB's live tokens. The stage reads its upstream on the consumer's
///   thread only when a place in the window is free, so memory stays bounded.
/// - `ordered = true` (default): results come out in input order. Each in-flight record has
///   one of `window` slots; when the oldest is slow, intake stalls until it finishes: the
///   reorder buffer never grows past the window (an unbounded reorder buffer is the classic
///   way an ordered parallel map runs out of memory on one pathological record).
/// - `ordered = false`: results come out as they finish (more throughput when durations vary).
/// - `fn` is called as `fn(record&)` with an owning copy of the record (`to_owned`; chunks
///   are moved, see prefetch.hpp), on several threads at once: each worker calls its own copy
///   of `fn` when `fn` is copyable, else all share one, which must then be thread-safe. Its
///   result must own its data (it outlives the record).
/// - Errors: an exception from `fn` on a worker is carried to the consumer and surfaces when
///   that record's turn comes (ordered) or when it finishes (unordered); with an error policy
///   other than `on_error::fail` it becomes a poison record instead (see policy/error_policy.hpp).
///   Errors from the upstream surface as usual at the pull.
/// - Cancellation: the run's stop token wakes the consumer (which throws `cancelled`) and the
///   idle workers; the pool is joined when the run ends or the stage is destroyed.
/// - Counters (under `options.name`): in, out, rejects, the consumer's wait for results
///   (`blocked_upstream_ns`), records in flight high water against `window`.

#include <algorithm>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/closure.hpp"
#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/metrics.hpp"
#include "../core/stage.hpp"
#include "../policy/error_policy.hpp"
#include "prefetch.hpp"

namespace sluice {

/// Options of `parallel_map`.
struct parallel_options {
    /// Worker threads; 0: std::thread::hardware_concurrency() (at least 1).
    unsigned workers = 0;
    /// Results in input order (true) or as they finish (false).
    bool ordered = true;
    /// Records in flight at most; 0: 4 x workers. Values below `workers` leave workers idle.
    std::size_t window = 0;
    /// The counters' name in the run's metrics.
    std::string name = "parallel_map";
};

namespace detail {

template <class Up, class Fn, class Action>
class parallel_map_stage : public source_base<parallel_map_stage<Up, Fn, Action>> {
public:
    using input = crossing_t<reference_t<Up>>;
    using output = std::remove_cvref_t<std::invoke_result_t<Fn&, input&>>;
    using reference = output&;

    parallel_map_stage(Up up, Fn fn, parallel_options o, error_policy<Action> p)
        : s_(std::make_shared<state>(std::move(up), std::move(fn), std::move(o), std::move(p))) {}

    void bind(run_context& ctx) {
        s_->up.bind(ctx);
        s_->run_stop = ctx.stop;
        if (ctx.metrics) s_->counters = ctx.metrics->counters(s_->opt.name);
        s_->counters->set_queue_capacity(s_->opt.window);
        s_->rej.bind(ctx);
        ctx.at_end([w = std::weak_ptr<state>(s_)] {
            if (auto s = w.lock()) s->halt();
        });
    }

    maybe<reference> next() {
        if (!s_->next_result()) return {};
        return *s_->cur;
    }

    template <class F>
    bool for_each_while(F&& f) {
        while (s_->next_result())
            if (!f(*s_->cur)) return false;
        return true;
    }

    /// The counters (the run's when it has a registry, else the stage's own).
    const std::shared_ptr<stage_counters>& counters() const noexcept { return s_->counters; }
    /// Records rejected by the error policy so far.
    std::uint64_t rejects() const noexcept { return s_->rej.rejects(); }

private:
    /// One record's journey: its input while queued (and kept after a failure, for the
    /// dead letter), then its result or exception.
    struct slot {
        std::uint64_t seq = 0;
        std::optional<input> in;
        std::optional<output> out;
        std::exception_ptr err;
        bool ready = false;
    };

    using fn_copy = std::conditional_t<std::copy_constructible<Fn>, Fn, std::shared_ptr<Fn>>;

    struct state {
        state(Up u, Fn f, parallel_options o, error_policy<Action> p)
            : up(std::move(u)), opt(std::move(o)), rej(std::move(p), opt.name) {
            if (opt.workers == 0) opt.workers = std::max(1u, std::thread::hardware_concurrency());
            if (opt.window == 0) opt.window = std::size_t{4} * opt.workers;
            if constexpr (std::copy_constructible<Fn>)
                proto.emplace(std::move(f));
            else
                proto.emplace(std::make_shared<Fn>(std::move(f)));
            counters = std::make_shared<stage_counters>(opt.name);
            if (opt.ordered) ring.resize(opt.window);
        }
        ~state() { halt(); }

        void start() {
            if (started) return;
            started = true;
            pool.reserve(opt.workers);
            for (unsigned i = 0; i < opt.workers; ++i)
                pool.emplace_back([this, f = *proto]() mutable { work(f); });
            on_run_stop.emplace(run_stop, stop_forwarder<state>{this});
        }

        void halt() noexcept {
            on_run_stop.reset();
            stop.request_stop();
            pool.clear();  // jthread destructors join
        }

        static auto& call(fn_copy& f) {
            if constexpr (std::copy_constructible<Fn>)
                return f;
            else
                return *f;
        }

        /// A worker: takes queued records, runs `fn`, files the result where the consumer
        /// looks for it. `fn` runs outside the lock.
        void work(fn_copy& f) {
            const std::stop_token st = stop.get_token();
            for (;;) {
                std::unique_lock lk(mu);
                tasks_cv.wait(lk, st, [&] { return !tasks.empty(); });
                if (tasks.empty()) return;  // stopped
                slot s = std::move(tasks.front());
                tasks.pop_front();
                lk.unlock();
                try {
                    s.out.emplace(std::invoke(call(f), *s.in));
                    // Kept only after a failure (for the dead letter): free it now.
                    s.in.reset();
                } catch (...) {
                    s.err = std::current_exception();
                }
                s.ready = true;
                lk.lock();
                if (opt.ordered)
                    ring[s.seq % opt.window] = std::move(s);
                else
                    finished.push_back(std::move(s));
                const bool wake = consumer_waiting;
                lk.unlock();
                if (wake) done_cv.notify_one();
            }
        }

        /// Tops the window up from upstream (on the consumer's thread).
        void intake() {
            while (!up_done && in_flight < opt.window) {
                auto r = up.next();
                if (!r) {
                    up_done = true;
                    break;
                }
                slot s;
                s.seq = next_seq++;
                s.in.emplace(take_across(detail::unwrap(r)));
                counters->add_in();
                {
                    std::lock_guard lk(mu);
                    tasks.push_back(std::move(s));
                }
                tasks_cv.notify_one();
                ++in_flight;
                counters->note_queue_depth(in_flight);
            }
        }

        /// Waits for the next result to hand on (the oldest when ordered).
        slot take_result() {
            const std::stop_token st = stop.get_token();
            std::unique_lock lk(mu);
            auto ready = [&] {
                return opt.ordered ? ring[next_out % opt.window].ready : !finished.empty();
            };
            if (!ready()) {
                const auto t0 = std::chrono::steady_clock::now();
                consumer_waiting = true;
                done_cv.wait(lk, st, ready);
                consumer_waiting = false;
                counters->add_blocked_upstream(ns_since(t0));
                if (!ready()) throw cancelled_error("parallel_map");
            }
            slot s;
            if (opt.ordered) {
                s = std::move(ring[next_out % opt.window]);
                ring[next_out % opt.window] = slot{};
                ++next_out;
            } else {
                s = std::move(finished.front());
                finished.pop_front();
            }
            return s;
        }

        /// Puts the next result in `cur`; false at the end. Poison records are handled here,
        /// on the consumer's thread, so the policy needs no locking.
        bool next_result() {
            start();
            cur.reset();
            for (;;) {
                if (run_stop.stop_requested()) [[unlikely]]
                    throw cancelled_error("parallel_map");
                intake();
                if (in_flight == 0) return false;
                slot s = take_result();
                --in_flight;
                if (!s.err) {
                    cur.emplace(std::move(*s.out));
                    counters->add_out();
                    return true;
                }
                rej.reject(*s.in, s.err, s.seq);  // rethrows under `fail`
            }
        }

        Up up;
        parallel_options opt;
        rejecter<Action> rej;
        std::optional<fn_copy> proto;
        std::shared_ptr<stage_counters> counters;
        std::stop_token run_stop;
        std::stop_source stop;
        std::mutex mu;
        std::condition_variable_any tasks_cv, done_cv;
        std::deque<slot> tasks;     // queued for a worker (at most `window`)
        std::vector<slot> ring;     // ordered: results by seq % window
        std::deque<slot> finished;  // unordered: results as they come
        std::optional<output> cur;
        std::uint64_t next_seq = 0, next_out = 0;
        std::size_t in_flight = 0;
        bool up_done = false;
        bool started = false;
        bool consumer_waiting = false;
        std::vector<std::jthread> pool;
        // Declared after `pool`, so it is gone before the workers are joined.
        std::optional<std::stop_callback<stop_forwarder<state>>> on_run_stop;
    };

    std::shared_ptr<state> s_;
};

}  // namespace detail

/// `parallel_map(fn, opts = {}, policy = on_error::fail)`: `map(fn)` on `opts.workers`
/// threads with at most `opts.window` records in flight (see the file comment).
struct parallel_map_fn {
    template <class S, class Fn, class A = on_error::fail_t>
        requires pipeable_input<S>
    auto operator()(S&& s, Fn fn, parallel_options o = {}, error_policy<A> p = {}) const {
        auto up = as_source(std::forward<S>(s));
        using Up = decltype(up);
        using In = detail::crossing_t<reference_t<Up>>;
        static_assert(std::invocable<Fn&, In&>,
                      "sluice::parallel_map: the function must be callable with an lvalue of "
                      "the owned upstream record (sluice::owned_t of it)");
        static_assert(!std::is_void_v<std::invoke_result_t<Fn&, In&>>,
                      "sluice::parallel_map: the function must return a value");
        return detail::parallel_map_stage<Up, Fn, A>(std::move(up), std::move(fn), std::move(o),
                                                     std::move(p));
    }
    template <class Fn, class A = on_error::fail_t>
        requires(!pipeable_input<Fn>)
    auto operator()(Fn fn, parallel_options o = {}, error_policy<A> p = {}) const {
        return make_closure<parallel_map_fn>(std::move(fn), std::move(o), std::move(p));
    }
};
inline constexpr parallel_map_fn parallel_map{};

}  // namespace sluice
