#pragma once
/// \file
/// `progress(callback, options)`: reports rows, bytes, rate and elapsed time at most once
/// per interval (and once at the end), with percent and ETA when a total is known.
/// The clock is read once per 256 records (every record for byte chunks), so the stage
/// costs next to nothing on a tight loop.

#include <cstddef>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/adaptor.hpp"
#include "../core/stage.hpp"

namespace sluice {

/// One progress report.
struct progress_info {
    std::uint64_t items = 0;           ///< records seen so far
    std::uint64_t bytes = 0;           ///< bytes seen so far (byte-like records only)
    double elapsed_seconds = 0;        ///< since the first pull
    double items_per_second = 0;
    double bytes_per_second = 0;
    std::optional<double> percent;      ///< 0..100, when a total is known
    std::optional<double> eta_seconds;  ///< remaining time at the current rate
    bool done = false;                 ///< the final report (the stream ended)
};

/// Options of `progress`.
struct progress_options {
    std::chrono::milliseconds interval{1000};
    /// The expected number of records, if known (percent and ETA from records).
    std::optional<std::uint64_t> total_items;
    /// The expected number of bytes, if known (preferred over records for percent).
    std::optional<std::uint64_t> total_bytes;
    /// Where to read the bytes done from, instead of counting byte-like records here
    /// (e.g. a file source's offset while this stage counts parsed rows).
    std::function<std::uint64_t()> bytes_probe;
    /// Where to read the records done from, instead of counting records here (e.g. the
    /// rows a database source has decoded while this stage sees encoded chunks).
    std::function<std::uint64_t()> items_probe;
};

namespace detail {

template <class Up, class Cb>
class progress_stage : public stage_base<progress_stage<Up, Cb>, Up> {
    using base = stage_base<progress_stage<Up, Cb>, Up>;
    using clock = std::chrono::steady_clock;

public:
    /// Buffers nothing across records (core/memory_budget.hpp).
    static constexpr std::size_t buffer_bound = 0;
    using reference = reference_t<Up>;

    progress_stage(Up up, Cb cb, progress_options o)
        : base(std::move(up)), cb_(std::in_place, std::move(cb)), opt_(std::move(o)) {}

    maybe<reference> next() {
        start();
        auto r = this->up_.next();
        if (r)
            seen(*r);
        else
            report(true);
        return r;
    }

    template <class F>
    bool for_each_while(F&& f) {
        start();
        bool all = this->up_.for_each_while([&](auto&& x) -> bool {
            seen(x);
            return f(SLUICE_FWD(x));
        });
        if (all) report(true);
        return all;
    }

private:
    void start() {
        if (!started_) {
            started_ = true;
            t0_ = last_ = clock::now();
        }
    }
    template <class X>
    void seen(const X& x) {
        ++info_.items;
        if constexpr (byte_like<X>) {
            info_.bytes += bytes_of(x).size();
            maybe_report();
        } else {
            if ((info_.items & 255) == 0) maybe_report();
        }
    }
    void maybe_report() {
        auto now = clock::now();
        if (now - last_ >= opt_.interval) {
            last_ = now;
            report(false);
        }
    }
    void report(bool done) {
        if (done && final_sent_) return;
        final_sent_ = done;
        auto now = clock::now();
        info_.done = done;
        if (opt_.bytes_probe) info_.bytes = opt_.bytes_probe();
        if (opt_.items_probe) info_.items = opt_.items_probe();
        info_.elapsed_seconds = std::chrono::duration<double>(now - t0_).count();
        double el = info_.elapsed_seconds > 0 ? info_.elapsed_seconds : 1e-9;
        info_.items_per_second = static_cast<double>(info_.items) / el;
        info_.bytes_per_second = static_cast<double>(info_.bytes) / el;
        info_.percent.reset();
        info_.eta_seconds.reset();
        double done_frac = -1;
        if (opt_.total_bytes && *opt_.total_bytes > 0)
            done_frac = static_cast<double>(info_.bytes) / static_cast<double>(*opt_.total_bytes);
        else if (opt_.total_items && *opt_.total_items > 0)
            done_frac = static_cast<double>(info_.items) / static_cast<double>(*opt_.total_items);
        if (done) done_frac = 1.0;
        if (done_frac >= 0) {
            if (done_frac > 1) done_frac = 1;
            info_.percent = done_frac * 100.0;
            if (done_frac > 0) info_.eta_seconds = el * (1.0 - done_frac) / done_frac;
        }
        std::invoke(*cb_, std::as_const(info_));
    }

    box_t<Cb> cb_;
    progress_options opt_;
    progress_info info_;
    clock::time_point t0_{}, last_{};
    bool started_ = false;
    bool final_sent_ = false;
};

}  // namespace detail

/// `progress(callback)` / `progress(callback, options)` / `progress(callback, interval)`:
/// calls `callback(progress_info)` every `options.interval` and once when the stream ends.
struct progress_fn : adaptor<progress_fn, progress_options> {
    template <class Up, class Cb, class... O>
    using rules =
        adaptor_rules<rule<std::is_invocable_v<Cb&, const progress_info&>,
                           "sluice::progress: the callback must take a const progress_info&">>;

    template <class Up, class Cb>
    static auto make(Up up, Cb cb, progress_options o = {}) {
        return detail::progress_stage<Up, Cb>(std::move(up), std::move(cb), std::move(o));
    }
    template <class Up, class Cb, class Rep, class Period>
    static auto make(Up up, Cb cb, std::chrono::duration<Rep, Period> interval) {
        progress_options o;
        o.interval = std::chrono::duration_cast<std::chrono::milliseconds>(interval);
        return make(std::move(up), std::move(cb), std::move(o));
    }
};
inline constexpr progress_fn progress{};

}  // namespace sluice
