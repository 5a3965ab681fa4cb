#!/usr/bin/env bash
# Sharded, snapshot-consistent exports (issue 13), honest about this machine: one export
# already keeps both cores busy (the server backend formats rows on one, the client works on
# the other), so two things are measured:
#
#   1. `--jobs 2` against one job here: wall time and the total CPU of the client and the
#      server backends (the goal: no slower, >= 0.95x, with total CPU within 15%), next to
#      psql \copy, two psql \copy halves run in parallel, and pg_dump -j 2 of the table.
#   2. the scale-out projection for machines of their own: one snapshot held by
#      `sluice snapshot`, each `--shard i/4` run alone and timed; one job's time divided by
#      the slowest shard (the goal: >= 3.0x, i.e. shards balanced and the per-shard overhead
#      small). `sluice manifest` then reads every part back.
#
#   benchmarks/peers/shard.sh                    # ROWS=2000000, events
#   RUNS=3 ONLY="jobs shards" benchmarks/peers/shard.sh
#
# Workloads (ONLY): jobs shards. Output: CSV files (local disk; the parts are written as
# temporary files and renamed, like `sluice export --to FILE`).
#
# CPU: the client's is GNU time's user + sys of the command and its children (sluice, psql,
# pg_dump). The server's is the CPU of the backends that served the command, read from the
# postmaster's /proc/PID/stat: a backend is a child of the postmaster, which reaps it when its
# client disconnects, so the backends' CPU lands in the postmaster's cutime + cstime. The
# script waits until the command's backends are reaped before it reads the counter. Long-lived
# server processes (checkpointer, WAL writer, ...) are not counted; autovacuum is switched off
# for the table so that no worker ends inside a measurement. When the server is not on this
# machine (a caller's PGHOST elsewhere) the server column is left empty.
# Commands for `bash -c` are single-quoted on purpose: their arguments come as $1, $2, ...
# shellcheck disable=SC2016
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BENCH_SUITE="shard"

HOLDER_PID=""
stop_holder() { # ends `sluice snapshot` (SIGTERM: it releases the snapshot and exits 0)
    if [[ -n $HOLDER_PID ]]; then
        kill -TERM "$HOLDER_PID" 2>/dev/null || true
        wait "$HOLDER_PID" 2>/dev/null || true
        HOLDER_PID=""
    fi
}
trap 'stop_holder; bench_cleanup' EXIT

ONLY=${ONLY:-jobs shards}
want() { [[ " $ONLY " == *" $1 "* ]]; }
TABLE=${TABLE:-events}
SHARDS=${SHARDS:-4}

need_time
mkdir -p "$OUT_DIR"
bench_pg_up
bench_events_table
have_sluice || die "the sluice CLI is needed (SLUICE=...)"
export PGOPTIONS='-c synchronize_seqscans=off'
DSN=$SLUICE_TEST_PG_DSN
W=$OUT_DIR/shard
rm -rf "$W"
mkdir -p "$W"

# A settled table: no autovacuum worker ending inside a measurement, hint bits set, fresh
# statistics (reltuples for --progress estimates; not used here).
psql -X -q -c "ALTER TABLE $TABLE SET (autovacuum_enabled = off)" -c "VACUUM (ANALYZE) $TABLE"
BLOCKS=$(psql -X -qAt -c "SELECT pg_relation_size('$TABLE') / current_setting('block_size')::bigint")
TROWS=$(psql -X -qAt -c "SELECT count(*) FROM $TABLE")
CSV_BYTES=$(psql -X -c "\\copy (select * from $TABLE) to stdout with (format csv, header)" | wc -c)
log "$TABLE: $TROWS rows, $BLOCKS blocks, $CSV_BYTES bytes as CSV"

# ---------------------------------------------------------------------------------------
# Server CPU through the postmaster's reaped children.
# The checkpointer lives as long as the server: its parent is the postmaster.
POSTMASTER=""
ckpt=$(psql -X -qAt -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
if [[ -n $ckpt && -r /proc/$ckpt/stat ]]; then
    POSTMASTER=$(awk '{print $4}' "/proc/$ckpt/stat")
    [[ -r /proc/$POSTMASTER/stat ]] || POSTMASTER=""
fi
TICKS=$(getconf CLK_TCK)
[[ -n $POSTMASTER ]] || warn "the server is not on this machine: no server CPU column"

# server_ticks: CPU (clock ticks) of the postmaster's reaped children so far.
server_ticks() {
    [[ -n $POSTMASTER ]] || { echo 0; return; }
    # Fields 16, 17 (cutime, cstime) after the "(postgres)" command name.
    awk '{print $16 + $17}' "/proc/$POSTMASTER/stat"
}
# settle: waits (at most 10 s) until the postmaster has no more children than before the
# command, i.e. every backend of the command has ended and been reaped.
settle() {
    [[ -n $POSTMASTER ]] || return 0
    local base=$1 i
    for ((i = 0; i < 200; i++)); do
        (($(pgrep -c -P "$POSTMASTER" || true) <= base)) && return 0
        sleep 0.05
    done
    warn "backends still running 10 s after the command"
}

# cpu_measure NAME -- CMD...: runs CMD RUNS times under GNU time; the median run by wall time
# counts. Sets M_WALL (s), M_CLIENT and M_SERVER (CPU seconds), M_RSS (MiB), M_STATUS, and
# appends "date suite rows name wall rss status client_cpu server_cpu" to $RESULTS.
cpu_measure() {
    local name=$1
    shift
    [[ ${1:-} == -- ]] && shift
    local safe=${name//[^A-Za-z0-9_.-]/_}
    local tfile=$OUT_DIR/.time.$safe errfile=$OUT_DIR/$safe.err
    local run st base s0 s1 wall u s rss
    local -a lines=()
    M_STATUS=0
    for ((run = 1; run <= RUNS; run++)); do
        base=$(pgrep -c -P "${POSTMASTER:-1}" || true)
        s0=$(server_ticks)
        st=0
        "$TIME_BIN" -f '%e %U %S %M' -o "$tfile" "$@" >/dev/null 2>"$errfile" || st=$?
        settle "$base"
        s1=$(server_ticks)
        read -r wall u s rss < <(tail -n 1 "$tfile")
        if ((st != 0)); then
            M_STATUS=$st
            warn "$name exited with status $st; stderr tail:"
            tail -n 5 "$errfile" | sed 's/^/    /' >&2
            lines=("$wall $u $s $((s1 - s0)) $rss")
            break
        fi
        lines+=("$wall $u $s $((s1 - s0)) $rss")
    done
    rm -f "$tfile"
    read -r M_WALL M_CLIENT M_SERVER M_RSS < <(
        printf '%s\n' "${lines[@]}" | sort -g -k1,1 |
            awk -v t="$TICKS" '{ l[NR] = $0 } END { split(l[int((NR + 1) / 2)], f, " ");
                printf "%.2f %.2f %.2f %.1f\n", f[1], f[2] + f[3], f[4] / t, f[5] / 1024 }')
    M_ALL=$(printf '%s\n' "${lines[@]}" | awk '{printf "%s%s", (NR > 1 ? " " : ""), $1}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$BENCH_SUITE" "$TROWS" \
        "$name" "$M_WALL" "$M_RSS" "$M_STATUS" "$M_CLIENT" "$M_SERVER" >>"$RESULTS"
    log "$(printf '%-40s %6ss  cpu client %6ss server %6ss  %7s MiB  (runs: %s)%s' "$name" "$M_WALL" \
        "$M_CLIENT" "$M_SERVER" "$M_RSS" "$M_ALL" "$( ((M_STATUS)) && echo "  FAILED ($M_STATUS)")")"
}

declare -a R_NAME=() R_WALL=() R_CLIENT=() R_SERVER=() R_RSS=() R_NOTE=() R_STATUS=()
row() { # NAME [NOTE]: adds the last cpu_measure as a table row
    R_NAME+=("$1") R_NOTE+=("${2:-}") R_WALL+=("$M_WALL") R_CLIENT+=("$M_CLIENT")
    R_SERVER+=("$M_SERVER") R_RSS+=("$M_RSS") R_STATUS+=("$M_STATUS")
}
# print_rows TITLE REF: the rows as a markdown table, speed and CPU relative to row REF.
print_rows() {
    local title=$1 ref=$2 i ref_wall="" ref_cpu=""
    for i in "${!R_NAME[@]}"; do
        if [[ ${R_NAME[i]} == "$ref" ]]; then
            ref_wall=${R_WALL[i]}
            ref_cpu=$(awk -v a="${R_CLIENT[i]}" -v b="${R_SERVER[i]}" 'BEGIN{print a + b}')
        fi
    done
    {
        echo
        echo "### $title"
        echo
        echo "$TABLE: $TROWS rows, $BLOCKS blocks, $(awk -v b="$CSV_BYTES" 'BEGIN{printf "%.0f MB", b/1e6}') of CSV, $(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the table, median of $RUNS run(s)"
        echo
        echo "| run | wall (s) | speed vs $ref | client CPU (s) | server CPU (s) | total CPU (s) | total CPU vs $ref | peak RSS (MiB) | note |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
        for i in "${!R_NAME[@]}"; do
            if [[ ${R_STATUS[i]} != 0 ]]; then
                echo "| ${R_NAME[i]} | failed (${R_STATUS[i]}) | | | | | | | ${R_NOTE[i]} |"
                continue
            fi
            local total vs cpu_vs server=${R_SERVER[i]}
            [[ -n $POSTMASTER ]] || server="-"
            total=$(awk -v a="${R_CLIENT[i]}" -v b="${R_SERVER[i]}" 'BEGIN{printf "%.2f", a + b}')
            vs=$(awk -v r="$ref_wall" -v w="${R_WALL[i]}" 'BEGIN{ if (w > 0 && r > 0) printf "%.2fx", r / w; else printf "-" }')
            cpu_vs=$(awk -v r="$ref_cpu" -v c="$total" 'BEGIN{ if (r > 0) printf "%+.0f%%", (c / r - 1) * 100; else printf "-" }')
            echo "| ${R_NAME[i]} | ${R_WALL[i]} | $vs | ${R_CLIENT[i]} | $server | $total | $cpu_vs | ${R_RSS[i]} | ${R_NOTE[i]} |"
        done
    } | tee -a "$RESULTS_MD"
    R_NAME=() R_WALL=() R_CLIENT=() R_SERVER=() R_RSS=() R_NOTE=() R_STATUS=()
}

# same_rows FILE... -- FILE...: the two sets of CSV files hold the same rows (a multiset, one
# header each skipped), checked by count and an order-independent sum of line hashes.
same_rows() {
    "$PYTHON" - "$@" <<'PY'
import sys, hashlib
args = sys.argv[1:]
cut = args.index("--")
def digest(files):
    n, acc = 0, 0
    for f in files:
        with open(f, "rb") as fh:
            fh.readline()  # the header
            for line in fh:
                n += 1
                acc = (acc + int.from_bytes(hashlib.blake2b(line, digest_size=8).digest(), "little")) % (1 << 64)
    return n, acc
a, b = digest(args[:cut]), digest(args[cut + 1:])
print("{} ({:,} vs {:,} lines)".format("same rows" if a == b else "DIFFERENT rows", a[0], b[0]))
sys.exit(0 if a == b else 1)
PY
}

md_note ""
md_note "## shard.sh $(date -u +%Y-%m-%dT%H:%MZ) (PostgreSQL $(psql -X -qAt -c 'show server_version'), shared_buffers $(psql -X -qAt -c 'show shared_buffers'), sluice: $("$SLUICE" --version 2>/dev/null | head -n 1))"

# describe_manifest FILE: "ctid, N blocks per task; parts: a rows, b rows" (a manifest or a sidecar).
describe_manifest() {
    "$PYTHON" - "$1" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
parts = m.get("parts", [m])
print("{} rows, {} tasks of {} blocks".format(" + ".join("{:,}".format(p["rows"]) for p in parts),
      m["method"], m.get("task_blocks", "-")) if len(parts) > 1 else
      "{:,} rows, {} tasks of {} blocks".format(parts[0]["rows"], m["method"], m.get("task_blocks", "-")))
PY
}

# measure_one: the reference, one job (one COPY on one connection) into a CSV file.
ONE=()
measure_one() {
    cpu_measure "one job: sluice export --to file" -- "$SLUICE" export --dsn "$DSN" --table "$TABLE" --to "$W/one.csv"
    ONE=("$M_WALL" "$M_CLIENT" "$M_SERVER" "$M_RSS" "$M_STATUS")
}

# ---------------------------------------------------------------------------------------
if want jobs; then
    log "== --jobs 2 against one job"
    measure_one
    row "sluice export --to one.csv" "one COPY on one connection"
    cpu_measure "sluice --jobs 1" -- "$SLUICE" export --dsn "$DSN" --table "$TABLE" --jobs 1 --to "$W/j1/"
    row "sluice export --jobs 1 --to dir/" "ctid tasks on one connection + manifest"
    cpu_measure "sluice --jobs 2" -- "$SLUICE" export --dsn "$DSN" --table "$TABLE" --jobs 2 --to "$W/j2/"
    row "sluice export --jobs 2 --to dir/" "two connections, one snapshot"
    cpu_measure "psql copy" -- bash -c 'psql -X -c "\\copy (select * from $1) to stdout with (format csv, header)" >"$2"' _ "$TABLE" "$W/psql.csv"
    row 'psql \copy > file' "one COPY"
    half=$((BLOCKS / 2))
    cpu_measure "psql copy halves" -- bash -c 'psql -X -c "$1" >"$3" & p=$!; psql -X -c "$2" >"$4"; b=$?; wait $p; exit $(($? | b))' _ \
        "\\copy (select * from $TABLE where ctid < '($half,0)') to stdout with (format csv, header)" \
        "\\copy (select * from $TABLE where ctid >= '($half,0)') to stdout with (format csv, header)" \
        "$W/halves.a.csv" "$W/halves.b.csv"
    row 'psql \copy x 2 halves in parallel' "ctid halves, two connections, no shared snapshot"
    if need_cmd pg_dump postgresql-client-15; then
        cpu_measure "pg_dump -j 2 -Fd -Z 0" -- bash -c 'rm -rf "$2" && pg_dump -j 2 -Fd -Z 0 -t "$1" -f "$2"' _ "$TABLE" "$W/dump"
        row "pg_dump -j 2 -Fd -Z 0 -t $TABLE" "COPY text format, uncompressed; -j splits by table"
    fi
    print_rows "--jobs 2 against one job (CSV files on local disk)" "sluice export --to one.csv"
    md_note "- check: --jobs 2 parts vs one.csv: $(same_rows "$W"/j2/part-*.csv -- "$W/one.csv" || true)"
    md_note "- check: --jobs 1 part vs one.csv: $(same_rows "$W"/j1/part-*.csv -- "$W/one.csv" || true)"
    md_note "- --jobs 2: $(describe_manifest "$W/j2/manifest.json")"
    rm -rf "$W/j1" "$W/psql.csv" "$W"/halves.*.csv "$W/dump"
fi

# ---------------------------------------------------------------------------------------
if want shards; then
    log "== $SHARDS shards, each alone, on one held snapshot"
    ((${#ONE[@]})) || measure_one
    M_WALL=${ONE[0]} M_CLIENT=${ONE[1]} M_SERVER=${ONE[2]} M_RSS=${ONE[3]} M_STATUS=${ONE[4]}
    row "sluice export --to one.csv" "one COPY on one connection"
    ONE_WALL=${ONE[0]}
    # The holder's stdin is not a pipe here: --hold-for bounds it, SIGTERM ends it.
    "$SLUICE" snapshot --dsn "$DSN" --hold-for 30m >"$W/snapshot.id" 2>/dev/null </dev/null &
    HOLDER_PID=$!
    for ((i = 0; i < 100; i++)); do
        [[ -s $W/snapshot.id ]] && break
        sleep 0.1
    done
    SNAP=$(head -n 1 "$W/snapshot.id")
    [[ -n $SNAP ]] || die "sluice snapshot printed no id"
    log "snapshot $SNAP held by pid $HOLDER_PID"
    declare -a SHARD_WALL=()
    for ((i = 0; i < SHARDS; i++)); do
        cpu_measure "shard $i/$SHARDS" -- "$SLUICE" export --dsn "$DSN" --table "$TABLE" --snapshot "$SNAP" --shard "$i/$SHARDS" --to "$W/shards/"
        row "sluice export --shard $i/$SHARDS" "$(describe_manifest "$(printf '%s/shards/part-%05d.csv.json' "$W" "$i")")"
        SHARD_WALL+=("$M_WALL")
    done
    cpu_measure "sluice manifest" -- "$SLUICE" manifest --shards "$SHARDS" "$W/shards/"
    row "sluice manifest --shards $SHARDS" "reads every part back (sha256, rows)"
    stop_holder
    print_rows "$SHARDS shards, each run alone on one held snapshot" "sluice export --to one.csv"
    slowest=$(printf '%s\n' "${SHARD_WALL[@]}" | sort -g | tail -n 1)
    fastest=$(printf '%s\n' "${SHARD_WALL[@]}" | sort -g | head -n 1)
    sum=$(printf '%s\n' "${SHARD_WALL[@]}" | awk '{s += $1} END {printf "%.2f", s}')
    md_note "- scale-out projection: one job $ONE_WALL s / slowest shard $slowest s = **$(awk -v a="$ONE_WALL" -v b="$slowest" 'BEGIN{printf "%.2fx", a / b}')** (goal >= 3.0x); fastest shard $fastest s; the $SHARDS shards together $sum s = $(awk -v a="$sum" -v b="$ONE_WALL" 'BEGIN{printf "%.2fx", a / b}') one job's time"
    md_note "- check: the $SHARDS shard parts vs one.csv: $(same_rows "$W"/shards/part-*.csv -- "$W/one.csv" || true)"
fi
rm -rf "$W"
log "done; tables appended to $RESULTS_MD, raw figures to $RESULTS"
