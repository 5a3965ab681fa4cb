#!/usr/bin/env bash
# The export service (examples/export_service, issue 7 section 5) against psql \copy:
#
#  (a) throughput: `curl -s -o /dev/null` of GET /exports/events.csv (the whole `events` table
#      streamed as CSV through the service) against
#      `psql -c "\copy (select * from events) to stdout with (format csv, header)" > /dev/null`,
#      alternating, best of RUNS (default 3) each; goal: the service >= 0.9x psql's throughput.
#      Checked: the downloaded bytes equal psql's output (cksum of both streams; both sides with
#      PGOPTIONS='-c synchronize_seqscans=off', so the unordered scans start at the same block;
#      if they still differ, the sorted lines are compared);
#  (b) memory: a fresh service's idle RSS, then 4 concurrent downloads of events.csv while
#      VmRSS is read from /proc/PID/status every 50 ms; peak VmRSS and VmHWM minus idle;
#      goal: <= 32 MiB above idle.
#
#   benchmarks/peers/service.sh                 # ROWS=2000000
#   ROWS=200000 RUNS=2 benchmarks/peers/service.sh
#   ONLY=rss benchmarks/peers/service.sh        # workloads: csv rss
#
# Settings besides lib.sh's: SERVICE (default build-release/bin/export_service, run from a
# copy in $OUT_DIR/bin), CONCURRENT (default 4), SAMPLE_MS (default 50).
# Build: cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_TESTS=OFF \
#          -DSLUICE_BUILD_EXAMPLES=ON && ninja -C build-release export_service
# The script starts its own Postgres (unless PGHOST/SLUICE_TEST_PG_DSN name one, see lib.sh)
# and its own service on a free loopback port, and stops both on exit, also on failure.
# Commands for `bash -c` are single-quoted on purpose: their arguments come as $1, $2, ...
# shellcheck disable=SC2016
set -euo pipefail
RUNS=${RUNS:-3}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BENCH_SUITE="service"

ONLY=${ONLY:-csv rss}
want() { [[ " $ONLY " == *" $1 "* ]]; }
SERVICE=${SERVICE:-$REPO_ROOT/build-release/bin/export_service}
CONCURRENT=${CONCURRENT:-4}
SAMPLE_MS=${SAMPLE_MS:-50}
W=$OUT_DIR/service

# ---------------------------------------------------------------------------------------
# The service process and the RSS sampler (both started and stopped here, by PID).

SVC_PID="" SAMPLER_PID="" SVC_URL="" SVC_LOG=""
declare -a CURL_PIDS=()

# svc_stop: SIGTERM (the service drains and exits 0), SIGKILL after 15 s. Safe to call twice.
svc_stop() {
    [[ -n $SVC_PID ]] || return 0
    local pid=$SVC_PID st=0 i
    SVC_PID=""
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        warn "export_service $pid did not exit within 15 s of SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || st=$?
    ((st == 0)) || warn "export_service exited with status $st (log: $SVC_LOG)"
    return 0
}

cleanup() {
    local p
    for p in "${CURL_PIDS[@]}" $SAMPLER_PID; do
        kill "$p" 2>/dev/null || true
    done
    svc_stop || true
    bench_cleanup || true
    rm -f "$W/auth.hdr"
}
trap cleanup EXIT

# svc_start NAME: starts the service (log in $W/NAME.log), sets SVC_PID and SVC_URL, and
# waits until it answers (an unknown job id -> 404 means routing and auth work).
svc_start() {
    local port code="" i
    port=$(_pg_free_port) || die "no free port"
    SVC_LOG=$W/$1.log
    SLUICE_SERVICE_TOKEN=$TOKEN "$SERVICE" --dsn "$DSN" --listen "127.0.0.1:$port" \
        --allow-tables events,events_small >"$SVC_LOG" 2>&1 &
    SVC_PID=$!
    SVC_URL=http://127.0.0.1:$port
    for ((i = 0; i < 100; i++)); do
        kill -0 "$SVC_PID" 2>/dev/null || {
            tail -n 20 "$SVC_LOG" >&2
            SVC_PID=""
            die "export_service exited at start-up (log: $SVC_LOG)"
        }
        code=$(curl -s -o /dev/null -w '%{http_code}' -H @"$W/auth.hdr" "$SVC_URL/exports/00000000000000000000000000000000" || true)
        [[ $code == 404 ]] && break
        sleep 0.1
    done
    [[ $code == 404 ]] || die "export_service does not answer on $SVC_URL (last status '$code'; log: $SVC_LOG)"
    log "export_service pid $SVC_PID on $SVC_URL"
}

# status_kib PID FIELD: VmRSS / VmHWM of PID in KiB (bash builtins only: no process per read).
status_kib() {
    local k v _
    while read -r k v _; do
        [[ $k == "$2:" ]] && {
            echo "$v"
            return 0
        }
    done <"/proc/$1/status"
    return 1
}
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }

# sampler PID OUT: writes "samples max_kib" to OUT every sample until killed or PID ends.
sampler() {
    local pid=$1 out=$2 max=0 n=0 v k _ delay
    delay=$(awk -v ms="$SAMPLE_MS" 'BEGIN{printf "%.3f", ms/1000}')
    trap 'echo "$n $max" >"$out"; exit 0' TERM
    while [[ -r /proc/$pid/status ]]; do
        v=0
        while read -r k v _; do [[ $k == VmRSS: ]] && break; done <"/proc/$pid/status" 2>/dev/null || true
        ((v > max)) && max=$v
        n=$((n + 1))
        echo "$n $max" >"$out"
        sleep "$delay"
    done
}

# ---------------------------------------------------------------------------------------

need_time
need_cmd curl || die "curl is needed"
[[ -x $SERVICE ]] || die "export_service not found at $SERVICE; build it with:
    cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_TESTS=OFF -DSLUICE_BUILD_EXAMPLES=ON && ninja -C build-release export_service"
mkdir -p "$W" "$OUT_DIR/bin"
rm -f "$W"/*
# A copy, so a rebuild during the run cannot swap the binary.
cp "$SERVICE" "$OUT_DIR/bin/export_service.tmp" && mv "$OUT_DIR/bin/export_service.tmp" "$OUT_DIR/bin/export_service"
log "export_service: $SERVICE (built $(date -r "$SERVICE" '+%Y-%m-%d %H:%M')), run from a copy in $OUT_DIR/bin"
SERVICE=$OUT_DIR/bin/export_service

bench_pg_up
# shellcheck source=../../scripts/lib/postgres.sh
source "$REPO_ROOT/scripts/lib/postgres.sh" # _pg_free_port (also when the caller's server is used)
bench_events_table
# Inherited by psql and by the service's libpq connections alike.
export PGOPTIONS='-c synchronize_seqscans=off'
DSN=$SLUICE_TEST_PG_DSN

# The token goes in a header file (mode 600), not on curl's command line.
TOKEN=bench$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
(
    umask 077
    printf 'Authorization: Bearer %s\n' "$TOKEN" >"$W/auth.hdr"
)
COPY_CSV='\copy (select * from events) to stdout with (format csv, header)'

# Bytes and checksum of psql's export; this run also warms the table into the page cache.
read -r PSQL_CK CSV_BYTES < <(psql -X -v ON_ERROR_STOP=1 -c "$COPY_CSV" | cksum)
((${CSV_BYTES:-0} > 0)) || die "psql \\copy of events failed"
log "events: $ROWS rows, $CSV_BYTES bytes as CSV (psql cksum $PSQL_CK)"

md_note ""
md_note "## service.sh $(date -u +%Y-%m-%dT%H:%MZ) (PostgreSQL $(psql -X -qAt -c 'show server_version'), export_service built $(date -r "$SERVICE" '+%Y-%m-%d %H:%M'))"

# ---------------------------------------------------------------------------------------
if want csv; then
    log "== streamed CSV download: export_service against psql \\copy"
    svc_start csv
    URL=$SVC_URL/exports/events.csv
    # The check (not timed): the service's bytes against psql's.
    read -r SVC_CK SVC_BYTES < <(curl -sfS -H @"$W/auth.hdr" "$URL" | cksum)
    if [[ $SVC_CK == "$PSQL_CK" && $SVC_BYTES == "$CSV_BYTES" ]]; then
        CHECK="byte-identical to psql \\copy (cksum $SVC_CK, $SVC_BYTES bytes)"
    else
        log "cksums differ ($SVC_BYTES vs $CSV_BYTES bytes): comparing sorted lines"
        if [[ $(curl -sfS -H @"$W/auth.hdr" "$URL" | LC_ALL=C sort -S 25% | cksum) == \
            "$(psql -X -c "$COPY_CSV" | LC_ALL=C sort -S 25% | cksum)" ]]; then
            CHECK="same lines as psql \\copy in another order (sorted cksums equal; $SVC_BYTES bytes)"
        else
            CHECK="**differs from psql \\copy** ($SVC_BYTES vs $CSV_BYTES bytes, sorted lines differ too)"
        fi
    fi
    log "check: $CHECK"

    # Alternating runs (psql, service, psql, ...), so load drift hits both sides alike.
    declare -a T_PSQL=() T_SVC=() TTFB=()
    SVC_FAIL=0
    for ((run = 1; run <= RUNS; run++)); do
        RUNS=1 measure "csv psql>/dev/null" -- bash -c 'psql -X -v ON_ERROR_STOP=1 -c "$1" >/dev/null' _ "$COPY_CSV"
        ((M_STATUS == 0)) || die "psql \\copy failed"
        T_PSQL+=("$M_WALL")
        RUNS=1 measure "csv export_service curl>/dev/null" -- bash -c \
            'curl -sfS -o /dev/null -H @"$1" -w "%{time_starttransfer} %{size_download}\n" "$2" >"$3"' \
            _ "$W/auth.hdr" "$URL" "$W/curl.w"
        ttfb="" got=""
        read -r ttfb got <"$W/curl.w" || true
        if ((M_STATUS != 0)) || [[ $got != "$CSV_BYTES" ]]; then
            warn "download run $run: status $M_STATUS, $got bytes (expected $CSV_BYTES)"
            SVC_FAIL=1
        fi
        T_SVC+=("$M_WALL") TTFB+=("$ttfb")
    done
    SEQ_HWM=$(status_kib "$SVC_PID" VmHWM)
    svc_stop

    best() { printf '%s\n' "$@" | sort -g | head -n 1; }
    BEST_PSQL=$(best "${T_PSQL[@]}") BEST_SVC=$(best "${T_SVC[@]}")
    rate() { awk -v b="$CSV_BYTES" -v w="$1" 'BEGIN{ if (w>0) printf "%.0f", b/1e6/w; else printf "-" }'; }
    RATIO=$(awk -v p="$BEST_PSQL" -v s="$BEST_SVC" 'BEGIN{printf "%.2f", p/s}')
    VERDICT=$(awk -v r="$RATIO" 'BEGIN{print (r >= 0.9 ? "met" : "**not met**")}')
    md_note ""
    md_note "### Postgres -> CSV download: export_service against psql \\copy"
    md_note ""
    md_note "ROWS=$ROWS, $(awk -v b="$CSV_BYTES" 'BEGIN{printf "%.1f MB", b/1e6}') of CSV, $(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), best of $RUNS alternating runs; the Postgres server (and the service) run on the same cores"
    md_note ""
    md_note "| client | best time (s) | all runs (s) | MB/s | throughput vs psql | time to first byte (s) |"
    md_note "|---|---:|---|---:|---:|---|"
    md_note "| psql \\copy ... csv header > /dev/null | $BEST_PSQL | ${T_PSQL[*]} | $(rate "$BEST_PSQL") | 1.00x | |"
    md_note "| curl -s -o /dev/null GET /exports/events.csv (export_service) | $BEST_SVC | ${T_SVC[*]} | $(rate "$BEST_SVC") | ${RATIO}x | ${TTFB[*]} |"
    md_note ""
    md_note "- goal >= 0.9x psql's throughput: $VERDICT (${RATIO}x)"
    md_note "- check: the download is $CHECK$( ((SVC_FAIL)) && echo "; **a timed download failed or was short**")"
    md_note "- the service's VmHWM after these $((RUNS + 1)) sequential downloads: $(mib "$SEQ_HWM") MiB"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$BENCH_SUITE" "$ROWS" \
        "csv export_service/psql ratio" "$RATIO" "" "$SVC_FAIL" >>"$RESULTS"
fi

# ---------------------------------------------------------------------------------------
if want rss; then
    log "== export_service RSS: idle, then $CONCURRENT concurrent downloads"
    svc_start rss
    URL=$SVC_URL/exports/events.csv
    sleep 1 # let start-up allocations (job table, thread pool) settle
    IDLE=$(status_kib "$SVC_PID" VmRSS)
    IDLE_HWM=$(status_kib "$SVC_PID" VmHWM)
    sampler "$SVC_PID" "$W/samples" &
    SAMPLER_PID=$!
    t0=$(date +%s.%N)
    CURL_PIDS=()
    for ((i = 1; i <= CONCURRENT; i++)); do
        curl -sfS -o /dev/null -H @"$W/auth.hdr" -w '%{size_download}\n' "$URL" >"$W/conc.$i" 2>&1 &
        CURL_PIDS+=($!)
    done
    CONC_FAIL=0
    for i in "${!CURL_PIDS[@]}"; do
        wait "${CURL_PIDS[i]}" || CONC_FAIL=1
        [[ $(cat "$W/conc.$((i + 1))") == "$CSV_BYTES" ]] || CONC_FAIL=1
    done
    CURL_PIDS=()
    CONC_WALL=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')
    kill -TERM "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
    read -r NSAMPLES PEAK <"$W/samples"
    HWM=$(status_kib "$SVC_PID" VmHWM)
    sleep 1
    AFTER=$(status_kib "$SVC_PID" VmRSS)
    THREADS=$(status_kib "$SVC_PID" Threads)
    svc_stop
    DELTA_PEAK=$((PEAK - IDLE)) DELTA_HWM=$((HWM - IDLE))
    VERDICT=$(awk -v d="$DELTA_HWM" 'BEGIN{print (d <= 32*1024 ? "met" : "**not met**")}')
    md_note ""
    md_note "### export_service memory: $CONCURRENT concurrent downloads of events.csv"
    md_note ""
    md_note "ROWS=$ROWS, $(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); VmRSS sampled every ${SAMPLE_MS} ms ($NSAMPLES samples) from /proc/PID/status of a freshly started service"
    md_note ""
    md_note "| measure | MiB | above idle (MiB) |"
    md_note "|---|---:|---:|"
    md_note "| idle VmRSS (after start-up, before any request) | $(mib "$IDLE") | |"
    md_note "| peak sampled VmRSS during the downloads | $(mib "$PEAK") | $(mib "$DELTA_PEAK") |"
    md_note "| VmHWM after the downloads (kernel's peak; idle VmHWM was $(mib "$IDLE_HWM")) | $(mib "$HWM") | $(mib "$DELTA_HWM") |"
    md_note "| VmRSS 1 s after the downloads | $(mib "$AFTER") | $(mib "$((AFTER - IDLE))") |"
    md_note ""
    md_note "- goal <= 32 MiB above idle (VmHWM - idle VmRSS): $VERDICT"
    md_note "- $CONCURRENT downloads of $(awk -v b="$CSV_BYTES" 'BEGIN{printf "%.1f MB", b/1e6}') each took $CONC_WALL s together ($(awk -v b="$CSV_BYTES" -v n="$CONCURRENT" -v w="$CONC_WALL" 'BEGIN{printf "%.0f", n*b/1e6/w}') MB/s in all); the service had $THREADS threads after them"
    md_note "- check: $( ((CONC_FAIL)) && echo "**a download failed or was short**" || echo "every download completed with $CSV_BYTES bytes")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$BENCH_SUITE" "$ROWS" \
        "rss export_service x$CONCURRENT above idle" "$CONC_WALL" "$(mib "$DELTA_HWM")" "$CONC_FAIL" >>"$RESULTS"
fi
