#pragma once
/// \file
/// `progress_display`: a callback for the `progress` stage that renders its reports on a
/// stream (stderr by default): a live bar redrawn in place on a terminal, one plain line per
/// report otherwise (a log, a pipe). Standard library and POSIX `isatty` only.
///
///     sluice::progress_display show(true);
///     sluice::progress_options po;
///     po.interval = show.interval();
///     src | sluice::progress(std::ref(show), po) | ...

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <utility>

#include "../adaptors/progress.hpp"
#include "text.hpp"

namespace sluice {

/// Renders `progress_info` reports: "[#####   ]  42.0% 1,234 rows, 5.1 MB, 2.0 MB/s, 0:03,
/// ETA 0:04" (the bar only on a terminal, percent and ETA only when a total is known).
class progress_display {
public:
    /// `enabled` false draws nothing (a command without --progress); `what` names the
    /// records ("rows").
    explicit progress_display(bool enabled, std::string what = "rows", std::FILE* out = stderr)
        : enabled_(enabled),
          tty_(::isatty(::fileno(out)) == 1),
          what_(std::move(what)),
          out_(out) {}

    /// The report interval suited to where the output goes: 200 ms for a terminal's bar,
    /// 2 s for a log, which gets a line per report.
    std::chrono::milliseconds interval() const noexcept {
        return tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(2000);
    }

    /// Draws one report; the last one (`p.done`) ends the bar's line.
    void operator()(const progress_info& p) const {
        if (!enabled_)
            return;
        std::string line = percent_part(p);
        line += format_count(p.items) + " " + what_ + ", "
                + format_bytes(static_cast<double>(p.bytes)) + ", "
                + format_bytes(p.bytes_per_second) + "/s, " + format_duration(p.elapsed_seconds);
        if (p.eta_seconds && !p.done)
            line += ", ETA " + format_duration(*p.eta_seconds);
        if (tty_)
            std::fprintf(out_, "\r\033[K%s%s", line.c_str(), p.done ? "\n" : "");
        else
            std::fprintf(out_, "%s\n", line.c_str());
        std::fflush(out_);
    }

private:
    /// "[######      ]  42.0% " (the bar on a terminal only), or nothing without a total.
    std::string percent_part(const progress_info& p) const {
        if (!p.percent)
            return {};
        std::string s;
        if (tty_) {
            constexpr int width = 24;
            int filled = static_cast<int>(*p.percent / 100.0 * width + 0.5);
            s += '[';
            s += std::string(static_cast<std::size_t>(filled), '#');
            s += std::string(static_cast<std::size_t>(width - filled), ' ');
            s += "] ";
        }
        char pct[16];
        std::snprintf(pct, sizeof pct, "%5.1f%% ", *p.percent);
        return s + pct;
    }

    bool enabled_;
    bool tty_;
    std::string what_;
    std::FILE* out_;
};

}  // namespace sluice
