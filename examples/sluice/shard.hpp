#pragma once
// Sharded, snapshot-consistent exports (issue 13): `sluice export --jobs N --to DIR/`,
// `sluice export --snapshot ID --shard I/N --to DIR/`, `sluice snapshot` and
// `sluice manifest`. Thin layers over sluice::pg's snapshots, shard plans and task streams.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include "common.hpp"
#include "database.hpp"

namespace cli {

/// The sharding options of `sluice export`.
struct shard_options {
    int jobs = 0;               ///< connections in this process (0: not given)
    std::string snapshot;       ///< ID, @FILE or @s3://bucket/key
    std::string shard;          ///< "I/N" or "auto/N"
    std::string shard_by;       ///< split on this column's values
    std::uint64_t task_blocks = 0;  ///< ctid plans: blocks per task (0: automatic)
};

/// `sluice snapshot` and `sluice manifest`, and the sharding options of `export`.
struct shard_commands {
    shard_options exp;
    CLI::App* snapshot = nullptr;
    std::string snapshot_dsn, publish, hold_for;
    CLI::App* manifest = nullptr;
    int manifest_shards = 0;
    std::string manifest_dir;
};

/// Adds --jobs, --snapshot, --shard, --shard-by and --task-blocks to `export`, and the
/// `snapshot` and `manifest` commands to `app`.
void add_shard_commands(CLI::App& app, CLI::App* exportc, shard_commands& sc);

/// True when the export is a sharded one: --jobs, --snapshot or --shard given, or --to
/// names a directory (ends with '/').
bool is_sharded_export(const export_options& o, const shard_options& s);

/// `sluice export` into DIR/ (a directory or s3://bucket/prefix/): parts and a manifest
/// (--jobs), or one shard's part and sidecar (--shard).
int run_sharded_export(const export_options& o, const shard_options& s, const io_options& io,
                       const run_control& ctl);

/// Runs `snapshot` or `manifest` when one was chosen; -1 otherwise.
int run_shard_command(const shard_commands& sc, const io_options& io, const run_control& ctl);

}  // namespace cli
