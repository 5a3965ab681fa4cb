#pragma once
/// \file
/// Decoding Parquet's RLE / bit-packed hybrid encoding (definition and repetition levels,
/// dictionary indexes, RLE booleans) for untrusted bytes.
///
/// The encoding is a sequence of runs, each starting with a ULEB128 header: an even header
/// `h` is an RLE run of `h >> 1` copies of one value stored in ceil(bit_width / 8) bytes
/// little-endian; an odd header is a bit-packed run of `(h >> 1) * 8` values packed LSB
/// first, `bit_width` bits each. Decoding is lazy (a run header is read when its values are
/// wanted, nothing is allocated), so a run that claims billions of values costs nothing
/// until they are asked for; every read is bounds-checked against the buffer.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "../core/error.hpp"

namespace sluice::parquet {

namespace detail {

/// `bad_input` from stage "parquet" with `msg` (callers add the column, row group, page).
[[noreturn]] inline void corrupt(std::string msg) {
    throw error(errc::bad_input, "parquet", std::move(msg));
}

/// Reads a ULEB128 varint at `p` (advanced) below `end`; false when it runs past `end` or
/// does not fit in 64 bits.
inline bool read_uleb128(const unsigned char*& p, const unsigned char* end, std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p == end) return false;
        const unsigned char b = *p++;
        v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
        if (!(b & 0x80)) return shift < 63 || (b >> 1) == 0;
    }
    return false;
}

/// `bits` (0..64) bits starting at bit `bit` of `data` (LSB first), reading no byte at or
/// past `size`: the caller checks that the value lies inside.
inline std::uint64_t read_bits(const unsigned char* data, std::size_t size, std::uint64_t bit,
                               int bits) noexcept {
    if (bits == 0) return 0;
    const std::size_t first = static_cast<std::size_t>(bit >> 3);
    const int skip = static_cast<int>(bit & 7);
    const std::size_t need = static_cast<std::size_t>((skip + bits + 7) >> 3);  // <= 9
    unsigned char buf[16] = {};
    std::memcpy(buf, data + first, std::min(need, size - first));
    std::uint64_t lo;
    std::memcpy(&lo, buf, 8);  // little-endian hosts only (x86-64, aarch64)
    std::uint64_t v = lo >> skip;
    if (skip + bits > 64) v |= static_cast<std::uint64_t>(buf[8]) << (64 - skip);
    return bits == 64 ? v : v & ((std::uint64_t{1} << bits) - 1);
}

}  // namespace detail

/// Lazily decodes an RLE / bit-packed hybrid run sequence of `bit_width`-bit values
/// (0..32). The bytes must outlive the decoder.
class rle_decoder {
public:
    rle_decoder() = default;
    /// `data`: the runs (without any length prefix); `bit_width`: 0..32, else bad_input.
    rle_decoder(std::string_view data, int bit_width)
        : p_(reinterpret_cast<const unsigned char*>(data.data())), end_(p_ + data.size()),
          width_(bit_width) {
        if (bit_width < 0 || bit_width > 32)
            detail::corrupt("bit width " + std::to_string(bit_width) + " is out of range (0..32)");
    }

    /// Decodes up to `n` values into `out`; returns how many (fewer than `n` only when the
    /// data ends). Throws bad_input on a run header or RLE value cut off by the end.
    std::size_t get_batch(std::uint32_t* out, std::size_t n) {
        std::size_t done = 0;
        while (done < n) {
            if (left_ == 0 && !next_run()) break;
            const std::size_t take =
                static_cast<std::size_t>(std::min<std::uint64_t>(left_, n - done));
            if (rle_) {
                std::fill_n(out + done, take, rle_value_);
            } else {
                for (std::size_t i = 0; i < take; ++i) {
                    out[done + i] = static_cast<std::uint32_t>(
                        detail::read_bits(run_, run_bytes_, bit_, width_));
                    bit_ += static_cast<std::uint64_t>(width_);
                }
            }
            done += take;
            left_ -= take;
        }
        return done;
    }

    /// One value; false at the end of the data.
    bool next(std::uint32_t& v) { return get_batch(&v, 1) == 1; }

private:
    /// Starts the next run; false at the end of the data.
    bool next_run() {
        while (p_ != end_) {
            std::uint64_t h;
            if (!detail::read_uleb128(p_, end_, h)) detail::corrupt("RLE run header runs past the end");
            if (h & 1) {
                // Bit-packed: (h >> 1) groups of 8 values. The last run of a page may be cut
                // short by writers that stop at the last value: decode what is there.
                const std::uint64_t groups = h >> 1;
                const std::uint64_t want_bytes = groups * static_cast<std::uint64_t>(width_);
                const std::size_t avail = static_cast<std::size_t>(end_ - p_);
                run_ = p_;
                run_bytes_ = static_cast<std::size_t>(std::min<std::uint64_t>(want_bytes, avail));
                left_ = width_ == 0 ? groups * 8 : (run_bytes_ * 8) / static_cast<std::uint64_t>(width_);
                left_ = std::min(left_, groups * 8);
                p_ += run_bytes_;
                bit_ = 0;
                rle_ = false;
            } else {
                left_ = h >> 1;
                const std::size_t bytes = static_cast<std::size_t>((width_ + 7) / 8);
                if (static_cast<std::size_t>(end_ - p_) < bytes)
                    detail::corrupt("RLE run value runs past the end");
                std::uint32_t v = 0;
                for (std::size_t i = 0; i < bytes; ++i) v |= static_cast<std::uint32_t>(p_[i]) << (8 * i);
                p_ += bytes;
                if (width_ < 32 && (v >> width_) != 0)
                    detail::corrupt("RLE run value " + std::to_string(v) + " does not fit in " +
                                    std::to_string(width_) + " bits");
                rle_value_ = v;
                rle_ = true;
            }
            if (left_ != 0) return true;
        }
        return false;
    }

    const unsigned char* p_ = nullptr;
    const unsigned char* end_ = nullptr;
    int width_ = 0;
    bool rle_ = false;
    std::uint32_t rle_value_ = 0;
    std::uint64_t left_ = 0;  // values left in the current run
    const unsigned char* run_ = nullptr;  // bit-packed run bytes
    std::size_t run_bytes_ = 0;
    std::uint64_t bit_ = 0;  // next bit in the bit-packed run
};

}  // namespace sluice::parquet
