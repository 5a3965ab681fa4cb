#pragma once
/// \file
/// gzip through libdeflate: `sluice::gzip::libdeflate_block_compressor`. libdeflate compresses whole
/// buffers only (no streaming API), faster than zlib and with smaller output at the same
/// level (docs/benchmarks.md), so the compressor cuts the stream into blocks and writes each block as
/// an independent gzip member. Concatenated members are one valid gzip file (RFC 1952
/// section 2.2): gzip(1), zlib's inflate in sluice::gzip::zlib_decompressor, pigz and Python's
/// gzip module all read them as one stream.
/// Link: libdeflate (CMake target sluice::gzip defines SLUICE_HAVE_LIBDEFLATE when found).

#include <libdeflate.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../core/memory_budget.hpp"

namespace sluice::gzip {

namespace detail {

/// What a libdeflate compressor allocates at most (its hash tables and match finder: under
/// 1 MiB at every level, measured with libdeflate 1.14-1.19).
inline constexpr std::size_t libdeflate_tables_bytes = std::size_t{1} << 20;

struct libdeflate_compressor_free {
    void operator()(libdeflate_compressor* c) const noexcept { libdeflate_free_compressor(c); }
};
/// An owned libdeflate compressor (about 0.5-1 MiB of tables, depending on the level).
using libdeflate_compressor_ptr =
    std::unique_ptr<libdeflate_compressor, libdeflate_compressor_free>;

inline libdeflate_compressor_ptr make_libdeflate_compressor(int level) {
    // libdeflate levels run 0 (stored) to 12; 1-9 mean what they mean to gzip(1).
    libdeflate_compressor_ptr c(libdeflate_alloc_compressor(std::clamp(level, 0, 12)));
    if (!c)
        throw error(errc::out_of_memory, "gzip", "libdeflate_alloc_compressor failed");
    return c;
}

/// Compresses `in` into one complete gzip member appended to `out` (grown as needed).
/// The building block of `libdeflate_block_compressor`, and of block-parallel gzip: members do not
/// depend on one another, so blocks can be compressed on any thread and joined in order.
inline void libdeflate_gzip_member(libdeflate_compressor* c, std::string_view in, chunk& out) {
    const std::size_t bound = libdeflate_gzip_compress_bound(c, in.size());
    out.reserve_spare(bound);
    const std::size_t n =
        libdeflate_gzip_compress(c, in.data(), in.size(), out.tail(), out.spare());
    // With the bound's worth of space libdeflate cannot run out; 0 would be a library bug.
    if (n == 0)
        throw error(errc::failed, "gzip", "libdeflate_gzip_compress: output did not fit its bound");
    out.commit(n);
}

}  // namespace detail

/// gzip compression with libdeflate, one gzip member per block of input. Models
/// `sluice::codec`.
///
/// Block size trades memory against size: each member starts with an empty 32 KiB window
/// and costs 18 bytes of header and trailer; the default 1 MiB blocks cost well under 1% of
/// output over a single member and stay smaller than `gzip -6`'s output (the figures per
/// block size are in docs/benchmarks.md, "Formats and codecs"). Memory is one block of input
/// plus one compressed block (about 2 MiB) and the compressor's tables.
class libdeflate_block_compressor {
public:
    /// Input bytes per gzip member by default.
    static constexpr std::size_t default_block_size = std::size_t{1} << 20;

    /// `level`: 0 (stored) to 12 (libdeflate's slowest); 1-9 are comparable with gzip(1).
    /// `block_size`: input bytes per member (at least 64 KiB is advisable; min 1).
    explicit libdeflate_block_compressor(int level = 6, std::size_t block_size = default_block_size)
        : c_(detail::make_libdeflate_compressor(level)),
          block_size_(std::max<std::size_t>(block_size, 1)) {}

    /// Buffers input up to a block; a full block is compressed and copied out as space allows.
    std::size_t process(std::string_view in, chunk& out) {
        if (!drain(out))
            return 0;  // output pending and `out` is full (or was made full)
        if (in.empty() || out.spare() == 0)
            return 0;
        if (block_.size() == 0 && in.size() >= block_size_) {
            // A whole block is already contiguous in the input: compress it in place.
            emit(in.substr(0, block_size_));
            drain(out);
            return block_size_;
        }
        block_.reserve(block_size_);
        const std::size_t n = std::min(in.size(), block_size_ - block_.size());
        block_.append(in.substr(0, n));
        if (block_.size() == block_size_) {
            emit(block_.view());
            block_.clear();
            drain(out);
        }
        return n;
    }

    /// Compresses the last, partial block (an empty member for empty input, so that the
    /// output is always a valid gzip file) and copies out what is left.
    bool finish(chunk& out) {
        if (!finished_) {
            if (block_.size() != 0 || members_ == 0)
                emit(block_.view());
            block_ = chunk();  // release the input buffer early
            finished_ = true;
        }
        return drain(out);
    }

    /// gzip members written so far.
    std::size_t members() const noexcept { return members_; }

    /// Reports one block of input, its compressed form and the compressor's tables to a
    /// run's memory plan.
    void plan_memory(memory_plan& plan, std::string_view stage) const {
        plan.hold(stage, 2 * block_size_ + detail::libdeflate_tables_bytes,
                  "gzip block in and out, libdeflate tables");
    }

private:
    void emit(std::string_view data) {
        packed_.clear();
        packed_pos_ = 0;
        detail::libdeflate_gzip_member(c_.get(), data, packed_);
        ++members_;
    }
    /// Copies pending compressed bytes into `out`; true when none are left.
    bool drain(chunk& out) {
        const std::size_t left = packed_.size() - packed_pos_;
        if (left == 0)
            return true;
        const std::size_t n = std::min(left, out.spare());
        if (n)
            std::memcpy(out.tail(), packed_.data() + packed_pos_, n);
        out.commit(n);
        packed_pos_ += n;
        return packed_pos_ == packed_.size();
    }

    detail::libdeflate_compressor_ptr c_;
    std::size_t block_size_;
    chunk block_;   // input waiting for a full block
    chunk packed_;  // the last compressed member, copied out from packed_pos_
    std::size_t packed_pos_ = 0;
    std::size_t members_ = 0;
    bool finished_ = false;
};

}  // namespace sluice::gzip
