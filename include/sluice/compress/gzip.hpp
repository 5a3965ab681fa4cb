#pragma once
/// \file
/// gzip with the fastest backend this build has: `sluice::gzip::default_compressor`,
/// `sluice::gzip::default_decompressor` and `sluice::gzip::compressor(level)`.
///
/// Backends (each in its own header, usable directly):
/// - zlib_compressor / zlib_decompressor  (gzip_zlib.hpp, always there)
/// - libdeflate_block_compressor              (gzip_libdeflate.hpp, when SLUICE_HAVE_LIBDEFLATE)
/// - isal_compressor / isal_decompressor  (gzip_isal.hpp, when SLUICE_HAVE_ISAL)
///
/// Choice (benchmarks/compress.cpp; the figures are in docs/benchmarks.md, "Formats and
/// codecs"): the default compressor is libdeflate when present - faster than zlib at level 6
/// with output smaller than `gzip -6`. ISA-L is faster still but even its best level writes
/// output larger than `gzip -6`, the bar the project set, so it is opt-in
/// (`isal_compressor`). The default decompressor is ISA-L's inflate when present (faster
/// than zlib's), else zlib's.
///
/// ODR: which type `default_compressor` names depends on the SLUICE_HAVE_* macros, which the CMake
/// target `sluice::gzip` sets for every TU that links it. Each backend is a distinct class
/// defined identically everywhere; the selection (the aliases and `compressor`) lives in
/// an inline namespace whose name spells the selection (e.g. `sluice::gzip::sel_libdeflate_isal`),
/// so two TUs built with different macros get differently mangled functions instead of
/// one silently broken definition. The remaining caveat is the user's own inline
/// functions or class members that mention `gzip::default_compressor`: build every TU of a program
/// with the same macros (link `sluice::gzip`, do not define the macros by hand).

#include "gzip_zlib.hpp"

#if defined(SLUICE_HAVE_LIBDEFLATE) && SLUICE_HAVE_LIBDEFLATE
#include "gzip_libdeflate.hpp"
#define SLUICE_DETAIL_GZIP_ENC libdeflate
#else
#define SLUICE_DETAIL_GZIP_ENC zlib
#endif
#if defined(SLUICE_HAVE_ISAL) && SLUICE_HAVE_ISAL
#include "gzip_isal.hpp"
#define SLUICE_DETAIL_GZIP_DEC isal
#else
#define SLUICE_DETAIL_GZIP_DEC zlib
#endif

#define SLUICE_DETAIL_CAT3(a, b, c) a##b##_##c
#define SLUICE_DETAIL_XCAT3(a, b, c) SLUICE_DETAIL_CAT3(a, b, c)
/// The inline namespace that holds this TU's backend selection (see the file comment).
/// Headers that build on the selection (compress/codecs.hpp) put their definitions in it too.
#define SLUICE_GZIP_SELECTION_NS \
    SLUICE_DETAIL_XCAT3(sel_, SLUICE_DETAIL_GZIP_ENC, SLUICE_DETAIL_GZIP_DEC)

#include <string_view>

namespace sluice::gzip {

inline namespace SLUICE_GZIP_SELECTION_NS {

#if defined(SLUICE_HAVE_LIBDEFLATE) && SLUICE_HAVE_LIBDEFLATE
/// The default gzip compressor: libdeflate, one member per 1 MiB block (see libdeflate_block_compressor).
using default_compressor = libdeflate_block_compressor;
/// The name of the default compressor's library, for logs and `--version`.
inline constexpr std::string_view compressor_backend = "libdeflate";
#else
/// The default gzip compressor: zlib (libdeflate was not found at configure time).
using default_compressor = zlib_compressor;
/// The name of the default compressor's library, for logs and `--version`.
inline constexpr std::string_view compressor_backend = "zlib";
#endif

#if defined(SLUICE_HAVE_ISAL) && SLUICE_HAVE_ISAL
/// The default gzip decompressor: ISA-L igzip inflate, multi-member (see isal_decompressor).
using default_decompressor = isal_decompressor;
/// The name of the default decompressor's library.
inline constexpr std::string_view decompressor_backend = "isa-l";
#else
/// The default gzip decompressor: zlib inflate, multi-member (see zlib_decompressor).
using default_decompressor = zlib_decompressor;
/// The name of the default decompressor's library.
inline constexpr std::string_view decompressor_backend = "zlib";
#endif

/// The default compressor at a gzip(1)-style `level` (0-9; 6 is gzip's default).
/// `bytes | sluice::compress(sluice::gzip::compressor(6))`.
inline default_compressor compressor(int level = 6) {
    return default_compressor(level);
}

/// The default decompressor: `bytes | sluice::decompress(sluice::gzip::decompressor())`.
inline default_decompressor decompressor() {
    return default_decompressor();
}

}  // namespace SLUICE_GZIP_SELECTION_NS

}  // namespace sluice::gzip
