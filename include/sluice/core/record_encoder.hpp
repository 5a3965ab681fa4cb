#pragma once
/// \file
/// The record-encoder concept. A *record encoder* turns records into bytes (CSV, JSONL,
/// JSON array, lines); `encode(record_encoder)` is the stage that drives one. Not to be
/// confused with a *codec* (core/codec.hpp), which turns bytes into bytes (gzip, zstd).

#include <concepts>
#include <utility>

#include "chunk.hpp"

namespace sluice {

/// A record encoder for records of type `R`: `e.encode(record, out)` appends the record's
/// bytes. Optionally `e.begin(out)` (a header, once, before the first record) and
/// `e.end(out)` (a footer, once, after the last; e.g. the `]` of a JSON array).
template <class E, class R>
concept record_encoder_for = std::move_constructible<E> && requires(E& e, R&& r, chunk& out) {
    e.encode(std::forward<R>(r), out);
};

}  // namespace sluice
