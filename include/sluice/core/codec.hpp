#pragma once
/// \file
/// The codec concept. A *codec* is a streaming bytes-to-bytes transform: a compressor or a
/// decompressor (gzip, zstd, identity); `compress(codec)` / `decompress(codec)` drive one.
/// Not to be confused with a *record encoder* (core/record_encoder.hpp), records to bytes.

#include <concepts>
#include <cstddef>
#include <string_view>

#include "chunk.hpp"

namespace sluice {

/// A streaming byte transform. Contract:
/// - `process(in, out)` consumes a prefix of `in` and returns its length; it writes only
///   into `out`'s spare capacity (never grows it). When `out.spare() > 0` it makes progress:
///   it consumes input or produces output.
/// - `finish(out)` flushes what is buffered into `out`'s spare capacity and returns true
///   once everything is out; it is called again (with a fresh chunk) while it returns false.
///
/// The members are checked before movability, so that asking whether a wrapper type (a
/// tuple element holding an `any_codec`) is a codec stops at "no `process`" instead of
/// recursing through `any_codec`'s converting constructor.
template <class C>
concept codec = requires(C& c, std::string_view in, chunk& out) {
    { c.process(in, out) } -> std::convertible_to<std::size_t>;
    { c.finish(out) } -> std::convertible_to<bool>;
} && std::move_constructible<C>;

}  // namespace sluice
