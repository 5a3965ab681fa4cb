#pragma once
/// \file
/// `from_range(r)`: any range (a container, a std::views or range-v3 view, an array) as a
/// sluice source. An lvalue range is referenced, an rvalue range is moved in and owned.
/// It lives in core because the pipe itself (closure.hpp) wraps ranges with it.

#include <cstddef>
#include <limits>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "config.hpp"
#include "stage.hpp"

namespace sluice {

namespace detail {

template <class R>
concept has_member_begin_end = requires(R& r) {
    r.begin();
    r.end();
};
template <class R>
concept has_adl_begin_end = requires(R& r) {
    begin(r);
    end(r);
};

template <class R>
    requires has_member_begin_end<R> || has_adl_begin_end<R> || std::is_array_v<R>
decltype(auto) begin_of(R& r) {
    if constexpr (has_member_begin_end<R>)
        return r.begin();
    else if constexpr (std::is_array_v<R>)
        return r + 0;
    else
        return begin(r);
}
template <class R>
    requires has_member_begin_end<R> || has_adl_begin_end<R> || std::is_array_v<R>
decltype(auto) end_of(R& r) {
    if constexpr (has_member_begin_end<R>)
        return r.end();
    else if constexpr (std::is_array_v<R>)
        return r + std::extent_v<R>;
    else
        return end(r);
}

/// Anything iterable with begin()/end() (members or found by ADL) whose iterator reads.
template <class R>
concept iterable = requires(R& r) {
    detail::begin_of(r) != detail::end_of(r);
    *detail::begin_of(r);
};

/// Holds an lvalue range by pointer and an rvalue range by value.
template <class R>
class range_holder {
public:
    explicit range_holder(R&& r) : r_(std::move(r)) {}
    R& get() noexcept { return r_; }

private:
    R r_;
};
template <class R>
class range_holder<R&> {
public:
    explicit range_holder(R& r) noexcept : r_(std::addressof(r)) {}
    R& get() noexcept { return *r_; }

private:
    R* r_;
};

/// The source behind `from_range`. Iteration starts at the first pull; the stage must not
/// be moved after that, since the iterators may point into the range it owns.
template <class R>
class range_source : public root_source<range_source<R>> {
    using range_type = std::remove_reference_t<R>;
    using iterator = decltype(detail::begin_of(std::declval<range_type&>()));
    using sentinel = decltype(detail::end_of(std::declval<range_type&>()));

public:
    using reference = decltype(*std::declval<iterator&>());
    /// Buffers nothing across records over a borrowed range (a view of storage the caller
    /// keeps); a range it owns is data of run-time size, so it states no bound then
    /// (core/memory_budget.hpp).
    static constexpr std::size_t buffer_bound =
        std::ranges::borrowed_range<R> ? 0 : std::numeric_limits<std::size_t>::max();

    explicit range_source(R&& r) : r_(std::forward<R>(r)) {}
    range_source(range_source&& o) noexcept(std::is_nothrow_move_constructible_v<range_holder<R>>)
        : root_source<range_source>(std::move(o)), r_(std::move(o.r_)) {}
    range_source& operator=(range_source&& o) {
        root_source<range_source>::operator=(std::move(o));
        r_ = std::move(o.r_);
        it_.reset();
        end_.reset();
        step_pending_ = false;
        return *this;
    }

    maybe<reference> next() {
        start();
        if constexpr (input_only) {
            // The record may live in the iterator or the view (istream_view keeps the value
            // it read): step past it at the next pull, when the caller is done with it.
            if (step_pending_) {
                step_pending_ = false;
                ++*it_;
            }
            if (*it_ == *end_) return {};
            if (++pulled_ % stop_check_interval == 0) this->check_stop("from_range");
            step_pending_ = true;
            return maybe<reference>(**it_);
        } else {
            if (*it_ == *end_) return {};
            if (++pulled_ % stop_check_interval == 0) this->check_stop("from_range");
            maybe<reference> m(**it_);
            ++*it_;
            return m;
        }
    }

    template <class F>
    bool for_each_while(F&& f) {
        start();
        if constexpr (input_only) {
            if (step_pending_) {
                step_pending_ = false;
                ++*it_;
            }
        }
        iterator& it = *it_;
        const sentinel& end = *end_;
        for (;;) {
            this->check_stop("from_range");
            for (std::size_t n = 0; n < stop_check_interval; ++n) {
                if (it == end) return true;
                if (!f(*it)) {
                    ++it;
                    return false;
                }
                ++it;
            }
        }
    }

    /// Starts over at the range's first element (a range whose iterators are forward
    /// iterators can be read again; an input-only one cannot).
    void rewind()
        requires std::forward_iterator<iterator>
    {
        it_.reset();
        end_.reset();
        step_pending_ = false;
    }

private:
    static constexpr bool input_only = !std::forward_iterator<iterator>;

    void start() {
        if (!it_) [[unlikely]] {
            it_.emplace(detail::begin_of(r_.get()));
            end_.emplace(detail::end_of(r_.get()));
        }
    }

    range_holder<R> r_;
    std::optional<iterator> it_;
    std::optional<sentinel> end_;
    std::size_t pulled_ = 0;
    bool step_pending_ = false;  // input_only: the last pulled element is still current
};

}  // namespace detail

/// Makes a source of any iterable range. `from_range(v)` reads `v` in place (keep it alive
/// for the run); `from_range(std::move(v))` owns it.
struct from_range_fn {
    template <class R>
        requires detail::iterable<std::remove_reference_t<R>>
    auto operator()(R&& r) const {
        return detail::range_source<R>(std::forward<R>(r));
    }
};
inline constexpr from_range_fn from_range{};

}  // namespace sluice
