#pragma once
/// \file
/// `json::array_encoder`: an encoder for `sluice::encode` writing the whole stream as one
/// JSON array, one element per line:
///
///     [
///     {"id":"1"},
///     {"id":"2"}
///     ]
///
/// An empty stream gives `[]`. The output always ends with a line end. The brackets come from
/// the encoder's `begin`/`end` hooks, so the stream must be encoded by one `encode` stage.

#include <string_view>

#include "../core/chunk.hpp"
#include "write_value.hpp"
#include "writer.hpp"

namespace sluice::json {

/// Encodes the records as the elements of a single JSON array.
class array_encoder {
public:
    /// Writes the opening bracket (once, before any record).
    void begin(chunk& out) const { out.push_back('['); }

    /// Appends one element, preceded by the separator it needs.
    template <json_writable R>
    void encode(const R& record, chunk& out) {
        // A line per element keeps the file readable and line-oriented tools usable.
        out.append(first_ ? std::string_view("\n") : std::string_view(",\n"));
        first_ = false;
        writer w(out);
        write_value(w, record);
    }

    /// Writes the closing bracket (once, after the last record).
    void end(chunk& out) const { out.append(first_ ? std::string_view("]\n") : std::string_view("\n]\n")); }

private:
    bool first_ = true;
};

}  // namespace sluice::json
