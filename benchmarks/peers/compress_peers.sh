#!/usr/bin/env bash
# Times the reference compressors on the same bytes as benchmarks/compress.cpp, for a
# side-by-side table with bench_compress:
#
#   SLUICE_BENCH_CORPUS=/tmp/corpus.csv build/bin/bench_compress   # writes the corpus
#   benchmarks/peers/compress_peers.sh /tmp/corpus.csv
#
# Prints one line per tool: MB/s (uncompressed bytes / wall time, best of N runs),
# compressed size and ratio. Input is read from the page cache (one warm-up read first);
# output goes to a pipe into `wc -c`, so disk speed does not enter the figures.
set -euo pipefail

if [[ $# -lt 1 || ! -f $1 ]]; then
    echo "usage: $0 FILE [RUNS]" >&2
    exit 2
fi
file=$1
runs=${2:-3}
size=$(stat -c %s "$file")
cat "$file" >/dev/null  # warm the page cache

# best_of CMD...: sets $best (the fastest wall time in seconds over $runs runs) and
# $out_bytes (the compressed size). Not called in $(...): the variables must survive.
best_of() {
    local t0 t1 dt
    best=""
    for ((i = 0; i < runs; i++)); do
        t0=$(date +%s.%N)
        out_bytes=$("$@" <"$file" | wc -c)
        t1=$(date +%s.%N)
        dt=$(echo "$t1 - $t0" | bc -l)
        if [[ -z $best ]] || (($(echo "$dt < $best" | bc -l))); then best=$dt; fi
    done
}

printf '%-16s %10s %14s %8s\n' tool MB/s bytes ratio
row() {
    local name=$1
    shift
    if ! command -v "$1" >/dev/null; then
        printf '%-16s %10s\n' "$name" "missing"
        return
    fi
    best_of "$@"
    printf '%-16s %10.1f %14d %8.4f\n' "$name" "$(echo "$size / $best / 1000000" | bc -l)" \
        "$out_bytes" "$(echo "$out_bytes / $size" | bc -l)"
}

row "gzip -6" gzip -6 -c
row "gzip -1" gzip -1 -c
row "pigz -p2 -6" pigz -p2 -6 -c
row "zstd -3" zstd -q -3 -c
row "zstd -1" zstd -q -1 -c
