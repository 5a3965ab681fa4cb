#pragma once
/// \file
/// `parquet::column_reader`: one column chunk of one row group, read a record at a time.
/// It walks the chunk's pages (dictionary, data page v1 and v2; index pages skipped),
/// decompresses one page at a time, and decodes repetition and definition levels and values
/// lazily, so memory is the compressed chunk plus the open page whatever the counts in the
/// headers claim. Every inconsistency (a page past the chunk's end, a level over its
/// maximum, a dictionary index out of range, values ending early) is a `bad_input` error;
/// `where()` names the page for the caller's message.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "metadata.hpp"
#include "page_decompress.hpp"
#include "rle_decoder.hpp"
#include "rle_encoder.hpp"  // bit_width_for
#include "value.hpp"
#include "value_decoder.hpp"

namespace sluice::parquet {

/// A top-level column as the reader returns it: a flat leaf, or a LIST of leaf elements.
struct column_info {
    std::string name;
    leaf_type type;           ///< the leaf's type (a LIST's element type)
    bool list = false;        ///< a LIST column (3-level, legacy 2-level or a repeated field)
    bool nullable = false;    ///< the value (the whole list) may be null
    std::int16_t max_def = 0;  ///< definition level of a present leaf value
    std::int16_t max_rep = 0;  ///< 1 for lists, else 0
    std::int16_t list_def = 0;  ///< lists: definition levels below this mean a null list,
                                ///< equal to it an empty list
    std::size_t leaf = 0;       ///< the leaf's index among the file's column chunks
};

/// Limits of the reader, so a hostile file ends in an error instead of an allocation.
struct read_limits {
    std::uint64_t max_footer_bytes = 64u << 20;      ///< the FileMetaData
    std::uint64_t max_page_bytes = 256u << 20;       ///< one page, uncompressed
    std::uint64_t max_chunk_bytes = 1024ull << 20;   ///< one column chunk, compressed
    std::uint64_t max_list_elements = 16u << 20;     ///< elements of one LIST value (an RLE
                                                     ///< run of empty levels costs no bytes)
};

/// Reads the records of one column chunk (see the file comment).
class column_reader {
public:
    /// `bytes`: the whole column chunk (owned), starting at file offset `offset`.
    column_reader(const column_info& col, std::string bytes, std::uint64_t offset, compression_codec codec,
                  const read_limits& lim)
        : col_(&col), bytes_(std::move(bytes)), offset_(offset), codec_(codec), lim_(lim) {
        rep_width_ = bit_width_for(static_cast<std::uint64_t>(col.max_rep));
        def_width_ = bit_width_for(static_cast<std::uint64_t>(col.max_def));
    }

    /// Forgets the values handed out for the previous record (pages it used are released).
    void begin_record() {
        retired_.clear();
        store_.clear();
    }

    /// Reads the next record into `c` (a list's items into `items`). Throws at the end of
    /// the chunk (the caller checks the row count first).
    void read_record(cell& c, std::vector<value>& items) {
        level l;
        if (!peek(l)) detail::corrupt("the column's values end before the row group's last row");
        if (l.rep != 0) detail::corrupt("a record starts with repetition level " + std::to_string(l.rep));
        if (!col_->list) {
            take(l, c.scalar);
            c.list = false;
            c.null = c.scalar.is_null();
            return;
        }
        c.list = true;
        items.clear();
        value v;
        take(l, v);
        const auto list_def = static_cast<std::uint32_t>(col_->list_def);
        if (l.def < list_def) {
            c.null = true;
        } else {
            c.null = false;
            if (l.def > list_def) items.push_back(v);
            while (peek(l) && l.rep == 1) {
                if (l.def <= list_def)
                    detail::corrupt("definition level " + std::to_string(l.def) + " inside a list");
                take(l, v);
                if (items.size() >= lim_.max_list_elements)
                    throw error(errc::limit, "parquet", "a LIST value of more than " +
                                                            std::to_string(lim_.max_list_elements) + " elements");
                items.push_back(v);
            }
        }
        c.elements = items;
    }

    /// True when levels remain after the last record (a row group that lies about its rows).
    bool has_more() { level l; return peek(l); }

    /// "page 3 (byte 1234)": where the reader is, for messages.
    std::string where() const {
        return "page " + std::to_string(page_no_) + " (byte " + std::to_string(offset_ + page_at_) + ")";
    }

private:
    struct level {
        std::uint32_t rep = 0, def = 0;
    };

    bool peek(level& l) {
        if (!have_peek_) {
            while (levels_left_ == 0)
                if (!next_page()) return false;
            std::uint32_t r = 0, d = 0;
            if (col_->max_rep > 0 && !rep_.next(r)) detail::corrupt("repetition levels end before the page's values");
            if (col_->max_def > 0 && !def_.next(d)) detail::corrupt("definition levels end before the page's values");
            if (r > static_cast<std::uint32_t>(col_->max_rep))
                detail::corrupt("repetition level " + std::to_string(r) + " is over the column's maximum " +
                                std::to_string(col_->max_rep));
            if (d > static_cast<std::uint32_t>(col_->max_def))
                detail::corrupt("definition level " + std::to_string(d) + " is over the column's maximum " +
                                std::to_string(col_->max_def));
            peek_ = {r, d};
            have_peek_ = true;
        }
        l = peek_;
        return true;
    }

    void take(const level& l, value& v) {
        have_peek_ = false;
        --levels_left_;
        if (l.def == static_cast<std::uint32_t>(col_->max_def)) {
            values_.next(v);
        } else {
            v = value{};
        }
    }

    std::string_view need(std::string_view& s, std::size_t n, const char* what) {
        if (s.size() < n) detail::corrupt(std::string(what) + " run past the end of the page");
        std::string_view r = s.substr(0, n);
        s.remove_prefix(n);
        return r;
    }

    /// A v1 page's level section: a 4-byte length, then RLE runs.
    rle_decoder v1_levels(std::string_view& s, int width, encoding e, const char* what) {
        if (e != encoding::rle) detail::corrupt(std::string(what) + " in encoding " + std::to_string(static_cast<int>(e)) + " (only RLE is supported)");
        const std::string_view len = need(s, 4, what);
        const auto n = detail::load_le<std::uint32_t>(len.data());
        return rle_decoder(need(s, n, what), width);
    }

    void decompress(std::string_view in, std::uint64_t expected, chunk& out) {
        if (expected > lim_.max_page_bytes)
            throw error(errc::limit, "parquet", "a page of " + std::to_string(expected) +
                                                   " bytes uncompressed is over the limit of " +
                                                   std::to_string(lim_.max_page_bytes));
        if (!codec_ready_) {
            codec_run_ = page_decompressor(codec_);
            codec_ready_ = true;
        }
        codec_run_.run(in, static_cast<std::size_t>(expected), out);
    }

    /// Moves to the next data page; false at the end of the chunk.
    bool next_page() {
        const std::string_view all(bytes_);
        while (pos_ < all.size()) {
            page_at_ = pos_;
            ++page_no_;
            std::size_t hlen = 0;
            const page_header h = deserialize<page_header>(all.substr(pos_), &hlen);
            pos_ += hlen;
            if (static_cast<std::uint64_t>(h.compressed_page_size) > all.size() - pos_)
                detail::corrupt("a page of " + std::to_string(h.compressed_page_size) +
                                " bytes runs past the end of the column chunk");
            const std::string_view body = all.substr(pos_, static_cast<std::size_t>(h.compressed_page_size));
            pos_ += body.size();
            const auto usize = static_cast<std::uint64_t>(h.uncompressed_page_size);
            switch (h.type) {
                case page_type::dictionary_page: {
                    if (seen_data_) detail::corrupt("a dictionary page after data pages");
                    if (have_dict_) detail::corrupt("a second dictionary page");
                    const dictionary_page_header& d = *h.dictionary_page;
                    if (d.value_encoding != encoding::plain && d.value_encoding != encoding::plain_dictionary)
                        detail::corrupt("a dictionary page in encoding " + std::to_string(static_cast<int>(d.value_encoding)));
                    decompress(body, usize, dict_bytes_);
                    dict_ = decode_dictionary(dict_bytes_.view(), col_->type, static_cast<std::uint64_t>(d.num_values));
                    have_dict_ = true;
                    continue;
                }
                case page_type::data_page: {
                    seen_data_ = true;
                    const data_page_header& d = *h.data_page;
                    retire();
                    decompress(body, usize, page_);
                    std::string_view s = page_.view();
                    if (col_->max_rep > 0) rep_ = v1_levels(s, rep_width_, d.repetition_level_encoding, "repetition levels");
                    if (col_->max_def > 0) def_ = v1_levels(s, def_width_, d.definition_level_encoding, "definition levels");
                    values_.start(d.value_encoding, s, col_->type, have_dict_ ? &dict_ : nullptr, &store_);
                    levels_left_ = static_cast<std::uint64_t>(d.num_values);
                    if (levels_left_ == 0) continue;
                    return true;
                }
                case page_type::data_page_v2: {
                    seen_data_ = true;
                    const data_page_header_v2& d = *h.data_page_v2;
                    retire();
                    std::string_view raw = body;
                    const auto rlen = static_cast<std::size_t>(d.repetition_levels_byte_length);
                    const auto dlen = static_cast<std::size_t>(d.definition_levels_byte_length);
                    if (static_cast<std::uint64_t>(rlen) + dlen > raw.size() || static_cast<std::uint64_t>(rlen) + dlen > usize)
                        detail::corrupt("the page's level lengths run past its end");
                    // v2: the levels are never compressed; they are read in place in the chunk.
                    const std::string_view levels = raw.substr(0, rlen + dlen);
                    raw.remove_prefix(rlen + dlen);
                    const std::uint64_t values_size = usize - rlen - dlen;
                    if (d.is_compressed && codec_ != compression_codec::uncompressed) {
                        decompress(raw, values_size, page_);
                    } else {
                        if (raw.size() != values_size)
                            detail::corrupt("the page holds " + std::to_string(raw.size()) + " value bytes, its header says " +
                                            std::to_string(values_size));
                        page_.clear();
                        page_.append(raw);
                    }
                    rep_ = rle_decoder(levels.substr(0, rlen), rep_width_);
                    def_ = rle_decoder(levels.substr(rlen, dlen), def_width_);
                    values_.start(d.value_encoding, page_.view(), col_->type, have_dict_ ? &dict_ : nullptr, &store_);
                    levels_left_ = static_cast<std::uint64_t>(d.num_values);
                    if (levels_left_ == 0) continue;
                    return true;
                }
                default: continue;  // index pages and types from the future: skipped
            }
        }
        return false;
    }

    /// The current page's buffers stay alive until the record ends (its values point there).
    void retire() {
        if (page_.capacity()) retired_.push_back(std::move(page_));
        page_ = chunk();
    }

    const column_info* col_;
    std::string bytes_;
    std::uint64_t offset_;
    compression_codec codec_;
    read_limits lim_;
    page_decompressor codec_run_;
    bool codec_ready_ = false;
    int rep_width_ = 0, def_width_ = 0;

    std::size_t pos_ = 0;      // next page header in bytes_
    std::size_t page_at_ = 0;  // the current page's header
    std::uint64_t page_no_ = 0;
    bool seen_data_ = false;
    bool have_dict_ = false;
    chunk dict_bytes_;
    std::vector<value> dict_;

    chunk page_;
    std::vector<chunk> retired_;
    std::deque<std::string> store_;
    rle_decoder rep_, def_;
    value_decoder values_;
    std::uint64_t levels_left_ = 0;
    level peek_;
    bool have_peek_ = false;
};

}  // namespace sluice::parquet
