#pragma once
/// \file
/// The end-of-run report of a pipeline, for a person: `summary_line` ("5,000 rows, 1.2 MB
/// in, 310.4 kB out, 0.05 s, 24.0 MB/s, peak memory 5.1 MiB") and `stage_table` (one aligned
/// line per stage of a `metrics` snapshot); for a machine, `metrics::to_json`.
/// `print_run_report` prints them in that order, the JSON last so `tail -n 1` finds it.
/// Standard library and POSIX `getrusage` only.

#include <sys/resource.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../core/metrics.hpp"
#include "text.hpp"

namespace sluice {

/// Peak resident set size of this process so far, in MiB.
inline double peak_rss_mib() {
    struct rusage ru {};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

/// What one run did, for the summary line.
struct run_summary {
    std::uint64_t rows = 0;
    std::optional<double> bytes_in;  ///< input bytes, when known
    double bytes_out = 0;
    double seconds = 0;
    std::string extra;  ///< appended as is, e.g. ", 4 bad records skipped"
};

/// "sluice: 5,000 rows, 1.2 MB in, 310.4 kB out, 0.05 s, 24.0 MB/s, peak memory 5.1 MiB"
/// (MB/s of the input when it is known, else of the output).
inline std::string summary_line(const run_summary& s) {
    std::string line = "sluice: " + format_count(s.rows) + " rows, ";
    if (s.bytes_in)
        line += format_bytes(*s.bytes_in) + " in, ";
    line += format_bytes(s.bytes_out) + " out, ";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f s, ", s.seconds);
    line += buf;
    const double moved = s.bytes_in ? *s.bytes_in : s.bytes_out;
    line += format_bytes(s.seconds > 0 ? moved / s.seconds : 0) + "/s, ";
    std::snprintf(buf, sizeof buf, "peak memory %.1f MiB", peak_rss_mib());
    line += buf;
    line += s.extra;
    return line;
}

namespace detail {

/// Rows of cells -> text: the first column left-aligned, the others right-aligned, two
/// spaces of indent and two between columns.
inline std::string align_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width;
    for (const auto& r : rows) {
        width.resize(std::max(width.size(), r.size()), 0);
        for (std::size_t i = 0; i < r.size(); ++i)
            width[i] = std::max(width[i], r[i].size());
    }
    std::string out;
    for (const auto& r : rows) {
        std::string line = "  ";
        for (std::size_t i = 0; i < r.size(); ++i) {
            const std::string pad(width[i] - r[i].size(), ' ');
            line += i == 0 ? r[i] + pad : "  " + pad + r[i];
        }
        out += line + "\n";
    }
    return out;
}

}  // namespace detail

/// The stages, one aligned line each under a header: name, records in, records out, bytes
/// out; rejects and errors columns only when some stage has any. Empty for no stages.
inline std::string stage_table(const std::vector<counters_snapshot>& stages) {
    if (stages.empty())
        return {};
    bool rejects = false, errors = false;
    for (const auto& c : stages) {
        rejects = rejects || c.rejects != 0;
        errors = errors || c.errors != 0;
    }
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> head{"stage", "in", "out", "bytes out"};
    if (rejects)
        head.emplace_back("rejects");
    if (errors)
        head.emplace_back("errors");
    rows.push_back(head);
    for (const auto& c : stages) {
        std::vector<std::string> r{c.name, format_count(c.in), format_count(c.out),
                                   c.bytes ? format_bytes(static_cast<double>(c.bytes)) : "-"};
        if (rejects)
            r.push_back(format_count(c.rejects));
        if (errors)
            r.push_back(format_count(c.errors));
        rows.push_back(std::move(r));
    }
    return detail::align_table(rows);
}

/// Which parts of the report to print.
struct run_report_options {
    bool summary = false;  ///< the summary line
    bool table = false;    ///< the stage table, after it
    bool json = false;     ///< the JSON object of every stage's counters, last
};

/// Prints the chosen parts of the report on `out` (stderr by default).
inline void print_run_report(const run_report_options& what, const run_summary& s, const metrics& m,
                             std::FILE* out = stderr) {
    if (what.summary)
        std::fprintf(out, "%s\n", summary_line(s).c_str());
    if (what.table)
        std::fputs(stage_table(m.snapshot()).c_str(), out);
    if (what.json)
        std::fprintf(out, "%s\n", m.to_json().c_str());
    std::fflush(out);
}

}  // namespace sluice
