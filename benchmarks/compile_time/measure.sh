#!/usr/bin/env bash
# Compile time of the README example against a hand-written fstream program doing the same
# (docs/benchmarks.md, "Header cost"): CPU time (user + sys) of `c++ -std=c++20 -O2 -c`,
# the least of N runs (default 5): other load on the machine only ever adds to a run.
#   benchmarks/compile_time/measure.sh [N] [extra compiler flags...]
# The include flags are the ones a consumer of sluice::sluice gets (libdeflate and ISA-L
# when the build found them: pass -DSLUICE_HAVE_LIBDEFLATE=1 -DSLUICE_HAVE_ISAL=1).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
runs="${1:-5}"
shift || true
cxx="${CXX:-c++}"

least_cpu() {  # file [flags...] -> least CPU seconds of the runs
    local file="$1" times=()
    shift
    for _ in $(seq "$runs"); do
        times+=("$( { /usr/bin/time -f '%U %S' "$cxx" -std=c++20 -O2 -I"$root/include" "$@" \
            -c "$file" -o /dev/null; } 2>&1 | tail -n 1 | awk '{print $1 + $2}')")
    done
    printf '%s\n' "${times[@]}" | sort -g | head -n 1
}

base=$(least_cpu "$here/fstream_baseline.cpp" "$@")
example=$(least_cpu "$here/readme_example.cpp" "$@")
awk -v b="$base" -v e="$example" 'BEGIN {
    printf "fstream baseline  %.2f s\nREADME example    %.2f s  (%.1fx)\n", b, e, e / b }'
