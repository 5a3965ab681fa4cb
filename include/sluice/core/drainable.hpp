#pragma once
/// \file
/// `drainable()`: the stage where a *drain* request (see core/shutdown.hpp) cuts the input.
/// It watches the run's drain flag (`run_options::drain`) or a given controller's, and ends
/// its output at a record boundary once the flag is set, so everything downstream finishes
/// as at a normal end of input and the sink commits.

#include <cstddef>
#include <atomic>
#include <concepts>
#include <utility>

#include "adaptor.hpp"
#include "config.hpp"
#include "context.hpp"
#include "maybe.hpp"
#include "stage.hpp"

namespace sluice {

/// What `drainable(sd)` can watch: a controller exposing the flag a drain sets (`shutdown`).
template <class C>
concept drain_controller = requires(const C& c) {
    { c.drain_flag() } -> std::convertible_to<const std::atomic<bool>*>;
};

namespace detail {

template <class Up>
class drainable_stage : public stage_base<drainable_stage<Up>, Up> {
    using base = stage_base<drainable_stage<Up>, Up>;

public:
    /// Buffers nothing across records (core/memory_budget.hpp).
    static constexpr std::size_t buffer_bound = 0;
    using reference = reference_t<Up>;

    drainable_stage(Up up, const std::atomic<bool>* flag) : base(std::move(up)), flag_(flag) {}

    void bind(run_context& ctx) {
        this->up_.bind(ctx);
        // A flag given explicitly (drainable(sd)) wins over the run's.
        if (!fixed_) flag_ = ctx.drain;
    }
    void fix() noexcept { fixed_ = true; }

    maybe<reference> next() {
        if (draining()) return {};
        return this->up_.next();
    }

    template <class F>
    bool for_each_while(F&& f) {
        if (draining()) return true;
        downstream out(f);
        this->up_.for_each_while([&](auto&& x) -> bool {
            // Checked after each record, so the record already read is never lost.
            return out(SLUICE_FWD(x)) && !draining();
        });
        // A drain is an orderly end of input to everything downstream.
        return !out.stopped();
    }

private:
    bool draining() const noexcept {
        return flag_ && flag_->load(std::memory_order_relaxed);
    }
    const std::atomic<bool>* flag_ = nullptr;
    bool fixed_ = false;
};

}  // namespace detail

/// `drainable()`: the point where a drain request cuts the input. Place it right after the
/// source (or after a stage whose partial output is still useful). Records already read pass
/// on; then the stage reports the end of input. Without a drain request it costs one relaxed
/// load per record. `drainable()` uses the run's flag (`run_options::drain`, as set by
/// `shutdown::options()`); `drainable(sd)` watches a given controller (a `shutdown`).
struct drainable_fn : adaptor<drainable_fn> {
    template <class Up>
    static auto make(Up up) {
        return detail::drainable_stage<Up>(std::move(up), nullptr);
    }
    template <class Up, drain_controller C>
    static auto make(Up up, const C* sd) {
        detail::drainable_stage<Up> st(std::move(up), sd->drain_flag());
        st.fix();
        return st;
    }
    template <class Up, drain_controller C>
    static auto make(Up up, const C& sd) {
        return make(std::move(up), &sd);
    }
    /// A closure keeps the controller by address: it must outlive the pipeline.
    template <drain_controller C>
    static const C* capture(const C& sd) noexcept {
        return &sd;
    }
};
inline constexpr drainable_fn drainable{};

}  // namespace sluice
