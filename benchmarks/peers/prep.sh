#!/usr/bin/env bash
# Builds the benchmark data set: the `events` table from benchmarks/data/events.sql in a
# throwaway Postgres cluster, exported to $DATA_DIR/events.csv and events.jsonl exactly as
# benchmarks/data/README.md says. convert.sh calls the same function, so running this first
# is optional.
#
#   benchmarks/peers/prep.sh                 # ROWS=2000000 (~450 MB CSV, ~640 MB JSONL)
#   ROWS=200000 benchmarks/peers/prep.sh     # a quick data set
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap bench_cleanup EXIT
need_cmd psql postgresql-client-15 || exit 1
bench_data
