#pragma once
/// \file
/// `parquet::file_writer`: rows in, the bytes of a Parquet file out, in order, as they are
/// ready. `PAR1` first; each row group's column chunks when the group is complete (its
/// compressed pages reach `row_group_bytes`, or it holds `row_group_rows` rows); the footer
/// (Thrift-compact FileMetaData, its length, `PAR1`) at `finish()`. The caller takes the
/// bytes with `take_output` and may send them anywhere (a file, stdout, an S3 multipart
/// upload); nothing is ever rewritten, so no seeking and no temporary file.
///
/// Values are put per column as text (`put_text`: a CSV field, a Postgres text value, parsed
/// exactly per the column's type, see parquet/parse_text.hpp) or typed (`put_int`,
/// `put_double`, `put_bool`, `put_bytes`), then `end_row()`. A text that is not a value of
/// the column's type, a value the Parquet type cannot hold, or a NULL in a required column
/// is an `errc::bad_input` error naming the column and the row (1-based), never a wrong value.

#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"
#include "../core/utf8.hpp"
#include "../json/compact.hpp"
#include "column_writer.hpp"
#include "metadata.hpp"
#include "parse_text.hpp"
#include "schema.hpp"

namespace sluice::parquet {

/// Streams a Parquet file's bytes out of rows; see the file comment.
class file_writer {
public:
    file_writer(schema s, write_options opt = {}) : schema_(std::move(s)), opt_(std::move(opt)) {
        if (schema_.columns.empty())
            throw error(errc::usage, "parquet", "a Parquet file needs at least one column");
        columns_.reserve(schema_.columns.size());
        for (const column& c : schema_.columns) columns_.emplace_back(leaf_layout(c), opt_);
        emit(std::string("PAR1", 4));
    }
    file_writer(file_writer&&) = delete;  // columns point at opt_

    const parquet::schema& file_schema() const noexcept { return schema_; }
    std::size_t column_count() const noexcept { return columns_.size(); }
    /// Rows written so far (all row groups).
    std::uint64_t rows() const noexcept { return rows_total_ + group_rows_; }

    // --- values --------------------------------------------------------------------------
    /// A NULL in column `c` (an error for a required column).
    void put_null(std::size_t c) {
        column_writer& w = columns_[c];
        if (!w.layout().col.nullable) fail(c, "NULL in a column that is not nullable");
        w.put_missing(0);
    }

    /// Column `c`'s value from its text. A LIST column takes a Postgres array literal
    /// (`{a,"b c",NULL}`).
    void put_text(std::size_t c, std::string_view s) {
        column_writer& w = columns_[c];
        const column_type& t = w.layout().col.type;
        if (!t.list) {
            put_scalar_text(c, w, s, 0, w.layout().max_def);
            return;
        }
        const int base = w.layout().col.nullable ? 1 : 0;
        bool first = true;
        const bool ok = text::split_pg_array(
            s,
            [&](std::string_view e, bool is_null) {
                const int rep = first ? 0 : 1;
                first = false;
                if (is_null) w.put_missing(base + 1, rep);
                else put_scalar_text(c, w, e, rep, base + 2);
            },
            scratch_list_);
        if (!ok)
            fail(c, "'" + clip(s) + "' is not a one-dimensional array literal ({a,b,...}) for " +
                        to_string(t));
        if (first) w.put_missing(base, 0);  // an empty list
    }

    /// Column `c` from an integer (int and decimal columns; floats convert when exact).
    void put_int(std::size_t c, std::int64_t v) {
        column_writer& w = columns_[c];
        const column_type& t = w.layout().col.type;
        switch (t.type) {
            case value_type::int16:
                if (v < INT16_MIN || v > INT16_MAX) fail(c, std::to_string(v) + " is out of range for int16");
                return put_le<std::int32_t>(w, static_cast<std::int32_t>(v));
            case value_type::int32:
                if (v < INT32_MIN || v > INT32_MAX) fail(c, std::to_string(v) + " is out of range for int32");
                return put_le<std::int32_t>(w, static_cast<std::int32_t>(v));
            case value_type::int64: return put_le<std::int64_t>(w, v);
            case value_type::float64: return put_le<double>(w, static_cast<double>(v));
            case value_type::float32: return put_le<float>(w, static_cast<float>(v));
            default: put_text(c, std::to_string(v));
        }
    }
    /// Column `c` from a floating-point value.
    void put_double(std::size_t c, double v) {
        column_writer& w = columns_[c];
        if (w.layout().col.type.type == value_type::float64 && !w.layout().col.type.list)
            return put_le<double>(w, v);
        if (w.layout().col.type.type == value_type::float32 && !w.layout().col.type.list)
            return put_le<float>(w, static_cast<float>(v));
        char buf[64];
        const auto r = std::to_chars(buf, buf + sizeof buf, v);
        put_text(c, std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
    }
    /// Column `c` from a bool.
    void put_bool(std::size_t c, bool v) {
        column_writer& w = columns_[c];
        if (w.layout().col.type.type != value_type::boolean) return put_text(c, v ? "true" : "false");
        const char b = v ? 1 : 0;
        w.put_value(std::string_view(&b, 1));
    }

    /// Ends the row; writes the row group when it is complete.
    void end_row() {
        for (column_writer& w : columns_) w.end_row();
        ++group_rows_;
        if (group_rows_ >= opt_.row_group_rows) {
            flush_row_group();
        } else if ((group_rows_ & 63) == 0) {
            std::size_t bytes = 0;
            for (const column_writer& w : columns_) bytes += w.buffered_bytes();
            if (bytes >= opt_.row_group_bytes) flush_row_group();
        }
    }

    /// Bytes buffered in the open row group (compressed pages + open pages + dictionaries).
    std::size_t buffered_bytes() const noexcept {
        std::size_t bytes = 0;
        for (const column_writer& w : columns_) bytes += w.buffered_bytes();
        return bytes;
    }

    /// Writes the open row group now (no-op when it is empty).
    void flush_row_group() {
        if (group_rows_ == 0) return;
        row_group g;
        g.num_rows = static_cast<std::int64_t>(group_rows_);
        g.file_offset = offset_;
        std::int64_t compressed = 0;
        for (column_writer& w : columns_) {
            column_chunk cc;
            cc.file_offset = offset_;
            cc.meta_data = w.flush(offset_, [&](std::string&& page) { emit(std::move(page)); });
            g.total_byte_size += cc.meta_data->total_uncompressed_size;
            compressed += cc.meta_data->total_compressed_size;
            g.columns.push_back(std::move(cc));
        }
        g.total_compressed_size = compressed;
        g.ordinal = static_cast<std::int16_t>(groups_.size() < 32767 ? groups_.size() : 32767);
        groups_.push_back(std::move(g));
        rows_total_ += group_rows_;
        group_rows_ = 0;
    }

    /// Writes the last row group and the footer. Idempotent.
    void finish() {
        if (finished_) return;
        flush_row_group();
        file_meta_data m;
        m.version = 1;
        m.schema = schema_.elements();
        m.num_rows = static_cast<std::int64_t>(rows_total_);
        m.row_groups = std::move(groups_);
        m.created_by = opt_.created_by;
        m.column_orders.assign(columns_.size(), true);
        std::string footer;
        serialize(m, footer);
        const auto n = static_cast<std::uint32_t>(footer.size());
        for (int i = 0; i < 4; ++i) footer.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
        footer += "PAR1";
        emit(std::move(footer));
        finished_ = true;
    }

    /// True while output is waiting to be taken.
    bool has_output() const noexcept { return !pending_.empty(); }
    /// Moves up to `max` bytes of pending output to the end of `out`; returns the count.
    template <class Out>
    std::size_t take_output(Out& out, std::size_t max) {
        std::size_t moved = 0;
        while (!pending_.empty() && moved < max) {
            std::string& front = pending_.front();
            const std::size_t n = std::min(max - moved, front.size() - front_pos_);
            out.append(std::string_view(front).substr(front_pos_, n));
            front_pos_ += n;
            moved += n;
            if (front_pos_ == front.size()) {
                pending_.pop_front();
                front_pos_ = 0;
            }
        }
        return moved;
    }

private:
    template <class T>
    static void put_le(column_writer& w, T v) {
        char raw[sizeof(T)];
        std::memcpy(raw, &v, sizeof(T));  // little-endian hosts (x86-64, aarch64)
        w.put_value(std::string_view(raw, sizeof(T)));
    }

    static std::string clip(std::string_view s) {
        return s.size() <= 60 ? std::string(s) : std::string(s.substr(0, 57)) + "...";
    }

    [[noreturn]] void fail(std::size_t c, const std::string& what) const {
        // The message names both; a position would repeat them 0-based.
        throw error(errc::bad_input, "parquet",
                    "column '" + schema_.columns[c].name + "', row " + std::to_string(rows() + 1) +
                        ": " + what);
    }
    [[noreturn]] void bad_value(std::size_t c, std::string_view s, const column_type& t,
                                const char* why = nullptr) const {
        std::string tn = to_string(t);
        if (t.list) tn = tn.substr(5, tn.size() - 6);
        fail(c, "'" + clip(s) + "' " + (why ? why : "is not a valid " + tn));
    }

    /// One scalar (or list element) from text, at definition level `def` for a value.
    void put_scalar_text(std::size_t c, column_writer& w, std::string_view s, int rep, int def) {
        (void)def;
        const column_type& t = w.layout().col.type;
        switch (t.type) {
            case value_type::boolean: {
                bool b = false;
                if (!text::parse_bool(s, b)) bad_value(c, s, t);
                const char raw = b ? 1 : 0;
                return w.put_value(std::string_view(&raw, 1), rep);
            }
            case value_type::int16: {
                std::int16_t v = 0;
                if (!text::parse_int(s, v)) bad_value(c, s, t);
                return put_raw<std::int32_t>(w, v, rep);
            }
            case value_type::int32: {
                std::int32_t v = 0;
                if (!text::parse_int(s, v)) bad_value(c, s, t);
                return put_raw<std::int32_t>(w, v, rep);
            }
            case value_type::int64: {
                std::int64_t v = 0;
                if (!text::parse_int(s, v)) bad_value(c, s, t);
                return put_raw<std::int64_t>(w, v, rep);
            }
            case value_type::float32: {
                float v = 0;
                if (!text::parse_float(s, v)) bad_value(c, s, t);
                return put_raw<float>(w, v, rep);
            }
            case value_type::float64: {
                double v = 0;
                if (!text::parse_float(s, v)) bad_value(c, s, t);
                return put_raw<double>(w, v, rep);
            }
            case value_type::string:
                if (!utf8::is_valid(s)) bad_value(c, s, t, "is not valid UTF-8");
                return w.put_value(s, rep);
            case value_type::json: {
                json_buf_.clear();
                json::write_compact(s, json_buf_);
                return w.put_value(json_buf_.view(), rep);
            }
            case value_type::bytes:
                if (!text::parse_bytea(s, scratch_)) bad_value(c, s, t, "is not valid bytea hex text");
                return w.put_value(scratch_, rep);
            case value_type::decimal: {
                text::int128 v = 0;
                if (!text::parse_decimal(s, t.precision, t.scale, v))
                    bad_value(c, s, t, ("does not fit " + to_string(column_type{value_type::decimal, t.precision, t.scale, false}) +
                                        " exactly").c_str());
                if (t.precision <= 9) return put_raw<std::int32_t>(w, static_cast<std::int32_t>(v), rep);
                if (t.precision <= 18) return put_raw<std::int64_t>(w, static_cast<std::int64_t>(v), rep);
                const int n = w.layout().fixed_length;
                char raw[16];
                auto u = static_cast<text::uint128>(v);
                for (int i = n - 1; i >= 0; --i) {
                    raw[i] = static_cast<char>(static_cast<unsigned>(u & 0xFF));
                    u >>= 8;
                }
                return w.put_value(std::string_view(raw, static_cast<std::size_t>(n)), rep);
            }
            case value_type::date: {
                std::int32_t v = 0;
                if (!text::parse_date(s, v)) bad_value(c, s, t, "is not a date Parquet can hold (DATE: days since 1970 in 32 bits)");
                return put_raw<std::int32_t>(w, v, rep);
            }
            case value_type::time: {
                std::int64_t v = 0;
                if (!text::parse_time(s, v)) bad_value(c, s, t);
                return put_raw<std::int64_t>(w, v, rep);
            }
            case value_type::timestamp:
            case value_type::timestamptz: {
                std::int64_t v = 0;
                if (!text::parse_timestamp(s, t.type == value_type::timestamptz, v))
                    bad_value(c, s, t,
                              "is not a timestamp Parquet can hold (TIMESTAMP micros ends in year 294247)");
                return put_raw<std::int64_t>(w, v, rep);
            }
            case value_type::uuid: {
                char raw[16];
                if (!text::parse_uuid(s, raw)) bad_value(c, s, t);
                return w.put_value(std::string_view(raw, 16), rep);
            }
        }
    }

    template <class T, class V>
    static void put_raw(column_writer& w, V v, int rep) {
        const T x = static_cast<T>(v);
        char raw[sizeof(T)];
        std::memcpy(raw, &x, sizeof(T));
        w.put_value(std::string_view(raw, sizeof(T)), rep);
    }

    void emit(std::string&& bytes) {
        offset_ += static_cast<std::int64_t>(bytes.size());
        pending_.push_back(std::move(bytes));
    }

    parquet::schema schema_;
    write_options opt_;
    std::vector<column_writer> columns_;
    std::vector<row_group> groups_;
    std::uint64_t group_rows_ = 0, rows_total_ = 0;
    std::int64_t offset_ = 0;
    std::deque<std::string> pending_;
    std::size_t front_pos_ = 0;
    bool finished_ = false;
    std::string scratch_, scratch_list_;
    chunk json_buf_;
};

}  // namespace sluice::parquet
