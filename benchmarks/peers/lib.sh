# shellcheck shell=bash
# Shared helpers for the side-by-side peer benchmarks (convert.sh, export.sh, s3.sh).
# Source it from a script that runs with `set -euo pipefail`:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Settings (environment, all optional):
#   ROWS            rows of the synthetic `events` table (default 2000000; 200000 for a quick run)
#   SMALL_ROWS      rows of `events_small` (default min(200000, ROWS))
#   DATA_DIR        where events.csv / events.jsonl live (default build-bench/data)
#   OUT_DIR         scratch outputs of the runs (default build-bench/out; removed per workload)
#   RESULTS         TSV every measurement is appended to (default build-bench/results.tsv)
#   RESULTS_MD      markdown file the tables are appended to (default build-bench/results.md)
#   RUNS            runs per command; the median run counts (default 1; the issue tables use 3)
#   SLUICE          the CLI (default build-release/bin/sluice)
#   PYTHON          interpreter for the Python peers (default /usr/bin/python3: Debian's, which
#                   is where python3-psycopg2 lands)
#   SLUICE_BENCH_NO_INSTALL=1   never run apt-get / npm; missing tools are reported and skipped
#
# Peak RSS is what GNU time reports (%M, ru_maxrss of the waited-for process tree): for a
# pipeline run under `bash -c` it is the largest single process, not the sum of the stages.
# The Postgres server's own memory is never included (it is not a child of the command).

PEERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$PEERS_DIR/../.." && pwd)
EVENTS_SQL=${EVENTS_SQL:-$REPO_ROOT/benchmarks/data/events.sql}

ROWS=${ROWS:-2000000}
SMALL_ROWS=${SMALL_ROWS:-$((ROWS < 200000 ? ROWS : 200000))}
DATA_DIR=${DATA_DIR:-$REPO_ROOT/build-bench/data}
OUT_DIR=${OUT_DIR:-$REPO_ROOT/build-bench/out}
RESULTS=${RESULTS:-$REPO_ROOT/build-bench/results.tsv}
RESULTS_MD=${RESULTS_MD:-$REPO_ROOT/build-bench/results.md}
RUNS=${RUNS:-1}
SLUICE=${SLUICE:-$REPO_ROOT/build-release/bin/sluice}
PYTHON=${PYTHON:-/usr/bin/python3}
NODE_DIR=$PEERS_DIR/node
TIME_BIN=${TIME_BIN:-/usr/bin/time}

# The suite name goes into every TSV row (set by each script).
BENCH_SUITE=${BENCH_SUITE:-peers}

# ---------------------------------------------------------------------------------------
# Messages

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
warn() { printf '[%s] WARNING: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------
# Tools

# _apt_install PKG...: installs Debian packages (as root or via sudo) unless disabled.
_apt_install() {
    [[ ${SLUICE_BENCH_NO_INSTALL:-0} == 1 ]] && return 1
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || return 1
        sudo=(sudo)
    fi
    log "installing Debian packages: $*"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 ||
        {
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
                "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2
        }
}

# need_cmd CMD [DEBIAN_PACKAGE]: makes sure CMD exists, installing the package if missing.
# Returns non-zero (with a warning) when it cannot; callers then skip that peer.
need_cmd() {
    local cmd=$1 pkg=${2:-$1}
    command -v "$cmd" >/dev/null && return 0
    _apt_install "$pkg" || true
    command -v "$cmd" >/dev/null && return 0
    warn "$cmd not found (Debian package $pkg); its rows are skipped"
    return 1
}

# need_time: GNU time at $TIME_BIN (Debian package `time`); fatal when missing.
need_time() {
    [[ -x $TIME_BIN ]] && "$TIME_BIN" -f '%e' true >/dev/null 2>&1 && return 0
    _apt_install time || true
    [[ -x $TIME_BIN ]] || die "GNU time ($TIME_BIN) is needed: apt-get install time"
}

# need_psycopg2: python3-psycopg2 importable by $PYTHON.
need_psycopg2() {
    "$PYTHON" -c 'import psycopg2' 2>/dev/null && return 0
    _apt_install python3-psycopg2 || true
    "$PYTHON" -c 'import psycopg2' 2>/dev/null && return 0
    warn "psycopg2 is not importable by $PYTHON (apt-get install python3-psycopg2); skipped"
    return 1
}

# need_node_modules: installs benchmarks/peers/node's pinned packages (npm ci against the
# committed package-lock.json) once; node_modules/ is gitignored.
need_node_modules() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        warn "node/npm not found; the Node peers are skipped"
        return 1
    fi
    local stamp=$NODE_DIR/node_modules/.sluice-lock
    if [[ -d $NODE_DIR/node_modules ]] && cmp -s "$NODE_DIR/package-lock.json" "$stamp"; then
        return 0
    fi
    [[ ${SLUICE_BENCH_NO_INSTALL:-0} == 1 ]] && {
        warn "node modules missing in $NODE_DIR and installs are disabled; skipped"
        return 1
    }
    log "npm ci in $NODE_DIR"
    # npm ci refuses a lock file that lacks other platforms' optional packages (DuckDB ships
    # per-platform bindings; a registry mirror without them yields such a lock): then fall
    # back to npm install, which honours the lock's versions and leaves the files alone.
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2) ||
        (cd "$NODE_DIR" && log "npm ci failed; trying npm install --no-save" &&
            npm install --no-save --no-audit --no-fund --loglevel=error >&2) || {
        warn "npm install failed in $NODE_DIR; the Node peers are skipped"
        return 1
    }
    cp "$NODE_DIR/package-lock.json" "$stamp"
}

# have_sluice: true when the CLI is built; otherwise explains how to build it.
# The binary is copied to $OUT_DIR/bin first, so a rebuild during a run cannot swap it.
have_sluice() {
    if [[ -x $SLUICE ]]; then
        if [[ $SLUICE != "$OUT_DIR/bin/sluice" ]]; then
            mkdir -p "$OUT_DIR/bin"
            cp "$SLUICE" "$OUT_DIR/bin/sluice.tmp" && mv "$OUT_DIR/bin/sluice.tmp" "$OUT_DIR/bin/sluice"
            log "sluice: $SLUICE (built $(date -r "$SLUICE" '+%Y-%m-%d %H:%M')), run from a copy in $OUT_DIR/bin"
            SLUICE=$OUT_DIR/bin/sluice
        fi
        return 0
    fi
    warn "sluice CLI not found at $SLUICE; its rows are skipped. Build it with:
    cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_TESTS=OFF -DSLUICE_BUILD_EXAMPLES=ON && cmake --build build-release -j2"
    return 1
}

# ---------------------------------------------------------------------------------------
# Measuring

# measure NAME -- CMD...: runs CMD RUNS times under GNU time and appends "date suite rows name
# wall_s peak_rss_mib status" to $RESULTS. The median run counts: M_WALL (s) is the median
# wall time (for an even RUNS, the mean of the two middle ones), M_RSS (MiB, one decimal) the
# peak RSS of the median run (for an even RUNS, the larger of the two middle runs'), and
# M_ALL the wall times of every run in order, space separated. M_STATUS is 0, or the exit
# status of the first failing run (the runs stop there and its figures are reported). stdout of CMD goes to /dev/null unless CMD redirects it itself (wrap
# pipelines and redirections in `bash -c '...'`); stderr is kept in $OUT_DIR/NAME.err and
# its tail is shown when the command fails. Never fails itself: a failing command is
# recorded with its status and the caller decides.
#
# measure NAME --fresh PATH [--fresh PATH2 ...] -- CMD...: PATH is removed before each run,
# untimed. Runs after the first would otherwise also time the removal of the previous run's
# output - by a rename over it or an O_TRUNC open, about 0.15 s for a 636 MB file on this
# machine (docs/benchmarks.md) - which the first run does not pay.
measure() {
    local name=$1
    shift
    local -a fresh=()
    while [[ ${1:-} == --fresh ]]; do
        fresh+=("$2")
        shift 2
    done
    [[ ${1:-} == -- ]] && shift
    (($#)) || die "measure $name: no command"
    mkdir -p "$OUT_DIR" "$(dirname "$RESULTS")"
    local safe=${name//[^A-Za-z0-9_.-]/_}
    local tfile=$OUT_DIR/.time.$safe errfile=$OUT_DIR/$safe.err
    local run status=0 st wall rss best_rss
    local -a walls=() rsses=()
    for ((run = 1; run <= RUNS; run++)); do
        st=0
        ((${#fresh[@]})) && rm -f -- "${fresh[@]}"
        "$TIME_BIN" -f '%e %M' -o "$tfile" "$@" >/dev/null 2>"$errfile" || st=$?
        # GNU time writes "Command exited with non-zero status N" before the figures.
        read -r wall rss < <(tail -n 1 "$tfile")
        if ((st != 0)); then
            status=$st
            warn "$name exited with status $st; stderr tail:"
            tail -n 5 "$errfile" | sed 's/^/    /' >&2
            walls=("$wall") rsses=("$rss")
            break
        fi
        walls+=("$wall") rsses+=("$rss")
    done
    rm -f "$tfile"
    M_ALL=${walls[*]}
    # Median: sort "wall rss" pairs by wall; odd count -> the middle run, even -> the mean of
    # the two middle walls with the larger of their peak RSS.
    read -r M_WALL best_rss < <(
        for run in "${!walls[@]}"; do printf '%s %s\n' "${walls[run]}" "${rsses[run]}"; done |
            sort -g -k1,1 |
            awk '{ w[NR] = $1; r[NR] = $2 }
                 END {
                     if (NR % 2) { m = (NR + 1) / 2; printf "%.2f %d\n", w[m], r[m] }
                     else { a = NR / 2; b = a + 1; printf "%.2f %d\n", (w[a] + w[b]) / 2, (r[a] > r[b] ? r[a] : r[b]) }
                 }'
    )
    M_RSS=$(awk -v k="$best_rss" 'BEGIN{printf "%.1f", k/1024}')
    M_STATUS=$status
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$BENCH_SUITE" "$ROWS" \
        "$name" "$M_WALL" "$M_RSS" "$M_STATUS" >>"$RESULTS"
    log "$(printf '%-44s %8ss %9s MiB%s%s' "$name" "$M_WALL" "$M_RSS" "$( ((${#walls[@]} > 1)) && echo "  (runs: $M_ALL)")" "$( ((status)) && echo "  FAILED ($status)")")"
    return 0
}

# ---------------------------------------------------------------------------------------
# Tables. A table is a group of rows (tool, wall, RSS, output bytes) printed as markdown with
# the speed relative to a named reference row and sluice's speedup over each row.

declare -a _T_NAMES=() _T_WALL=() _T_RSS=() _T_BYTES=() _T_STATUS=() _T_NOTE=()

table_reset() { _T_NAMES=() _T_WALL=() _T_RSS=() _T_BYTES=() _T_STATUS=() _T_NOTE=(); }

# table_add NAME [OUTPUT_FILE|-] [NOTE]: adds the last measurement (M_*) as a row; the output
# size is taken from OUTPUT_FILE when it exists.
table_add() {
    local name=$1 out=${2:--} note=${3:-} bytes=""
    [[ $out != - && -f $out ]] && bytes=$(stat -c %s "$out")
    _T_NAMES+=("$name") _T_WALL+=("$M_WALL") _T_RSS+=("$M_RSS") _T_BYTES+=("$bytes")
    _T_STATUS+=("$M_STATUS") _T_NOTE+=("$note")
}

# table_print TITLE REF_NAME INPUT_BYTES: prints the table to stdout and appends it to
# $RESULTS_MD. Columns: time, MB/s of input, peak RSS, output size, speed relative to
# REF_NAME (ref time / row time: >1 is faster than the reference), and for peers how many
# times faster the sluice row (the first row whose name starts with "sluice") is.
table_print() {
    local title=$1 ref=$2 in_bytes=${3:-0} i ref_wall="" sl_wall=""
    for i in "${!_T_NAMES[@]}"; do
        [[ ${_T_STATUS[i]} == 0 ]] || continue
        [[ ${_T_NAMES[i]} == "$ref" ]] && ref_wall=${_T_WALL[i]}
        [[ -z $sl_wall && ${_T_NAMES[i]} == sluice* ]] && sl_wall=${_T_WALL[i]}
    done
    {
        echo
        echo "### $title"
        echo
        echo "ROWS=$ROWS, input $(awk -v b="$in_bytes" 'BEGIN{printf "%.1f MB", b/1e6}'), $(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the table, median of $RUNS run(s)"
        echo
        echo "| tool | time (s) | MB/s in | peak RSS (MiB) | output (MB) | speed vs $ref | sluice speedup | note |"
        echo "|---|---:|---:|---:|---:|---:|---:|---|"
        for i in "${!_T_NAMES[@]}"; do
            local w=${_T_WALL[i]} st=${_T_STATUS[i]} out vs sp rate
            if [[ $st != 0 ]]; then
                echo "| ${_T_NAMES[i]} | failed ($st) | | | | | | ${_T_NOTE[i]} |"
                continue
            fi
            rate=$(awk -v b="$in_bytes" -v w="$w" 'BEGIN{ if (w>0 && b>0) printf "%.0f", b/1e6/w; else printf "-" }')
            out=$([[ -n ${_T_BYTES[i]} ]] && awk -v b="${_T_BYTES[i]}" 'BEGIN{printf "%.1f", b/1e6}' || echo "-")
            vs=$([[ -n $ref_wall ]] && awk -v r="$ref_wall" -v w="$w" 'BEGIN{ if (w>0) printf "%.2fx", r/w; else printf "-" }' || echo "-")
            sp=$([[ -n $sl_wall && ${_T_NAMES[i]} != sluice* ]] && awk -v s="$sl_wall" -v w="$w" 'BEGIN{ if (s>0) printf "%.2fx", w/s; else printf "-" }' || echo "")
            echo "| ${_T_NAMES[i]} | $w | $rate | ${_T_RSS[i]} | $out | $vs | $sp | ${_T_NOTE[i]} |"
        done
    } | tee -a "$RESULTS_MD"
    table_reset
}

# md_note TEXT...: a line in the results (stdout and $RESULTS_MD).
md_note() { printf '%s\n' "$*" | tee -a "$RESULTS_MD"; }

# ---------------------------------------------------------------------------------------
# Postgres and the data set

# bench_pg_up: makes a Postgres server available. Uses the caller's (SLUICE_TEST_PG_DSN or
# PGHOST set and reachable) if there is one, otherwise starts a throwaway cluster with
# scripts/lib/postgres.sh, stopped by bench_cleanup (install an EXIT trap that calls it).
_BENCH_PG_OWNED=0
bench_pg_up() {
    need_cmd psql postgresql-client-15 || die "psql is needed"
    if [[ -n ${PGHOST:-} ]] && psql -X -qAt -c 'select 1' >/dev/null 2>&1; then
        log "using the running Postgres at $PGHOST:${PGPORT:-5432}/${PGDATABASE:-}"
        if [[ -z ${SLUICE_TEST_PG_DSN:-} ]]; then
            die "PGHOST is set but SLUICE_TEST_PG_DSN is not: export the DSN the sluice CLI should use"
        fi
        return 0
    fi
    # shellcheck source=../../scripts/lib/postgres.sh
    source "$REPO_ROOT/scripts/lib/postgres.sh"
    pg_start || die "could not start PostgreSQL (scripts/lib/postgres.sh; apt-get install postgresql-15)"
    _BENCH_PG_OWNED=1
}

# bench_cleanup: stops what bench_pg_up / bench_s3_up started. Safe to call twice.
# Called in a `||` list: s3_stop's `kill && wait` returns 143 for the killed server, which
# under set -e would end the trap early and make the script exit 143.
bench_cleanup() {
    if ((_BENCH_PG_OWNED)); then
        pg_stop || true
        _BENCH_PG_OWNED=0
    fi
    if ((${_BENCH_S3_OWNED:-0})); then
        s3_stop || true
        _BENCH_S3_OWNED=0
    fi
}

# bench_events_table: makes sure `events` holds ROWS rows and `events_small` SMALL_ROWS
# (building them with benchmarks/data/events.sql when not). Needs bench_pg_up first.
bench_events_table() {
    local have
    have=$(psql -X -qAt -c "select (select count(*) from events)::text || ' ' || (select count(*) from events_small)::text" 2>/dev/null || true)
    if [[ $have == "$ROWS $SMALL_ROWS" ]]; then
        log "events already has $ROWS rows (events_small $SMALL_ROWS)"
        return 0
    fi
    [[ -f $EVENTS_SQL ]] || die "missing $EVENTS_SQL"
    log "building events ($ROWS rows, events_small $SMALL_ROWS) with events.sql; takes ~1-2 min at 2M rows"
    local t0=$SECONDS
    psql -X -q -v ON_ERROR_STOP=1 -v rows="$ROWS" -v small_rows="$SMALL_ROWS" \
        -f "$EVENTS_SQL" >"$OUT_DIR/events_load.log" 2>&1 ||
        {
            tail -n 20 "$OUT_DIR/events_load.log" >&2
            die "events.sql failed (log: $OUT_DIR/events_load.log)"
        }
    log "events built in $((SECONDS - t0)) s"
}

# bench_data: makes sure $DATA_DIR/events.csv and events.jsonl hold the ROWS-row export
# (exported as benchmarks/data/README.md says). Starts Postgres only when they must
# be (re)built. A stamp file records the row count; a different ROWS rebuilds them.
bench_data() {
    mkdir -p "$DATA_DIR" "$OUT_DIR"
    if [[ -f $DATA_DIR/events.csv && -f $DATA_DIR/events.jsonl && $(cat "$DATA_DIR/events.rows" 2>/dev/null) == "$ROWS" ]]; then
        log "data: $DATA_DIR/events.{csv,jsonl} ($ROWS rows) are ready"
        return 0
    fi
    log "data: exporting events ($ROWS rows) into $DATA_DIR"
    bench_pg_up
    bench_events_table
    rm -f "$DATA_DIR/events.rows"
    # synchronize_seqscans=off: an unordered scan then always starts at the table's first
    # block, so the files are the same on every run (see benchmarks/data/README.md).
    PGOPTIONS='-c synchronize_seqscans=off' psql -X -v ON_ERROR_STOP=1 \
        -c "\copy (select * from events) to stdout with (format csv, header)" >"$DATA_DIR/events.csv.tmp"
    # The odd quote and delimiter bytes keep COPY from escaping the JSON (README).
    PGOPTIONS='-c synchronize_seqscans=off' psql -X -v ON_ERROR_STOP=1 \
        -c "\copy (select row_to_json(e) from events e) to stdout with (format csv, quote e'\x01', delimiter e'\x02')" >"$DATA_DIR/events.jsonl.tmp"
    mv "$DATA_DIR/events.csv.tmp" "$DATA_DIR/events.csv"
    mv "$DATA_DIR/events.jsonl.tmp" "$DATA_DIR/events.jsonl"
    local lines
    lines=$(wc -l <"$DATA_DIR/events.jsonl")
    [[ $lines == "$ROWS" ]] || die "events.jsonl has $lines lines, expected $ROWS"
    echo "$ROWS" >"$DATA_DIR/events.rows"
    log "data: events.csv $(stat -c %s "$DATA_DIR/events.csv") bytes, events.jsonl $(stat -c %s "$DATA_DIR/events.jsonl") bytes"
}

# warm FILE...: reads files once so every tool starts from the page cache.
warm() { cat "$@" >/dev/null; }

# bytes_of FILE: its size in bytes.
bytes_of() { stat -c %s "$1"; }

# ---------------------------------------------------------------------------------------
# S3 (loopback): s3rver from scripts/lib/s3.sh.

# bench_s3_up: starts s3rver (+ the test proxy) and exports AWS_*. By default the benchmarks
# talk to s3rver directly (S3_VIA_PROXY=1 goes through the SigV4-verifying test proxy, which
# costs CPU on a 2-core machine). Sets S3_BUCKET.
_BENCH_S3_OWNED=0
bench_s3_up() {
    # shellcheck source=../../scripts/lib/s3.sh
    source "$REPO_ROOT/scripts/lib/s3.sh"
    s3_start || die "could not start the S3 test server (scripts/lib/s3.sh)"
    _BENCH_S3_OWNED=1
    if [[ ${S3_VIA_PROXY:-0} != 1 ]]; then
        export AWS_ENDPOINT_URL=$SLUICE_TEST_S3_UPSTREAM
    fi
    S3_BUCKET=$SLUICE_TEST_S3_BUCKET
    log "S3 endpoint for the benchmarks: $AWS_ENDPOINT_URL (bucket $S3_BUCKET)"
}
