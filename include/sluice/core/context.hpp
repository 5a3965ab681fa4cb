#pragma once
/// \file
/// What a run hands to every stage before the first pull: the stop token, the metrics
/// registry and the memory plan. Stages receive it through `bind(run_context&)`, which
/// forwards upstream.

#include <atomic>
#include <cstddef>
#include <functional>
#include <optional>
#include <stop_token>
#include <utility>
#include <vector>

#include "error.hpp"
#include "memory_budget.hpp"
#include "metrics.hpp"

namespace sluice {

/// Options of one run of a pipeline.
struct run_options {
    /// Cancels the run: sources check it between records and between blocks.
    std::stop_token stop{};
    /// Where `meter(name)` stages register their counters; may be null.
    sluice::metrics* metrics = nullptr;
    /// Asks the run to *drain*: `drainable()` stages stop reading their upstream and report
    /// exhaustion, so what is in flight finishes and the sink commits (see core/shutdown.hpp).
    /// May be null; otherwise it must outlive the run.
    const std::atomic<bool>* drain = nullptr;
    /// The most bytes the run's stages may buffer (core/memory_budget.hpp): stages that can
    /// adapt shrink to fit, and a run whose stages need more refuses to start (`errc::limit`,
    /// with the breakdown by stage) before the first record. None: no limit, no adaptation.
    std::optional<std::size_t> memory_budget{};
    /// Shown the settled memory plan once every stage is bound, before the first record
    /// (e.g. to print it); may be empty.
    std::function<void(const memory_plan&)> on_memory_plan{};
};

/// The per-run state reachable from every stage. It outlives the run's stages' use of it.
struct run_context {
    std::stop_token stop{};
    sluice::metrics* metrics = nullptr;
    const std::atomic<bool>* drain = nullptr;
    /// What the stages will buffer: each reports here in `bind` (core/memory_budget.hpp).
    memory_plan memory{};

    run_context() = default;
    explicit run_context(const run_options& o)
        : stop(o.stop), metrics(o.metrics), drain(o.drain), memory(o.memory_budget) {}
    // Stages register cleanups that refer to this context: it stays where the run put it.
    run_context(const run_context&) = delete;
    run_context& operator=(const run_context&) = delete;
    /// Runs the end-of-run cleanups, newest first.
    ~run_context() { run_at_end(); }

    /// Registers `f` to run when the run ends, however it ends (after `finish()` or
    /// `abort()`), newest first. Stages that start threads use it so that no thread outlives
    /// the run even when the pipeline object does. `f` must not throw.
    void at_end(std::function<void()> f) { at_end_.push_back(std::move(f)); }
    /// Runs and forgets the registered cleanups (the destructor calls it too).
    void run_at_end() noexcept {
        while (!at_end_.empty()) {
            auto f = std::move(at_end_.back());
            at_end_.pop_back();
            f();
        }
    }
    /// True once a drain was requested (see `run_options::drain`).
    bool drain_requested() const noexcept {
        return drain && drain->load(std::memory_order_relaxed);
    }

private:
    std::vector<std::function<void()>> at_end_;
};

/// Throws `cancelled` if `stop` was triggered. Sources call this between records.
inline void throw_if_stopped(const std::stop_token& stop, const char* stage = "run") {
    if (stop.stop_requested()) [[unlikely]]
        throw cancelled_error(stage);
}

}  // namespace sluice
