#pragma once
/// \file
/// `filter(pred)`: passes on the records for which `pred(record)` is true.

#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

#include "../core/closure.hpp"
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
struct filter_fn {
    template <class S, class Pred>
    auto operator()(S&& s, Pred pred) const {
        auto up = as_source(std::forward<S>(s));
        using Up = decltype(up);
        static_assert(filter_predicate<Pred, reference_t<Up>>,
                      "sluice::filter: the predicate must be callable with the upstream "
                      "record and return something convertible to bool");
        return detail::filter_stage<Up, Pred>(std::move(up), std::move(pred));
    }
    template <class Pred>
        requires(!pipeable_input<Pred>)
    auto operator()(Pred pred) const {
        static_assert(std::is_class_v<Pred> || std::is_pointer_v<Pred> ||
                          std::is_member_pointer_v<Pred>,
                      "sluice::filter: the predicate must be a callable object");
        return make_closure<filter_fn>(std::move(pred));
    }
};
inline constexpr filter_fn filter{};

}  // namespace sluice
