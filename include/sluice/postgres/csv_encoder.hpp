#pragma once
/// \file
/// `pg::csv_encoder`: encodes `pg::row`s (text format) as CSV lines byte for byte as
/// `COPY (query) TO STDOUT WITH (FORMAT csv, HEADER)` prints them, for when the rows come
/// from a query rather than from COPY (keyset reads, `sluice export --resumable`):
///
///     pg::rows(conn, opts, sql) | sluice::encode(pg::csv_encoder{}) | sluice::to_file("x.csv")
///
/// COPY's rules, checked against the server (tests/postgres/csv_encoder.cpp): NULL is
/// nothing, unquoted; an empty string is `""` (it matches the NULL text, so COPY quotes it);
/// a value holding the delimiter, the quote, CR or LF is quoted with inner quotes doubled;
/// in a one-column result the value `\.` is quoted (alone on a line it would end the COPY
/// data); the header names follow the same rules.

#include <string>
#include <string_view>

#include "../core/chunk.hpp"
#include "../csv/encoder.hpp"
#include "row.hpp"

namespace sluice::pg {

/// Options of `pg::csv_encoder` (COPY's defaults).
struct csv_encoder_options {
    bool header = true;  ///< the column names first (COPY's HEADER)
    bool crlf = false;   ///< end lines with CRLF instead of LF
};

/// See the file comment. Keeps whether the header is written: one encoder per output.
class csv_encoder {
public:
    csv_encoder() : csv_encoder(csv_encoder_options{}) {}
    explicit csv_encoder(csv_encoder_options o)
        : opt_(o), csv_(writer_options(o.crlf)), eol_(o.crlf ? "\r\n" : "\n") {}

    /// Appends the header line, if due, and the row's line to `out`.
    template <row_like R>
    void encode(const R& r, chunk& out) {
        const int n = r.size();
        if (opt_.header && !header_done_) {
            header_done_ = true;
            for (int i = 0; i < n; ++i) {
                if (i) out.push_back(',');
                write_field(r.shared_columns()->at(static_cast<std::size_t>(i)).name, n, out);
            }
            out.append(eol_);
        }
        for (int i = 0; i < n; ++i) {
            if (i) out.push_back(',');
            if (!r.is_null(i)) write_field(r.value(i), n, out);
        }
        out.append(eol_);
    }

    /// The header line for `columns` when no row will come (COPY prints it for an empty
    /// result too); nothing if it is written already or not wanted.
    void finish_header(const column_list& columns, chunk& out) {
        if (!opt_.header || header_done_) return;
        header_done_ = true;
        for (std::size_t i = 0; i < columns.size(); ++i) {
            if (i) out.push_back(',');
            write_field(columns[i].name, static_cast<int>(columns.size()), out);
        }
        out.append(eol_);
    }

    /// Whether the header line has been written (by `encode` or `finish_header`).
    bool header_written() const noexcept { return header_done_; }
    /// Counts the header as written: for an output that continues one whose header is
    /// already stored (a resumed upload).
    void skip_header() noexcept { header_done_ = true; }

private:
    static csv::write_options writer_options(bool crlf) {
        csv::write_options w;
        w.crlf = crlf;
        w.quote_empty_strings = true;  // COPY quotes a value equal to its NULL text ("")
        w.write_header = false;
        return w;
    }

    void write_field(std::string_view v, int columns, chunk& out) const {
        if (columns == 1 && v == "\\.") {
            out.append("\"\\.\"");
            return;
        }
        csv_.write_string(v, out);
    }

    csv_encoder_options opt_;
    csv::encoder csv_;
    std::string_view eol_;
    bool header_done_ = false;
};

}  // namespace sluice::pg
