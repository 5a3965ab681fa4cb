#pragma once
/// \file
/// `fold(init, op)`: combines every record into one value, left to right.

#include <functional>
#include <type_traits>
#include <utility>

#include "../core/config.hpp"
#include "../core/sink.hpp"
#include "../core/run.hpp"  // `source | sink` runs through terminal_run

namespace sluice {

namespace detail {
template <class T, class Op>
class fold_sink : public sink_base {
public:
    fold_sink(T init, Op op) : acc_(std::move(init)), op_(std::move(op)) {}
    template <class R>
    bool push(R&& r) {
        static_assert(std::is_assignable_v<T&, std::invoke_result_t<Op&, T&&, R&&>>,
                      "sluice::fold: op(acc, record) must return a value assignable to acc");
        acc_ = std::invoke(op_, std::move(acc_), std::forward<R>(r));
        return true;
    }
    /// Drives the whole loop with the accumulator in a local: a member updated through a
    /// pointer costs a store-motion flag per record in GCC's output.
    template <class S>
    void drain(S& src) {
        T acc = std::move(acc_);
        src.for_each_while([&](auto&& r) -> bool {
            acc = std::invoke(op_, std::move(acc), SLUICE_FWD(r));
            return true;
        });
        acc_ = std::move(acc);
    }
    T finish() { return std::move(acc_); }

private:
    T acc_;
    [[no_unique_address]] Op op_;
};
}  // namespace detail

/// `pipeline | fold(init, op)` returns `op(...op(op(init, r0), r1)..., rn)`.
struct fold_fn {
    template <class T, class Op>
    auto operator()(T init, Op op) const {
        return detail::fold_sink<T, Op>(std::move(init), std::move(op));
    }
};
inline constexpr fold_fn fold{};

}  // namespace sluice
