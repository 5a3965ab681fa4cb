# shellcheck shell=bash
# ThreadSanitizer run of the worker primitive and the threaded stages (prefetch,
# parallel_map, block-parallel parsing: unpack_blocks and block_gate, shutdown, error
# policies, parallel gzip), for CI: a separate build-tsan/
# directory, only the relevant test targets, a few minutes on two cores.
#
#   source scripts/lib/tsan.sh
#   sluice_tsan_tests [build-dir]        # default build-tsan; uses $JOBS or nproc
#
# Needs sluice_cmake_generator_args / sluice_cmake_launcher_args from scripts/lib/packages.sh.

# The test targets the TSan build compiles (tests/adaptors/<x>.cpp -> test_adaptors_<x>).
SLUICE_TSAN_TARGETS=(
    test_core_worker
    test_adaptors_prefetch
    test_adaptors_parallel_map
    test_adaptors_unpack_blocks
    test_core_block_gate
    test_adaptors_shutdown
    test_adaptors_error_policy
    test_compress_parallel_gzip
)

sluice_tsan_tests() {
    local dir=${1:-build-tsan}
    local jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
    local root
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    local generator launcher
    mapfile -t generator < <(sluice_cmake_generator_args "$dir")
    mapfile -t launcher < <(sluice_cmake_launcher_args)

    echo "=== configure $dir (ThreadSanitizer)" >&2
    # -O1: TSan slows code 5-15x; unoptimised builds would push the tests past minutes.
    cmake -S "$root" -B "$dir" "${generator[@]}" "${launcher[@]}" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
        -DSLUICE_SANITIZE=thread \
        -DSLUICE_BUILD_TESTS=ON -DSLUICE_BUILD_EXAMPLES=OFF -DSLUICE_BUILD_BENCHMARKS=OFF
    echo "=== build $dir: ${SLUICE_TSAN_TARGETS[*]}" >&2
    cmake --build "$dir" -j "$jobs" --target "${SLUICE_TSAN_TARGETS[@]}"
    echo "=== test $dir (ThreadSanitizer)" >&2
    # halt_on_error: the first race fails the test; second_deadlock_stack for lock reports.
    local regex
    regex="^($(IFS='|'; echo "${SLUICE_TSAN_TARGETS[*]}"))\$"
    (cd "$dir" &&
        TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
            ctest --output-on-failure -j "$jobs" --timeout 600 -R "$regex")
}
