#pragma once
/// \file
/// `meter(name)`: counts the records (and bytes, for byte-like records) that pass, into
/// counters any thread may read while the run goes on. `meter(name, stages)` wraps a
/// closure and counts what goes in, what comes out and the failures that escape it.
///
/// Counters come from the run's `metrics` registry when the run has one (so a snapshot of
/// every stage can be printed), otherwise from the handle given to the meter.

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/adaptor.hpp"
#include "../core/error.hpp"
#include "../core/metrics.hpp"
#include "../core/stage.hpp"

namespace sluice {

namespace detail {

/// Shared by the two ends of a wrapping meter; resolved against the registry at bind.
struct meter_handle {
    std::string name;
    std::shared_ptr<stage_counters> counters;
    bool fixed = false;  ///< counters given by the user: never replaced by the registry's

    void resolve(run_context& ctx) {
        if (fixed) return;
        if (ctx.metrics)
            counters = ctx.metrics->counters(name);
        else if (!counters)
            counters = std::make_shared<stage_counters>(name);
    }
};

enum class meter_end { in, out, through };

template <class Up, meter_end End>
class meter_stage : public stage_base<meter_stage<Up, End>, Up> {
    using base = stage_base<meter_stage<Up, End>, Up>;

public:
    /// Buffers nothing across records (core/memory_budget.hpp).
    static constexpr std::size_t buffer_bound = 0;
    using reference = reference_t<Up>;

    meter_stage(Up up, std::shared_ptr<meter_handle> h) : base(std::move(up)), h_(std::move(h)) {}

    void bind(run_context& ctx) {
        // Upstream first, so the registry lists stages in pipeline order; counting starts
        // only after every stage is bound, so the upstream end sees resolved counters.
        this->up_.bind(ctx);
        if constexpr (End != meter_end::in) h_->resolve(ctx);
    }

    maybe<reference> next() {
        try {
            auto r = this->up_.next();
            if (r) count(*r);
            return r;
        } catch (...) {
            count_failure();
            throw;
        }
    }

    template <class F>
    bool for_each_while(F&& f) {
        stage_counters* c = h_->counters.get();
        try {
            return this->up_.for_each_while([&](auto&& x) -> bool {
                count_in(c, x);
                return f(SLUICE_FWD(x));
            });
        } catch (...) {
            count_failure();
            throw;
        }
    }

    /// The counters (valid once the run has bound the stage).
    const std::shared_ptr<stage_counters>& counters() const noexcept { return h_->counters; }

private:
    template <class X>
    void count(const X& x) {
        count_in(h_->counters.get(), x);
    }
    template <class X>
    static void count_in(stage_counters* c, const X& x) {
        if constexpr (End == meter_end::in) {
            c->add_in_single_writer();
        } else {
            if constexpr (End == meter_end::through) c->add_in_single_writer();
            c->add_out_single_writer();
            if constexpr (byte_like<X>) c->add_bytes_single_writer(bytes_of(x).size());
        }
    }
    void count_failure() noexcept {
        // Only the downstream end counts failures, so a wrapped failure counts once.
        if constexpr (End != meter_end::in)
            if (h_->counters) h_->counters->add_error();
    }

    std::shared_ptr<meter_handle> h_;
};

}  // namespace detail

/// `meter(name)` counts what passes; `meter(counters)` counts into counters you hold;
/// `meter(name, stages)` counts in/out/errors around a closure.
struct meter_fn : adaptor<meter_fn> {
    /// A string first is the stage's name, not a source.
    static constexpr bool names_first = true;

    template <class Up>
    static auto make(Up up, std::string name) {
        return through(std::move(up), std::make_shared<detail::meter_handle>(
                                          detail::meter_handle{std::move(name), {}, false}));
    }
    template <class Up>
    static auto make(Up up, std::shared_ptr<stage_counters> c) {
        std::string name = c->name();
        return through(std::move(up), std::make_shared<detail::meter_handle>(
                                          detail::meter_handle{std::move(name), std::move(c), true}));
    }
    /// Around `inner`: one end counts what goes in, the other what comes out and the
    /// failures; both share one handle, resolved against the registry at bind.
    template <class Up, class C>
        requires closure_like<C>
    static auto make(Up up, std::string name, C inner) {
        auto h = std::make_shared<detail::meter_handle>(detail::meter_handle{std::move(name), nullptr, false});
        auto in = detail::meter_stage<Up, detail::meter_end::in>(std::move(up), h);
        auto mid = std::move(inner).apply(std::move(in));
        return detail::meter_stage<decltype(mid), detail::meter_end::out>(std::move(mid), h);
    }

private:
    template <class Up>
    static auto through(Up up, std::shared_ptr<detail::meter_handle> h) {
        return detail::meter_stage<Up, detail::meter_end::through>(std::move(up), std::move(h));
    }
};
inline constexpr meter_fn meter{};

}  // namespace sluice
