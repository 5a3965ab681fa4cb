#pragma once
/// \file
/// `json::jsonl_encoder`: an encoder for `sluice::encode` writing one JSON value per line
/// (JSON Lines / NDJSON). Records are turned into JSON by `json::write_value`, so CSV rows,
/// key-value vectors, the JSON reader's records and user types with a `write_value`
/// overload all work:
///
///     read_file("in.csv") | csv::read() | encode(json::jsonl_encoder{}) | to_file("out.jsonl");

#include "../core/chunk.hpp"
#include "write_value.hpp"
#include "writer.hpp"

namespace sluice::json {

/// Encodes each record as one compact JSON value followed by `\n`. Allocates nothing per
/// record (it appends into the chunk that `encode` reuses).
struct jsonl_encoder {
    /// Appends `record` and a line end to `out`.
    template <json_writable R>
    void encode(const R& record, chunk& out) const {
        writer w(out);
        write_value(w, record);
        out.push_back('\n');
    }
};

}  // namespace sluice::json
