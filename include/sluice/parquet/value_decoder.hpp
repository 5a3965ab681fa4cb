#pragma once
/// \file
/// Decoding a data page's values, one at a time and lazily, for untrusted bytes:
/// PLAIN (every physical type; INT96 split into days and nanoseconds), RLE_DICTIONARY /
/// PLAIN_DICTIONARY (indexes checked against the dictionary), RLE (booleans),
/// DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT.
/// Nothing is allocated in proportion to what a header claims: each value is read when it
/// is asked for, and running out of bytes is a `bad_input` error.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "rle_decoder.hpp"
#include "value.hpp"

namespace sluice::parquet {

namespace detail {

template <class T>
T load_le(const char* p) noexcept {
    T v;
    std::memcpy(&v, p, sizeof v);  // little-endian hosts only
    return v;
}

/// Julian day number of 1970-01-01 (INT96 timestamps count Julian days).
inline constexpr std::int64_t julian_epoch_day = 2440588;

/// DELTA_BINARY_PACKED, decoded lazily: one value per `next`, no buffer.
class delta_binary_decoder {
public:
    delta_binary_decoder() = default;
    /// Reads the header at the start of `data`.
    explicit delta_binary_decoder(std::string_view data)
        : p_(reinterpret_cast<const unsigned char*>(data.data())), end_(p_ + data.size()) {
        std::uint64_t block, minis, total, first;
        varint(block, "block size");
        varint(minis, "miniblock count");
        varint(total, "value count");
        varint(first, "first value");
        if (block == 0 || block % 128 != 0 || block > (1u << 24))
            corrupt("DELTA_BINARY_PACKED block size " + std::to_string(block) + " is not a multiple of 128");
        if (minis == 0 || block % minis != 0 || (block / minis) % 32 != 0)
            corrupt("DELTA_BINARY_PACKED: " + std::to_string(minis) + " miniblocks do not divide a block of " +
                    std::to_string(block));
        minis_ = static_cast<std::uint32_t>(minis);
        per_mini_ = static_cast<std::uint32_t>(block / minis);
        total_ = total;
        last_ = unzigzag(first);
    }

    /// Values the header announces.
    std::uint64_t total() const noexcept { return total_; }

    /// The next value (wrapping 64-bit arithmetic, as the encoding specifies).
    std::int64_t next() {
        if (returned_ >= total_) corrupt("DELTA_BINARY_PACKED: more values wanted than the " + std::to_string(total_) + " encoded");
        if (returned_++ == 0) return last_;
        if (in_mini_ == per_mini_ || !mini_) start_mini();
        const std::uint64_t bit = static_cast<std::uint64_t>(in_mini_) * width_;
        const std::uint64_t delta = read_bits(mini_, mini_bytes_, bit, width_);
        ++in_mini_;
        last_ = static_cast<std::int64_t>(static_cast<std::uint64_t>(last_) + static_cast<std::uint64_t>(min_delta_) + delta);
        return last_;
    }

    /// Where the encoded values end (for the encodings that put more data after them):
    /// walks the remaining block headers without decoding values. Only before `next`.
    const char* end_of_values() const {
        delta_binary_decoder c = *this;
        std::uint64_t left = total_ == 0 ? 0 : total_ - 1;
        while (left) {
            c.start_block();
            for (std::uint32_t m = 0; m < c.minis_ && left; ++m) {
                c.skip_mini_data(c.widths_[m]);
                left -= std::min<std::uint64_t>(left, c.per_mini_);
            }
        }
        return reinterpret_cast<const char*>(c.p_);
    }

private:
    static std::int64_t unzigzag(std::uint64_t v) noexcept {
        return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
    }
    void varint(std::uint64_t& v, const char* what) {
        if (!read_uleb128(p_, end_, v)) corrupt(std::string("DELTA_BINARY_PACKED ") + what + " runs past the end");
    }
    void start_block() {
        std::uint64_t md;
        varint(md, "min delta");
        min_delta_ = unzigzag(md);
        if (static_cast<std::size_t>(end_ - p_) < minis_) corrupt("DELTA_BINARY_PACKED bit widths run past the end");
        widths_ = p_;
        p_ += minis_;
        // Widths of unused miniblocks may be anything: each is checked when its miniblock starts.
        mini_index_ = 0;
    }
    const unsigned char* skip_mini_data(unsigned width) {
        if (width > 64) corrupt("DELTA_BINARY_PACKED bit width " + std::to_string(width) + " is over 64");
        const std::uint64_t bytes = static_cast<std::uint64_t>(per_mini_) * width / 8;
        if (static_cast<std::uint64_t>(end_ - p_) < bytes) corrupt("DELTA_BINARY_PACKED miniblock runs past the end");
        const unsigned char* at = p_;
        p_ += bytes;
        mini_bytes_ = static_cast<std::size_t>(bytes);
        return at;
    }
    void start_mini() {
        if (!widths_ || mini_index_ == minis_) start_block();
        width_ = widths_[mini_index_];
        mini_ = skip_mini_data(width_);
        ++mini_index_;
        in_mini_ = 0;
    }

    const unsigned char* p_ = nullptr;
    const unsigned char* end_ = nullptr;
    std::uint32_t minis_ = 1, per_mini_ = 32;
    std::uint64_t total_ = 0, returned_ = 0;
    std::int64_t last_ = 0, min_delta_ = 0;
    const unsigned char* widths_ = nullptr;
    std::uint32_t mini_index_ = 0;
    const unsigned char* mini_ = nullptr;
    std::size_t mini_bytes_ = 0;
    unsigned width_ = 0;
    std::uint32_t in_mini_ = 0;
};

}  // namespace detail

/// A page's values in one of the supported encodings; `next(v)` decodes the next non-null
/// value. Views into the page (byte strings) stay valid while the page bytes do; values
/// rebuilt by DELTA_BYTE_ARRAY live in the `std::deque<std::string>` given to `start`
/// (which the caller clears when it no longer needs them).
class value_decoder {
public:
    /// Starts decoding `data` (the page's value section) of type `t` in encoding `e`. `dict`: the column's dictionary (for the
    /// dictionary encodings; null when the chunk has none).
    void start(encoding e, std::string_view data, const leaf_type& t, const std::vector<value>* dict,
               std::deque<std::string>* store) {
        enc_ = e;
        data_ = data;
        pos_ = 0;
        type_ = t;
        dict_ = dict;
        store_ = store;
        bit_ = 0;
        switch (e) {
            case encoding::plain: break;
            case encoding::plain_dictionary:
            case encoding::rle_dictionary: {
                if (!dict) detail::corrupt("dictionary-encoded page without a dictionary page");
                if (data.empty()) {
                    // A page of nulls only may have no bytes at all.
                    rle_ = rle_decoder({}, 0);
                    break;
                }
                rle_ = rle_decoder(data.substr(1), static_cast<unsigned char>(data[0]));
                break;
            }
            case encoding::rle: {
                if (t.physical != physical_type::boolean)
                    detail::corrupt("RLE encoding of a " + std::string(to_string(t.physical)) + " column");
                if (data.size() < 4) detail::corrupt("RLE boolean page without its length");
                const auto n = detail::load_le<std::uint32_t>(data.data());
                if (n > data.size() - 4) detail::corrupt("RLE boolean length runs past the end of the page");
                rle_ = rle_decoder(data.substr(4, n), 1);
                break;
            }
            case encoding::delta_binary_packed:
                if (t.physical != physical_type::int32 && t.physical != physical_type::int64)
                    detail::corrupt("DELTA_BINARY_PACKED encoding of a " + std::string(to_string(t.physical)) + " column");
                delta_ = detail::delta_binary_decoder(data);
                break;
            case encoding::delta_length_byte_array: {
                if (t.physical != physical_type::byte_array)
                    detail::corrupt("DELTA_LENGTH_BYTE_ARRAY encoding of a " + std::string(to_string(t.physical)) + " column");
                delta_ = detail::delta_binary_decoder(data);
                pos_ = static_cast<std::size_t>(delta_.end_of_values() - data.data());
                break;
            }
            case encoding::delta_byte_array: {
                if (t.physical != physical_type::byte_array && t.physical != physical_type::fixed_len_byte_array)
                    detail::corrupt("DELTA_BYTE_ARRAY encoding of a " + std::string(to_string(t.physical)) + " column");
                prefix_ = detail::delta_binary_decoder(data);
                const auto after = static_cast<std::size_t>(prefix_.end_of_values() - data.data());
                delta_ = detail::delta_binary_decoder(data.substr(after));
                pos_ = static_cast<std::size_t>(delta_.end_of_values() - data.data());
                prev_.clear();
                break;
            }
            case encoding::byte_stream_split: {
                const std::size_t w = fixed_width();
                if (w == 0) detail::corrupt("BYTE_STREAM_SPLIT encoding of a " + std::string(to_string(t.physical)) + " column");
                if (data.size() % w != 0) detail::corrupt("BYTE_STREAM_SPLIT data is not a multiple of the value size");
                streams_ = data.size() / w;
                break;
            }
            default:
                detail::corrupt("encoding " + std::to_string(static_cast<int>(e)) + " is not supported");
        }
    }

    /// Decodes the next value into `v`.
    void next(value& v) {
        switch (enc_) {
            case encoding::plain: return plain(v);
            case encoding::plain_dictionary:
            case encoding::rle_dictionary: {
                std::uint32_t idx;
                if (!rle_.next(idx)) detail::corrupt("dictionary indexes end before the page's values");
                if (idx >= dict_->size())
                    detail::corrupt("dictionary index " + std::to_string(idx) + " is out of range (the dictionary has " +
                                    std::to_string(dict_->size()) + " values)");
                v = (*dict_)[idx];
                return;
            }
            case encoding::rle: {
                std::uint32_t b;
                if (!rle_.next(b)) detail::corrupt("RLE booleans end before the page's values");
                v.kind = value_kind::boolean;
                v.b = b != 0;
                return;
            }
            case encoding::delta_binary_packed: {
                const std::int64_t x = delta_.next();
                v.kind = type_.physical == physical_type::int32 ? value_kind::int32 : value_kind::int64;
                v.i = type_.physical == physical_type::int32 ? static_cast<std::int32_t>(x) : x;
                return;
            }
            case encoding::delta_length_byte_array: {
                const std::int64_t n = delta_.next();
                v.kind = value_kind::bytes;
                v.s = take_bytes(n);
                return;
            }
            case encoding::delta_byte_array: return delta_byte_array(v);
            case encoding::byte_stream_split: return byte_stream_split(v);
            default: detail::corrupt("unsupported encoding");
        }
    }

private:
    std::size_t fixed_width() const noexcept {
        switch (type_.physical) {
            case physical_type::int32:
            case physical_type::float32: return 4;
            case physical_type::int64:
            case physical_type::float64: return 8;
            case physical_type::fixed_len_byte_array: return static_cast<std::size_t>(type_.type_length);
            default: return 0;
        }
    }

    std::string_view take(std::size_t n, const char* what) {
        if (data_.size() - pos_ < n) detail::corrupt(std::string(what) + " runs past the end of the page");
        std::string_view s = data_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    std::string_view take_bytes(std::int64_t n) {
        if (n < 0) detail::corrupt("negative byte array length " + std::to_string(n));
        return take(static_cast<std::size_t>(std::min<std::int64_t>(n, static_cast<std::int64_t>(data_.size()) + 1)),
                    "a byte array value");
    }

    void plain(value& v) {
        switch (type_.physical) {
            case physical_type::boolean: {
                if ((bit_ >> 3) >= data_.size()) detail::corrupt("a BOOLEAN value runs past the end of the page");
                v.kind = value_kind::boolean;
                v.b = (static_cast<unsigned char>(data_[bit_ >> 3]) >> (bit_ & 7)) & 1;
                ++bit_;
                return;
            }
            case physical_type::int32:
                v.kind = value_kind::int32;
                v.i = detail::load_le<std::int32_t>(take(4, "an INT32 value").data());
                return;
            case physical_type::int64:
                v.kind = value_kind::int64;
                v.i = detail::load_le<std::int64_t>(take(8, "an INT64 value").data());
                return;
            case physical_type::int96: {
                const char* p = take(12, "an INT96 value").data();
                v.kind = value_kind::int96;
                v.i = detail::load_le<std::int64_t>(p);
                v.days = static_cast<std::int32_t>(static_cast<std::int64_t>(detail::load_le<std::uint32_t>(p + 8)) -
                                                   detail::julian_epoch_day);
                return;
            }
            case physical_type::float32:
                v.kind = value_kind::float32;
                v.f = detail::load_le<float>(take(4, "a FLOAT value").data());
                return;
            case physical_type::float64:
                v.kind = value_kind::float64;
                v.d = detail::load_le<double>(take(8, "a DOUBLE value").data());
                return;
            case physical_type::byte_array: {
                const auto n = detail::load_le<std::uint32_t>(take(4, "a byte array length").data());
                v.kind = value_kind::bytes;
                v.s = take_bytes(n);
                return;
            }
            case physical_type::fixed_len_byte_array:
                v.kind = value_kind::bytes;
                v.s = take(static_cast<std::size_t>(type_.type_length), "a FIXED_LEN_BYTE_ARRAY value");
                return;
        }
        detail::corrupt("unknown physical type");
    }

    void delta_byte_array(value& v) {
        const std::int64_t prefix = prefix_.next();
        const std::int64_t suffix_len = delta_.next();
        if (prefix < 0 || static_cast<std::uint64_t>(prefix) > prev_.size())
            detail::corrupt("DELTA_BYTE_ARRAY prefix length " + std::to_string(prefix) + " is longer than the previous value");
        const std::string_view suffix = take_bytes(suffix_len);
        prev_.resize(static_cast<std::size_t>(prefix));
        prev_.append(suffix);
        if (type_.physical == physical_type::fixed_len_byte_array &&
            prev_.size() != static_cast<std::size_t>(type_.type_length))
            detail::corrupt("DELTA_BYTE_ARRAY value of the wrong length for a FIXED_LEN_BYTE_ARRAY column");
        store_->push_back(prev_);
        v.kind = value_kind::bytes;
        v.s = store_->back();
    }

    void byte_stream_split(value& v) {
        const std::size_t w = fixed_width();
        if (pos_ >= streams_) detail::corrupt("BYTE_STREAM_SPLIT values end before the page's values");
        char buf[16] = {};
        if (w <= sizeof buf) {
            for (std::size_t b = 0; b < w; ++b) buf[b] = data_[b * streams_ + pos_];
        }
        switch (type_.physical) {
            case physical_type::int32: v.kind = value_kind::int32; v.i = detail::load_le<std::int32_t>(buf); break;
            case physical_type::int64: v.kind = value_kind::int64; v.i = detail::load_le<std::int64_t>(buf); break;
            case physical_type::float32: v.kind = value_kind::float32; v.f = detail::load_le<float>(buf); break;
            case physical_type::float64: v.kind = value_kind::float64; v.d = detail::load_le<double>(buf); break;
            default: {
                // FIXED_LEN_BYTE_ARRAY: gather the bytes into the store.
                std::string s(w, '\0');
                for (std::size_t b = 0; b < w; ++b) s[b] = data_[b * streams_ + pos_];
                store_->push_back(std::move(s));
                v.kind = value_kind::bytes;
                v.s = store_->back();
            }
        }
        ++pos_;
    }

    encoding enc_ = encoding::plain;
    std::string_view data_;
    std::size_t pos_ = 0;
    std::uint64_t bit_ = 0;
    std::size_t streams_ = 0;
    leaf_type type_;
    const std::vector<value>* dict_ = nullptr;
    std::deque<std::string>* store_ = nullptr;
    rle_decoder rle_;
    detail::delta_binary_decoder delta_, prefix_;
    std::string prev_;
};

/// Decodes a PLAIN dictionary page of `count` values (views into `data`, which must outlive
/// the result). A count the bytes cannot hold is an error before anything is allocated.
inline std::vector<value> decode_dictionary(std::string_view data, const leaf_type& t, std::uint64_t count) {
    std::uint64_t min_size = 1;
    switch (t.physical) {
        case physical_type::boolean: min_size = 0; break;
        case physical_type::int32:
        case physical_type::float32:
        case physical_type::byte_array: min_size = 4; break;
        case physical_type::int64:
        case physical_type::float64: min_size = 8; break;
        case physical_type::int96: min_size = 12; break;
        case physical_type::fixed_len_byte_array: min_size = static_cast<std::uint64_t>(t.type_length); break;
    }
    if (min_size ? count > data.size() / min_size : count > data.size() * 8)
        detail::corrupt("dictionary page claims " + std::to_string(count) + " values in " +
                        std::to_string(data.size()) + " bytes");
    value_decoder d;
    d.start(encoding::plain, data, t, nullptr, nullptr);
    std::vector<value> out(static_cast<std::size_t>(count));
    for (value& v : out) d.next(v);
    return out;
}

}  // namespace sluice::parquet
