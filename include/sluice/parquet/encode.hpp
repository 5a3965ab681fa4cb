#pragma once
/// \file
/// `rows | parquet::encode(schema, options) | sink`: a byte stage yielding a Parquet file's
/// bytes (`chunk&`) as its row groups complete, and the footer at the end, so the file goes
/// to `to_file` (atomically), stdout or an S3 multipart upload without a temporary file.
/// Memory: the open row group's compressed pages, one open page and one dictionary per column,
/// and one chunk of output; never the row group's uncompressed values.
///
/// Rows are any of:
/// - a struct with a field list (record/fields.hpp): typed values (integers, floating point,
///   bool, strings, `std::optional` of those for NULL); see `parquet::schema_of<T>()`;
/// - a row with `is_null(i)` and `value(i)` text (a Postgres row): NULL or the value's text;
/// - a row with `size()` and `operator[](i)` text (a CSV row): each field's text; an empty
///   field is NULL in a column that is not a string, and "" in a string column.
/// Text is converted exactly per column type (parquet/writer.hpp); the row's field count must
/// equal the schema's column count.
///
/// When the schema is only known from the data (a CSV header is read with the first row),
/// `encode(parquet::from_first_row(f), options)` calls `f(first_row)` for it, before any byte
/// is written; `parquet::schema_from_header` makes every column a nullable string named by
/// the CSV header, also for an input with a header and no rows (the header is then taken
/// from the pipeline's CSV reader).

#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/memory_budget.hpp"
#include "../core/adaptor.hpp"
#include "../core/chunk.hpp"
#include "../core/stage.hpp"
#include "../core/type_traits.hpp"
#include "../record/fields.hpp"
#include "schema.hpp"
#include "writer.hpp"

namespace sluice::parquet {

/// The parquet::schema a struct's field list implies: integers, floating point, bool and
/// strings by C++ type; `std::optional<T>` nullable, others required.
template <class T>
    requires has_fields<T>
schema schema_of() {
    schema s;
    T probe{};
    for_each_field(probe, [&](std::string_view name, const auto& member) {
        using M = std::remove_cvref_t<decltype(member)>;
        column c;
        c.name = std::string(name);
        auto type_of = []<class V>(std::type_identity<V>) {
            column_type t;
            if constexpr (std::same_as<V, bool>) t.type = value_type::boolean;
            else if constexpr (std::integral<V> && sizeof(V) <= 2) t.type = value_type::int16;
            else if constexpr (std::integral<V> && sizeof(V) <= 4) t.type = value_type::int32;
            else if constexpr (std::integral<V>) t.type = value_type::int64;
            else if constexpr (std::same_as<V, float>) t.type = value_type::float32;
            else if constexpr (std::floating_point<V>) t.type = value_type::float64;
            else if constexpr (std::convertible_to<V, std::string_view>) t.type = value_type::string;
            else static_assert(sizeof(V) == 0, "parquet::schema_of: a field type with no Parquet mapping");
            return t;
        };
        if constexpr (is_optional_v<M>) {
            c.type = type_of(std::type_identity<typename M::value_type>{});
            c.nullable = true;
        } else {
            c.type = type_of(std::type_identity<M>{});
            c.nullable = false;
        }
        s.columns.push_back(std::move(c));
    });
    return s;
}

/// A schema made from the first row: `encode(from_first_row(f), o)` calls `f(row)` once.
/// With no rows at all, `f(names)` is called with the header of the pipeline's CSV reader
/// when `f` takes a list of names and there is one; otherwise an empty input is an error.
template <class F>
struct from_first_row {
    F make;
};
template <class F>
from_first_row(F) -> from_first_row<F>;

/// Every column a nullable string, named by the CSV header (see `schema_from_header`).
struct header_strings {
    template <class Row>
        requires requires(const Row& r) { r.header().names(); }
    schema operator()(const Row& r) const {
        return schema::all_strings(r.header().names());
    }
    schema operator()(const std::vector<std::string>& names) const { return schema::all_strings(names); }
};

/// `csv rows | parquet::encode(parquet::schema_from_header, o)`: all columns strings, named
/// by the header the CSV reader has read.
inline constexpr from_first_row<header_strings> schema_from_header{};

namespace detail {

/// Calls `f(names)` with the header of the first stage upstream of `s` that has one (a CSV
/// reader); false when none has.
template <class S, class F>
bool with_upstream_header(S& s, F&& f) {
    if constexpr (requires { s.header().names(); }) {
        std::vector<std::string> names;
        for (const auto& n : s.header().names()) names.emplace_back(n);
        f(names);
        return true;
    } else if constexpr (requires { s.upstream(); }) {
        return with_upstream_header(s.upstream(), std::forward<F>(f));
    } else {
        return false;
    }
}

template <class T>
struct is_from_first_row : std::false_type {};
template <class F>
struct is_from_first_row<from_first_row<F>> : std::true_type {};

template <class R>
concept text_row_with_nulls = requires(const R& r, int i) {
    { r.is_null(i) } -> std::convertible_to<bool>;
    { r.value(i) } -> std::convertible_to<std::string_view>;
    { r.size() } -> std::convertible_to<std::size_t>;
};

template <class R>
concept text_row = requires(const R& r, std::size_t i) {
    { r.size() } -> std::convertible_to<std::size_t>;
    { r[i] } -> std::convertible_to<std::string_view>;
};

template <class V>
void put_typed(file_writer& w, std::size_t c, const V& v) {
    if constexpr (is_optional_v<V>) {
        if (!v) w.put_null(c);
        else put_typed(w, c, *v);
    } else if constexpr (std::same_as<V, bool>) {
        w.put_bool(c, v);
    } else if constexpr (std::integral<V>) {
        w.put_int(c, static_cast<std::int64_t>(v));
    } else if constexpr (std::floating_point<V>) {
        w.put_double(c, static_cast<double>(v));
    } else {
        w.put_text(c, std::string_view(v));
    }
}

inline void check_width(file_writer& w, std::size_t n) {
    if (n != w.column_count())
        throw error(errc::bad_input, "parquet",
                    "row " + std::to_string(w.rows() + 1) + " has " + std::to_string(n) +
                        " fields, the schema has " + std::to_string(w.column_count()) + " columns");
}

/// Writes one row of any supported shape (see the file comment).
template <class R>
void write_row(file_writer& w, const R& row) {
    using T = std::remove_cvref_t<R>;
    if constexpr (has_fields<T>) {
        std::size_t c = 0;
        for_each_field(row, [&](std::string_view, const auto& member) { put_typed(w, c++, member); });
    } else if constexpr (text_row_with_nulls<T>) {
        const auto n = static_cast<std::size_t>(row.size());
        check_width(w, n);
        for (std::size_t c = 0; c < n; ++c) {
            if (row.is_null(static_cast<int>(c))) w.put_null(c);
            else w.put_text(c, std::string_view(row.value(static_cast<int>(c))));
        }
    } else {
        static_assert(text_row<T>, "parquet::encode: rows must be structs with a field list, "
                                   "rows with is_null(i)/value(i), or rows of string_view fields");
        const std::size_t n = row.size();
        check_width(w, n);
        for (std::size_t c = 0; c < n; ++c) {
            const std::string_view f = row[c];
            const column_type& t = w.file_schema().columns[c].type;
            if (f.empty() && (t.list || t.type != value_type::string) && w.file_schema().columns[c].nullable)
                w.put_null(c);
            else
                w.put_text(c, f);
        }
    }
    w.end_row();
}

/// `Schema`: a `parquet::schema`, or a `from_first_row<F>` that makes it from the first row.
template <class Up, class Schema = schema>
class encode_stage : public stage_base<encode_stage<Up, Schema>, Up> {
    using base = stage_base<encode_stage<Up, Schema>, Up>;

public:
    using reference = chunk&;

    encode_stage(Up up, Schema s, write_options o)
        : base(std::move(up)), schema_(std::move(s)), opt_(std::move(o)) {}

    maybe<chunk&> next() {
        start();
        buf_.clear();
        while (true) {
            if (writer_ && writer_->has_output()) {
                writer_->take_output(buf_, chunk_size);
                if (buf_.size() >= chunk_size || !writer_->has_output()) return buf_;
                continue;
            }
            if (done_) return buf_.empty() ? maybe<chunk&>{} : maybe<chunk&>(buf_);
            auto r = this->up_.next();
            if (!r) {
                end_of_rows();
                continue;
            }
            write_first(sluice::detail::unwrap(r));
        }
    }

    template <class F>
    bool for_each_while(F&& f) {
        start();
        if (done_ && !writer_->has_output()) return true;
        downstream out(f);
        auto drain = [&]() -> bool {
            while (writer_ && writer_->has_output()) {
                buf_.clear();
                writer_->take_output(buf_, chunk_size);
                if (!out(buf_)) return false;
            }
            return true;
        };
        if (!done_) {
            this->up_.for_each_while([&](auto&& row) -> bool {
                write_first(row);
                return drain();
            });
            if (out.stopped()) return false;
            end_of_rows();
        }
        return drain();
    }

    /// Rows written so far.
    std::uint64_t rows() const noexcept { return writer_ ? writer_->rows() : 0; }

    /// Reports the output chunk and, as a request, the open row group (its compressed
    /// pages, plus an open page and a dictionary per column) to the run's memory plan. A
    /// budget lowers the row-group target, and the pages' sizes when the columns leave
    /// too little of the grant (a schema taken from the first row is sized then).
    void bind(run_context& ctx) {
        this->up_.bind(ctx);
        ctx.memory.hold("parquet.encode", chunk_size, "output chunk");
        ctx.memory.hold("parquet.encode", page_codec_bytes(), "page compressor (a page at a time)");
        const std::size_t cols = columns_known();
        const std::size_t per_col = column_bytes();
        const std::size_t least = std::min<std::size_t>(opt_.row_group_bytes, 1u << 20);
        ctx.memory.request("parquet.encode", group_text(), least + cols * min_page_bytes * 2,
                           opt_.row_group_bytes + cols * per_col,
                           [this](std::size_t granted, std::string& what) {
                               grant_ = granted;
                               if (const std::size_t c = columns_known()) {
                                   fit_pages(c);
                                   what = group_text();
                               } else {
                                   // Pages are sized at the first row, when the columns are known.
                                   opt_.row_group_bytes = std::min(opt_.row_group_bytes, granted);
                                   what = group_text() + " (pages fit at the first row)";
                               }
                               return granted;
                           });
    }

private:
    /// The smallest page (and dictionary) a budget shrinks them to.
    static constexpr std::size_t min_page_bytes = 64 * 1024;

    /// A column's open page, its dictionary and the dictionary's index (an offset and two
    /// hash slots an entry).
    std::size_t column_bytes() const {
        return opt_.page_bytes +
               (opt_.dictionary ? opt_.dictionary_bytes + 12 * std::size_t{opt_.dictionary_entries} : 0);
    }
    /// The page codec's state and its output buffer while a page is compressed.
    std::size_t page_codec_bytes() const {
        switch (opt_.codec) {
            case compression_codec::zstd:
                return ZSTD_estimateCStreamSize(opt_.level.value_or(3)) + opt_.page_bytes / 2;
            case compression_codec::gzip:
                return (std::size_t{1} << 20) + opt_.page_bytes / 2;
            case compression_codec::snappy:
                return opt_.page_bytes + opt_.page_bytes / 6;
            default:
                return 0;
        }
    }

    std::size_t columns_known() const {
        if constexpr (!deferred && requires { schema_.columns.size(); })
            return schema_.columns.size();
        else
            return 0;
    }
    std::string group_text() const {
        return "row group target " + format_bytes(opt_.row_group_bytes) + ", pages " +
               format_bytes(opt_.page_bytes) + " a column";
    }
    /// Splits a budget's grant between the open pages of `cols` columns (at most half of
    /// it, pages not below 64 KiB) and the row-group target (the rest, at least 64 KiB).
    void fit_pages(std::size_t cols) {
        if (!grant_) return;
        const std::size_t half = *grant_ / 2;
        if (cols * column_bytes() > half) {
            // Page and dictionary alike; the index of at most one entry per 16 bytes of it.
            const std::size_t each = std::max(min_page_bytes, half / (3 * cols));
            opt_.page_bytes = std::min(opt_.page_bytes, each);
            opt_.dictionary_bytes = std::min(opt_.dictionary_bytes, each);
            opt_.dictionary_entries = std::min<std::uint32_t>(
                opt_.dictionary_entries, static_cast<std::uint32_t>(opt_.dictionary_bytes / 16));
        }
        const std::size_t pages = cols * column_bytes();
        opt_.row_group_bytes = std::max<std::size_t>(
            min_page_bytes, std::min(opt_.row_group_bytes, *grant_ > pages ? *grant_ - pages : 0));
    }
    static constexpr std::size_t chunk_size = 256 * 1024;

    static constexpr bool deferred = is_from_first_row<Schema>::value;

    void start() {
        if constexpr (!deferred)
            if (!writer_) writer_ = std::make_unique<file_writer>(schema_, opt_);
    }

    template <class R>
    void write_first(const R& row) {
        if constexpr (deferred)
            if (!writer_) {
                auto s = schema_.make(row);
                fit_pages(s.columns.size());
                writer_ = std::make_unique<file_writer>(std::move(s), opt_);
            }
        write_row(*writer_, row);
    }

    /// No more rows: the footer (a deferred schema with no rows: from the reader's header).
    void end_of_rows() {
        if constexpr (deferred) {
            if (!writer_) {
                bool made = false;
                if constexpr (std::invocable<const decltype(schema_.make)&, const std::vector<std::string>&>)
                    made = with_upstream_header(this->up_, [&](const std::vector<std::string>& names) {
                        auto s = schema_.make(names);
                        fit_pages(s.columns.size());
                        writer_ = std::make_unique<file_writer>(std::move(s), opt_);
                    });
                if (!made)
                    throw error(errc::bad_input, "parquet",
                                "the input has no rows to take the schema from: give the schema");
            }
        }
        writer_->finish();
        done_ = true;
    }

    Schema schema_;
    write_options opt_;
    std::unique_ptr<file_writer> writer_;
    chunk buf_;
    bool done_ = false;
    std::optional<std::size_t> grant_;  // a memory budget's grant, once resolved
};

}  // namespace detail

/// `rows | parquet::encode(schema, options)` yields the Parquet file's bytes as `chunk&`.
struct encode_fn : adaptor<encode_fn, write_options> {
    template <class Up, class... A>
    using rules = adaptor_rules<>;
    template <class Up>
    static auto make(Up up, schema s, write_options o = {}) {
        return detail::encode_stage<Up>(std::move(up), std::move(s), std::move(o));
    }
    template <class Up, class F>
    static auto make(Up up, from_first_row<F> s, write_options o = {}) {
        return detail::encode_stage<Up, from_first_row<F>>(std::move(up), std::move(s), std::move(o));
    }
};
inline constexpr encode_fn encode{};

}  // namespace sluice::parquet
