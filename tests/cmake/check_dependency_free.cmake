# cmake -DSOURCE=<tu.cpp> -DFLAGS_FILE=<compile_fail_flags.cmake> -P check_dependency_free.cmake
# Fails if SOURCE (which includes every core-group header and the umbrella sluice.hpp)
# transitively includes a header of an optional third-party dependency. STYLE.md: the umbrella
# and core/sources/adaptors/sinks/csv stay dependency-free; optional parts live behind their
# own headers and targets.
cmake_minimum_required(VERSION 3.21)
include("${FLAGS_FILE}")
set(args -std=c++20 -M)
list(REMOVE_DUPLICATES SLUICE_CF_INCLUDES)
foreach(dir IN LISTS SLUICE_CF_INCLUDES)
    if(NOT dir IN_LIST SLUICE_CF_IMPLICIT_INCLUDES)
        list(APPEND args "-I${dir}")
    endif()
endforeach()
execute_process(
    COMMAND "${SLUICE_CF_COMPILER}" ${args} "${SOURCE}"
    RESULT_VARIABLE result
    OUTPUT_VARIABLE deps
    ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "preprocessing failed:\n${errors}")
endif()
set(forbidden
    "simdjson" "/zlib\\.h" "/zstd\\.h" "/libdeflate\\.h" "/isa-l" "/libpq-fe\\.h"
    "/curl/curl\\.h" "/openssl/")
foreach(pattern IN LISTS forbidden)
    if(deps MATCHES "[^ ]*${pattern}[^ ]*")
        message(FATAL_ERROR "a dependency-free header includes ${CMAKE_MATCH_0}")
    endif()
endforeach()
message(STATUS "core headers are dependency-free")
