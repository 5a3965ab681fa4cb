#pragma once
/// \file
/// Sinks: the terminal of a pipeline. A sink takes records through `push` (returning false
/// to stop early), commits in `finish()` (whose result the run returns) and undoes in
/// `abort(error)`. Two-phase, so a failed run never leaves half-written output behind.

#include <concepts>
#include <type_traits>
#include <utility>

#include "closure.hpp"
#include "error.hpp"

namespace sluice {

/// A sink that accepts records of type `R`.
template <class K, class R>
concept sink_for = requires(K& k, R&& r, const error& e) {
    { k.push(std::forward<R>(r)) } -> std::convertible_to<bool>;
    k.finish();
    { k.abort(e) } noexcept;
};

/// Base of every sink: makes it a terminal for `|`. Sinks with nothing to undo inherit the
/// empty `abort`; sinks that need the run's context define `bind(run_context&)`.
class sink_base : public detail::terminal_tag {
public:
    void abort(const error&) noexcept {}
};

/// The type `finish()` returns for sink `K`: what a run into `K` returns.
template <class K>
using sink_result_t = decltype(std::declval<K&>().finish());

}  // namespace sluice
