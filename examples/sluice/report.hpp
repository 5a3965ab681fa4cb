#pragma once
// The end-of-run report of `convert`, `export` and `load`: for a person (--progress) a
// summary line and an aligned table of the stages; for a machine (--stats) one JSON object
// of every stage's counters, printed last so that `tail -n 1` finds it.

#include <sluice/core/metrics.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cli {

/// What one run did, for the summary line.
struct run_summary {
    std::uint64_t rows = 0;
    std::optional<double> bytes_in;  ///< input bytes (convert), the rows' bytes (export)
    double bytes_out = 0;
    double seconds = 0;
    std::string extra;  ///< appended as is, e.g. ", 4 bad records skipped"
};

/// "sluice: 5,000 rows, 1.2 MB in, 310.4 kB out, 0.05 s, 24.0 MB/s, peak memory 5.1 MiB"
/// (MB/s of the input when it is known, else of the output).
std::string summary_line(const run_summary& s);

/// The stages, one aligned line each under a header: name, records in, records out, bytes
/// out; rejects and errors columns only when some stage has any.
std::string stage_table(const std::vector<sluice::counters_snapshot>& stages);

/// Prints the report on stderr: with `summary` the summary line, with `table` the stage
/// table after it, with `stats` the JSON object of `metrics` last.
void print_report(bool summary, bool table, bool stats, const run_summary& s,
                  const sluice::metrics& metrics);

}  // namespace cli
