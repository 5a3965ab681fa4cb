#pragma once
/// \file
/// `parquet::column_writer`: one column chunk in the making. Values arrive one at a time
/// with their definition/repetition levels; they are encoded into the open page (RLE_DICTIONARY
/// indices while the dictionary stays small, PLAIN after it passes its limit), and a page
/// that reaches the page size is closed: levels + values compressed at once and kept as
/// bytes. So the column holds its compressed pages, one open page and the dictionary, never
/// the row group's uncompressed values. Statistics (min, max, null count) cover the chunk.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "metadata.hpp"
#include "page_compress.hpp"
#include "rle_encoder.hpp"
#include "schema.hpp"

namespace sluice::parquet {

/// Options of the Parquet writer.
struct write_options {
    /// Page compression: zstd (default), snappy, gzip or uncompressed.
    compression_codec codec = compression_codec::zstd;
    /// The codec's level (nullopt: zstd 3, gzip 6).
    std::optional<int> level;
    /// A page is closed once its encoded values and levels reach this size.
    std::size_t page_bytes = 1 << 20;
    /// A row group is written once its compressed pages reach this size...
    std::size_t row_group_bytes = 16 << 20;
    /// ...or it holds this many rows.
    std::uint64_t row_group_rows = 1'000'000;
    /// Dictionary encoding (RLE_DICTIONARY + a PLAIN dictionary page) until the dictionary
    /// passes `dictionary_bytes` or `dictionary_entries`; PLAIN from then on.
    bool dictionary = true;
    std::size_t dictionary_bytes = 1 << 20;
    std::uint32_t dictionary_entries = 1 << 16;
    /// Data pages v2 (levels uncompressed before the values) instead of v1.
    bool data_page_v2 = false;
    /// FileMetaData.created_by.
    std::string created_by = "sluice version 0.1.0";
};

/// A leaf column's layout: the schema column, its physical type and level maxima.
struct leaf_layout {
    column col;
    physical_type physical = physical_type::byte_array;
    int fixed_length = 0;
    int max_def = 0;  ///< 0 required, 1 optional; a LIST: 3 (optional list, element)
    int max_rep = 0;  ///< 1 for a LIST

    explicit leaf_layout(column c) : col(std::move(c)) {
        physical = physical_of(col.type);
        fixed_length = fixed_length_of(col.type);
        if (col.type.list) {
            max_def = col.nullable ? 3 : 2;
            max_rep = 1;
        } else {
            max_def = col.nullable ? 1 : 0;
        }
    }
};

/// One column chunk: open page, dictionary, closed pages, statistics.
class column_writer {
public:
    column_writer(leaf_layout layout, const write_options& opt)
        : layout_(std::move(layout)), opt_(&opt), compressor_(opt.codec, opt.level),
          def_(bit_width_for(static_cast<std::uint64_t>(layout_.max_def))),
          rep_(bit_width_for(static_cast<std::uint64_t>(layout_.max_rep))) {
        reset_chunk();
    }

    const leaf_layout& layout() const noexcept { return layout_; }

    /// A value: `raw` is its PLAIN bytes without a length prefix (LE integers / floats,
    /// the bytes of a byte array, "\0"/"\1" for a boolean).
    void put_value(std::string_view raw, int rep = 0) {
        if (layout_.max_rep) rep_.put(static_cast<std::uint32_t>(rep));
        if (layout_.max_def) def_.put(static_cast<std::uint32_t>(layout_.max_def));
        ++page_values_;
        update_stats(raw);
        if (dict_active_ && !add_to_dictionary(raw)) fall_back_to_plain();
        if (!dict_active_) append_plain(raw);
    }

    /// A missing value at definition level `def` (< max_def): a null, a null list (0), an
    /// empty list (1 for a nullable list), a null element.
    void put_missing(int def, int rep = 0) {
        if (layout_.max_rep) rep_.put(static_cast<std::uint32_t>(rep));
        def_.put(static_cast<std::uint32_t>(def));
        ++page_values_;
        ++page_nulls_;
        // Null counts count null values at the leaf's level (null elements and null lists).
        ++null_count_;
    }

    /// Ends a row: closes the page when it is full (pages end at row boundaries).
    void end_row() {
        ++page_rows_;
        if (page_size_estimate() >= opt_->page_bytes) close_page();
    }

    /// Compressed bytes held (closed pages) plus the open page's encoded estimate.
    std::size_t buffered_bytes() const noexcept {
        return pages_bytes_ + page_size_estimate() + dict_raw_.size();
    }

    /// Closes the open page and hands the chunk's pages (dictionary page first) to
    /// `emit(std::string&&)`; returns the ColumnMetaData with offsets relative to the chunk
    /// start `chunk_offset`. Resets for the next row group.
    template <class Emit>
    column_meta_data flush(std::int64_t chunk_offset, Emit&& emit) {
        if (page_values_ > 0 || pages_.empty()) close_page();
        column_meta_data md;
        md.type = layout_.physical;
        md.path_in_schema = {layout_.col.name};
        if (layout_.col.type.list) md.path_in_schema = {layout_.col.name, "list", "element"};
        md.codec = compressor_.codec();
        md.num_values = num_values_;
        std::int64_t offset = chunk_offset;
        std::int64_t compressed = 0, uncompressed = 0;
        if (dict_used_) {
            std::string page = dictionary_page(uncompressed);
            md.dictionary_page_offset = offset;
            offset += static_cast<std::int64_t>(page.size());
            compressed += static_cast<std::int64_t>(page.size());
            emit(std::move(page));
        }
        md.data_page_offset = offset;
        for (std::string& p : pages_) {
            compressed += static_cast<std::int64_t>(p.size());
            emit(std::move(p));
        }
        md.total_compressed_size = compressed;
        md.total_uncompressed_size = uncompressed + pages_uncompressed_;
        md.encodings = {encoding::rle};
        if (dict_used_ || plain_used_) md.encodings.push_back(encoding::plain);  // dictionary page too
        if (dict_used_) md.encodings.push_back(encoding::rle_dictionary);
        md.stats = chunk_statistics();
        reset_chunk();
        return md;
    }

private:
    // --- statistics ----------------------------------------------------------------------
    template <class T>
    static T load(std::string_view raw) {
        T v;
        std::memcpy(&v, raw.data(), sizeof v);
        return v;
    }
    /// True when a < b in the column's sort order.
    bool less(std::string_view a, std::string_view b) const {
        switch (layout_.physical) {
            case physical_type::boolean: return a[0] < b[0];
            case physical_type::int32: return load<std::int32_t>(a) < load<std::int32_t>(b);
            case physical_type::int64: return load<std::int64_t>(a) < load<std::int64_t>(b);
            case physical_type::float32: return load<float>(a) < load<float>(b);
            case physical_type::float64: return load<double>(a) < load<double>(b);
            case physical_type::fixed_len_byte_array:
                if (layout_.col.type.type == value_type::decimal) {
                    // Big-endian two's complement: the sign byte compares signed.
                    const auto sa = static_cast<signed char>(a[0]), sb = static_cast<signed char>(b[0]);
                    if (sa != sb) return sa < sb;
                    return a.substr(1) < b.substr(1);
                }
                return a < b;
            default: return a < b;  // unsigned byte-wise (char_traits<char> compares unsigned)
        }
    }
    void update_stats(std::string_view raw) {
        if (layout_.physical == physical_type::float32 && std::isnan(load<float>(raw))) return;
        if (layout_.physical == physical_type::float64 && std::isnan(load<double>(raw))) return;
        if (!has_minmax_) {
            min_.assign(raw);
            max_.assign(raw);
            has_minmax_ = true;
            return;
        }
        if (less(raw, min_)) min_.assign(raw);
        if (less(max_, raw)) max_.assign(raw);
    }
    statistics chunk_statistics() const {
        statistics s;
        s.null_count = static_cast<std::int64_t>(null_count_);
        // Long strings are left out rather than kept whole in every footer.
        if (has_minmax_ && min_.size() <= 256 && max_.size() <= 256) {
            std::string lo = min_, hi = max_;
            // Zeros: -0.0 as the min, +0.0 as the max (parquet.thrift's rules for floats).
            if (layout_.physical == physical_type::float64) {
                if (load<double>(lo) == 0) lo = store(-0.0);
                if (load<double>(hi) == 0) hi = store(0.0);
            } else if (layout_.physical == physical_type::float32) {
                if (load<float>(lo) == 0) lo = store(-0.0f);
                if (load<float>(hi) == 0) hi = store(0.0f);
            }
            s.min_value = lo;
            s.max_value = hi;
        }
        return s;
    }
    template <class T>
    static std::string store(T v) {
        std::string s(sizeof v, '\0');
        std::memcpy(s.data(), &v, sizeof v);
        return s;
    }

    // --- dictionary ----------------------------------------------------------------------
    std::string_view dict_entry(std::uint32_t i) const {
        return std::string_view(dict_raw_).substr(dict_offsets_[i], dict_offsets_[i + 1] - dict_offsets_[i]);
    }
    std::size_t dict_plain_size() const {
        return dict_raw_.size() +
               (layout_.physical == physical_type::byte_array ? 4 * dict_count() : 0);
    }
    std::uint32_t dict_count() const {
        return static_cast<std::uint32_t>(dict_offsets_.size() - 1);
    }
    /// Adds `raw` to the page's indices; false when the dictionary is full.
    bool add_to_dictionary(std::string_view raw) {
        ++dict_lookups_;
        const std::size_t h = std::hash<std::string_view>{}(raw);
        std::size_t mask = slots_.size() - 1;
        std::size_t i = h & mask;
        while (slots_[i] != 0) {
            const std::uint32_t idx = slots_[i] - 1;
            if (dict_entry(idx) == raw) {
                indices_.push_back(idx);
                return true;
            }
            i = (i + 1) & mask;
        }
        if (dict_count() >= opt_->dictionary_entries ||
            dict_plain_size() + raw.size() + 4 > opt_->dictionary_bytes)
            return false;
        // A column of mostly distinct values (ids, timestamps) stops early: its dictionary
        // would only cost memory and time.
        if (dict_count() >= 4096 && dict_count() * 10 > dict_lookups_ * 9) return false;
        const std::uint32_t idx = dict_count();
        dict_raw_.append(raw);
        dict_offsets_.push_back(static_cast<std::uint32_t>(dict_raw_.size()));
        slots_[i] = idx + 1;
        indices_.push_back(idx);
        if ((dict_count() + 1) * 2 > slots_.size()) rehash();
        return true;
    }
    void rehash() {
        std::vector<std::uint32_t> fresh(slots_.size() * 2, 0);
        const std::size_t mask = fresh.size() - 1;
        for (std::uint32_t idx = 0; idx < dict_count(); ++idx) {
            std::size_t i = std::hash<std::string_view>{}(dict_entry(idx)) & mask;
            while (fresh[i] != 0) i = (i + 1) & mask;
            fresh[i] = idx + 1;
        }
        slots_.swap(fresh);
    }
    /// The dictionary is full: the open page's values are re-encoded PLAIN (a page has one
    /// encoding; pages closed before keep their indices, the dictionary page stays), and the
    /// rest of the chunk is PLAIN. The hash table is freed; the entries stay for the page.
    void fall_back_to_plain() {
        dict_active_ = false;
        for (std::uint32_t idx : indices_) append_plain(dict_entry(idx));
        indices_.clear();
        page_plain_ = true;
        slots_.clear();
        slots_.shrink_to_fit();
    }

    // --- pages ---------------------------------------------------------------------------
    void append_plain(std::string_view raw) {
        if (layout_.physical == physical_type::byte_array) {
            const auto n = static_cast<std::uint32_t>(raw.size());
            char len[4];
            for (int i = 0; i < 4; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
            plain_.append(len, 4);
        }
        page_plain_ = true;
        if (layout_.physical == physical_type::boolean) {
            // PLAIN booleans: bit-packed, LSB first, no run headers.
            if (bool_bits_ % 8 == 0) plain_.push_back('\0');
            if (raw[0]) plain_.back() = static_cast<char>(plain_.back() | (1 << (bool_bits_ % 8)));
            ++bool_bits_;
            return;
        }
        plain_.append(raw);
    }
    std::size_t page_size_estimate() const noexcept {
        return plain_.size() + indices_.size() * 2 + def_.size_estimate() +
               rep_.size_estimate();
    }
    void close_page() {
        const bool dict_page = !indices_.empty() && !page_plain_;
        std::string values;
        encoding enc = encoding::plain;
        if (dict_page) {
            enc = encoding::rle_dictionary;
            const int bw = std::max(1, bit_width_for(dict_count() > 0 ? dict_count() - 1 : 0));
            rle_encoder idx(bw);
            for (std::uint32_t v : indices_) idx.put(v);
            idx.finish();
            values.push_back(static_cast<char>(bw));
            values += idx.bytes();
            dict_used_ = true;
        } else {
            values.swap(plain_);
            plain_used_ = true;
        }
        def_.finish();
        rep_.finish();
        page_header h;
        std::string body;
        if (!opt_->data_page_v2) {
            std::string raw;
            if (layout_.max_rep) append_levels_v1(raw, rep_);
            if (layout_.max_def) append_levels_v1(raw, def_);
            raw += values;
            compressor_.run(raw, body);
            h.type = page_type::data_page;
            h.uncompressed_page_size = static_cast<std::int32_t>(raw.size());
            h.data_page.emplace();
            h.data_page->num_values = static_cast<std::int32_t>(page_values_);
            h.data_page->value_encoding = enc;
        } else {
            if (layout_.max_rep) body += rep_.bytes();
            if (layout_.max_def) body += def_.bytes();
            const std::size_t levels = body.size();
            compressor_.run(values, body);
            h.type = page_type::data_page_v2;
            h.uncompressed_page_size = static_cast<std::int32_t>(levels + values.size());
            h.data_page_v2.emplace();
            auto& v2 = *h.data_page_v2;
            v2.num_values = static_cast<std::int32_t>(page_values_);
            v2.num_nulls = static_cast<std::int32_t>(page_nulls_);
            v2.num_rows = static_cast<std::int32_t>(page_rows_);
            v2.value_encoding = enc;
            v2.definition_levels_byte_length =
                layout_.max_def ? static_cast<std::int32_t>(def_.bytes().size()) : 0;
            v2.repetition_levels_byte_length =
                layout_.max_rep ? static_cast<std::int32_t>(rep_.bytes().size()) : 0;
        }
        h.compressed_page_size = static_cast<std::int32_t>(body.size());
        std::string page;
        // Exact capacity: a row group holds its pages, and `pages_bytes_` is what it costs.
        page.reserve(body.size() + 128);
        serialize(h, page);
        pages_uncompressed_ += static_cast<std::int64_t>(page.size()) + h.uncompressed_page_size;
        page += body;
        if (page.capacity() > page.size() + 4096) page.shrink_to_fit();
        pages_bytes_ += page.size();
        pages_.push_back(std::move(page));
        num_values_ += page_values_;
        // Fresh page state.
        plain_.clear();
        indices_.clear();
        bool_bits_ = 0;
        def_.clear();
        rep_.clear();
        page_values_ = page_nulls_ = page_rows_ = 0;
        page_plain_ = false;
    }

    std::string dictionary_page(std::int64_t& uncompressed_total) {
        std::string raw;
        raw.reserve(dict_plain_size());
        for (std::uint32_t i = 0; i < dict_count(); ++i) {
            const std::string_view e = dict_entry(i);
            if (layout_.physical == physical_type::byte_array) {
                const auto n = static_cast<std::uint32_t>(e.size());
                for (int b = 0; b < 4; ++b) raw.push_back(static_cast<char>((n >> (8 * b)) & 0xFF));
            }
            raw.append(e);
        }
        std::string body;
        compressor_.run(raw, body);
        page_header h;
        h.type = page_type::dictionary_page;
        h.uncompressed_page_size = static_cast<std::int32_t>(raw.size());
        h.compressed_page_size = static_cast<std::int32_t>(body.size());
        h.dictionary_page.emplace();
        h.dictionary_page->num_values = static_cast<std::int32_t>(dict_count());
        h.dictionary_page->value_encoding = encoding::plain;
        std::string page;
        serialize(h, page);
        uncompressed_total += static_cast<std::int64_t>(page.size() + raw.size());
        page += body;
        return page;
    }

    void reset_chunk() {
        pages_.clear();
        pages_bytes_ = 0;
        pages_uncompressed_ = 0;
        num_values_ = 0;
        null_count_ = 0;
        has_minmax_ = false;
        min_.clear();
        max_.clear();
        dict_active_ = opt_->dictionary && layout_.physical != physical_type::boolean;
        dict_used_ = plain_used_ = false;
        dict_raw_.clear();
        dict_offsets_.assign(1, 0);
        dict_lookups_ = 0;
        slots_.assign(dict_active_ ? 1024 : 0, 0);
    }

    leaf_layout layout_;
    const write_options* opt_;
    page_compressor compressor_;

    // Open page.
    rle_encoder def_, rep_;
    std::uint64_t bool_bits_ = 0;
    std::string plain_;
    std::vector<std::uint32_t> indices_;
    std::uint64_t page_values_ = 0, page_nulls_ = 0, page_rows_ = 0;
    bool page_plain_ = false;

    // Dictionary (per chunk).
    bool dict_active_ = true, dict_used_ = false, plain_used_ = false;
    std::string dict_raw_;
    std::vector<std::uint32_t> dict_offsets_;
    std::vector<std::uint32_t> slots_;
    std::uint64_t dict_lookups_ = 0;

    // Closed pages and chunk totals.
    std::vector<std::string> pages_;
    std::size_t pages_bytes_ = 0;
    std::int64_t pages_uncompressed_ = 0;
    std::int64_t num_values_ = 0;
    std::uint64_t null_count_ = 0;
    bool has_minmax_ = false;
    std::string min_, max_;
};

}  // namespace sluice::parquet
