#pragma once
/// \file
/// `meter(name)`: counts the records (and bytes, for byte-like records) that pass, into
/// counters any thread may read while the run goes on. `meter(name, stages)` wraps a
/// closure and counts what goes in, what comes out and the failures that escape it.
///
/// Counters come from the run's `metrics` registry when the run has one (so a snapshot of
/// every stage can be printed), otherwise from the handle given to the meter.

#include <memory>
#include <string>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/closure.hpp"
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
            on_error();
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
            on_error();
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
            c->bump_in();
        } else {
            if constexpr (End == meter_end::through) c->bump_in();
            c->bump_out();
            if constexpr (byte_like<X>) c->bump_bytes(bytes_of(x).size());
        }
    }
    void on_error() noexcept {
        // Only the downstream end counts failures, so a wrapped failure counts once.
        if constexpr (End != meter_end::in)
            if (h_->counters) h_->counters->add_error();
    }

    std::shared_ptr<meter_handle> h_;
};

template <class C>
struct wrap_meter {
    std::string name;
    C inner;
    template <class S>
    auto operator()(S&& s) const {
        auto h = std::make_shared<meter_handle>(meter_handle{name, nullptr, false});
        auto in = meter_stage<std::remove_cvref_t<S>, meter_end::in>(std::forward<S>(s), h);
        auto mid = inner.apply(std::move(in));
        return meter_stage<decltype(mid), meter_end::out>(std::move(mid), h);
    }
};

}  // namespace detail

/// `meter(name)` counts what passes; `meter(counters)` counts into counters you hold;
/// `meter(name, stages)` counts in/out/errors around a closure.
struct meter_fn {
    template <class S>
        requires pipeable_input<S>
    auto operator()(S&& s, std::string name) const {
        auto up = as_source(std::forward<S>(s));
        auto h = std::make_shared<detail::meter_handle>(detail::meter_handle{std::move(name), {}, false});
        return detail::meter_stage<decltype(up), detail::meter_end::through>(std::move(up), h);
    }
    template <class S>
        requires pipeable_input<S>
    auto operator()(S&& s, std::shared_ptr<stage_counters> c) const {
        auto up = as_source(std::forward<S>(s));
        std::string name = c->name();
        auto h = std::make_shared<detail::meter_handle>(
            detail::meter_handle{std::move(name), std::move(c), true});
        return detail::meter_stage<decltype(up), detail::meter_end::through>(std::move(up), h);
    }
    auto operator()(std::string name) const { return make_closure<meter_fn>(std::move(name)); }
    auto operator()(std::shared_ptr<stage_counters> c) const {
        return make_closure<meter_fn>(std::move(c));
    }
    template <class C>
        requires closure_like<C>
    auto operator()(std::string name, C inner) const {
        using W = detail::wrap_meter<std::remove_cvref_t<C>>;
        return closure<W>(W{std::move(name), std::move(inner)});
    }
};
inline constexpr meter_fn meter{};

}  // namespace sluice
