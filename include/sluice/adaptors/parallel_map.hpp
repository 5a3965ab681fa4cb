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
/// - Memory: with `record_bytes`, the window is a request to the run's memory plan
///   (core/memory_budget.hpp): a tight budget shrinks it, down to one record in flight.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/adaptor.hpp"
#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/metrics.hpp"
#include "../core/owned.hpp"
#include "../core/stage.hpp"
#include "../core/worker.hpp"
#include "../policy/error_policy.hpp"

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
    /// The most bytes one record in flight holds with its result, when known: the stage then
    /// asks the run's memory plan for `window` of them (at least one), and under a budget
    /// that cannot give them all works with a smaller window. 0: nothing is reported.
    std::size_t record_bytes = 0;
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
        if (ctx.metrics) s_->counters = ctx.metrics->counters(s_->opt.name);
        s_->counters->set_queue_capacity(s_->opt.window);
        if (const std::size_t b = s_->opt.record_bytes) {
            auto what = [](std::size_t n, std::size_t b) {
                return std::to_string(n) + " records in flight x " + std::to_string((b + 1023) / 1024) + " KiB";
            };
            ctx.memory.request(
                s_->opt.name, what(s_->opt.window, b), b, s_->opt.window * b,
                [s = s_, b, what](std::size_t granted, std::string& w) {
                    s->shrink_window(std::max<std::size_t>(1, granted / b));
                    w = what(s->opt.window, b);
                    return s->opt.window * b;
                });
        }
        s_->rej.bind(ctx);
        // However the run ends, the pool is stopped and joined before `run` returns.
        s_->w.bind(ctx);
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
            : up(std::move(u)),
              opt(normalized(std::move(o))),
              rej(std::move(p), opt.name),
              tasks(opt.window),
              results(opt.window) {
            if constexpr (std::copy_constructible<Fn>)
                proto.emplace(std::move(f));
            else
                proto.emplace(std::make_shared<Fn>(std::move(f)));
            counters = std::make_shared<stage_counters>(opt.name);
            if (opt.ordered) ring.resize(opt.window);
        }

        static parallel_options normalized(parallel_options o) {
            if (o.workers == 0) o.workers = std::max(1u, std::thread::hardware_concurrency());
            if (o.window == 0) o.window = std::size_t{4} * o.workers;
            return o;
        }

        /// A smaller window, before the first pull (the memory plan's grant).
        void shrink_window(std::size_t n) {
            if (w.started() || n >= opt.window) return;
            opt.window = n;
            if (opt.ordered) ring.resize(n);
            counters->set_queue_capacity(n);
        }

        void start() {
            if (w.started()) return;
            for (unsigned i = 0; i < opt.workers; ++i)
                w.spawn([this, f = *proto](std::stop_token st) mutable { work(f, st); });
        }

        static auto& call(fn_copy& f) {
            if constexpr (std::copy_constructible<Fn>)
                return f;
            else
                return *f;
        }

        /// A worker: takes queued records, runs `fn` on them, hands the slots back. At most
        /// `window` slots exist, so neither queue ever makes a worker wait for room.
        void work(fn_copy& f, const std::stop_token& st) {
            std::optional<slot> job;
            while (tasks.pop(job, st)) {
                slot& s = *job;
                try {
                    s.out.emplace(std::invoke(call(f), *s.in));
                    // Kept only after a failure (for the dead letter): free it now.
                    s.in.reset();
                } catch (...) {
                    s.err = std::current_exception();
                }
                s.ready = true;
                if (results.push(std::move(s), st) == 0) return;  // stopped
                job.reset();
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
                tasks.push(std::move(s), w.token());  // never waits: in_flight < window
                ++in_flight;
                counters->note_queue_depth(in_flight);
            }
        }

        /// One finished slot from the workers (waiting for it); throws when stopped.
        void receive(std::optional<slot>& s, std::uint64_t& waited) {
            if (!results.pop(s, w.token(), &waited)) {
                w.rethrow_if_failed();
                throw cancelled_error("parallel_map");
            }
        }

        /// Waits for the next result to hand on (the oldest when ordered). The reorder ring
        /// belongs to the consumer's thread: finished slots are filed there as they arrive.
        slot take_result() {
            std::uint64_t waited = 0;
            std::optional<slot> got;
            slot s;
            if (opt.ordered) {
                slot& head = ring[next_out % opt.window];
                while (!head.ready) {
                    receive(got, waited);
                    ring[got->seq % opt.window] = std::move(*got);
                }
                s = std::move(head);
                head = slot{};
                ++next_out;
            } else {
                receive(got, waited);
                s = std::move(*got);
            }
            if (waited) counters->add_blocked_upstream(waited);
            return s;
        }

        /// Puts the next result in `cur`; false at the end. Poison records are handled here,
        /// on the consumer's thread, so the policy needs no locking.
        bool next_result() {
            start();
            cur.reset();
            for (;;) {
                w.throw_if_cancelled();
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
        bounded_queue<slot> tasks;    // queued for a worker
        bounded_queue<slot> results;  // finished, in the order they finished
        std::vector<slot> ring;       // ordered: finished slots by seq % window
        std::optional<output> cur;
        std::uint64_t next_seq = 0, next_out = 0;
        std::size_t in_flight = 0;
        bool up_done = false;
        worker w{"parallel_map"};  // last: its threads are joined before the rest goes
    };

    std::shared_ptr<state> s_;
};

}  // namespace detail

/// `parallel_map(fn, opts = {}, policy = on_error::fail)`: `map(fn)` on `opts.workers`
/// threads with at most `opts.window` records in flight (see the file comment).
struct parallel_map_fn : adaptor<parallel_map_fn, parallel_options> {
    template <class Fn, class... O>
    using argument_rules = adaptor_rules<
        rule<callable_object<Fn>, "sluice::parallel_map: the function must be a callable object">>;
    template <class Up, class Fn, class... O>
    using rules = adaptor_rules<
        rule<std::invocable<Fn&, detail::crossing_t<reference_t<Up>>&>,
             "sluice::parallel_map: the function must be callable with an lvalue of the owned "
             "upstream record (sluice::owned_t of it)">,
        rule<returns_value<Fn&, detail::crossing_t<reference_t<Up>>&>,
             "sluice::parallel_map: the function must return a value">>;

    template <class Up, class Fn, class A = on_error::fail_t>
    static auto make(Up up, Fn fn, parallel_options o = {}, error_policy<A> p = {}) {
        return detail::parallel_map_stage<Up, Fn, A>(std::move(up), std::move(fn), std::move(o),
                                                     std::move(p));
    }
};
inline constexpr parallel_map_fn parallel_map{};

}  // namespace sluice
