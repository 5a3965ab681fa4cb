# Finds sluice's third-party dependencies and wraps each one in an imported facade target
# `sluice::deps::<name>`.
#
# This file is used twice: by the sluice build itself and, installed next to sluiceConfig.cmake,
# by every consumer of an installed sluice. The exported sluice targets link only to the facades
# (and Threads::Threads), so a consumer recreates exactly the targets the export refers to, no
# matter how the underlying library was found here (CMake config, Find module, pkg-config or a
# bare find_library for libraries that ship neither, such as libdeflate and ISA-L on Debian).
#
#   sluice_find_dependency(<dep> <result-var>)
#     <dep> is one of: threads simdjson zlib libdeflate isal zstd snappy libpq curl openssl
#     httplib
#     Sets <result-var> to TRUE when sluice::deps::<dep> exists afterwards (or, for threads,
#     Threads::Threads), FALSE otherwise. Never fails the configure step by itself.
#
# Set SLUICE_DEPS_GLOBAL to ON before calling to make the facades IMPORTED GLOBAL: the sluice
# build does this so that a parent project that uses add_subdirectory(sluice) can resolve them.
include_guard(GLOBAL)

# The facades are INTERFACE IMPORTED targets; library-only deps get an UNKNOWN IMPORTED target.
function(_sluice_make_facade name)
    if(TARGET sluice::deps::${name})
        return()
    endif()
    set(scope "")
    if(SLUICE_DEPS_GLOBAL)
        set(scope GLOBAL)
    endif()
    add_library(sluice::deps::${name} INTERFACE IMPORTED ${scope})
    set_property(TARGET sluice::deps::${name} PROPERTY INTERFACE_LINK_LIBRARIES ${ARGN})
endfunction()

function(_sluice_make_library_target name library include_dir)
    if(TARGET sluice::deps::${name})
        return()
    endif()
    set(scope "")
    if(SLUICE_DEPS_GLOBAL)
        set(scope GLOBAL)
    endif()
    add_library(sluice::deps::${name} UNKNOWN IMPORTED ${scope})
    set_target_properties(sluice::deps::${name} PROPERTIES
        IMPORTED_LOCATION "${library}"
        INTERFACE_INCLUDE_DIRECTORIES "${include_dir}")
endfunction()

# pkg-config is only a source of search hints here; it is optional.
function(_sluice_pkg_hints module prefix)
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
        pkg_check_modules(_sluice_pc_${module} QUIET ${module})
        set(${prefix}_INCLUDE_HINTS "${_sluice_pc_${module}_INCLUDE_DIRS}" PARENT_SCOPE)
        set(${prefix}_LIBRARY_HINTS "${_sluice_pc_${module}_LIBRARY_DIRS}" PARENT_SCOPE)
    endif()
endfunction()

# A plain C library located by header + library name (libdeflate, ISA-L).
function(_sluice_find_plain_library name pc_module header library_names result)
    if(TARGET sluice::deps::${name})
        set(${result} TRUE PARENT_SCOPE)
        return()
    endif()
    _sluice_pkg_hints(${pc_module} _hint)
    string(TOUPPER "${name}" upper)
    # PATH_SUFFIXES covers Debian's /usr/include/postgresql for the libpq fallback.
    find_path(SLUICE_${upper}_INCLUDE_DIR NAMES ${header} HINTS ${_hint_INCLUDE_HINTS}
        PATH_SUFFIXES postgresql)
    find_library(SLUICE_${upper}_LIBRARY NAMES ${library_names} HINTS ${_hint_LIBRARY_HINTS})
    mark_as_advanced(SLUICE_${upper}_INCLUDE_DIR SLUICE_${upper}_LIBRARY)
    if(SLUICE_${upper}_INCLUDE_DIR AND SLUICE_${upper}_LIBRARY)
        _sluice_make_library_target(${name} "${SLUICE_${upper}_LIBRARY}"
            "${SLUICE_${upper}_INCLUDE_DIR}")
        set(${result} TRUE PARENT_SCOPE)
    else()
        set(${result} FALSE PARENT_SCOPE)
    endif()
endfunction()

function(sluice_find_dependency dep result)
    set(found FALSE)
    if(dep STREQUAL "threads")
        if(NOT TARGET Threads::Threads)
            set(THREADS_PREFER_PTHREAD_FLAG ON)
            find_package(Threads QUIET)
        endif()
        if(TARGET Threads::Threads)
            set(found TRUE)
        endif()

    elseif(dep STREQUAL "simdjson")
        if(NOT TARGET simdjson::simdjson)
            find_package(simdjson CONFIG QUIET)
        endif()
        if(TARGET simdjson::simdjson)
            _sluice_make_facade(simdjson simdjson::simdjson)
            set(found TRUE)
        endif()

    elseif(dep STREQUAL "zlib")
        if(NOT TARGET ZLIB::ZLIB)
            find_package(ZLIB QUIET)
        endif()
        if(TARGET ZLIB::ZLIB)
            _sluice_make_facade(zlib ZLIB::ZLIB)
            set(found TRUE)
        endif()

    elseif(dep STREQUAL "libdeflate")
        # Debian ships neither a CMake config nor (before 1.15) a usable one: find it by hand.
        _sluice_find_plain_library(libdeflate libdeflate libdeflate.h "deflate;libdeflate" found)

    elseif(dep STREQUAL "isal")
        _sluice_find_plain_library(isal libisal "isa-l/igzip_lib.h;isa-l.h" "isal;libisal" found)

    elseif(dep STREQUAL "zstd")
        if(NOT TARGET zstd::libzstd_shared AND NOT TARGET zstd::libzstd_static)
            find_package(zstd CONFIG QUIET)
        endif()
        if(TARGET zstd::libzstd_shared)
            _sluice_make_facade(zstd zstd::libzstd_shared)
            set(found TRUE)
        elseif(TARGET zstd::libzstd_static)
            _sluice_make_facade(zstd zstd::libzstd_static)
            set(found TRUE)
        else()
            # Older distributions install zstd without a CMake package.
            _sluice_find_plain_library(zstd libzstd zstd.h "zstd;libzstd" found)
        endif()

    elseif(dep STREQUAL "snappy")
        # Snappy ships a CMake package (Snappy::snappy) upstream and on Debian >= 12; the
        # plain-library fallback covers installations without it.
        if(NOT TARGET Snappy::snappy)
            find_package(Snappy CONFIG QUIET)
        endif()
        if(TARGET Snappy::snappy)
            _sluice_make_facade(snappy Snappy::snappy)
            set(found TRUE)
        else()
            _sluice_find_plain_library(snappy snappy snappy-c.h "snappy;libsnappy" found)
        endif()

    elseif(dep STREQUAL "libpq")
        # CMake's FindPostgreSQL handles Debian's /usr/include/postgresql layout; pkg-config
        # is the fallback for installations it does not know.
        if(NOT TARGET PostgreSQL::PostgreSQL)
            find_package(PostgreSQL QUIET)
        endif()
        if(TARGET PostgreSQL::PostgreSQL)
            _sluice_make_facade(libpq PostgreSQL::PostgreSQL)
            set(found TRUE)
        else()
            _sluice_find_plain_library(libpq libpq libpq-fe.h "pq;libpq" found)
        endif()

    elseif(dep STREQUAL "curl")
        if(NOT TARGET CURL::libcurl)
            find_package(CURL QUIET)
        endif()
        if(TARGET CURL::libcurl)
            _sluice_make_facade(curl CURL::libcurl)
            set(found TRUE)
        endif()

    elseif(dep STREQUAL "openssl")
        if(NOT TARGET OpenSSL::Crypto)
            find_package(OpenSSL QUIET COMPONENTS Crypto)
        endif()
        if(TARGET OpenSSL::Crypto)
            _sluice_make_facade(openssl OpenSSL::Crypto)
            set(found TRUE)
        endif()

    elseif(dep STREQUAL "httplib")
        # cpp-httplib: upstream is header-only (CMake package httplib::httplib); Debian's
        # libcpp-httplib-dev splits it into httplib.h + libcpp-httplib.so, whose ABI depends on
        # the CPPHTTPLIB_*_SUPPORT macros its pkg-config file lists, so they are passed on.
        if(NOT TARGET httplib::httplib)
            find_package(httplib CONFIG QUIET)
        endif()
        if(TARGET httplib::httplib)
            _sluice_make_facade(httplib httplib::httplib)
            set(found TRUE)
        else()
            find_package(PkgConfig QUIET)
            if(PKG_CONFIG_FOUND)
                pkg_check_modules(_sluice_pc_httplib QUIET cpp-httplib)
            endif()
            find_path(SLUICE_HTTPLIB_INCLUDE_DIR NAMES httplib.h
                HINTS ${_sluice_pc_httplib_INCLUDE_DIRS})
            find_library(SLUICE_HTTPLIB_LIBRARY NAMES cpp-httplib
                HINTS ${_sluice_pc_httplib_LIBRARY_DIRS})
            mark_as_advanced(SLUICE_HTTPLIB_INCLUDE_DIR SLUICE_HTTPLIB_LIBRARY)
            if(NOT TARGET Threads::Threads)
                set(THREADS_PREFER_PTHREAD_FLAG ON)
                find_package(Threads QUIET)
            endif()
            if(SLUICE_HTTPLIB_INCLUDE_DIR AND SLUICE_HTTPLIB_LIBRARY AND TARGET Threads::Threads)
                _sluice_make_library_target(httplib "${SLUICE_HTTPLIB_LIBRARY}"
                    "${SLUICE_HTTPLIB_INCLUDE_DIR}")
                set(defs "")
                foreach(flag IN LISTS _sluice_pc_httplib_CFLAGS_OTHER)
                    if(flag MATCHES "^-D(.+)$")
                        list(APPEND defs "${CMAKE_MATCH_1}")
                    endif()
                endforeach()
                set_target_properties(sluice::deps::httplib PROPERTIES
                    INTERFACE_COMPILE_DEFINITIONS "${defs}"
                    INTERFACE_LINK_LIBRARIES Threads::Threads)
                set(found TRUE)
            endif()
        endif()

    else()
        message(FATAL_ERROR "sluice_find_dependency: unknown dependency '${dep}'")
    endif()
    set(${result} ${found} PARENT_SCOPE)
endfunction()
