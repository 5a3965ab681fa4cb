# shellcheck shell=bash
# libFuzzer targets of the readers (fuzz/*.cpp), built with clang-16 under ASan + UBSan and
# run for a bounded time. Sourced by scripts/test; usable on its own:
#
#   source scripts/lib/fuzz.sh && run_fuzzers 60               # every target, 60 s each
#   source scripts/lib/fuzz.sh && run_fuzzers 300 csv_reader   # one target
#
# Layout: binaries, logs and a fresh copy of each seed corpus (fuzz/corpus/<target>/) go to
# build-fuzz/ (SLUICE_FUZZ_DIR overrides it); a finding is written to
# build-fuzz/artifacts/<target>/ (crash-*, leak-*, timeout-*, oom-*); reproduce it with
# `build-fuzz/<target> build-fuzz/artifacts/<target>/crash-...`, then add it to
# fuzz/corpus/<target>/ as a regression seed once fixed.
#
# clang-16 because clang 14 (bookworm's default) cannot compile libstdc++ 12's <ranges>.

SLUICE_FUZZ_TARGETS=(csv_reader csv_blocks jsonl_reader json_array_reader parquet_reader)
# The CSV scanner's kernel: SSE2 by default, AVX2 + PCLMUL under -mavx2 -mpclmul, and a
# default build also carries the AVX2 kernel as a run-time choice (see csv/scan.hpp). Where
# the CPU runs AVX2, csv_reader takes that run-time choice, csv_reader_avx2 is the
# compile-time AVX2 build and csv_reader_sse2 (-DSLUICE_CSV_NO_DISPATCH) keeps the SSE2 one.
if grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw pclmulqdq /proc/cpuinfo 2>/dev/null; then
    SLUICE_FUZZ_TARGETS+=(csv_reader_avx2 csv_reader_sse2)
fi
SLUICE_FUZZ_PACKAGES=(clang-16 libclang-rt-16-dev libsimdjson-dev libzstd-dev zlib1g-dev libsnappy-dev)
# Libraries a target links beyond simdjson (the Parquet reader decompresses pages).
declare -gA SLUICE_FUZZ_LIBS=([parquet_reader]="-lzstd -lz -lsnappy")

# sluice_fuzz_install: installs clang-16 and its sanitizer runtimes when missing (idempotent:
# apt is not touched when dpkg already has everything).
sluice_fuzz_install() {
    local missing=() package
    for package in "${SLUICE_FUZZ_PACKAGES[@]}"; do
        dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$package")
    done
    ((${#missing[@]})) || return 0
    echo "sluice fuzz: installing ${missing[*]}" >&2
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || {
            echo "sluice fuzz: need root (or sudo) to install: ${missing[*]}" >&2
            return 1
        }
        sudo=(sudo)
    fi
    # Another apt may hold the lock (parallel setups): wait for it rather than fail.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
            install -y -q --no-install-recommends "${missing[@]}"
}

# sluice_fuzz_build <root> <out-dir> <target>: compiles fuzz/<target>.cpp to <out-dir>/<target>
# (<target>_avx2: the same source built for AVX2 + PCLMUL; <target>_sse2: without the
# run-time AVX2 choice).
sluice_fuzz_build() {
    local root=$1 out=$2 target=$3 source=$3 isa=()
    if [[ $target == *_avx2 ]]; then
        source=${target%_avx2}
        isa=(-mavx2 -mpclmul)
    elif [[ $target == *_sse2 ]]; then
        source=${target%_sse2}
        isa=(-DSLUICE_CSV_NO_DISPATCH)
    fi
    clang++-16 -std=c++20 -O1 -g -fno-omit-frame-pointer "${isa[@]}" \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -Wall -Wextra -Wpedantic \
        -I"$root/include" "$root/fuzz/$source.cpp" -o "$out/$target.tmp" -lsimdjson \
        ${SLUICE_FUZZ_LIBS[$source]:-} &&
        mv -f "$out/$target.tmp" "$out/$target"
}

# run_fuzzers SECONDS [target...]: builds the targets (default: all) and fuzzes each one for
# SECONDS, starting from its seed corpus (whose inputs, the regression seeds included, run
# first). Returns non-zero if a target does not build or reports a crash, a sanitizer error,
# a leak, a timeout (an input taking over 10 s), running out of memory, or a split-dependent
# result (the targets trap on that).
run_fuzzers() {
    local seconds=${1:?usage: run_fuzzers SECONDS [target...]}
    shift
    local targets=("$@")
    ((${#targets[@]})) || targets=("${SLUICE_FUZZ_TARGETS[@]}")
    local root
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    local out=${SLUICE_FUZZ_DIR:-$root/build-fuzz}

    sluice_fuzz_install || return 1
    mkdir -p "$out" || return 1

    local symbolizer
    symbolizer=$(command -v llvm-symbolizer-16 || command -v llvm-symbolizer || true)
    local failed=() target rc
    for target in "${targets[@]}"; do
        echo "=== fuzz $target: build" >&2
        if ! sluice_fuzz_build "$root" "$out" "$target"; then
            failed+=("$target (build)")
            continue
        fi
        # A fresh copy of the seeds: runs are reproducible and the repository stays clean.
        rm -rf "${out:?}/corpus/$target"
        mkdir -p "$out/corpus/$target" "$out/artifacts/$target"
        local seeds=${target%_avx2}
        cp -R "$root/fuzz/corpus/${seeds%_sse2}/." "$out/corpus/$target/"

        echo "=== fuzz $target: ${seconds}s (log: $out/$target.log)" >&2
        rc=0
        # The outer timeout only guards against libFuzzer itself wedging.
        ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1} \
            UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
            ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$symbolizer} \
            timeout --kill-after=30 $((2 * seconds + 120)) \
            "$out/$target" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 -artifact_prefix="$out/artifacts/$target/" \
            "$out/corpus/$target" >"$out/$target.log" 2>&1 || rc=$?
        if ((rc != 0)); then
            echo "=== fuzz $target: FAILED (exit $rc); end of $out/$target.log:" >&2
            tail -n 80 "$out/$target.log" >&2
            failed+=("$target")
        else
            grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$out/$target.log" >&2 || true
        fi
    done
    if ((${#failed[@]})); then
        echo "=== fuzz: failures: ${failed[*]} (inputs in $out/artifacts/)" >&2
        return 1
    fi
    echo "=== fuzz: all targets clean" >&2
}
