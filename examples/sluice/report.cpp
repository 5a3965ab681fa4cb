// The end-of-run report (see report.hpp).
#include "report.hpp"

#include "common.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace cli {

namespace {

std::string thousands(std::uint64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
    return s;
}

}  // namespace

std::string summary_line(const run_summary& s) {
    std::string line = "sluice: " + thousands(s.rows) + " rows, ";
    if (s.bytes_in) line += format_bytes(*s.bytes_in) + " in, ";
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

std::string stage_table(const std::vector<sluice::counters_snapshot>& stages) {
    if (stages.empty()) return {};
    bool rejects = false, errors = false;
    for (const auto& c : stages) {
        rejects = rejects || c.rejects != 0;
        errors = errors || c.errors != 0;
    }
    // Cells first, then widths: the name column is left-aligned, numbers right-aligned.
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> head{"stage", "in", "out", "bytes out"};
    if (rejects) head.emplace_back("rejects");
    if (errors) head.emplace_back("errors");
    rows.push_back(head);
    for (const auto& c : stages) {
        std::vector<std::string> r{c.name, thousands(c.in), thousands(c.out),
                                   c.bytes ? format_bytes(static_cast<double>(c.bytes)) : "-"};
        if (rejects) r.push_back(thousands(c.rejects));
        if (errors) r.push_back(thousands(c.errors));
        rows.push_back(std::move(r));
    }
    std::vector<std::size_t> width(head.size(), 0);
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    std::string out;
    for (const auto& r : rows) {
        std::string line = "  ";
        for (std::size_t i = 0; i < r.size(); ++i) {
            const std::string pad(width[i] - r[i].size(), ' ');
            if (i == 0)
                line += r[i] + pad;
            else
                line += "  " + pad + r[i];
        }
        out += line + "\n";
    }
    return out;
}

void print_report(bool summary, bool table, bool stats, const run_summary& s,
                  const sluice::metrics& metrics) {
    if (summary) std::fprintf(stderr, "%s\n", summary_line(s).c_str());
    if (table) std::fputs(stage_table(metrics.snapshot()).c_str(), stderr);
    if (stats) std::fprintf(stderr, "%s\n", metrics.to_json().c_str());
    std::fflush(stderr);
}

}  // namespace cli
