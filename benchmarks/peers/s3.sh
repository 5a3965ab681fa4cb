#!/usr/bin/env bash
# Side-by-side S3 benchmark on loopback (s3rver from scripts/lib/s3.sh, temporary directory):
#
#   1. Postgres -> JSONL.gz -> S3: `sluice export --to s3://...` against the Node stack
#      (node/export_s3.js: pg-query-stream -> JSON.stringify -> zlib -> @aws-sdk/lib-storage
#      Upload, partSize 8 MiB, queueSize 4).
#   2. Raw upload of a 100 MB file: `sluice convert FILE.csv s3://.../FILE.csv` (the CLI has no
#      byte-for-byte copy: CSV -> CSV re-encodes, i.e. parses and rewrites every record),
#      against `s3cmd put` (8 MiB parts) and the Node Upload (node/upload_s3.js).
#
#   benchmarks/peers/s3.sh                   # ROWS=2000000
#   ROWS=200000 benchmarks/peers/s3.sh       # quick run
#   ONLY=raw benchmarks/peers/s3.sh          # workloads: export raw
#
# By default the clients talk to s3rver directly; S3_VIA_PROXY=1 routes them through the
# SigV4-verifying test proxy (tests/s3/proxy), which costs CPU. s3rver itself is a Node
# process on the same 2 cores, so these figures are bounded by it: they compare clients on
# one machine, they do not measure S3.
# Commands for `bash -c` are single-quoted on purpose: their arguments come as $1, $2, ...
# shellcheck disable=SC2016
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BENCH_SUITE=s3
trap bench_cleanup EXIT

ONLY=${ONLY:-export raw}
want() { [[ " $ONLY " == *" $1 "* ]]; }
RAW_BYTES=${RAW_BYTES:-100000000}

need_time
mkdir -p "$OUT_DIR"
W=$OUT_DIR/s3
mkdir -p "$W"
rm -rf "${W:?}"/*

HAVE_SLUICE=0 HAVE_NODE=0 HAVE_S3CMD=0
have_sluice && HAVE_SLUICE=1
need_node_modules && HAVE_NODE=1
need_cmd s3cmd && HAVE_S3CMD=1

if want raw; then
    bench_data # events.csv, the source of the raw-upload file (before the servers start)
fi
if want export; then
    bench_pg_up
    bench_events_table
    export PGOPTIONS='-c synchronize_seqscans=off'
fi
bench_s3_up
B=$S3_BUCKET

# s3cmd against the loopback endpoint (path style, plain http, SigV4).
S3CFG=$W/s3cfg
hostport=${AWS_ENDPOINT_URL#http://}
cat >"$S3CFG" <<EOF
[default]
access_key = $AWS_ACCESS_KEY_ID
secret_key = $AWS_SECRET_ACCESS_KEY
host_base = $hostport
host_bucket = $hostport
use_https = False
signature_v2 = False
bucket_location = ${AWS_REGION:-us-east-1}
check_ssl_certificate = False
EOF
S3CMD=(s3cmd -c "$S3CFG" --no-progress)

# fetch s3://B/KEY FILE: downloads an object for the checks (s3cmd, else Node SDK).
fetch() {
    if ((HAVE_S3CMD)); then
        "${S3CMD[@]}" --force get "$1" "$2" >/dev/null
    else
        (cd "$NODE_DIR" && node -e '
const fs=require("fs");const {GetObjectCommand}=require("@aws-sdk/client-s3");
const {parseS3Url,makeS3Client,runMain}=require("./common");
runMain(async()=>{const r=await makeS3Client().send(new GetObjectCommand(parseS3Url(process.argv[1])));
await require("stream/promises").pipeline(r.Body,fs.createWriteStream(process.argv[2]));});' "$1" "$2")
    fi
}

# check_object URL LOCAL_REFERENCE|- EXPECTED_LINES|-: size, gzip -t, lines, or cmp.
check_object() {
    local url=$1 ref=$2 lines=$3 f=$W/fetched
    rm -f "$f"
    if ! fetch "$url" "$f" 2>"$W/fetch.err"; then
        md_note "- check: **cannot fetch $url**: $(tail -n 1 "$W/fetch.err")"
        return 0
    fi
    local msg
    msg="- check: $url: $(bytes_of "$f") bytes"
    if [[ $url == *.gz ]]; then
        if gzip -t "$f" 2>/dev/null; then msg+=", gzip -t ok"; else msg+=", **gzip -t fails**"; fi
        [[ $lines != - ]] && msg+=", $(gzip -dc "$f" | wc -l) lines (expected $lines)"
    fi
    if [[ $ref != - ]]; then
        if cmp -s "$f" "$ref"; then msg+=", identical to the local file"; else msg+=", **differs from the local file**"; fi
    fi
    md_note "$msg"
    rm -f "$f"
}

md_note ""
md_note "## s3.sh $(date -u +%Y-%m-%dT%H:%MZ) (s3rver on loopback$([[ ${S3_VIA_PROXY:-0} == 1 ]] && echo ", through the test proxy"), sluice: $( ((HAVE_SLUICE)) && "$SLUICE" --version 2>/dev/null | head -n 1 || echo missing))"

# ---------------------------------------------------------------------------------------
if want export; then
    log "== Postgres -> JSONL.gz -> S3"
    CSV_BYTES=$(psql -X -c "\\copy (select * from events) to stdout with (format csv, header)" | wc -c)
    if ((HAVE_SLUICE)); then
        measure "s3 export sluice" -- "$SLUICE" export --dsn "$SLUICE_TEST_PG_DSN" --table events --to "s3://$B/sluice/events.jsonl.gz"
        table_add "sluice export --to s3://" - "defaults (8 MiB parts, 4 in flight)"
        measure "s3 export sluice --threads 1" -- "$SLUICE" export --dsn "$SLUICE_TEST_PG_DSN" --table events --threads 1 --to "s3://$B/sluice/events-t1.jsonl.gz"
        table_add "sluice export --threads 1 --to s3://" - "1 compression thread"
        measure "s3 export sluice --threads 2" -- "$SLUICE" export --dsn "$SLUICE_TEST_PG_DSN" --table events --threads 2 --to "s3://$B/sluice/events-t2.jsonl.gz"
        table_add "sluice export --threads 2 --to s3://" - "2 compression threads"
    fi
    if ((HAVE_NODE)); then
        measure "s3 export node" -- node "$NODE_DIR/export_s3.js" "select * from events" "s3://$B/node/events.jsonl.gz"
        table_add "node pg-query-stream + zlib + lib-storage Upload" - "partSize 8 MiB, queueSize 4"
    fi
    table_print "Postgres -> JSONL.gz -> S3 (loopback)" "node pg-query-stream + zlib + lib-storage Upload" "$CSV_BYTES"
    md_note "- RSS budget for sluice: (concurrency + 1) x part_size + 16 MiB = 56 MiB at the defaults"
    ((HAVE_SLUICE)) && check_object "s3://$B/sluice/events.jsonl.gz" - "$ROWS"
    ((HAVE_SLUICE)) && check_object "s3://$B/sluice/events-t2.jsonl.gz" - "$ROWS"
    ((HAVE_NODE)) && check_object "s3://$B/node/events.jsonl.gz" - "$ROWS"
fi

# ---------------------------------------------------------------------------------------
if want raw; then
    log "== raw upload of a $RAW_BYTES-byte file"
    RAW=$W/upload.csv
    # Whole CSV records of events.csv (cycled if it is shorter) up to RAW_BYTES bytes, so the
    # file is valid CSV for sluice convert; a record ends where the quote count is even.
    "$PYTHON" - "$DATA_DIR/events.csv" "$RAW" "$RAW_BYTES" <<'EOF'
import sys
src, dst, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src, "rb") as f:
    header = f.readline()
    body = f.read()
records, start, quotes, pos = [], 0, 0, 0
out = bytearray(header)
while len(out) < limit:
    nl = body.find(b"\n", pos)
    if nl < 0:
        pos = start = quotes = 0
        continue
    quotes += body.count(b'"', pos, nl)
    pos = nl + 1
    if quotes % 2 == 0:
        out += body[start:pos]
        start, quotes = pos, 0
with open(dst, "wb") as f:
    f.write(out)
EOF
    RAW_SIZE=$(bytes_of "$RAW")
    warm "$RAW"
    if ((HAVE_SLUICE)); then
        measure "s3 raw sluice convert" -- "$SLUICE" convert "$RAW" "s3://$B/raw/sluice.csv"
        table_add "sluice convert file.csv s3://…/file.csv" - "re-encodes CSV (no raw copy in the CLI)"
    fi
    if ((HAVE_S3CMD)); then
        measure "s3 raw s3cmd" -- "${S3CMD[@]}" --multipart-chunk-size-mb=8 put "$RAW" "s3://$B/raw/s3cmd.csv"
        table_add "s3cmd put" - "8 MiB parts, sequential"
    fi
    if ((HAVE_NODE)); then
        measure "s3 raw node" -- node "$NODE_DIR/upload_s3.js" "$RAW" "s3://$B/raw/node.csv"
        table_add "node lib-storage Upload" - "partSize 8 MiB, queueSize 4"
    fi
    table_print "Raw upload of a $((RAW_SIZE / 1000000)) MB file (loopback)" "s3cmd put" "$RAW_SIZE"
    ((HAVE_SLUICE)) && check_object "s3://$B/raw/sluice.csv" "$RAW" -
    ((HAVE_S3CMD)) && check_object "s3://$B/raw/s3cmd.csv" "$RAW" -
    ((HAVE_NODE)) && check_object "s3://$B/raw/node.csv" "$RAW" -
    rm -f "$RAW"
fi

log "done; tables appended to $RESULTS_MD, raw figures to $RESULTS"
