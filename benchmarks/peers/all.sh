#!/usr/bin/env bash
# Runs the peer benchmarks in one go, sharing one Postgres cluster (the events table is built
# once): prep (data), convert.sh, export.sh, shard.sh, s3.sh. Same settings as each script (ROWS, RUNS,
# DATA_DIR, ...; see lib.sh). Tables are appended to $RESULTS_MD (build-bench/results.md).
#
#   benchmarks/peers/all.sh                  # ROWS=2000000
#   ROWS=200000 benchmarks/peers/all.sh      # quick run
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap bench_cleanup EXIT

need_time
mkdir -p "$OUT_DIR"
bench_pg_up
bench_events_table
bench_data
# The children see PGHOST/SLUICE_TEST_PG_DSN and reuse this cluster (they stop only what they start).
"$PEERS_DIR/convert.sh"
"$PEERS_DIR/export.sh"
"$PEERS_DIR/shard.sh"
"$PEERS_DIR/s3.sh"
log "all done: $RESULTS_MD"
