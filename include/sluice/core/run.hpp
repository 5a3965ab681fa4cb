#pragma once
/// \file
/// `run(source, sink, options)`: drives a pipeline into a sink through the fused push path.
/// `try_run` does the same and returns failures as a `result` instead of throwing.

#include <type_traits>
#include <utility>

#include "closure.hpp"
#include "context.hpp"
#include "error.hpp"
#include "sink.hpp"
#include "stage.hpp"

namespace sluice {

/// Runs `src` into `sink`: binds the context (stop token, metrics, memory plan) to every
/// stage, settles the memory plan (`run_options::memory_budget`), pushes every record,
/// then commits with `sink.finish()` and returns its result. On any failure
/// or cancellation the sink is aborted *before* the error leaves this function.
template <class Src, class K>
decltype(auto) run(Src&& src, K&& sink, const run_options& opts = {}) {
    using S = std::remove_cvref_t<Src>;
    if constexpr (!source<S>) {
        static_assert(pipeable_input<Src>,
                      "sluice::run: the first argument must be a sluice source or a range");
        auto wrapped = from_range(std::forward<Src>(src));
        return sluice::run(wrapped, std::forward<K>(sink), opts);
    } else if constexpr (requires { sink.template make_sink<reference_t<S>>(); }) {
        // A sink factory (e.g. `to_vector()`): the concrete sink depends on the record type.
        auto concrete = sink.template make_sink<reference_t<S>>();
        return sluice::run(std::forward<Src>(src), concrete, opts);
    } else {
    static_assert(sink_for<std::remove_reference_t<K>, reference_t<S>>,
                  "sluice::run: this sink cannot take the records this pipeline yields");
    run_context ctx(opts);
    src.bind(ctx);
    if constexpr (requires { sink.bind(ctx); }) sink.bind(ctx);
    try {
        // Every stage has reported its buffers: refuse an over-budget run or let the stages
        // adapt, before the first record (core/memory_budget.hpp).
        ctx.memory.resolve();
        if (opts.on_memory_plan) opts.on_memory_plan(ctx.memory);
        // A sink may drive the loop itself (`drain`), e.g. to keep an accumulator in a local
        // the compiler can hold in a register; otherwise the run pushes into it.
        if constexpr (requires { sink.drain(src); })
            sink.drain(src);
        else
            src.for_each_while([&](auto&& r) -> bool { return sink.push(SLUICE_FWD(r)); });
        throw_if_stopped(ctx.stop, "run");
        return sink.finish();
    } catch (...) {
        sink.abort(current_error());
        throw;
    }
    }
}

/// `run` without exceptions at the edge: every failure (a sluice::error, a std::exception
/// from user code, bad_alloc) comes back as `result::error()`.
template <class Src, class K>
auto try_run(Src&& src, K&& sink, const run_options& opts = {}) noexcept {
    using R = std::remove_cvref_t<decltype(sluice::run(std::forward<Src>(src),
                                                       std::forward<K>(sink), opts))>;
    try {
        if constexpr (std::is_void_v<R>) {
            run(std::forward<Src>(src), std::forward<K>(sink), opts);
            return result<void>();
        } else {
            return result<R>(run(std::forward<Src>(src), std::forward<K>(sink), opts));
        }
    } catch (...) {
        return result<R>(current_error());
    }
}

namespace detail {
template <class S, class K>
decltype(auto) terminal_run(S&& src, K&& k) {
    if constexpr (requires { std::forward<K>(k).run_on(std::forward<S>(src)); })
        return std::forward<K>(k).run_on(std::forward<S>(src));
    else
        return sluice::run(std::forward<S>(src), std::forward<K>(k));
}
}  // namespace detail

}  // namespace sluice
