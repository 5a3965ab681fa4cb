#pragma once
/// \file
/// `try_map(fn, policy)`: `map(fn)` where an exception thrown by `fn` makes the record a
/// reject handled by the error policy (see policy/error_policy.hpp) instead of ending the run.

#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <type_traits>
#include <utility>

#include "../core/adaptor.hpp"
#include "../core/context.hpp"
#include "../core/stage.hpp"
#include "../policy/error_policy.hpp"

namespace sluice {

namespace detail {

template <class Up, class Fn, class Action>
class try_map_stage : public stage_base<try_map_stage<Up, Fn, Action>, Up> {
    using base = stage_base<try_map_stage<Up, Fn, Action>, Up>;

    // `fn` gets the record as an lvalue: the raw record must survive a throw.
    using arg_t = std::remove_reference_t<reference_t<Up>>&;

public:
    using reference = std::invoke_result_t<Fn&, arg_t>;

    try_map_stage(Up up, Fn fn, error_policy<Action> p)
        : base(std::move(up)), fn_(std::in_place, std::move(fn)), rej_(std::move(p), "try_map") {}

    void bind(run_context& ctx) {
        this->up_.bind(ctx);
        rej_.bind(ctx);
    }

    maybe<reference> next() {
        while (auto r = this->up_.next()) {
            maybe<reference> out;
            if (apply(*r, out)) return out;
        }
        return {};
    }

    template <class F>
    bool for_each_while(F&& f) {
        return this->up_.for_each_while([&](auto&& x) -> bool {
            maybe<reference> out;
            // `f` runs outside the try: a downstream failure is not this record's fault.
            if (!apply(x, out)) return true;
            return f(detail::unwrap(out));
        });
    }

    /// Records rejected so far.
    std::uint64_t rejects() const noexcept { return rej_.rejects(); }

private:
    template <class X>
    bool apply(X& x, maybe<reference>& out) {
        const std::uint64_t index = index_++;
        try {
            out.emplace(std::invoke(*fn_, x));
            return true;
        } catch (...) {
            rej_.reject(x, std::current_exception(), index);
            return false;
        }
    }

    box_t<Fn> fn_;
    rejecter<Action> rej_;
    std::uint64_t index_ = 0;
};

}  // namespace detail

/// `try_map(fn, policy)`: `map(fn)` where an exception thrown by `fn` makes the record a
/// poison record handled by `policy` (see the file comment) instead of failing the run.
/// `fn` sees the record as an lvalue (so the raw record is still there to dead-letter).
struct try_map_fn : adaptor<try_map_fn> {
    template <class Fn, class... P>
    using argument_rules = adaptor_rules<
        rule<callable_object<Fn>, "sluice::try_map: the function must be a callable object">>;
    template <class Up, class Fn, class... P>
    using rules = adaptor_rules<
        rule<returns_value<Fn&, std::remove_reference_t<reference_t<Up>>&>,
             "sluice::try_map: the function must be callable with the upstream record and "
             "return a value">>;

    template <class Up, class Fn, class A = on_error::fail_t>
    static auto make(Up up, Fn fn, error_policy<A> p = {}) {
        return detail::try_map_stage<Up, Fn, A>(std::move(up), std::move(fn), std::move(p));
    }
};
inline constexpr try_map_fn try_map{};

}  // namespace sluice
