#pragma once
/// \file
/// `parquet::read(input, options)`: a source of `const parquet::row&`, streamed a row group
/// at a time from a `random_access_input` - a local file (`parquet::read("x.parquet")`,
/// pread) or an S3 object (`s3::object_range_input`, ranged GETs). The footer is read first
/// (one read of the file's tail usually covers it), then, per row group, the column chunks
/// of the selected columns; pages are decompressed and decoded one at a time as rows are
/// pulled. Memory: the footer, one row group's compressed column chunks and one open page
/// per column, whatever the file's row count.
///
/// Columns: flat leaves and LISTs of leaves (the 3-level form, the legacy 2-level form and
/// bare repeated fields); structs and maps are refused (leave them out with `columns`).
/// A row's values (`parquet::cell`) are views valid until the next pull.
///
/// Errors: a file that is not Parquet, a footer or offsets that point outside the file,
/// sizes over `read_limits`, a corrupt page, level or value end in
/// `sluice::error(errc::bad_input, "parquet", ...)` (`errc::limit` for the limits) naming
/// the file, and the column, row group and page where it applies.
///
/// \code
/// for (const parquet::row& r : parquet::read("events.parquet")) ...
/// parquet::read("events.parquet") | sluice::encode(parquet::jsonl_encoder{}) | sluice::to_file("events.jsonl");
/// \endcode

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/random_access.hpp"
#include "../core/stage.hpp"
#include "column_reader.hpp"
#include "metadata.hpp"
#include "value.hpp"

namespace sluice::parquet {

/// Options of `parquet::read`.
struct reader_options {
    /// Top-level columns to read, in this order (empty: all, in the file's order). Only
    /// their column chunks are fetched.
    std::vector<std::string> columns;
    read_limits limits;
};

/// One row: a cell per selected column. Valid until the reader's next pull.
class row {
public:
    std::size_t size() const noexcept { return cells_.size(); }
    const cell& operator[](std::size_t i) const noexcept { return cells_[i]; }
    /// The column's name and description.
    std::string_view name(std::size_t i) const noexcept { return (*cols_)[i].name; }
    const column_info& column(std::size_t i) const noexcept { return (*cols_)[i]; }
    /// 0-based index of the row in the file.
    std::uint64_t index() const noexcept { return index_; }

private:
    friend class reader;
    const std::vector<column_info>* cols_ = nullptr;
    std::vector<cell> cells_;
    std::vector<std::vector<value>> items_;
    std::uint64_t index_ = 0;
};

namespace detail {

struct schema_node {
    const schema_element* e = nullptr;
    std::vector<schema_node> children;
    std::size_t first_leaf = 0, leaves = 0;
};

inline schema_node parse_schema(const std::vector<schema_element>& s, std::size_t& i, std::size_t& leaf, int depth) {
    if (i >= s.size()) corrupt("the schema ends inside a group");
    if (depth > 64) corrupt("the schema nests deeper than 64 levels");
    schema_node n;
    n.e = &s[i++];
    n.first_leaf = leaf;
    const std::int32_t kids = n.e->num_children.value_or(0);
    if (kids < 0) corrupt("schema element '" + n.e->name + "' has a negative child count");
    if (kids == 0 && !n.e->type && depth > 0) corrupt("schema element '" + n.e->name + "' is neither a leaf nor a group");
    if (kids == 0 && depth > 0) {
        ++leaf;
    } else {
        if (static_cast<std::size_t>(kids) > s.size() - i) corrupt("schema element '" + n.e->name + "' claims more children than the schema holds");
        n.children.reserve(static_cast<std::size_t>(kids));
        for (std::int32_t k = 0; k < kids; ++k) n.children.push_back(parse_schema(s, i, leaf, depth + 1));
    }
    n.leaves = leaf - n.first_leaf;
    return n;
}

inline bool is_leaf(const schema_node& n) { return n.children.empty() && n.e->type; }
inline repetition rep_of(const schema_node& n) { return n.e->repetition_type.value_or(repetition::required); }

inline leaf_type leaf_type_of(const schema_element& e) {
    leaf_type t;
    t.physical = *e.type;
    t.type_length = e.type_length.value_or(0);
    if (t.physical == physical_type::fixed_len_byte_array && (t.type_length <= 0 || t.type_length > (1 << 20)))
        corrupt("column '" + e.name + "': FIXED_LEN_BYTE_ARRAY length " + std::to_string(t.type_length) + " is out of range");
    if (static_cast<std::int32_t>(t.physical) < 0 || static_cast<std::int32_t>(t.physical) > 7)
        corrupt("column '" + e.name + "': unknown physical type " + std::to_string(static_cast<int>(t.physical)));
    if (e.logical && e.logical->k != logical_type::kind::none && e.logical->k != logical_type::kind::other)
        t.logical = *e.logical;
    else if (e.converted)
        t.logical = from_converted(*e.converted, e.precision.value_or(0), e.scale.value_or(0));
    if (t.logical.k == logical_type::kind::decimal && (t.logical.scale < 0 || t.logical.scale > 1000))
        corrupt("column '" + e.name + "': DECIMAL scale " + std::to_string(t.logical.scale) + " is out of range");
    return t;
}

/// The reader's view of a top-level field, or an error saying why it cannot be read.
inline column_info column_of(const schema_node& n) {
    column_info c;
    c.name = n.e->name;
    c.leaf = n.first_leaf;
    const repetition r = rep_of(n);
    if (is_leaf(n)) {
        c.type = leaf_type_of(*n.e);
        if (r == repetition::repeated) {  // a bare repeated field: a list never null
            c.list = true;
            c.max_rep = 1;
            c.max_def = 1;
            c.list_def = 0;
        } else {
            c.nullable = r == repetition::optional;
            c.max_def = c.nullable ? 1 : 0;
        }
        return c;
    }
    const bool list_annotated = (n.e->logical && n.e->logical->k == logical_type::kind::list) ||
                                (n.e->converted && *n.e->converted == converted_type::list);
    const auto unsupported = [&](const char* what) -> column_info {
        corrupt("column '" + c.name + "': " + what +
                " columns are not supported (flat columns and LISTs of values are); leave it out with the column selection");
    };
    if (!list_annotated || r == repetition::repeated) {
        const bool is_map = (n.e->logical && n.e->logical->k == logical_type::kind::map) ||
                            (n.e->converted && (*n.e->converted == converted_type::map ||
                                                *n.e->converted == converted_type::map_key_value));
        return unsupported(is_map ? "MAP" : "STRUCT");
    }
    if (n.children.size() != 1 || rep_of(n.children[0]) != repetition::repeated)
        corrupt("column '" + c.name + "': a LIST group must hold exactly one repeated field");
    const schema_node& rep = n.children[0];
    c.list = true;
    c.nullable = r == repetition::optional;
    c.max_rep = 1;
    c.list_def = c.nullable ? 1 : 0;
    if (is_leaf(rep)) {  // legacy 2-level: the repeated field is the element
        c.type = leaf_type_of(*rep.e);
        c.max_def = static_cast<std::int16_t>(c.list_def + 1);
        return c;
    }
    // 3-level: repeated group { element }; a one-field repeated group named "array" or
    // "<list>_tuple" is the legacy form whose element is that struct.
    if (rep.children.size() != 1 || !is_leaf(rep.children[0]) || rep.e->name == "array" ||
        rep.e->name == c.name + "_tuple")
        return unsupported("LIST of STRUCT or nested LIST");
    const schema_node& elem = rep.children[0];
    if (rep_of(elem) == repetition::repeated) return unsupported("nested LIST");
    c.type = leaf_type_of(*elem.e);
    c.max_def = static_cast<std::int16_t>(c.list_def + 1 + (rep_of(elem) == repetition::optional ? 1 : 0));
    return c;
}

inline std::uint32_t load_u32(std::string_view s, std::size_t at) noexcept {
    return load_le<std::uint32_t>(s.data() + at);
}

}  // namespace detail

/// The row source `parquet::read` returns (see the file comment). Move-only.
class reader : public root_source<reader> {
public:
    using reference = const row&;

    /// Reads the footer and the schema (errors here are thrown at construction).
    explicit reader(std::unique_ptr<random_access_input> in, reader_options o = {})
        : in_(std::move(in)), opt_(std::move(o)) {
        read_footer();
        build_columns();
    }

    /// Reports to the run's memory plan the largest row group's selected column chunks, as
    /// read (compressed) and, at most, decoded: the footer is known, so this is exact up to
    /// the decoder's own state.
    void bind(run_context& ctx) {
        root_source<reader>::bind(ctx);
        std::size_t most = 0;
        for (const row_group& rg : meta_->row_groups) {
            std::size_t sum = 0;
            for (const column_info& c : *cols_)
                if (c.leaf < rg.columns.size() && rg.columns[c.leaf].meta_data) {
                    const column_meta_data& m = *rg.columns[c.leaf].meta_data;
                    sum += static_cast<std::size_t>(std::max<std::int64_t>(0, m.total_compressed_size)) +
                           static_cast<std::size_t>(std::max<std::int64_t>(0, m.total_uncompressed_size));
                }
            most = std::max(most, sum);
        }
        ctx.memory.hold("parquet.read", most, "largest row group's column chunks (read and decoded)");
    }

    /// The selected columns, in output order.
    const std::vector<column_info>& columns() const noexcept { return *cols_; }
    /// The file's metadata (the footer).
    const file_meta_data& metadata() const noexcept { return *meta_; }
    /// Rows in the file, as the footer says.
    std::uint64_t num_rows() const noexcept { return static_cast<std::uint64_t>(std::max<std::int64_t>(0, meta_->num_rows)); }
    /// The input's name (for messages).
    std::string name() const { return in_->name(); }

    maybe<const row&> next() {
        while (left_in_group_ == 0) {
            if (group_ > 0) check_group_end();
            if (group_ >= meta_->row_groups.size()) return {};
            this->check_stop("parquet.read");
            open_group(group_++);
        }
        row_.index_ = row_no_++;
        for (std::size_t i = 0; i < readers_.size(); ++i) {
            try {
                readers_[i].begin_record();
                readers_[i].read_record(row_.cells_[i], row_.items_[i]);
            } catch (const error& e) {
                rethrow_at(e, i);
            }
        }
        --left_in_group_;
        return row_;
    }

private:
    [[noreturn]] void fail(const std::string& msg) const {
        throw error(errc::bad_input, "parquet", in_->name() + ": " + msg);
    }

    /// Rethrows `e` (from column `i`'s reader) naming the file, column, row group and page.
    [[noreturn]] void rethrow_at(const error& e, std::size_t i) const {
        position where;
        where.record = row_.index_;
        where.column = i + 1;
        throw error(e.code(), "parquet",
                    in_->name() + ": column '" + (*cols_)[i].name + "', row group " + std::to_string(group_ - 1) +
                        ", " + readers_[i].where() + ": " + std::string(e.message()),
                    where);
    }

    void read_footer() {
        const std::uint64_t size = in_->size();
        if (size < 12)
            fail("not a Parquet file: " + std::to_string(size) + " bytes (a Parquet file has at least 12)");
        // One read of the tail usually holds the footer too.
        const std::size_t tail_len = static_cast<std::size_t>(std::min<std::uint64_t>(size, 64 * 1024));
        std::string tail;
        in_->read_at(size - tail_len, tail_len, tail);
        const std::string_view magic = std::string_view(tail).substr(tail_len - 4);
        if (magic == "PARE") fail("encrypted Parquet files are not supported");
        if (magic != "PAR1") fail("not a Parquet file (it does not end with PAR1)");
        const std::uint64_t flen = detail::load_u32(tail, tail_len - 8);
        if (flen > size - 12)
            fail("the footer length " + std::to_string(flen) + " is larger than the file (" + std::to_string(size) +
                 " bytes): the file is truncated or not Parquet");
        if (flen > opt_.limits.max_footer_bytes)
            throw error(errc::limit, "parquet", in_->name() + ": the footer of " + std::to_string(flen) +
                                                    " bytes is over the limit of " +
                                                    std::to_string(opt_.limits.max_footer_bytes));
        data_end_ = size - 8 - flen;
        std::string footer;
        if (flen + 8 <= tail_len)
            footer.assign(tail, tail_len - 8 - static_cast<std::size_t>(flen), static_cast<std::size_t>(flen));
        else
            in_->read_at(data_end_, static_cast<std::size_t>(flen), footer);
        meta_ = std::make_unique<file_meta_data>();
        try {
            *meta_ = deserialize<file_meta_data>(footer);
        } catch (const error& e) {
            fail("corrupt footer: " + std::string(e.message()));
        }
    }

    void build_columns() {
        try {
            std::size_t i = 0, leaves = 0;
            detail::schema_node root = detail::parse_schema(meta_->schema, i, leaves, 0);
            if (i != meta_->schema.size()) detail::corrupt("the schema has elements outside its root");
            leaves_ = leaves;
            cols_ = std::make_unique<std::vector<column_info>>();
            if (opt_.columns.empty()) {
                for (const detail::schema_node& n : root.children) cols_->push_back(detail::column_of(n));
            } else {
                for (const std::string& want : opt_.columns) {
                    auto it = std::find_if(root.children.begin(), root.children.end(),
                                           [&](const detail::schema_node& n) { return n.e->name == want; });
                    if (it == root.children.end())
                        throw error(errc::usage, "parquet", in_->name() + ": no column '" + want + "'");
                    cols_->push_back(detail::column_of(*it));
                }
            }
        } catch (const error& e) {
            if (e.code() != errc::bad_input) throw;
            fail("schema: " + std::string(e.message()));
        }
        row_.cols_ = cols_.get();
        row_.cells_.resize(cols_->size());
        row_.items_.resize(cols_->size());
    }

    /// Fetches the selected column chunks of row group `g` (checked against the file).
    void open_group(std::size_t g) {
        readers_.clear();
        const row_group& rg = meta_->row_groups[g];
        const std::string at = "row group " + std::to_string(g);
        if (rg.columns.size() != leaves_)
            fail(at + " has " + std::to_string(rg.columns.size()) + " column chunks, the schema " + std::to_string(leaves_));
        if (rg.num_rows < 0) fail(at + " has a negative row count");
        readers_.reserve(cols_->size());
        for (const column_info& c : *cols_) {
            const column_chunk& cc = rg.columns[c.leaf];
            const std::string here = "column '" + c.name + "', " + at;
            if (cc.file_path) fail(here + ": data in another file ('" + *cc.file_path + "') is not supported");
            if (!cc.meta_data) fail(here + ": the column chunk has no metadata");
            const column_meta_data& m = *cc.meta_data;
            if (m.type != c.type.physical)
                fail(here + ": the chunk's type " + std::string(to_string(m.type)) + " differs from the schema's " +
                     std::string(to_string(c.type.physical)));
            if (!reader_supports(m.codec))
                fail(here + ": compression codec " + std::string(to_string(m.codec)) + " is not supported");
            std::int64_t start = m.data_page_offset;
            if (m.dictionary_page_offset && *m.dictionary_page_offset > 0 && *m.dictionary_page_offset < start)
                start = *m.dictionary_page_offset;
            const std::int64_t len = m.total_compressed_size;
            if (start < 4 || len < 0 || static_cast<std::uint64_t>(start) > data_end_ ||
                static_cast<std::uint64_t>(len) > data_end_ - static_cast<std::uint64_t>(start))
                fail(here + ": the column chunk (byte " + std::to_string(start) + ", " + std::to_string(len) +
                     " bytes) lies outside the file's data (" + std::to_string(data_end_) + " bytes)");
            if (static_cast<std::uint64_t>(len) > opt_.limits.max_chunk_bytes)
                throw error(errc::limit, "parquet", in_->name() + ": " + here + ": a column chunk of " + std::to_string(len) +
                                                        " bytes is over the limit of " +
                                                        std::to_string(opt_.limits.max_chunk_bytes));
            std::string bytes;
            in_->read_at(static_cast<std::uint64_t>(start), static_cast<std::size_t>(len), bytes);
            readers_.emplace_back(c, std::move(bytes), static_cast<std::uint64_t>(start), m.codec, opt_.limits);
        }
        left_in_group_ = static_cast<std::uint64_t>(rg.num_rows);
    }

    /// After a row group's last row: no column may hold more values.
    void check_group_end() {
        for (std::size_t i = 0; i < readers_.size(); ++i) {
            bool more = false;
            try {
                more = readers_[i].has_more();
            } catch (const error& e) {
                rethrow_at(e, i);
            }
            if (more)
                fail("column '" + (*cols_)[i].name + "', row group " + std::to_string(group_ - 1) +
                     ": more values than the row group's " + std::to_string(meta_->row_groups[group_ - 1].num_rows) + " rows");
        }
        readers_.clear();
    }

    std::unique_ptr<random_access_input> in_;
    reader_options opt_;
    std::unique_ptr<file_meta_data> meta_;
    std::unique_ptr<std::vector<column_info>> cols_;  // stable address: rows point to it
    std::uint64_t data_end_ = 0;
    std::size_t leaves_ = 0;
    std::size_t group_ = 0;
    std::uint64_t left_in_group_ = 0;
    std::uint64_t row_no_ = 0;
    std::vector<column_reader> readers_;
    row row_;
};

/// `parquet::read(path | input, options)`: see the file comment.
struct read_fn {
    reader operator()(std::unique_ptr<random_access_input> in, reader_options o = {}) const {
        return reader(std::move(in), std::move(o));
    }
    reader operator()(const std::string& path, reader_options o = {}) const {
        return reader(std::make_unique<pread_file>(path), std::move(o));
    }
};
/// See `read_fn`.
inline constexpr read_fn read{};

}  // namespace sluice::parquet
