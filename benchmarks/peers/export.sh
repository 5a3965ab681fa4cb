#!/usr/bin/env bash
# Side-by-side Postgres export benchmark: `sluice export` against psql \copy (alone, | gzip -6,
# | pigz -p2 -6), server-side row_to_json COPY (alone and | gzip / | pigz), a Node exporter
# (node/export.js: pg + pg-query-stream batchSize 1000 + JSON.stringify + zlib) and a
# psycopg2 server-side-cursor exporter (export_psycopg2.py), on the `events` table from
# benchmarks/data/events.sql, in a throwaway local cluster (or the caller's, see lib.sh).
#
#   benchmarks/peers/export.sh                # ROWS=2000000 (+ events_small, 200000 rows)
#   ROWS=200000 benchmarks/peers/export.sh    # quick run
#   ONLY="csv csvgz" benchmarks/peers/export.sh   # workloads: csv csvgz jsonl jsonlgz parquet rss
#
# Both sides run with PGOPTIONS='-c synchronize_seqscans=off', so the unordered scans start
# at the same block and the outputs can be compared byte for byte (benchmarks/data/README.md).
# The server runs on the same 2 cores, so every figure includes its work.
# Commands for `bash -c` are single-quoted on purpose: their arguments come as $1, $2, ...
# shellcheck disable=SC2016
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BENCH_SUITE="export"
trap bench_cleanup EXIT

ONLY=${ONLY:-csv csvgz jsonl jsonlgz parquet rss}
want() { [[ " $ONLY " == *" $1 "* ]]; }

need_time
mkdir -p "$OUT_DIR"
bench_pg_up
bench_events_table
export PGOPTIONS='-c synchronize_seqscans=off'
DSN=$SLUICE_TEST_PG_DSN

W=$OUT_DIR/export
mkdir -p "$W"
rm -f "$W"/*

HAVE_SLUICE=0 HAVE_NODE=0 HAVE_PIGZ=0 HAVE_PSYCOPG2=0
have_sluice && HAVE_SLUICE=1
need_cmd pigz && HAVE_PIGZ=1
need_node_modules && HAVE_NODE=1
need_psycopg2 && HAVE_PSYCOPG2=1

copy_csv() { # TABLE -> the psql \copy command line (CSV with header)
    printf '%s' "\\copy (select * from $1) to stdout with (format csv, header)"
}
copy_json() { # TABLE -> server-side row_to_json through CSV COPY with bytes that never occur
    printf '%s' "\\copy (select row_to_json(e) from $1 e) to stdout with (format csv, quote e'\\x01', delimiter e'\\x02')"
}

# Bytes of the CSV export, for MB/s (the bytes every tool moves); this run also warms the
# table into the page cache.
CSV_BYTES=$(psql -X -c "$(copy_csv events)" | wc -c)
log "events: $ROWS rows, $CSV_BYTES bytes as CSV"

# same_bytes A B LABEL: notes whether two outputs (gz allowed) are byte-identical.
same_bytes() {
    local a=$1 b=$2 cat_a=(cat) cat_b=(cat)
    [[ -f $a && -f $b ]] || return 0
    [[ $a == *.gz ]] && cat_a=(gzip -dc)
    [[ $b == *.gz ]] && cat_b=(gzip -dc)
    if cmp -s <("${cat_a[@]}" "$a") <("${cat_b[@]}" "$b"); then
        md_note "- check: $(basename "$a") and $(basename "$b") are byte-identical${3:+ ($3)}"
    else
        md_note "- check: **$(basename "$a") and $(basename "$b") differ**${3:+ ($3)}: $(cmp <("${cat_a[@]}" "$a") <("${cat_b[@]}" "$b") 2>&1 | head -n 1)"
    fi
}

# expect_lines FILE N
expect_lines() {
    local n
    if [[ $1 == *.gz ]]; then n=$(gzip -dc "$1" | wc -l); else n=$(wc -l <"$1"); fi
    if [[ $n == "$2" ]]; then
        md_note "- check: $(basename "$1"): $n lines, as expected"
    else
        md_note "- check: $(basename "$1"): **$n lines, expected $2**"
    fi
}

# size_vs A B: "A is x.xx% the size of B".
size_vs() {
    [[ -f $1 && -f $2 ]] || return 0
    md_note "- size: $(basename "$1") is $(awk -v a="$(bytes_of "$1")" -v b="$(bytes_of "$2")" 'BEGIN{printf "%.3f", a/b}')x $(basename "$2")"
}

declare -A BIG_RSS=() BIG_WALL=()
remember() { BIG_RSS[$1]=$M_RSS BIG_WALL[$1]=$M_WALL; }

md_note ""
md_note "## export.sh $(date -u +%Y-%m-%dT%H:%MZ) (PostgreSQL $(psql -X -qAt -c 'show server_version'), sluice: $( ((HAVE_SLUICE)) && "$SLUICE" --version 2>/dev/null | head -n 1 || echo missing))"

# ---------------------------------------------------------------------------------------
if want csv; then
    log "== Postgres -> CSV"
    measure "csv psql>/dev/null" -- bash -c 'psql -X -c "$1" >/dev/null' _ "$(copy_csv events)"
    table_add 'psql \copy > /dev/null'
    measure "csv psql>file" --fresh "$W/psql.csv" -- bash -c 'psql -X -c "$1" >"$2"' _ "$(copy_csv events)" "$W/psql.csv"
    table_add 'psql \copy > file' "$W/psql.csv"
    if ((HAVE_SLUICE)); then
        measure "csv sluice>file" --fresh "$W/sluice.csv" -- "$SLUICE" export --dsn "$DSN" --table events --to "$W/sluice.csv"
        table_add "sluice export > file" "$W/sluice.csv" "atomic file: fsync + rename"
        remember "sluice csv"
        measure "csv sluice>/dev/null" -- bash -c '"$1" export --dsn "$2" --table events --format csv --to - >/dev/null' _ "$SLUICE" "$DSN"
        table_add "sluice export --to - > /dev/null"
    fi
    table_print "Postgres -> CSV" 'psql \copy > /dev/null' "$CSV_BYTES"
    same_bytes "$W/sluice.csv" "$W/psql.csv"
fi

# ---------------------------------------------------------------------------------------
if want csvgz; then
    log "== Postgres -> CSV.gz"
    [[ -f $W/psql.csv ]] || psql -X -c "$(copy_csv events)" >"$W/psql.csv"
    measure "csvgz psql|gzip" --fresh "$W/psql-gzip.csv.gz" -- bash -c 'psql -X -c "$1" | gzip -6 >"$2"' _ "$(copy_csv events)" "$W/psql-gzip.csv.gz"
    table_add 'psql \copy \| gzip -6' "$W/psql-gzip.csv.gz"
    if ((HAVE_PIGZ)); then
        measure "csvgz psql|pigz" --fresh "$W/psql-pigz.csv.gz" -- bash -c 'psql -X -c "$1" | pigz -p2 -6 >"$2"' _ "$(copy_csv events)" "$W/psql-pigz.csv.gz"
        table_add 'psql \copy \| pigz -p2 -6' "$W/psql-pigz.csv.gz"
    fi
    if ((HAVE_SLUICE)); then
        measure "csvgz sluice" --fresh "$W/sluice.csv.gz" -- "$SLUICE" export --dsn "$DSN" --table events --to "$W/sluice.csv.gz"
        table_add "sluice export" "$W/sluice.csv.gz" "default level and threads"
        remember "sluice csv.gz"
        measure "csvgz sluice --threads 1" --fresh "$W/sluice-t1.csv.gz" -- "$SLUICE" export --dsn "$DSN" --table events --threads 1 --to "$W/sluice-t1.csv.gz"
        table_add "sluice export --threads 1" "$W/sluice-t1.csv.gz" "default level"
        measure "csvgz sluice --threads 2" --fresh "$W/sluice-t2.csv.gz" -- "$SLUICE" export --dsn "$DSN" --table events --threads 2 --to "$W/sluice-t2.csv.gz"
        table_add "sluice export --threads 2" "$W/sluice-t2.csv.gz" "default level"
        measure "csvgz sluice --level 6" --fresh "$W/sluice-l6.csv.gz" -- "$SLUICE" export --dsn "$DSN" --table events --level 6 --to "$W/sluice-l6.csv.gz"
        table_add "sluice export --level 6" "$W/sluice-l6.csv.gz" "default threads"
    fi
    table_print "Postgres -> CSV.gz" 'psql \copy \| gzip -6' "$CSV_BYTES"
    for f in "$W"/sluice*.csv.gz; do
        [[ -f $f ]] || continue
        gzip -t "$f" || md_note "- check: **$(basename "$f") fails gzip -t**"
        size_vs "$f" "$W/psql-gzip.csv.gz"
        same_bytes "$f" "$W/psql.csv" "decompressed"
    done
    rm -f "$W"/*.csv.gz
fi
rm -f "$W"/*.csv

# ---------------------------------------------------------------------------------------
if want jsonl; then
    log "== Postgres -> JSONL"
    measure "jsonl row_to_json>file" --fresh "$W/rowjson.jsonl" -- bash -c 'psql -X -c "$1" >"$2"' _ "$(copy_json events)" "$W/rowjson.jsonl"
    table_add 'psql \copy row_to_json > file' "$W/rowjson.jsonl" "server-side JSON"
    if ((HAVE_SLUICE)); then
        measure "jsonl sluice>file" --fresh "$W/sluice.jsonl" -- "$SLUICE" export --dsn "$DSN" --table events --to "$W/sluice.jsonl"
        table_add "sluice export > file" "$W/sluice.jsonl"
        remember "sluice jsonl"
    fi
    if ((HAVE_NODE)); then
        measure "jsonl node" --fresh "$W/node.jsonl" -- node "$NODE_DIR/export.js" "select * from events" "$W/node.jsonl"
        table_add "node pg-query-stream" "$W/node.jsonl" "JSON.stringify of pg's JS values"
    fi
    if ((HAVE_PSYCOPG2)); then
        measure "jsonl psycopg2" --fresh "$W/psycopg2.jsonl" -- "$PYTHON" "$PEERS_DIR/export_psycopg2.py" "select * from events" "$W/psycopg2.jsonl"
        table_add "psycopg2 named cursor" "$W/psycopg2.jsonl" "json.dumps of Python values"
    fi
    table_print "Postgres -> JSONL" 'psql \copy row_to_json > file' "$CSV_BYTES"
    same_bytes "$W/sluice.jsonl" "$W/rowjson.jsonl" "JSONL must equal row_to_json"
    for f in "$W"/node.jsonl "$W"/psycopg2.jsonl; do [[ -f $f ]] && expect_lines "$f" "$ROWS"; done
    rm -f "$W"/node.jsonl "$W"/psycopg2.jsonl "$W"/sluice.jsonl
fi

# ---------------------------------------------------------------------------------------
if want jsonlgz; then
    log "== Postgres -> JSONL.gz"
    [[ -f $W/rowjson.jsonl ]] || psql -X -c "$(copy_json events)" >"$W/rowjson.jsonl"
    measure "jsonlgz row_to_json|gzip" --fresh "$W/rowjson-gzip.jsonl.gz" -- bash -c 'psql -X -c "$1" | gzip -6 >"$2"' _ "$(copy_json events)" "$W/rowjson-gzip.jsonl.gz"
    table_add 'row_to_json COPY \| gzip -6' "$W/rowjson-gzip.jsonl.gz"
    if ((HAVE_PIGZ)); then
        measure "jsonlgz row_to_json|pigz" --fresh "$W/rowjson-pigz.jsonl.gz" -- bash -c 'psql -X -c "$1" | pigz -p2 -6 >"$2"' _ "$(copy_json events)" "$W/rowjson-pigz.jsonl.gz"
        table_add 'row_to_json COPY \| pigz -p2 -6' "$W/rowjson-pigz.jsonl.gz"
    fi
    if ((HAVE_SLUICE)); then
        measure "jsonlgz sluice" --fresh "$W/sluice.jsonl.gz" -- "$SLUICE" export --dsn "$DSN" --table events --to "$W/sluice.jsonl.gz"
        table_add "sluice export" "$W/sluice.jsonl.gz" "default level and threads"
        remember "sluice jsonl.gz"
        measure "jsonlgz sluice --threads 1" --fresh "$W/sluice-t1.jsonl.gz" -- "$SLUICE" export --dsn "$DSN" --table events --threads 1 --to "$W/sluice-t1.jsonl.gz"
        table_add "sluice export --threads 1" "$W/sluice-t1.jsonl.gz" "default level"
        measure "jsonlgz sluice --threads 2" --fresh "$W/sluice-t2.jsonl.gz" -- "$SLUICE" export --dsn "$DSN" --table events --threads 2 --to "$W/sluice-t2.jsonl.gz"
        table_add "sluice export --threads 2" "$W/sluice-t2.jsonl.gz" "default level"
    fi
    if ((HAVE_NODE)); then
        measure "jsonlgz node" --fresh "$W/node.jsonl.gz" -- node "$NODE_DIR/export.js" "select * from events" "$W/node.jsonl.gz"
        table_add "node pg-query-stream + zlib" "$W/node.jsonl.gz" "batchSize 1000, level 6"
        remember "node jsonl.gz"
    fi
    if ((HAVE_PSYCOPG2)); then
        measure "jsonlgz psycopg2" --fresh "$W/psycopg2.jsonl.gz" -- "$PYTHON" "$PEERS_DIR/export_psycopg2.py" "select * from events" "$W/psycopg2.jsonl.gz"
        table_add "psycopg2 named cursor + gzip" "$W/psycopg2.jsonl.gz" "itersize 1000, level 6"
        remember "psycopg2 jsonl.gz"
    fi
    table_print "Postgres -> JSONL.gz" "node pg-query-stream + zlib" "$CSV_BYTES"
    for f in "$W"/sluice*.jsonl.gz; do
        [[ -f $f ]] || continue
        gzip -t "$f" || md_note "- check: **$(basename "$f") fails gzip -t**"
        size_vs "$f" "$W/rowjson-gzip.jsonl.gz"
        same_bytes "$f" "$W/rowjson.jsonl" "decompressed, vs row_to_json"
    done
    for f in "$W"/node.jsonl.gz "$W"/psycopg2.jsonl.gz; do [[ -f $f ]] && expect_lines "$f" "$ROWS"; done
    rm -f "$W"/*.jsonl.gz
fi
rm -f "$W"/*.jsonl

# ---------------------------------------------------------------------------------------
# Postgres -> Parquet (zstd): sluice's typed export (pg::parquet_schema) against psql \copy CSV
# piped into DuckDB (1 thread, types sniffed from the CSV) writing Parquet.
if want parquet; then
    log "== Postgres -> Parquet"
    if ((HAVE_SLUICE)); then
        measure "parquet sluice" --fresh "$W/sluice.parquet" -- "$SLUICE" export --dsn "$DSN" --table events --to "$W/sluice.parquet"
        table_add "sluice export" "$W/sluice.parquet" "typed from Postgres, zstd; atomic file (fsync + rename)"
        remember "sluice parquet"
    fi
    if ((HAVE_NODE)); then
        measure "parquet psql|duckdb" -- bash -c 'psql -X -c "$1" | node "$2" "SET threads=1" "$3"' _ "$(copy_csv events)" "$NODE_DIR/duckdb.js" \
            "COPY (SELECT * FROM read_csv('/dev/stdin')) TO '$W/duckdb.parquet' (FORMAT parquet, COMPRESSION zstd)"
        table_add 'psql \copy \| duckdb read_csv(/dev/stdin) 1 thread' "$W/duckdb.parquet" "types sniffed from CSV, zstd"
    fi
    table_print "Postgres -> Parquet" 'psql \copy \| duckdb read_csv(/dev/stdin) 1 thread' "$CSV_BYTES"
    for f in "$W"/*.parquet; do
        [[ -f $f ]] || continue
        n=$(SLUICE_NPM_DIR=$NODE_DIR node "$REPO_ROOT/tests/cli/parquet_duckdb.mjs" "SELECT count(*) AS n FROM read_parquet('$f')" |
            "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["rows"][0]["n"])' 2>/dev/null || echo "?")
        md_note "- check: $(basename "$f"): $n rows (DuckDB), expected $ROWS"
    done
    rm -f "$W"/*.parquet
fi

# ---------------------------------------------------------------------------------------
# Peak RSS flat in row count: the same exports of events_small (SMALL_ROWS rows).
if want rss && ((SMALL_ROWS < ROWS)); then
    log "== peak RSS: events_small ($SMALL_ROWS rows) vs events ($ROWS rows)"
    rss_row() { # NAME KEY CMD...: measure on events_small, print against the big run
        local name=$1 key=$2
        shift 2
        measure "rss $name small" -- "$@"
        local small_wall=$M_WALL small_rss=$M_RSS
        if [[ -z ${BIG_RSS[$key]:-} ]]; then
            measure "rss $name big" -- "${@//events_small/events}"
            remember "$key"
        fi
        printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$small_wall" "$small_rss" "${BIG_WALL[$key]}" "${BIG_RSS[$key]}" \
            "$(awk -v a="$small_rss" -v b="${BIG_RSS[$key]}" 'BEGIN{ if (a>0) printf "%+.1f%%", (b/a-1)*100 }')" >>"$W/rss.md"
    }
    : >"$W/rss.md"
    if ((HAVE_SLUICE)); then
        rss_row "sluice export csv" "sluice csv" "$SLUICE" export --dsn "$DSN" --table events_small --to "$W/small.csv"
        rss_row "sluice export csv.gz" "sluice csv.gz" "$SLUICE" export --dsn "$DSN" --table events_small --to "$W/small.csv.gz"
        rss_row "sluice export jsonl" "sluice jsonl" "$SLUICE" export --dsn "$DSN" --table events_small --to "$W/small.jsonl"
        rss_row "sluice export jsonl.gz" "sluice jsonl.gz" "$SLUICE" export --dsn "$DSN" --table events_small --to "$W/small.jsonl.gz"
        rss_row "sluice export parquet" "sluice parquet" "$SLUICE" export --dsn "$DSN" --table events_small --to "$W/small.parquet"
    fi
    ((HAVE_NODE)) && rss_row "node exporter jsonl.gz" "node jsonl.gz" node "$NODE_DIR/export.js" "select * from events_small" "$W/small-node.jsonl.gz"
    ((HAVE_PSYCOPG2)) && rss_row "psycopg2 exporter jsonl.gz" "psycopg2 jsonl.gz" "$PYTHON" "$PEERS_DIR/export_psycopg2.py" "select * from events_small" "$W/small-py.jsonl.gz"
    {
        echo
        echo "### Peak RSS: $SMALL_ROWS vs $ROWS rows"
        echo
        echo "| export | time $SMALL_ROWS (s) | peak RSS $SMALL_ROWS (MiB) | time $ROWS (s) | peak RSS $ROWS (MiB) | RSS growth |"
        echo "|---|---:|---:|---:|---:|---:|"
        cat "$W/rss.md"
    } | tee -a "$RESULTS_MD"
    rm -f "$W"/small*
fi

log "done; tables appended to $RESULTS_MD, raw figures to $RESULTS"
