#pragma once
/// \file
/// Run-time codec choice for programs like the CLI: `sluice::compression::make_compressor(fmt,
/// level, threads)` and `make_decompressor(fmt)` return a type-erased `sluice::any_codec`, so
/// one pipeline type serves `--compress gzip|zstd|none`. Includes exactly: format.hpp,
/// any_codec.hpp, identity.hpp, gzip.hpp (with every gzip backend this build found),
/// zstd.hpp and auto_decompress.hpp.
/// Link: sluice::compress.

#include <optional>
#include <string_view>

#include "any_codec.hpp"
#include "auto_decompress.hpp"
#include "format.hpp"
#include "gzip.hpp"
#include "identity.hpp"
#include "zstd.hpp"

namespace sluice::compression {

// In gzip.hpp's selection namespace: these functions build `gzip::default_compressor`, whose type
// depends on the backend macros (see gzip.hpp's ODR note).
inline namespace SLUICE_GZIP_SELECTION_NS {

/// A compressor for `f` at `level` (nullopt: the format's default, gzip 6 / zstd 3).
/// `threads`: compression threads; zstd uses libzstd's workers when > 1, gzip from here is
/// single-threaded: block-parallel gzip is `make_parallel_compressor`
/// (compress/parallel_gzip.hpp, the CLI's default). `none` copies bytes unchanged.
inline any_codec make_compressor(format f, std::optional<int> level = std::nullopt, int threads = 1) {
    const int l = level.value_or(default_level(f));
    switch (f) {
        case format::gzip:
            return gzip::compressor(l);
        case format::zstd:
            return zstd::compressor(l, threads > 1 ? threads : 0);
        case format::none:
            break;
    }
    return identity_codec{};
}

/// A decompressor for `f` (`none`: bytes unchanged). For input of unknown format use
/// `make_auto_decompressor()` or the `auto_decompress()` stage.
inline any_codec make_decompressor(format f) {
    switch (f) {
        case format::gzip:
            return gzip::decompressor();
        case format::zstd:
            return zstd::decompressor();
        case format::none:
            break;
    }
    return identity_codec{};
}

/// A decompressor that detects gzip / zstd / plain input from its first bytes.
inline any_codec make_auto_decompressor() {
    return auto_decompressor{};
}

/// The same for an input called `name`, whose compression extension (if any) is a claim
/// the first bytes must bear out (see `auto_decompressor(name)`).
inline any_codec make_auto_decompressor(std::string_view name) {
    return auto_decompressor(name);
}

}  // namespace SLUICE_GZIP_SELECTION_NS

}  // namespace sluice::compression
