#pragma once
/// \file
/// `for_each(fn)`: calls `fn(record)` for every record; returns how many there were.

#include <concepts>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include "../core/sink.hpp"
#include "../core/run.hpp"  // `source | sink` runs through terminal_run

namespace sluice {

namespace detail {
template <class Fn>
class for_each_sink : public sink_base {
public:
    explicit for_each_sink(Fn fn) : fn_(std::move(fn)) {}
    /// If `fn` returns bool, false stops the run early (a normal, committed end).
    template <class R>
    bool push(R&& r) {
        ++n_;
        if constexpr (std::same_as<std::invoke_result_t<Fn&, R&&>, bool>)
            return std::invoke(fn_, std::forward<R>(r));
        else {
            std::invoke(fn_, std::forward<R>(r));
            return true;
        }
    }
    std::uint64_t finish() noexcept { return n_; }

private:
    Fn fn_;
    std::uint64_t n_ = 0;
};
}  // namespace detail

/// `pipeline | for_each(fn)` runs `fn` on each record (views are valid during the call).
struct for_each_fn {
    template <class Fn>
    auto operator()(Fn fn) const {
        return detail::for_each_sink<Fn>(std::move(fn));
    }
};
inline constexpr for_each_fn for_each{};

}  // namespace sluice
