#pragma once
/// \file
/// Run-time codec choice for programs like the CLI: `sluice::compression::make_encoder(fmt,
/// level, threads)` and `make_decoder(fmt)` return a type-erased `sluice::any_codec`, so
/// one pipeline type serves `--compress gzip|zstd|none`. Includes every backend.
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

// In gzip.hpp's selection namespace: these functions build `gzip::encoder`, whose type
// depends on the backend macros (see gzip.hpp's ODR note).
inline namespace SLUICE_GZIP_SELECTION_NS {

/// An encoder for `f` at `level` (nullopt: the format's default, gzip 6 / zstd 3).
/// `threads`: compression threads; zstd uses libzstd's workers when > 1, gzip is
/// single-threaded for now (block-parallel gzip is planned: deflate_encoder's members are
/// already independent). `none` copies bytes unchanged.
inline any_codec make_encoder(format f, std::optional<int> level = std::nullopt, int threads = 1) {
    const int l = level.value_or(default_level(f));
    switch (f) {
        case format::gzip:
            return gzip::compressor(l);
        case format::zstd:
            return zstd::encoder(l, threads > 1 ? threads : 0);
        case format::none:
            break;
    }
    return identity_codec{};
}

/// A decoder for `f` (`none`: bytes unchanged). For input of unknown format use
/// `make_auto_decoder()` or the `auto_decompress()` stage.
inline any_codec make_decoder(format f) {
    switch (f) {
        case format::gzip:
            return gzip::decompressor();
        case format::zstd:
            return zstd::decoder();
        case format::none:
            break;
    }
    return identity_codec{};
}

/// A decoder that detects gzip / zstd / plain input from its first bytes.
inline any_codec make_auto_decoder() {
    return auto_decoder{};
}

/// The same for an input called `name`, whose compression extension (if any) is a claim
/// the first bytes must bear out (see `auto_decoder(name)`).
inline any_codec make_auto_decoder(std::string_view name) {
    return auto_decoder(name);
}

}  // namespace SLUICE_GZIP_SELECTION_NS

}  // namespace sluice::compression
