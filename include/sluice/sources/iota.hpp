#pragma once
/// \file
/// `iota(first, last)`: the integers in [first, last); `iota(first)` counts without end.

#include <concepts>
#include <cstddef>
#include <limits>
#include <type_traits>

#include "../core/config.hpp"
#include "../core/stage.hpp"

namespace sluice {

namespace detail {

template <std::integral T>
class iota_source : public root_source<iota_source<T>> {
public:
    /// Buffers nothing across records (core/memory_budget.hpp).
    static constexpr std::size_t buffer_bound = 0;
    using reference = T;

    iota_source(T first, T last) noexcept : first_(first), cur_(first), last_(last) {}

    /// Starts over at `first`.
    void rewind() noexcept { cur_ = first_; }

    maybe<T> next() {
        if (cur_ >= last_) return {};
        if (++pulled_ % stop_check_interval == 0) this->check_stop("iota");
        return cur_++;
    }

    /// Without a stop token this is the plain counted loop a person would write; with one,
    /// it counts in blocks of `stop_check_interval` with no check inside a block. Either
    /// way the compiler sees a simple loop it can unroll and vectorise.
    template <class F>
    bool for_each_while(F&& f) {
        T i = cur_;
        const T last = last_;
        if (!this->stop_.stop_possible()) {
            for (; i < last; ++i) {
                if (!f(T(i))) {
                    cur_ = static_cast<T>(i + 1);
                    return false;
                }
            }
            cur_ = i;
            return true;
        }
        using U = std::make_unsigned_t<T>;
        while (i < last) {
            this->check_stop("iota");
            U left = static_cast<U>(static_cast<U>(last) - static_cast<U>(i));
            T block_end = left > stop_check_interval ? static_cast<T>(i + T(stop_check_interval))
                                                     : last;
            for (; i < block_end; ++i) {
                if (!f(T(i))) {
                    cur_ = static_cast<T>(i + 1);
                    return false;
                }
            }
        }
        cur_ = i;
        return true;
    }

private:
    T first_;
    T cur_;
    T last_;
    std::size_t pulled_ = 0;
};

}  // namespace detail

/// `iota(first, last)` yields first, first+1, ..., last-1; `iota(first)` goes on to the
/// largest value of the type (use `take(n)` to bound it).
struct iota_fn {
    template <std::integral T, std::integral U>
    auto operator()(T first, U last) const {
        using C = std::common_type_t<T, U>;
        return detail::iota_source<C>(static_cast<C>(first), static_cast<C>(last));
    }
    template <std::integral T>
    auto operator()(T first) const {
        return detail::iota_source<T>(first, std::numeric_limits<T>::max());
    }
};
inline constexpr iota_fn iota{};

}  // namespace sluice
