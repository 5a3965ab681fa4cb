#pragma once
/// \file
/// Record encoders for `parquet::row`, for `sluice::encode`:
/// - `parquet::jsonl_encoder`: one JSON object per row, `{"column": value, ...}`, the
///   values typed as parquet/text.hpp describes (numbers, ISO dates, arrays, null);
/// - `parquet::csv_encoder`: CSV (or TSV) with a header of the column names and the same
///   text per field (lists as JSON arrays, null as `null_text`, empty by default).
/// \code
/// parquet::read("in.parquet") | sluice::encode(parquet::jsonl_encoder{}) | sluice::to_file("out.jsonl");
/// \endcode

#include <cstddef>
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
        if (keys_.size() != r.size() || cols_ != (r.size() ? &r.column(0) : nullptr)) render_keys(r);
        out.push_back('{');
        for (std::size_t i = 0; i < r.size(); ++i) {
            out.append(keys_[i]);
            append_json(out, r.column(i).type, r[i]);
        }
        out.append("}\n");
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

/// CSV rows with a header of the column names (see the file comment).
class csv_encoder {
public:
    /// `columns`: the reader's columns (their names make the header, written even for no
    /// rows). `o.header` and `o.write_header` are honoured as `csv::encoder` does.
    explicit csv_encoder(const std::vector<column_info>& columns, csv::write_options o = {}) : csv_(with_header(columns, std::move(o))) {}

    void begin(chunk& out) { csv_.begin(out); }

    void encode(const row& r, chunk& out) {
        text_.clear();
        ends_.clear();
        for (std::size_t i = 0; i < r.size(); ++i) {
            append_text(text_, r.column(i).type, r[i]);
            ends_.push_back(r[i].null ? std::string::npos : text_.size());
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
        csv_.encode(fields_, out);
    }

private:
    static csv::write_options with_header(const std::vector<column_info>& columns, csv::write_options o) {
        if (o.header.empty())
            for (const column_info& c : columns) o.header.push_back(c.name);
        return o;
    }
    csv::encoder csv_;
    std::string text_;
    std::vector<std::size_t> ends_;
    std::vector<std::optional<std::string_view>> fields_;
};

}  // namespace sluice::parquet
