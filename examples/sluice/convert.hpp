#pragma once
// `sluice convert`: any of CSV, TSV, JSONL, JSON (optionally gzip/zstd) to any of them.

#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "common.hpp"
#include "parquet_options.hpp"

namespace cli {

struct convert_options {
    std::string input;
    std::string output;
    std::string from;      ///< input format; empty: from the input name
    std::string to;        ///< output format; empty: from the output name
    std::string compress;  ///< gzip | zstd | none; empty: from the output name
    std::optional<int> level;
    std::vector<std::string> columns;  ///< JSON -> CSV: the columns, in order
    bool progress = false;
    std::string on_error = "fail";  ///< fail | skip
    std::string dead_letter;        ///< where skipped records go (JSON lines)
    std::uint64_t max_errors = 0;   ///< with skip: more bad records than this fail the run (0: no limit)
    std::size_t max_columns = 10000;  ///< CSV/TSV input: more fields in a record is an error
    bool crlf = false;              ///< CSV/TSV output: end lines with CRLF instead of LF
    parquet_output_options parquet;  ///< Parquet output: row groups, partitions, --schema
};

/// Runs the conversion; returns the exit status (errors are reported on stderr).
int run_convert(const convert_options& o, const io_options& io, const run_control& ctl);

}  // namespace cli
