#pragma once
/// \file
/// `take(n)`: the first n records, then stop - without pulling record n+1 upstream.

#include <cstddef>
#include <cstdint>
#include <utility>

#include "../core/adaptor.hpp"
#include "../core/stage.hpp"

namespace sluice {

namespace detail {

template <class Up>
class take_stage : public stage_base<take_stage<Up>, Up> {
    using base = stage_base<take_stage<Up>, Up>;

public:
    /// Buffers nothing across records (core/memory_budget.hpp).
    static constexpr std::size_t buffer_bound = 0;
    using reference = reference_t<Up>;

    take_stage(Up up, std::uint64_t n) : base(std::move(up)), n_(n), left_(n) {}

    /// Starts over (when the upstream can), with `n` records to go again.
    void rewind()
        requires rewindable<Up>
    {
        this->up_.rewind();
        left_ = n_;
    }

    maybe<reference> next() {
        if (left_ == 0) return {};
        --left_;
        return this->up_.next();
    }

    template <class F>
    bool for_each_while(F&& f) {
        if (left_ == 0) return true;
        downstream out(f);
        this->up_.for_each_while([&](auto&& x) -> bool {
            --left_;
            return out(SLUICE_FWD(x)) && left_ != 0;
        });
        return !out.stopped();
    }

private:
    std::uint64_t n_;
    std::uint64_t left_;
};

}  // namespace detail

/// `take(n)` passes on at most `n` records.
struct take_fn : adaptor<take_fn> {
    template <class Up>
    static auto make(Up up, std::uint64_t n) {
        return detail::take_stage<Up>(std::move(up), n);
    }
};
inline constexpr take_fn take{};

}  // namespace sluice
