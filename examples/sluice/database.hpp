#pragma once
// `sluice export` (Postgres -> file/stdout/S3) and `sluice load` (file -> Postgres).

#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "common.hpp"
#include "parquet_options.hpp"

namespace cli {

struct export_options {
    std::string dsn;
    std::string query;
    std::string table;
    std::string to;
    std::string format;    ///< csv | jsonl | json; empty: from the output name
    std::string compress;  ///< gzip | zstd | none; empty: from the output name
    std::optional<int> level;
    std::string timezone;
    bool progress = false;
    bool count = false;
    bool crlf = false;  ///< CSV output: end lines with CRLF instead of LF
    parquet_output_options parquet;  ///< Parquet output: row groups, partitions
};
int run_export(const export_options& o, const io_options& io, const run_control& ctl);

struct load_options {
    std::string dsn;
    std::string table;
    std::vector<std::string> key;
    std::string input;
    std::string from;
    std::string on_error = "fail";
    std::string dead_letter;
    std::uint64_t max_errors = 0;
    std::uint64_t commit_every = 0;
    std::size_t max_columns = 10000;  ///< CSV/TSV input: more fields in a record is an error
    bool progress = false;
};
int run_load(const load_options& o, const io_options& io, const run_control& ctl);

/// Warns once on stderr when `dsn` holds a password (it is in the process list for every
/// user); never prints the password. Every command that takes --dsn calls it.
void warn_if_password(const std::string& dsn);

}  // namespace cli
