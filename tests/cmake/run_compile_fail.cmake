# cmake -DSOURCE=<file.cpp> -DFLAGS_FILE=<compile_fail_flags.cmake> -P run_compile_fail.cmake
#
# Passes iff compiling SOURCE fails AND the diagnostics match every `// expect: <regex>` line
# of SOURCE (CMake regex syntax, matched against the compiler's combined output).
cmake_minimum_required(VERSION 3.21)
foreach(var IN ITEMS SOURCE FLAGS_FILE)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "run_compile_fail.cmake: ${var} not set")
    endif()
endforeach()
include("${FLAGS_FILE}") # SLUICE_CF_COMPILER, SLUICE_CF_INCLUDES, SLUICE_CF_DEFINES

set(args -std=c++20 -fsyntax-only)
list(REMOVE_DUPLICATES SLUICE_CF_INCLUDES)
foreach(dir IN LISTS SLUICE_CF_INCLUDES)
    if(NOT dir IN_LIST SLUICE_CF_IMPLICIT_INCLUDES)
        list(APPEND args "-I${dir}")
    endif()
endforeach()
foreach(def IN LISTS SLUICE_CF_DEFINES)
    list(APPEND args "-D${def}")
endforeach()

file(STRINGS "${SOURCE}" expect_lines REGEX "^[ \t]*//[ \t]*expect:")
execute_process(
    COMMAND "${SLUICE_CF_COMPILER}" ${args} "${SOURCE}"
    RESULT_VARIABLE result
    OUTPUT_VARIABLE output
    ERROR_VARIABLE output)

if(result EQUAL 0)
    message(FATAL_ERROR "${SOURCE} compiled, but it must be rejected")
endif()
foreach(line IN LISTS expect_lines)
    string(REGEX REPLACE "^[ \t]*//[ \t]*expect:[ \t]*" "" regex "${line}")
    string(STRIP "${regex}" regex)
    if(NOT output MATCHES "${regex}")
        message(FATAL_ERROR "${SOURCE} was rejected, but no diagnostic matches '${regex}'. "
            "Compiler output:\n${output}")
    endif()
endforeach()
list(LENGTH expect_lines count)
message(STATUS "rejected as expected (${count} expected diagnostic(s) matched)")
