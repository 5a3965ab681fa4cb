#pragma once
/// \file
/// `tap(fn)`: calls `fn(record)` for its side effect and passes the record on unchanged.

#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

#include "../core/adaptor.hpp"
#include "../core/stage.hpp"

namespace sluice {

namespace detail {

template <class Up, class Fn>
class tap_stage : public stage_base<tap_stage<Up, Fn>, Up> {
    using base = stage_base<tap_stage<Up, Fn>, Up>;

public:
    /// Buffers nothing across records (core/memory_budget.hpp).
    static constexpr std::size_t buffer_bound = 0;
    using reference = reference_t<Up>;

    tap_stage(Up up, Fn fn) : base(std::move(up)), fn_(std::in_place, std::move(fn)) {}

    maybe<reference> next() {
        auto r = this->up_.next();
        if (r) std::invoke(*fn_, std::as_const(*r));
        return r;
    }

    template <class F>
    bool for_each_while(F&& f) {
        return this->up_.for_each_while([&](auto&& x) -> bool {
            std::invoke(*fn_, std::as_const(x));
            return f(SLUICE_FWD(x));
        });
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

/// `tap(fn)` observes each record (as a const lvalue) without changing the stream.
struct tap_fn : adaptor<tap_fn> {
    template <class Fn>
    using argument_rules = adaptor_rules<
        rule<callable_object<Fn>, "sluice::tap: the function must be a callable object">>;
    template <class Up, class Fn>
    using rules = adaptor_rules<rule<std::is_invocable_v<Fn&, const value_t<Up>&>,
                                     "sluice::tap: the function must be callable with a const "
                                     "record">>;

    template <class Up, class Fn>
    static auto make(Up up, Fn fn) {
        return detail::tap_stage<Up, Fn>(std::move(up), std::move(fn));
    }
};
inline constexpr tap_fn tap{};

}  // namespace sluice
