# Build-only (never installed or exported) compile options for sluice's own tests, examples
# and benchmarks:
#   sluice_warnings  -Wall -Wextra -Wpedantic (and -Werror with SLUICE_WARNINGS_AS_ERRORS)
#   sluice_sanitize  -fsanitize=${SLUICE_SANITIZE} on compile and link, when set
#   sluice_internal  both of the above
# Allocation-counting tests replace the global operator new, which sanitizers also do, so
# those link sluice_warnings only.
include_guard(GLOBAL)

add_library(sluice_warnings INTERFACE)
target_compile_options(sluice_warnings INTERFACE
    $<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-Wall -Wextra -Wpedantic>
    $<$<AND:$<BOOL:${SLUICE_WARNINGS_AS_ERRORS}>,$<CXX_COMPILER_ID:GNU,Clang,AppleClang>>:-Werror>)

add_library(sluice_sanitize INTERFACE)
if(SLUICE_SANITIZE)
    # -fno-sanitize-recover makes UBSan findings fail the test instead of only printing.
    set(_sluice_sanitize_flags
        -fsanitize=${SLUICE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_compile_options(sluice_sanitize INTERFACE ${_sluice_sanitize_flags})
    target_link_options(sluice_sanitize INTERFACE ${_sluice_sanitize_flags})
    message(STATUS "sluice: sanitizers enabled: ${SLUICE_SANITIZE}")
endif()

add_library(sluice_internal INTERFACE)
target_link_libraries(sluice_internal INTERFACE sluice_warnings sluice_sanitize)
