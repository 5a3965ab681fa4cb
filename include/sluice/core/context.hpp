#pragma once
/// \file
/// What a run hands to every stage before the first pull: the stop token and the metrics
/// registry. Stages receive it through `bind(run_context&)`, which forwards upstream.

#include <stop_token>

#include "error.hpp"
#include "metrics.hpp"

namespace sluice {

/// Options of one run of a pipeline.
struct run_options {
    /// Cancels the run: sources check it between records and between blocks.
    std::stop_token stop{};
    /// Where `meter(name)` stages register their counters; may be null.
    sluice::metrics* metrics = nullptr;
};

/// The per-run state reachable from every stage. It outlives the run's stages' use of it.
struct run_context {
    std::stop_token stop{};
    sluice::metrics* metrics = nullptr;

    run_context() = default;
    explicit run_context(const run_options& o) : stop(o.stop), metrics(o.metrics) {}
};

/// Throws `cancelled` if `stop` was triggered. Sources call this between records.
inline void throw_if_stopped(const std::stop_token& stop, const char* stage = "run") {
    if (stop.stop_requested()) [[unlikely]]
        throw cancelled_error(stage);
}

}  // namespace sluice
