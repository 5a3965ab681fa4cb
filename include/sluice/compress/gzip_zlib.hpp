#pragma once
/// \file
/// gzip through zlib: `sluice::gzip::zlib_compressor` (streaming deflate with gzip framing) and
/// `sluice::gzip::zlib_decompressor` (streaming inflate of one or more concatenated members).
/// zlib is the portable baseline; gzip.hpp picks a faster compressor when one is available.
/// Link: zlib (CMake target sluice::gzip).

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../core/memory_budget.hpp"
#include "gzip_members.hpp"

namespace sluice::gzip {

namespace detail {

/// zlib counts in `uInt` (32 bits): larger buffers are fed in slices of at most this.
inline constexpr std::size_t zlib_max_slice = std::size_t{1} << 30;

inline uInt zlib_clamp(std::size_t n) noexcept {
    return static_cast<uInt>(std::min(n, zlib_max_slice));
}
inline Bytef* zlib_bytes(const char* p) noexcept {
    // zlib's next_in is not const unless ZLIB_CONST is defined before <zlib.h>, which we
    // cannot rely on; zlib never writes through it.
    return reinterpret_cast<Bytef*>(const_cast<char*>(p));
}

/// Ends a z_stream with the matching *End function and frees it. z_stream holds a
/// pointer back to itself (zlib checks `state->strm == strm`), so it lives on the heap
/// and codecs own it through this deleter, which keeps them cheaply movable.
struct deflate_end {
    void operator()(z_stream* z) const noexcept {
        deflateEnd(z);
        delete z;
    }
};
struct inflate_end {
    void operator()(z_stream* z) const noexcept {
        inflateEnd(z);
        delete z;
    }
};

/// The error zlib's init functions report, as a sluice error.
[[noreturn]] inline void zlib_init_failed(int rc, const char* what) {
    if (rc == Z_MEM_ERROR)
        throw error(errc::out_of_memory, "gzip", std::string(what) + ": out of memory");
    throw error(errc::usage, "gzip",
                std::string(what) + " failed (zlib error " + std::to_string(rc) + ")");
}

/// Starts a deflate stream that writes one gzip member: windowBits 15 + 16 (a 32 KiB
/// window wrapped in a gzip header and CRC-32 trailer), memLevel 8 (zlib's and gzip(1)'s
/// default), `level` clamped to 0-9. The one place both zlib compressors (streaming and
/// block-parallel) set a stream up, so they report a failure the same way.
inline void gzip_deflate_init(z_stream& z, int level) {
    int rc = deflateInit2(&z, std::clamp(level, 0, 9), Z_DEFLATED, 15 + 16, 8,
                          Z_DEFAULT_STRATEGY);
    if (rc != Z_OK)
        zlib_init_failed(rc, "deflateInit2");
}

}  // namespace detail

/// Streaming gzip compression with zlib (`deflateInit2`, window bits 15 + 16 for the gzip
/// header and trailer). The output is one gzip member. Models `sluice::codec`.
class zlib_compressor {
public:
    /// `level`: 0 (stored) to 9 (smallest), as gzip(1); values outside are clamped.
    explicit zlib_compressor(int level = 6) {
        auto z = std::make_unique<z_stream>();
        detail::gzip_deflate_init(*z, level);
        z_.reset(z.release());
    }

    /// Reports deflate's state to a run's memory plan: windowBits 15 and memLevel 8 make
    /// zlib allocate 2^17 + 2^18 bytes plus its stream state (zlib's zconf.h formula).
    void plan_memory(memory_plan& plan, std::string_view stage) const {
        plan.hold(stage, (std::size_t{1} << 17) + (std::size_t{1} << 18) + 8 * 1024,
                  "deflate window and hash tables");
    }

    /// Consumes a prefix of `in`; compressed bytes go into `out`'s spare capacity.
    std::size_t process(std::string_view in, chunk& out) {
        if (in.empty() || out.spare() == 0)
            return 0;
        z_stream& z = *z_;
        const uInt avail_in = detail::zlib_clamp(in.size());
        const uInt avail_out = detail::zlib_clamp(out.spare());
        z.next_in = detail::zlib_bytes(in.data());
        z.avail_in = avail_in;
        z.next_out = reinterpret_cast<Bytef*>(out.tail());
        z.avail_out = avail_out;
        // Z_OK or Z_BUF_ERROR (nothing to do): with input and output space deflate always
        // either takes input or flushes pending output, so the stage makes progress.
        int rc = deflate(&z, Z_NO_FLUSH);
        if (rc == Z_STREAM_ERROR)
            throw error(errc::failed, "gzip", "deflate: inconsistent stream state");
        out.commit(avail_out - z.avail_out);
        return avail_in - z.avail_in;
    }

    /// Writes the last block and the gzip trailer; true once they are entirely out.
    bool finish(chunk& out) {
        if (finished_)
            return true;
        z_stream& z = *z_;
        while (out.spare() != 0) {
            const uInt avail_out = detail::zlib_clamp(out.spare());
            z.next_in = nullptr;
            z.avail_in = 0;
            z.next_out = reinterpret_cast<Bytef*>(out.tail());
            z.avail_out = avail_out;
            int rc = deflate(&z, Z_FINISH);
            out.commit(avail_out - z.avail_out);
            if (rc == Z_STREAM_END)
                return finished_ = true;
            if (rc == Z_STREAM_ERROR)
                throw error(errc::failed, "gzip", "deflate: inconsistent stream state");
        }
        return false;
    }

private:
    std::unique_ptr<z_stream, detail::deflate_end> z_;
    bool finished_ = false;
};

/// Streaming gzip decompression with zlib. Reads one or more concatenated gzip members
/// (RFC 1952 section 2.2; what `cat a.gz b.gz`, pigz and block-parallel compressors produce)
/// and yields their contents back to back. Models `sluice::codec`.
///
/// Errors are `sluice::error(errc::bad_input, "gzip", ..., position{.byte_offset})` where
/// the offset counts compressed bytes from the start of the stream: a corrupt member (bad
/// deflate data, CRC or length mismatch), bytes after a member that do not start another
/// one, a stream that ends inside a member (truncated), and an empty stream.
///
/// Memory is bounded: zlib's 32 KiB window plus its tables; output only ever goes into the
/// caller's spare capacity, so a decompression bomb costs time, not memory.
class zlib_decompressor : public detail::member_reader<zlib_decompressor> {
public:
    zlib_decompressor() {
        auto z = std::make_unique<z_stream>();
        // 15 + 16: gzip wrapper only. (15 + 32 would also accept zlib streams, which are not
        // gzip; the magic check between members rejects them anyway.)
        int rc = inflateInit2(z.get(), 15 + 16);
        if (rc != Z_OK)
            detail::zlib_init_failed(rc, "inflateInit2");
        z_.reset(z.release());
    }

private:
    friend class detail::member_reader<zlib_decompressor>;

    void restart() { inflateReset(z_.get()); }
    detail::inflate_step step(std::string_view in, chunk& out, std::uint64_t at) {
        z_stream& z = *z_;
        const uInt avail_in = detail::zlib_clamp(in.size());
        const uInt avail_out = detail::zlib_clamp(out.spare());
        z.next_in = in.empty() ? nullptr : detail::zlib_bytes(in.data());
        z.avail_in = avail_in;
        z.next_out = reinterpret_cast<Bytef*>(out.tail());
        z.avail_out = avail_out;
        const int rc = inflate(&z, Z_NO_FLUSH);
        out.commit(avail_out - z.avail_out);
        const std::size_t took = avail_in - z.avail_in;
        // Z_BUF_ERROR: no progress possible (no room or no input), not an error.
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) fail_zlib(rc, at + took);
        return {took, rc == Z_STREAM_END};
    }
    [[noreturn]] void fail_zlib(int rc, std::uint64_t offset) const {
        if (rc == Z_MEM_ERROR)
            throw error(errc::out_of_memory, "gzip", "inflate: out of memory");
        std::string msg = "corrupt gzip data";
        if (z_->msg) {
            msg += ": ";
            msg += z_->msg;
        }
        fail(std::move(msg), offset);
    }

    std::unique_ptr<z_stream, detail::inflate_end> z_;
};

}  // namespace sluice::gzip
