#pragma once
/// \file
/// Record encoders for `parquet::row`, for `sluice::encode`:
/// - `parquet::jsonl_encoder`: one JSON object per row, `{"column": value, ...}`, the
///   values typed as parquet/text.hpp describes (numbers, ISO dates, arrays, null);
/// - `parquet::json_array_encoder`: the same objects as one JSON array;
/// - `parquet::csv_encoder`: CSV (or TSV) with a header of the column names and the same
///   text per field (lists as JSON arrays, null as `null_text`, empty by default).
/// \code
/// parquet::read("in.parquet") | sluice::encode(parquet::jsonl_encoder{}) | sluice::to_file("out.jsonl");
/// \endcode

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/chunk.hpp"
#include "../core/json_escape.hpp"
#include "../csv/encoder.hpp"
#include "reader.hpp"
#include "text.hpp"

namespace sluice::parquet {

/// One JSON object per row and a line end (see the file comment).
class jsonl_encoder {
public:
    void encode(const row& r, chunk& out) {
        write_object(r, out);
        out.push_back('\n');
    }

    /// Appends `r` as one JSON object (no line end).
    void write_object(const row& r, chunk& out) {
        if (keys_.size() != r.size() || cols_ != (r.size() ? &r.column(0) : nullptr)) render_keys(r);
        out.push_back('{');
        for (std::size_t i = 0; i < r.size(); ++i) {
            out.append(keys_[i]);
            append_json(out, r.column(i).type, r[i]);
        }
        out.push_back('}');
    }

private:
    /// `"name":` (with the comma before all but the first), rendered once per schema.
    void render_keys(const row& r) {
        keys_.clear();
        cols_ = r.size() ? &r.column(0) : nullptr;
        for (std::size_t i = 0; i < r.size(); ++i) {
            std::string k = i ? "," : "";
            json::write_string(r.name(i), k);
            k += ':';
            keys_.push_back(std::move(k));
        }
    }
    std::vector<std::string> keys_;
    const column_info* cols_ = nullptr;
};

/// The rows as one JSON array, an object per line (the layout of `json::array_encoder`).
class json_array_encoder {
public:
    void begin(chunk& out) const { out.push_back('['); }
    void encode(const row& r, chunk& out) {
        out.append(first_ ? std::string_view("\n") : std::string_view(",\n"));
        first_ = false;
        objects_.write_object(r, out);
    }
    void end(chunk& out) const { out.append(first_ ? std::string_view("]\n") : std::string_view("\n]\n")); }

private:
    jsonl_encoder objects_;
    bool first_ = true;
};

/// How `row_texts` writes a LIST cell.
enum class list_text : std::uint8_t {
    json,            ///< a JSON array: `[1,null,"a"]` (CSV output)
    postgres_array,  ///< a Postgres array literal: `{"1",NULL,"a"}` (COPY into an array column)
};

/// A row as text fields (`std::optional<std::string_view>`, nullopt for null), each the
/// text `append_text` gives - what a CSV writer or a Postgres COPY takes. The views are
/// valid until the next call.
class row_texts {
public:
    /// Byte strings without annotation as Postgres `bytea` hex (`\x00ab`, every byte in
    /// hex) instead of DuckDB's BLOB text (printable ASCII kept), for COPY into Postgres.
    void set_bytes_hex(bool on) { bytes_hex_ = on; }

    /// The style of LIST cells of column `i` (default: JSON arrays).
    void set_list_style(std::size_t i, list_text s) {
        if (styles_.size() <= i) styles_.resize(i + 1, list_text::json);
        styles_[i] = s;
    }

    const std::vector<std::optional<std::string_view>>& operator()(const row& r) {
        text_.clear();
        ends_.clear();
        for (std::size_t i = 0; i < r.size(); ++i) {
            const cell& c = r[i];
            const leaf_type& t = r.column(i).type;
            if (c.list && !c.null && i < styles_.size() && styles_[i] == list_text::postgres_array)
                postgres_array(t, c);
            else if (!c.list && !c.null && is_hex(t))
                hex(text_, c.scalar.s);
            else
                append_text(text_, t, c);
            ends_.push_back(c.null ? std::string::npos : text_.size());
        }
        fields_.clear();
        std::size_t from = 0;
        for (std::size_t e : ends_) {
            if (e == std::string::npos) {
                fields_.emplace_back(std::nullopt);
            } else {
                fields_.emplace_back(std::string_view(text_).substr(from, e - from));
                from = e;
            }
        }
        return fields_;
    }

private:
    /// `{"a","b",NULL}`: every element quoted, `"` and `\` escaped with a backslash.
    void postgres_array(const leaf_type& t, const cell& c) {
        text_.push_back('{');
        bool first = true;
        for (const value& v : c.elements) {
            if (!first) text_.push_back(',');
            first = false;
            if (v.is_null()) {
                text_.append("NULL");
                continue;
            }
            item_.clear();
            if (is_hex(t))
                hex(item_, v.s);
            else
                append_text(item_, t, v);
            text_.push_back('"');
            for (char ch : item_) {
                if (ch == '"' || ch == '\\') text_.push_back('\\');
                text_.push_back(ch);
            }
            text_.push_back('"');
        }
        text_.push_back('}');
    }

    bool is_hex(const leaf_type& t) const noexcept {
        return bytes_hex_ && t.logical.k == logical_type::kind::none &&
               (t.physical == physical_type::byte_array || t.physical == physical_type::fixed_len_byte_array);
    }
    static void hex(std::string& out, std::string_view s) {
        static constexpr char digits[] = "0123456789abcdef";
        out += "\\x";
        for (unsigned char c : s) {
            out.push_back(digits[c >> 4]);
            out.push_back(digits[c & 15]);
        }
    }

    bool bytes_hex_ = false;
    std::vector<list_text> styles_;
    std::string text_, item_;
    std::vector<std::size_t> ends_;
    std::vector<std::optional<std::string_view>> fields_;
};

/// CSV rows with a header of the column names (see the file comment).
class csv_encoder {
public:
    /// `columns`: the reader's columns (their names make the header, written even for no
    /// rows). `o.header` and `o.write_header` are honoured as `csv::encoder` does.
    explicit csv_encoder(const std::vector<column_info>& columns, csv::write_options o = {})
        : csv_(with_header(columns, std::move(o))) {}

    void begin(chunk& out) { csv_.begin(out); }

    void encode(const row& r, chunk& out) { csv_.encode(texts_(r), out); }

private:
    static csv::write_options with_header(const std::vector<column_info>& columns, csv::write_options o) {
        if (o.header.empty())
            for (const column_info& c : columns) o.header.push_back(c.name);
        return o;
    }
    csv::encoder csv_;
    row_texts texts_;
};

}  // namespace sluice::parquet
