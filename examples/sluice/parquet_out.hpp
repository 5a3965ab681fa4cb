#pragma once
// Parquet output of `sluice export` and `sluice convert`: one file (a path, `-` or
// s3://bucket/key) through parquet::encode, or Hive-style partitions (--partition-by) under a
// directory or an s3:// prefix through parquet::to_partitions.

#include <string>

#include "common.hpp"
#include "convert.hpp"
#include "database.hpp"

namespace cli {

/// Whether an export writes Parquet: --format parquet, or an output named *.parquet.
bool exports_parquet(const export_options& o);

/// Whether a conversion writes Parquet: --to parquet, or an OUTPUT named *.parquet (or a
/// directory given with --partition-by).
bool converts_to_parquet(const convert_options& o);

/// `sluice export ... --to events.parquet`: pg::rows | parquet::encode(pg::parquet_schema(...)).
int run_export_parquet(const export_options& o, const io_options& io, const run_control& ctl);

/// `sluice convert in.csv out.parquet [--schema ...]` (CSV/TSV, or JSONL/JSON with --schema).
int run_convert_to_parquet(const convert_options& o, const io_options& io, const run_control& ctl);

}  // namespace cli
