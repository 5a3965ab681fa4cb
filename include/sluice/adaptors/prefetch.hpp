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

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>

#include "../core/adaptor.hpp"
#include "../core/chunk.hpp"
#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/metrics.hpp"
#include "../core/owned.hpp"
#include "../core/stage.hpp"
#include "../core/worker.hpp"

namespace sluice {

/// Options of `prefetch`.
struct prefetch_options {
    /// Records the queue holds at most (at least 1).
    std::size_t capacity = 8;
    /// The counters' name in the run's metrics.
    std::string name = "prefetch";
    /// The most bytes one record holds (e.g. a chunk's capacity), when known: the stage then
    /// reports `(capacity + 2) * item_bytes` (the queue, the record being made and the one
    /// the consumer holds) to the run's memory plan. 0: nothing is reported.
    std::size_t item_bytes = 0;
};

namespace detail {

template <class Up>
class prefetch_stage : public source_base<prefetch_stage<Up>> {
public:
    using item = crossing_t<reference_t<Up>>;
    using reference = item&;

    prefetch_stage(Up up, prefetch_options o)
        : s_(std::make_shared<state>(std::move(up), std::move(o))) {}

    void bind(run_context& ctx) {
        s_->up.bind(ctx);  // upstream first: the registry lists stages in pipeline order
        if (ctx.metrics) s_->counters = ctx.metrics->counters(s_->opt.name);
        s_->counters->set_queue_capacity(s_->opt.capacity);
        if (s_->opt.item_bytes)
            ctx.memory.hold(s_->opt.name, (s_->opt.capacity + 2) * s_->opt.item_bytes,
                            "queued records");
        // However the run ends, the producer is stopped and joined before `run` returns.
        s_->w.bind(ctx);
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
                s.w.stop();
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
        state(Up u, prefetch_options o)
            : up(std::move(u)), opt(std::move(o)), q(opt.capacity ? opt.capacity : 1) {
            if (opt.capacity == 0) opt.capacity = 1;
            counters = std::make_shared<stage_counters>(opt.name);
        }

        void start() {
            if (w.started()) return;
            // The queue closes after the producer's error (if any) is parked.
            w.spawn([this](std::stop_token st) { produce(st); }, [this] { q.close(); });
        }

        /// The producer thread: pushes upstream's records into the queue until exhausted,
        /// stopped or failed (the worker parks its exception for the consumer).
        void produce(const std::stop_token& st) {
            up.for_each_while([&](auto&& r) -> bool {
                item x = take_across(SLUICE_FWD(r));
                counters->add_in();
                std::uint64_t waited = 0;
                const std::size_t depth = q.push(std::move(x), st, &waited);
                if (waited) counters->add_blocked_downstream(waited);
                if (depth == 0) return false;  // stopped
                counters->note_queue_depth(depth);
                return !st.stop_requested();
            });
        }

        /// The consumer side: the next record into `out`; false at the end. Rethrows a
        /// parked exception once the records before it are out.
        bool pop(std::optional<item>& out) {
            w.throw_if_cancelled();
            std::uint64_t waited = 0;
            const bool got = q.pop(out, w.token(), &waited);
            if (waited) counters->add_blocked_upstream(waited);
            if (got) return true;
            // Empty: the producer ended (or failed), or a stop woke us: the run's (cancel) or
            // our own after an early end downstream.
            w.rethrow_if_failed();
            w.throw_if_cancelled();
            return false;
        }

        Up up;
        prefetch_options opt;
        std::shared_ptr<stage_counters> counters;
        bounded_queue<item> q;
        std::optional<item> cur;  // the record the consumer holds
        worker w{"prefetch"};     // last: its threads are joined before the rest goes
    };

    std::shared_ptr<state> s_;
};

}  // namespace detail

/// `prefetch(n)` / `prefetch({.capacity = n, .name = "..."})`: runs the upstream on its own
/// thread behind a queue of `n` records (see the file comment for the guarantees).
struct prefetch_fn : adaptor<prefetch_fn, prefetch_options> {
    template <class Up>
    static auto make(Up up, prefetch_options o) {
        return detail::prefetch_stage<Up>(std::move(up), std::move(o));
    }
    template <class Up>
    static auto make(Up up, std::size_t capacity = 8) {
        prefetch_options o;
        o.capacity = capacity;
        return make(std::move(up), std::move(o));
    }
};
inline constexpr prefetch_fn prefetch{};

}  // namespace sluice
