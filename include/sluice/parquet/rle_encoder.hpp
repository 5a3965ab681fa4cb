#pragma once
/// \file
/// The encoder of Parquet's RLE / bit-packed hybrid (Encodings.md, "RLE"), used for
/// definition and repetition levels and for dictionary indices. Output is a sequence of runs:
/// - an RLE run: varint `count << 1`, then the value in `ceil(bit_width / 8)` bytes (LE);
/// - a bit-packed run: varint `groups << 1 | 1`, then `groups * 8` values packed LSB first,
///   `bit_width` bits each (a final partial group is padded with zeros; the reader knows the
///   value count from the page header).
/// A group of 8 equal values starts an RLE run that lasts as long as the value repeats, so
/// the all-present / all-null levels of a typical column cost a few bytes per page.
///
/// The encoder holds at most 8 pending values and the bytes it produced; `bytes()` after
/// `finish()` is the encoded data without a length prefix (data page v1 levels add a 4-byte
/// length, v2 levels and dictionary indices do not; see `append_levels_v1`).

#include <cstddef>
#include <cstdint>
#include <string>

namespace sluice::parquet {

/// Bits needed to store values 0..max_value (0 for max_value == 0).
constexpr int bit_width_for(std::uint64_t max_value) noexcept {
    int w = 0;
    while (max_value) {
        ++w;
        max_value >>= 1;
    }
    return w;
}

/// Encodes unsigned values of a fixed bit width (0..32) in the RLE / bit-packed hybrid.
class rle_encoder {
public:
    explicit rle_encoder(int bit_width = 1) : bit_width_(bit_width) {}

    /// Appends one value (must fit in bit_width bits).
    void put(std::uint32_t v) {
        if (rle_count_ > 0) {
            if (v == rle_value_) {
                ++rle_count_;
                return;
            }
            flush_rle();
        }
        group_[group_size_++] = v;
        if (group_size_ == 8) end_group();
    }

    /// Appends `n` copies of `v` (fast path for long runs of levels).
    void put_repeated(std::uint32_t v, std::size_t n) {
        while (n > 0) {
            if (rle_count_ > 0 && v == rle_value_) {
                rle_count_ += n;
                return;
            }
            put(v);
            --n;
        }
    }

    /// Flushes pending values; after this, `bytes()` is complete. Idempotent.
    void finish() {
        if (rle_count_ > 0) flush_rle();
        if (group_size_ > 0) {
            bool all_equal = true;
            for (int i = 1; i < group_size_; ++i) all_equal = all_equal && group_[i] == group_[0];
            if (all_equal && literal_groups_ == 0) {
                rle_value_ = group_[0];
                rle_count_ = static_cast<std::size_t>(group_size_);
                group_size_ = 0;
                flush_rle();
            } else {
                for (int i = group_size_; i < 8; ++i) group_[i] = 0;
                group_size_ = 8;
                pack_group();
            }
        }
        flush_literals();
    }

    /// The encoded bytes (complete after `finish()`).
    const std::string& bytes() const noexcept { return out_; }
    /// Bytes produced so far plus an upper bound for what is pending (for page sizing).
    std::size_t size_estimate() const noexcept {
        return out_.size() + literals_.size() + static_cast<std::size_t>(bit_width_) + 12;
    }
    int bit_width() const noexcept { return bit_width_; }

    /// Starts over with no output (keeps the allocation).
    void clear() {
        out_.clear();
        literals_.clear();
        literal_groups_ = 0;
        group_size_ = 0;
        rle_count_ = 0;
    }

private:
    static void varint(std::string& out, std::uint64_t v) {
        while (v >= 0x80) {
            out.push_back(static_cast<char>((v & 0x7F) | 0x80));
            v >>= 7;
        }
        out.push_back(static_cast<char>(v));
    }
    void end_group() {
        bool all_equal = true;
        for (int i = 1; i < 8; ++i) all_equal = all_equal && group_[i] == group_[0];
        if (all_equal) {
            flush_literals();
            rle_value_ = group_[0];
            rle_count_ = 8;
            group_size_ = 0;
            return;
        }
        pack_group();
        // A run header byte holds up to 63 groups; longer runs would need a 2-byte varint,
        // which is legal, but flushing here also bounds the buffered bytes.
        if (literal_groups_ == 63) flush_literals();
    }
    void pack_group() {
        std::uint64_t acc = 0;
        int bits = 0;
        for (int i = 0; i < 8; ++i) {
            acc |= std::uint64_t{group_[i]} << bits;
            bits += bit_width_;
            while (bits >= 8) {
                literals_.push_back(static_cast<char>(acc & 0xFF));
                acc >>= 8;
                bits -= 8;
            }
        }
        // 8 * bit_width bits is always a whole number of bytes.
        ++literal_groups_;
        group_size_ = 0;
    }
    void flush_literals() {
        if (literal_groups_ == 0) return;
        varint(out_, (std::uint64_t{literal_groups_} << 1) | 1);
        out_ += literals_;
        literals_.clear();
        literal_groups_ = 0;
    }
    void flush_rle() {
        varint(out_, std::uint64_t{rle_count_} << 1);
        std::uint32_t v = rle_value_;
        for (int b = 0; b < (bit_width_ + 7) / 8; ++b) {
            out_.push_back(static_cast<char>(v & 0xFF));
            v >>= 8;
        }
        rle_count_ = 0;
    }

    int bit_width_;
    std::string out_;
    std::string literals_;
    std::uint32_t literal_groups_ = 0;
    std::uint32_t group_[8] = {};
    int group_size_ = 0;
    std::uint32_t rle_value_ = 0;
    std::size_t rle_count_ = 0;
};

/// Appends levels as data page v1 stores them: a 4-byte little-endian length, then the runs.
inline void append_levels_v1(std::string& out, const rle_encoder& levels) {
    const auto n = static_cast<std::uint32_t>(levels.bytes().size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
    out += levels.bytes();
}

}  // namespace sluice::parquet
