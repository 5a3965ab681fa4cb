#pragma once
/// \file
/// `pg::json_lines(conn, sql, params...)`: a query's rows as JSON text with `row_to_json`
/// semantics, as a byte source (`chunk&`) ready for compression or a file - what
/// `sluice export --format jsonl` runs.
///
/// Strategy, chosen by measurement (docs/postgres.md): rows stream in single-row text mode
/// and `pg::json_encoder` builds the JSON on the client, which is byte for byte what the
/// server's `row_to_json` prints for built-in types and faster than letting the server
/// encode (on 2 cores the server is the bottleneck; docs/benchmarks.md, "Postgres"). When the query returns a type the
/// client mapping does not know (composites, domains, enums ...), the server encodes
/// instead: `SELECT row_to_json(q) FROM (sql) q`, passed through compacted (json values
/// keep their text as written; see `json_encoder_options::verbatim_columns`).

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "../adaptors/encode.hpp"
#include "connection.hpp"
#include "json.hpp"
#include "rows.hpp"
#include "subquery.hpp"

namespace sluice::pg {

/// Who builds the JSON.
enum class json_method : std::uint8_t {
    automatic,  ///< the client when every column's type is mapped exactly, else the server
    client,     ///< always the client (unknown types become strings)
    server,     ///< always the server's row_to_json
};

/// Options of `pg::json_lines`.
struct json_lines_options {
    json_method method = json_method::automatic;
    json_framing framing = json_framing::lines;
    /// Bytes per chunk handed downstream.
    std::size_t chunk_size = default_chunk_size;
    /// Passed to the row source (0: single-row mode, the fastest measured).
    int fetch_size = 0;
};

/// The type `json_lines` returns: rows encoded into chunks. Its `rows_done()` is the number
/// of rows received so far, whatever the framing (all of them once the run is over).
using json_lines_source = sluice::detail::encode_stage<detail::rows_source, json_encoder>;

/// `pg::json_lines(conn, opts, sql, params...)` yields the JSON of every row as `chunk&`,
/// each on one line (json values compacted, see `json_encoder`). Unless the method is
/// `client`, the query is described first (one round trip, here and now: bad SQL throws
/// from this call). `conn` must outlive the source.
struct json_lines_fn {
    template <class... P>
    json_lines_source operator()(connection& c, const json_lines_options& o, std::string sql,
                                 const P&... params) const {
        json_encoder_options eo;
        eo.framing = o.framing;
        if (o.method != json_method::client) {
            column_list cols = describe(c, sql);
            eo.passthrough = o.method == json_method::server || !json_mapping_exact(cols);
            // The server prints jsonb on one line already: those values stay as they are.
            if (eo.passthrough)
                for (const auto& col : cols) {
                    auto t = json_mapping_of(col.type);
                    eo.verbatim_columns.push_back(t.kind == json_kind::raw);
                }
        }
        const bool server = eo.passthrough;
        if (server) sql = "SELECT row_to_json(q) FROM " + subquery(sql) + " q";
        rows_options ro;
        ro.fetch_size = o.fetch_size;
        encode_options enc;
        enc.chunk_size = o.chunk_size;
        return json_lines_source(rows(c, ro, std::move(sql), params...),
                                 json_encoder(std::move(eo)), enc);
    }
    template <class... P>
    json_lines_source operator()(connection& c, std::string sql, const P&... params) const {
        return (*this)(c, json_lines_options{}, std::move(sql), params...);
    }
};
inline constexpr json_lines_fn json_lines{};

}  // namespace sluice::pg
