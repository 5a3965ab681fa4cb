#pragma once
/// \file
/// `map(fn)`: yields `fn(record)` for each record.

#include <cstddef>
#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

#include "../core/adaptor.hpp"
#include "../core/stage.hpp"

namespace sluice {

/// A callable that maps records of type `R` to something (not void).
template <class Fn, class R>
concept map_function = std::invocable<Fn&, R> && !std::is_void_v<std::invoke_result_t<Fn&, R>>;

namespace detail {

template <class Up, class Fn>
class map_stage : public stage_base<map_stage<Up, Fn>, Up> {
    using base = stage_base<map_stage<Up, Fn>, Up>;

public:
    /// Buffers nothing across records (core/memory_budget.hpp).
    static constexpr std::size_t buffer_bound = 0;
    using reference = std::invoke_result_t<Fn&, reference_t<Up>>;

    map_stage(Up up, Fn fn) : base(std::move(up)), fn_(std::in_place, std::move(fn)) {}

    maybe<reference> next() {
        if (auto r = this->up_.next()) return std::invoke(*fn_, detail::unwrap(r));
        return {};
    }

    template <class F>
    bool for_each_while(F&& f) {
        return this->up_.for_each_while(
            [&](auto&& x) -> bool { return f(std::invoke(*fn_, SLUICE_FWD(x))); });
    }

    /// Starts over (when the upstream can); the function is kept as it is.
    void rewind()
        requires rewindable<Up>
    {
        this->up_.rewind();
    }

private:
    box_t<Fn> fn_;
};

}  // namespace detail

/// `map(fn)` transforms each record. `fn` may return a reference (into the record or its
/// own state); the result is handed on without a copy.
struct map_fn : adaptor<map_fn> {
    template <class Fn>
    using argument_rules = adaptor_rules<
        rule<callable_object<Fn>, "sluice::map: the function must be a callable object">>;
    template <class Up, class Fn>
    using rules = adaptor_rules<rule<map_function<Fn, reference_t<Up>>,
                                     "sluice::map: the function must be callable with the "
                                     "upstream record and return a value">>;

    template <class Up, class Fn>
    static auto make(Up up, Fn fn) {
        return detail::map_stage<Up, Fn>(std::move(up), std::move(fn));
    }
};
inline constexpr map_fn map{};

}  // namespace sluice
