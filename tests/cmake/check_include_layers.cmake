# cmake -DROOT=<source dir> [-DKNOWN=<known violations file>] -P check_include_layers.cmake
#
# The include direction of docs/design.md ("Layers"), checked on the text of every #include
# (both <sluice/...> and relative "..." forms, resolved against the including file):
#
#   0 core/   1 policy/   2 sources/ adaptors/ sinks/ report/
#   3 csv/ json/ compress/ record/ encoders/ formats/ parquet/   4 net/   5 postgres/ s3/ http/
#   (sluice.hpp, the umbrella, is on top)
#
# Fails, naming the header and the include, when
#   - a header of include/sluice includes a higher layer, or a directory with no layer;
#   - postgres/, s3/ and http/ include each other (they meet only through a format);
#   - sources/, adaptors/ and sinks/ include each other, or an adaptor another adaptor
#     (what stages share lives in core/ or policy/);
#   - a file includes the detail/ headers of another directory: a header of include/sluice/<d>/
#     may include <d>/detail/ only; tests/<d>/ may include sluice/<d>/detail/ (unit tests of
#     internals); examples/, benchmarks/, fuzz/ and docs/ none at all;
#   - the example programs (examples/) name anything in a sluice `detail` namespace;
#   - sluice/sluice.hpp leaves out a header of core/, policy/, sources/, adaptors/ or sinks/.
# KNOWN lists tolerated violations, one "<file> -> <include>" a line (# comments); it is meant
# to be empty: an entry that no longer occurs is reported so it can be removed.
cmake_minimum_required(VERSION 3.21)

set(layer_core 0)
set(layer_policy 1)
foreach(dir IN ITEMS sources adaptors sinks report)
    set(layer_${dir} 2)
endforeach()
# Sources, adaptors and sinks are one concept per header: they do not include each other
# (a sink may build on another sink of its own directory).
foreach(dir IN ITEMS sources adaptors sinks)
    set(stage_${dir} TRUE)
endforeach()
foreach(dir IN ITEMS csv json compress record encoders formats parquet)
    set(layer_${dir} 3)
endforeach()
set(layer_net 4)
foreach(dir IN ITEMS postgres s3 http)
    set(layer_${dir} 5)
    set(top_${dir} TRUE)
endforeach()
set(layer_. 6)  # include/sluice/sluice.hpp

set(include_root "${ROOT}/include")
set(sluice_root "${include_root}/sluice")

set(known "")
if(KNOWN AND EXISTS "${KNOWN}")
    file(STRINGS "${KNOWN}" known_lines)
    foreach(line IN LISTS known_lines)
        string(STRIP "${line}" line)
        if(line STREQUAL "" OR line MATCHES "^#")
            continue()
        endif()
        list(APPEND known "${line}")
    endforeach()
endif()

set(violations "")
set(tolerated "")

# Resolves one include of `file` to a path relative to include/ ("sluice/json/record.hpp"),
# or to "" when it is not a sluice header (a standard or third-party one).
function(resolve_include file spelling form out)
    set(result "")
    if(form STREQUAL "<" AND spelling MATCHES "^sluice/")
        set(result "${spelling}")
    elseif(form STREQUAL "\"")
        get_filename_component(dir "${file}" DIRECTORY)
        set(candidate "${dir}/${spelling}")
        cmake_path(NORMAL_PATH candidate)
        cmake_path(IS_PREFIX sluice_root "${candidate}" NORMALIZE under_sluice)
        if(under_sluice)
            file(RELATIVE_PATH result "${include_root}" "${candidate}")
        elseif(spelling MATCHES "^sluice/")
            set(result "${spelling}")
        endif()
    endif()
    set(${out} "${result}" PARENT_SCOPE)
endfunction()

# The first directory under sluice/ ("." for sluice/sluice.hpp) and whether the path is in a
# detail/ folder of it.
function(component path out_dir out_detail)
    string(REGEX REPLACE "^sluice/" "" rest "${path}")
    if(rest MATCHES "^([^/]+)/")
        set(${out_dir} "${CMAKE_MATCH_1}" PARENT_SCOPE)
    else()
        set(${out_dir} "." PARENT_SCOPE)
    endif()
    if(rest MATCHES "(^|/)detail/")
        set(${out_detail} TRUE PARENT_SCOPE)
    else()
        set(${out_detail} FALSE PARENT_SCOPE)
    endif()
endfunction()

macro(report file target why)
    file(RELATIVE_PATH shown "${ROOT}" "${file}")
    set(entry "${shown} -> ${target}")
    if(entry IN_LIST known)
        list(APPEND tolerated "${entry}")
    else()
        list(APPEND violations "${entry}: ${why}")
    endif()
endmacro()

# Every #include of `file`, as "<form><spelling>" items.
function(includes_of file out)
    file(STRINGS "${file}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
    set(items "")
    foreach(line IN LISTS lines)
        if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*([<\"])([^>\"]+)[>\"]")
            list(APPEND items "${CMAKE_MATCH_1}${CMAKE_MATCH_2}")
        endif()
    endforeach()
    set(${out} "${items}" PARENT_SCOPE)
endfunction()

# --- Public headers ----------------------------------------------------------------------------
file(GLOB_RECURSE headers "${sluice_root}/*.hpp" "${sluice_root}/*.h")
list(SORT headers)
foreach(header IN LISTS headers)
    file(RELATIVE_PATH self "${include_root}" "${header}")
    component("${self}" self_dir self_detail)
    if(NOT DEFINED layer_${self_dir})
        report("${header}" "(its directory)" "include/sluice/${self_dir}/ has no layer in docs/design.md")
        continue()
    endif()
    includes_of("${header}" items)
    foreach(item IN LISTS items)
        string(SUBSTRING "${item}" 0 1 form)
        string(SUBSTRING "${item}" 1 -1 spelling)
        resolve_include("${header}" "${spelling}" "${form}" target)
        if(target STREQUAL "")
            continue()
        endif()
        component("${target}" target_dir target_detail)
        if(NOT DEFINED layer_${target_dir})
            report("${header}" "${spelling}" "includes ${target}, which has no layer")
        elseif(layer_${target_dir} GREATER layer_${self_dir})
            report("${header}" "${spelling}"
                "layer ${layer_${self_dir}} (${self_dir}/) includes layer ${layer_${target_dir}} (${target_dir}/)")
        elseif(top_${self_dir} AND top_${target_dir} AND NOT self_dir STREQUAL target_dir)
            report("${header}" "${spelling}"
                "${self_dir}/ and ${target_dir}/ must not include each other (only through a format)")
        elseif(target_detail AND NOT self_dir STREQUAL target_dir)
            report("${header}" "${spelling}" "includes the internals of ${target_dir}/")
        elseif(stage_${self_dir} AND stage_${target_dir}
                AND (NOT self_dir STREQUAL target_dir OR self_dir STREQUAL "adaptors"))
            report("${header}" "${spelling}"
                "a stage's header includes another stage's (${target_dir}/): shared pieces live in core/ or policy/")
        endif()
    endforeach()
endforeach()

# --- The umbrella: every header of core/ policy/ sources/ adaptors/ sinks/ ----------------------
# sluice/sluice.hpp says it includes all of them (they need only the standard library; the
# dependency-free check holds them to it), so a new one must be added there.
set(umbrella "${sluice_root}/sluice.hpp")
if(EXISTS "${umbrella}")
    includes_of("${umbrella}" items)
    set(in_umbrella "")
    foreach(item IN LISTS items)
        string(SUBSTRING "${item}" 0 1 form)
        string(SUBSTRING "${item}" 1 -1 spelling)
        resolve_include("${umbrella}" "${spelling}" "${form}" target)
        list(APPEND in_umbrella "${target}")
    endforeach()
    foreach(header IN LISTS headers)
        file(RELATIVE_PATH self "${include_root}" "${header}")
        component("${self}" self_dir self_detail)
        if(self_dir MATCHES "^(core|policy|sources|adaptors|sinks)$" AND NOT self_detail
                AND NOT self IN_LIST in_umbrella)
            report("${umbrella}" "${self}" "the umbrella must include every header of ${self_dir}/")
        endif()
    endforeach()
endif()

# --- Everything else: no other directory's detail/ ---------------------------------------------
foreach(tree IN ITEMS tests examples benchmarks fuzz docs)
    file(GLOB_RECURSE sources "${ROOT}/${tree}/*.cpp" "${ROOT}/${tree}/*.hpp" "${ROOT}/${tree}/*.h"
        "${ROOT}/${tree}/*.cc")
    list(SORT sources)
    foreach(source IN LISTS sources)
        set(own_dir "")
        if(tree STREQUAL "tests")
            file(RELATIVE_PATH rel "${ROOT}/tests" "${source}")
            if(rel MATCHES "^([^/]+)/")
                set(own_dir "${CMAKE_MATCH_1}")
            endif()
        endif()
        includes_of("${source}" items)
        foreach(item IN LISTS items)
            string(SUBSTRING "${item}" 0 1 form)
            string(SUBSTRING "${item}" 1 -1 spelling)
            resolve_include("${source}" "${spelling}" "${form}" target)
            if(target STREQUAL "")
                continue()
            endif()
            component("${target}" target_dir target_detail)
            if(target_detail AND NOT own_dir STREQUAL target_dir)
                report("${source}" "${spelling}" "includes the internals of ${target_dir}/")
            endif()
        endforeach()
    endforeach()
endforeach()

# --- The example programs use the public API only -----------------------------------------------
# The CLI and the service are built on library calls; a name in a sluice `detail` namespace
# there means a missing public feature.
file(GLOB_RECURSE program_sources "${ROOT}/examples/*.cpp" "${ROOT}/examples/*.hpp")
list(SORT program_sources)
foreach(source IN LISTS program_sources)
    file(STRINGS "${source}" lines REGEX "sluice::([a-z_0-9]+::)*detail::")
    foreach(line IN LISTS lines)
        string(REGEX MATCH "sluice::([a-z_0-9]+::)*detail::[A-Za-z_0-9]+" name "${line}")
        report("${source}" "${name}" "uses sluice internals (detail::); make it a public feature")
    endforeach()
endforeach()

# --- Verdict -----------------------------------------------------------------------------------
foreach(entry IN LISTS known)
    if(NOT entry IN_LIST tolerated)
        message(STATUS "no longer occurs, remove it from the known list: ${entry}")
    endif()
endforeach()
list(LENGTH tolerated tolerated_count)
if(tolerated_count GREATER 0)
    list(REMOVE_DUPLICATES tolerated)
    list(LENGTH tolerated tolerated_count)
    message(STATUS "${tolerated_count} known violation(s) tolerated (the list must shrink to empty)")
endif()
if(violations)
    list(LENGTH violations count)
    list(JOIN violations "\n  " text)
    message(FATAL_ERROR "${count} include(s) against the layers of docs/design.md:\n  ${text}")
endif()
list(LENGTH headers header_count)
message(STATUS "include direction holds for ${header_count} headers")
