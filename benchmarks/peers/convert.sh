#!/usr/bin/env bash
# Side-by-side conversion benchmark: `sluice convert` against Miller, Python csv+json, DuckDB
# (@duckdb/node-api, 1 thread), jq and the command-line compressors, on events.csv /
# events.jsonl from benchmarks/data/events.sql (built by lib.sh's bench_data when missing).
#
#   benchmarks/peers/convert.sh                # ROWS=2000000 (453 MB CSV)
#   ROWS=200000 benchmarks/peers/convert.sh    # quick run
#   ONLY="csv2jsonl gzip" benchmarks/peers/convert.sh   # a subset of the workloads
#
# Workloads: csv2jsonl, jsonl2csv, csv2parquet, parquet2csv, csv2jsonlgz, compressors. Each prints a markdown table
# (also appended to $RESULTS_MD, default build-bench/results.md; raw figures in $RESULTS).
# Outputs are written to files under $OUT_DIR/convert (page-cache speed; sluice's atomic
# to_file also fsyncs, the peers do not) and removed after each workload's checks.
# Commands for `bash -c` are single-quoted on purpose: their arguments come as $1, $2, ...
# shellcheck disable=SC2016
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BENCH_SUITE=convert
trap bench_cleanup EXIT

ONLY=${ONLY:-csv2jsonl jsonl2csv csv2parquet parquet2csv csv2jsonlgz compressors}
want() { [[ " $ONLY " == *" $1 "* ]]; }

need_time
bench_data
# Postgres is only needed to build the data: stop it before measuring.
bench_cleanup

CSV=$DATA_DIR/events.csv
JSONL=$DATA_DIR/events.jsonl
CSV_BYTES=$(bytes_of "$CSV")
JSONL_BYTES=$(bytes_of "$JSONL")
W=$OUT_DIR/convert
mkdir -p "$W"
rm -f "$W"/*

HAVE_SLUICE=0 HAVE_MLR=0 HAVE_JQ=0 HAVE_NODE=0 HAVE_PIGZ=0 HAVE_ZSTD=0
have_sluice && HAVE_SLUICE=1
need_cmd mlr miller && HAVE_MLR=1
need_cmd jq && HAVE_JQ=1
need_cmd pigz && HAVE_PIGZ=1
need_cmd zstd && HAVE_ZSTD=1
need_node_modules && HAVE_NODE=1

# `--threads N` (compression threads) when the CLI has it: the compressed workloads add
# explicit 1- and 2-thread sluice rows next to pigz -p2 (the default has changed between
# builds: 1, then all cores). Without compression sluice reads, parses+encodes and writes on
# three threads by default (two cores); the --threads 1 rows show it on one, as DuckDB here.
SLUICE_T1=() SLUICE_T2=()
if ((HAVE_SLUICE)) && "$SLUICE" convert --help 2>&1 | grep -q -- '--threads'; then
    SLUICE_T1=(--threads 1) SLUICE_T2=(--threads 2)
fi

CHECK=("$PYTHON" "$PEERS_DIR/check_outputs.py")
DUCKDB=(node "$NODE_DIR/duckdb.js" "SET threads=1")

# expect_lines FILE N: warns unless FILE (gzip/zstd allowed) has N lines.
expect_lines() {
    local n
    case $1 in
    *.gz) n=$(gzip -dc "$1" | wc -l) ;;
    *.zst) n=$(zstd -dcq "$1" | wc -l) ;;
    *) n=$(wc -l <"$1") ;;
    esac
    if [[ $n == "$2" ]]; then
        md_note "- check: $(basename "$1"): $n lines, as expected"
    else
        md_note "- check: $(basename "$1"): **$n lines, expected $2**"
    fi
}

# expect_csv_records FILE N
expect_csv_records() {
    local n
    n=$("${CHECK[@]}" count-csv "$1")
    if [[ $n == "$2" ]]; then
        md_note "- check: $(basename "$1"): $n CSV records, as expected"
    else
        md_note "- check: $(basename "$1"): **$n CSV records, expected $2**"
    fi
}

# sample_check KIND REF OTHER...: compare sampled records (existing files only).
sample_check() {
    local kind=$1 ref=$2 files=() f
    shift 2
    [[ -f $ref ]] || return 0
    for f in "$@"; do [[ -f $f ]] && files+=("$f"); done
    ((${#files[@]})) || return 0
    "${CHECK[@]}" "$kind" "$ref" "${files[@]}" | sed "s|$W/||g; s|^|- sample check vs $(basename "$ref"): |" | tee -a "$RESULTS_MD"
}

md_note ""
md_note "## convert.sh $(date -u +%Y-%m-%dT%H:%MZ) (sluice: $( ((HAVE_SLUICE)) && "$SLUICE" --version 2>/dev/null | head -n 1 || echo missing))"

# ---------------------------------------------------------------------------------------
if want csv2jsonl; then
    log "== CSV -> JSONL"
    warm "$CSV"
    if ((HAVE_SLUICE)); then
        measure "csv2jsonl sluice" --fresh "$W/sluice.jsonl" -- "$SLUICE" convert "$CSV" "$W/sluice.jsonl"
        table_add "sluice" "$W/sluice.jsonl" "default: blocks of records parsed+encoded on a worker per core; atomic file (fsync + rename)"
        measure "csv2jsonl sluice stdout" --fresh "$W/sluice-stdout.jsonl" -- bash -c '"$1" convert --to jsonl "$2" - >"$3"' _ "$SLUICE" "$CSV" "$W/sluice-stdout.jsonl"
        table_add "sluice - > file" "$W/sluice-stdout.jsonl" "stdout redirected: no fsync, as the peers"
        if ((${#SLUICE_T1[@]})); then
            measure "csv2jsonl sluice threads1" --fresh "$W/sluice-t1.jsonl" -- "$SLUICE" convert "${SLUICE_T1[@]}" "$CSV" "$W/sluice-t1.jsonl"
            table_add "sluice --threads 1" "$W/sluice-t1.jsonl" "one thread; atomic file"
        fi
    fi
    if ((HAVE_NODE)); then
        measure "csv2jsonl duckdb" --fresh "$W/duckdb.jsonl" -- "${DUCKDB[@]}" "COPY (SELECT * FROM read_csv('$CSV')) TO '$W/duckdb.jsonl' (FORMAT json)"
        table_add "duckdb 1 thread" "$W/duckdb.jsonl" "types sniffed"
        measure "csv2jsonl duckdb all_varchar" --fresh "$W/duckdb-varchar.jsonl" -- "${DUCKDB[@]}" "COPY (SELECT * FROM read_csv('$CSV', all_varchar=true)) TO '$W/duckdb-varchar.jsonl' (FORMAT json)"
        table_add "duckdb 1 thread, all_varchar" "$W/duckdb-varchar.jsonl" "strings, as sluice"
    fi
    if ((HAVE_MLR)); then
        measure "csv2jsonl mlr" --fresh "$W/mlr.jsonl" -- bash -c 'mlr --icsv --ojsonl cat "$1" >"$2"' _ "$CSV" "$W/mlr.jsonl"
        table_add "mlr --icsv --ojsonl cat" "$W/mlr.jsonl"
    fi
    measure "csv2jsonl python" --fresh "$W/python.jsonl" -- "$PYTHON" "$PEERS_DIR/csv_to_jsonl.py" "$CSV" "$W/python.jsonl"
    table_add "python csv+json" "$W/python.jsonl"
    table_print "CSV -> JSONL" "duckdb 1 thread" "$CSV_BYTES"
    for f in "$W"/*.jsonl; do expect_lines "$f" "$ROWS"; done
    sample_check jsonl "$W/python.jsonl" "$W/sluice.jsonl" "$W/sluice-stdout.jsonl" "$W/sluice-t1.jsonl" "$W/mlr.jsonl" "$W/duckdb-varchar.jsonl" "$W/duckdb.jsonl"
    rm -f "$W"/*.jsonl
fi

# ---------------------------------------------------------------------------------------
if want jsonl2csv; then
    log "== JSONL -> CSV"
    warm "$JSONL"
    if ((HAVE_SLUICE)); then
        measure "jsonl2csv sluice" --fresh "$W/sluice.csv" -- "$SLUICE" convert "$JSONL" "$W/sluice.csv"
        table_add "sluice" "$W/sluice.csv" "default: blocks of records parsed+encoded on a worker per core; atomic file (fsync + rename)"
        measure "jsonl2csv sluice stdout" --fresh "$W/sluice-stdout.csv" -- bash -c '"$1" convert --to csv "$2" - >"$3"' _ "$SLUICE" "$JSONL" "$W/sluice-stdout.csv"
        table_add "sluice - > file" "$W/sluice-stdout.csv" "stdout redirected: no fsync, as the peers"
        if ((${#SLUICE_T1[@]})); then
            measure "jsonl2csv sluice threads1" --fresh "$W/sluice-t1.csv" -- "$SLUICE" convert "${SLUICE_T1[@]}" "$JSONL" "$W/sluice-t1.csv"
            table_add "sluice --threads 1" "$W/sluice-t1.csv" "one thread; atomic file"
        fi
    fi
    if ((HAVE_NODE)); then
        measure "jsonl2csv duckdb" --fresh "$W/duckdb.csv" -- "${DUCKDB[@]}" "COPY (SELECT * FROM read_json('$JSONL', format='newline_delimited')) TO '$W/duckdb.csv' (FORMAT csv, HEADER)"
        table_add "duckdb 1 thread" "$W/duckdb.csv" "types inferred; structs not JSON"
    fi
    if ((HAVE_JQ)); then
        # Columns: the first record's keys in order; objects/arrays as compact JSON (@csv
        # rejects them); null -> empty.
        # shellcheck disable=SC2016
        jq_filter='input as $first | ($first | keys_unsorted) as $k | ($k | @csv), ($first, inputs | [.[$k[]] | if type == "object" or type == "array" then tojson else . end] | @csv)'
        measure "jsonl2csv jq" --fresh "$W/jq.csv" -- bash -c 'jq -r -n "$1" "$2" >"$3"' _ "$jq_filter" "$JSONL" "$W/jq.csv"
        table_add "jq -r @csv" "$W/jq.csv" "all strings quoted"
    fi
    table_print "JSONL -> CSV" "duckdb 1 thread" "$JSONL_BYTES"
    for f in "$W"/*.csv; do expect_csv_records "$f" "$ROWS"; done
    sample_check csv "$W/jq.csv" "$W/sluice.csv" "$W/sluice-stdout.csv" "$W/sluice-t1.csv" "$W/duckdb.csv"
    rm -f "$W"/*.csv
fi

# ---------------------------------------------------------------------------------------
# CSV -> Parquet, every column a string (sluice without --schema; DuckDB all_varchar), zstd,
# one thread each; the output sizes are the table's "output" column.
if want csv2parquet && ((HAVE_NODE)); then
    log "== CSV -> Parquet"
    warm "$CSV"
    if ((HAVE_SLUICE)); then
        measure "csv2parquet sluice" --fresh "$W/sluice.parquet" -- "$SLUICE" convert "$CSV" "$W/sluice.parquet"
        table_add "sluice" "$W/sluice.parquet" "all strings, zstd; atomic file (fsync + rename)"
    fi
    measure "csv2parquet duckdb all_varchar" --fresh "$W/duckdb.parquet" -- "${DUCKDB[@]}" "COPY (SELECT * FROM read_csv('$CSV', all_varchar=true)) TO '$W/duckdb.parquet' (FORMAT parquet, COMPRESSION zstd)"
    table_add "duckdb 1 thread, all_varchar" "$W/duckdb.parquet" "strings, as sluice; zstd"
    table_print "CSV -> Parquet" "duckdb 1 thread, all_varchar" "$CSV_BYTES"
    # duck_count SQL: the `n` of a one-row DuckDB query (tests/cli/parquet_duckdb.mjs prints JSON).
    duck_count() {
        SLUICE_NPM_DIR=$NODE_DIR node "$REPO_ROOT/tests/cli/parquet_duckdb.mjs" "$1" |
            "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["rows"][0]["n"])' 2>/dev/null || echo "?"
    }
    for f in "$W"/*.parquet; do
        md_note "- check: $(basename "$f"): $(duck_count "SELECT count(*) AS n FROM read_parquet('$f')") rows (DuckDB), expected $ROWS"
    done
    if [[ -f $W/sluice.parquet && -f $W/duckdb.parquet ]]; then
        # DuckDB's CSV reader makes an empty field NULL; sluice keeps "" in a string column.
        md_note "- check: rows of duckdb.parquet not in sluice.parquet: $(duck_count "SELECT count(*) AS n FROM (SELECT * FROM read_parquet('$W/duckdb.parquet') EXCEPT ALL SELECT nullif(COLUMNS(*), '') FROM read_parquet('$W/sluice.parquet'))")"
    fi
    rm -f "$W"/*.parquet
fi

# ---------------------------------------------------------------------------------------
# Parquet -> CSV: events.parquet as DuckDB writes it from events.csv (types sniffed, zstd),
# read back by sluice (row group by row group) and by DuckDB with one thread.
if want parquet2csv && ((HAVE_NODE)); then
    log "== Parquet -> CSV"
    PARQUET=$W/events.parquet
    "${DUCKDB[@]}" "COPY (SELECT * FROM read_csv('$CSV')) TO '$PARQUET' (FORMAT parquet, COMPRESSION zstd)"
    warm "$PARQUET"
    if ((HAVE_SLUICE)); then
        measure "parquet2csv sluice" --fresh "$W/sluice.csv" -- "$SLUICE" convert "$PARQUET" "$W/sluice.csv"
        table_add "sluice" "$W/sluice.csv" "1 thread; typed text (ISO timestamps); atomic file (fsync + rename)"
        measure "parquet2csv sluice stdout" --fresh "$W/sluice-stdout.csv" -- bash -c '"$1" convert --to csv "$2" - >"$3"' _ "$SLUICE" "$PARQUET" "$W/sluice-stdout.csv"
        table_add "sluice - > file" "$W/sluice-stdout.csv" "stdout redirected: no fsync, as the peers"
    fi
    measure "parquet2csv duckdb" --fresh "$W/duckdb.csv" -- "${DUCKDB[@]}" "COPY (SELECT * FROM read_parquet('$PARQUET')) TO '$W/duckdb.csv' (FORMAT csv, HEADER)"
    table_add "duckdb 1 thread" "$W/duckdb.csv"
    table_print "Parquet -> CSV" "duckdb 1 thread" "$(bytes_of "$PARQUET")"
    for f in "$W"/*.csv; do expect_csv_records "$f" "$ROWS"; done
    rm -f "$W"/*.csv "$PARQUET"
fi

# ---------------------------------------------------------------------------------------
if want csv2jsonlgz; then
    log "== CSV -> JSONL.gz"
    warm "$CSV"
    if ((HAVE_SLUICE)); then
        measure "csv2jsonlgz sluice" --fresh "$W/sluice.jsonl.gz" -- "$SLUICE" convert "$CSV" "$W/sluice.jsonl.gz"
        table_add "sluice" "$W/sluice.jsonl.gz" "default level and threads; atomic file (fsync + rename)"
        measure "csv2jsonlgz sluice stdout" --fresh "$W/sluice-stdout.jsonl.gz" -- bash -c '"$1" convert --to jsonl --compress gzip "$2" - >"$3"' _ "$SLUICE" "$CSV" "$W/sluice-stdout.jsonl.gz"
        table_add "sluice - > file" "$W/sluice-stdout.jsonl.gz" "defaults; stdout: no fsync"
        measure "csv2jsonlgz sluice --level 6" --fresh "$W/sluice-l6.jsonl.gz" -- "$SLUICE" convert --level 6 "$CSV" "$W/sluice-l6.jsonl.gz"
        table_add "sluice --level 6" "$W/sluice-l6.jsonl.gz" "default threads"
        if ((${#SLUICE_T2[@]})); then
            measure "csv2jsonlgz sluice --threads 1" --fresh "$W/sluice-t1.jsonl.gz" -- "$SLUICE" convert "${SLUICE_T1[@]}" "$CSV" "$W/sluice-t1.jsonl.gz"
            table_add "sluice --threads 1" "$W/sluice-t1.jsonl.gz" "default level"
            measure "csv2jsonlgz sluice --threads 2" --fresh "$W/sluice-t2.jsonl.gz" -- "$SLUICE" convert "${SLUICE_T2[@]}" "$CSV" "$W/sluice-t2.jsonl.gz"
            table_add "sluice --threads 2" "$W/sluice-t2.jsonl.gz" "default level"
        fi
        if ((HAVE_ZSTD)); then
            measure "csv2jsonlzst sluice" --fresh "$W/sluice.jsonl.zst" -- "$SLUICE" convert "$CSV" "$W/sluice.jsonl.zst"
            table_add "sluice (.jsonl.zst)" "$W/sluice.jsonl.zst" "zstd, default level and threads"
            if ((${#SLUICE_T1[@]})); then
                measure "csv2jsonlzst sluice --threads 1" --fresh "$W/sluice-t1.jsonl.zst" -- "$SLUICE" convert "${SLUICE_T1[@]}" "$CSV" "$W/sluice-t1.jsonl.zst"
                table_add "sluice (.jsonl.zst) --threads 1" "$W/sluice-t1.jsonl.zst" "zstd, default level"
            fi
        fi
    fi
    if ((HAVE_MLR && HAVE_PIGZ)); then
        measure "csv2jsonlgz mlr|pigz" --fresh "$W/mlr-pigz.jsonl.gz" -- bash -c 'mlr --icsv --ojsonl cat "$1" | pigz -p2 -6 >"$2"' _ "$CSV" "$W/mlr-pigz.jsonl.gz"
        table_add "mlr \| pigz -p2 -6" "$W/mlr-pigz.jsonl.gz"
    fi
    if ((HAVE_MLR)); then
        measure "csv2jsonlgz mlr|gzip" --fresh "$W/mlr-gzip.jsonl.gz" -- bash -c 'mlr --icsv --ojsonl cat "$1" | gzip -6 >"$2"' _ "$CSV" "$W/mlr-gzip.jsonl.gz"
        table_add "mlr \| gzip -6" "$W/mlr-gzip.jsonl.gz"
    fi
    table_print "CSV -> JSONL.gz" "mlr \| pigz -p2 -6" "$CSV_BYTES"
    for f in "$W"/*.jsonl.gz "$W"/*.jsonl.zst; do
        [[ -f $f ]] || continue
        case $f in
        *.gz) gzip -t "$f" || md_note "- check: **$(basename "$f") fails gzip -t**" ;;
        *.zst) zstd -tq "$f" || md_note "- check: **$(basename "$f") fails zstd -t**" ;;
        esac
        expect_lines "$f" "$ROWS"
    done
    rm -f "$W"/*.jsonl.gz "$W"/*.jsonl.zst
fi

# ---------------------------------------------------------------------------------------
if want compressors; then
    log "== compressors on events.csv"
    warm "$CSV"
    measure "compress gzip -6" --fresh "$W/gzip.csv.gz" -- bash -c 'gzip -6 -c "$1" >"$2"' _ "$CSV" "$W/gzip.csv.gz"
    table_add "gzip -6" "$W/gzip.csv.gz"
    if ((HAVE_PIGZ)); then
        measure "compress pigz -p2 -6" --fresh "$W/pigz.csv.gz" -- bash -c 'pigz -p2 -6 -c "$1" >"$2"' _ "$CSV" "$W/pigz.csv.gz"
        table_add "pigz -p2 -6" "$W/pigz.csv.gz"
    fi
    if ((HAVE_ZSTD)); then
        measure "compress zstd -3" --fresh "$W/zstd.csv.zst" -- bash -c 'zstd -q -3 -c "$1" >"$2"' _ "$CSV" "$W/zstd.csv.zst"
        table_add "zstd -3" "$W/zstd.csv.zst"
    fi
    if ((HAVE_SLUICE)); then
        # CSV -> CSV.gz re-encodes the CSV (parse + write) before compressing.
        measure "compress sluice csv->csv.gz" --fresh "$W/sluice.csv.gz" -- "$SLUICE" convert "$CSV" "$W/sluice.csv.gz"
        table_add "sluice convert csv -> csv.gz" "$W/sluice.csv.gz" "re-encodes CSV, default level and threads"
        if ((${#SLUICE_T2[@]})); then
            measure "compress sluice csv->csv.gz --threads 1" --fresh "$W/sluice-t1.csv.gz" -- "$SLUICE" convert "${SLUICE_T1[@]}" "$CSV" "$W/sluice-t1.csv.gz"
            table_add "sluice convert csv -> csv.gz --threads 1" "$W/sluice-t1.csv.gz" "re-encodes CSV, default level"
            measure "compress sluice csv->csv.gz --threads 2" --fresh "$W/sluice-t2.csv.gz" -- "$SLUICE" convert "${SLUICE_T2[@]}" "$CSV" "$W/sluice-t2.csv.gz"
            table_add "sluice convert csv -> csv.gz --threads 2" "$W/sluice-t2.csv.gz" "re-encodes CSV, default level"
        fi
        if ((HAVE_ZSTD)); then
            measure "compress sluice csv->csv.zst" --fresh "$W/sluice.csv.zst" -- "$SLUICE" convert "$CSV" "$W/sluice.csv.zst"
            table_add "sluice convert csv -> csv.zst" "$W/sluice.csv.zst" "re-encodes CSV, default level and threads"
        fi
    fi
    table_print "Compressing events.csv" "gzip -6" "$CSV_BYTES"
    if [[ -f $W/sluice.csv.gz ]]; then
        if gzip -dc "$W/sluice.csv.gz" | cmp -s - "$CSV"; then
            md_note "- check: sluice.csv.gz decompresses to events.csv byte for byte"
        else
            md_note "- check: sluice.csv.gz does **not** decompress to events.csv byte for byte (re-encoding may requote)"
        fi
    fi
    rm -f "$W"/*.gz "$W"/*.zst
fi

log "done; tables appended to $RESULTS_MD, raw figures to $RESULTS"
