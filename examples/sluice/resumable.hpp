#pragma once
// `sluice export --resumable KEY` (record-aligned S3 parts, a checkpoint object after each
// stored part, resumed by the same command) and `sluice reap` (aborting stale multipart
// uploads).

#include <string>

#include "common.hpp"
#include "database.hpp"

namespace cli {

/// The options `--resumable` adds to `sluice export`.
struct resume_options {
    std::string key;       ///< --resumable KEY: the key column (unique, not null)
    bool restart = false;  ///< --restart: abort the checkpoint's upload and start over
};
/// Runs `sluice export ... --resumable KEY --to s3://bucket/key.jsonl[.gz|.zst]`.
int run_resumable_export(const export_options& o, const resume_options& r, const io_options& io,
                         const run_control& ctl);

struct reap_options {
    std::string url;         ///< s3://bucket/prefix/
    std::string older_than;  ///< 90s, 15m, 24h, 7d
    bool dry_run = false;
};
/// Runs `sluice reap s3://bucket/prefix/ --older-than D [--dry-run]`.
int run_reap(const reap_options& o, const io_options& io, const run_control& ctl);

}  // namespace cli
