#pragma once
/// \file
/// `filter(pred)`: passes on the records for which `pred(record)` is true.

#include <cstddef>
#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

#include "../core/adaptor.hpp"
#include "../core/stage.hpp"

namespace sluice {

/// A callable that can serve as a predicate on records of type `R`.
template <class P, class R>
concept filter_predicate = std::predicate<P&, R&>;

namespace detail {

template <class Up, class Pred>
class filter_stage : public stage_base<filter_stage<Up, Pred>, Up> {
    using base = stage_base<filter_stage<Up, Pred>, Up>;

public:
    /// Buffers nothing across records (core/memory_budget.hpp).
    static constexpr std::size_t buffer_bound = 0;
    using reference = reference_t<Up>;

    filter_stage(Up up, Pred p) : base(std::move(up)), pred_(std::in_place, std::move(p)) {}

    maybe<reference> next() {
        while (auto r = this->up_.next())
            if (std::invoke(*pred_, *r)) return r;
        return {};
    }

    template <class F>
    bool for_each_while(F&& f) {
        return this->up_.for_each_while([&](auto&& x) -> bool {
            if (!std::invoke(*pred_, x)) return true;
            return f(SLUICE_FWD(x));
        });
    }

    /// Starts over (when the upstream can); the predicate is kept as it is.
    void rewind()
        requires rewindable<Up>
    {
        this->up_.rewind();
    }

private:
    box_t<Pred> pred_;
};

}  // namespace detail

/// `filter(pred)` keeps the records for which `pred` returns true. The predicate sees the
/// record as an lvalue; it must not keep references into it past the call.
struct filter_fn : adaptor<filter_fn> {
    template <class Pred>
    using argument_rules = adaptor_rules<
        rule<callable_object<Pred>, "sluice::filter: the predicate must be a callable object">>;
    template <class Up, class Pred>
    using rules = adaptor_rules<rule<filter_predicate<Pred, reference_t<Up>>,
                                     "sluice::filter: the predicate must be callable with the "
                                     "upstream record and return something convertible to bool">>;

    template <class Up, class Pred>
    static auto make(Up up, Pred pred) {
        return detail::filter_stage<Up, Pred>(std::move(up), std::move(pred));
    }
};
inline constexpr filter_fn filter{};

}  // namespace sluice
