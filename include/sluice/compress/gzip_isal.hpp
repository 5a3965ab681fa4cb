#pragma once
/// \file
/// gzip through Intel ISA-L (igzip): `sluice::gzip::isal_compressor` (streaming `isal_deflate`
/// with a gzip header and trailer) and `sluice::gzip::isal_decompressor` (streaming
/// `isal_inflate`, multi-member). igzip is the fastest deflate on x86-64, but its four
/// levels trade ratio for speed differently from zlib's: even its level 3 writes larger
/// output than `gzip -6` on text, which is why gzip.hpp does not make it the default.
/// Link: ISA-L (CMake target sluice::gzip defines SLUICE_HAVE_ISAL when found).

#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "gzip_members.hpp"

namespace sluice::gzip {

namespace detail {

/// ISA-L counts in 32-bit fields: larger buffers are fed in slices of at most this.
inline constexpr std::size_t isal_max_slice = std::size_t{1} << 30;

inline std::uint32_t isal_clamp(std::size_t n) noexcept {
    return static_cast<std::uint32_t>(std::min(n, isal_max_slice));
}
inline std::uint8_t* isal_bytes(const char* p) noexcept {
    // ISA-L's next_in is not const; it never writes through it.
    return reinterpret_cast<std::uint8_t*>(const_cast<char*>(p));
}

/// Maps a gzip(1)-style level 0-9 onto igzip's 0-3. On a CSV corpus (benchmarks/compress.cpp,
/// docs/benchmarks.md): igzip 0 is the fastest and larger than zlib -1; igzip 1 already
/// beats zlib -1 on size; igzip 3 is its best, still larger than zlib -6. So: 0 -> 0,
/// 1-2 -> 1, 3-5 -> 2, 6-9 -> 3.
constexpr std::uint32_t isal_level(int level) noexcept {
    if (level <= 0)
        return 0;
    if (level <= 2)
        return 1;
    if (level <= 5)
        return 2;
    return 3;
}
/// igzip's suggested work-buffer size for its level (ISAL_DEF_LVLx_DEFAULT).
constexpr std::size_t isal_level_buf_size(std::uint32_t level) noexcept {
    switch (level) {
        case 1:
            return ISAL_DEF_LVL1_DEFAULT;
        case 2:
            return ISAL_DEF_LVL2_DEFAULT;
        case 3:
            return ISAL_DEF_LVL3_DEFAULT;
        default:
            return 0;
    }
}

/// The deflate stream and its level buffer. Kept on the heap so codecs move cheaply
/// (and because the stream is large, about 0.3 MiB with its buffers).
struct isal_deflate_state {
    isal_zstream zs{};
    std::unique_ptr<std::uint8_t[]> level_buf;
};

}  // namespace detail

/// Streaming gzip compression with ISA-L igzip. Models `sluice::codec`.
/// Levels: see `detail::isal_level` (gzip-style 0-9 mapped onto igzip's 0-3);
/// `isal_compressor::native(n)` takes an igzip level 0-3 directly.
class isal_compressor {
public:
    /// `level`: gzip(1)-style 0-9, mapped onto igzip's four levels (6-9 -> igzip 3).
    explicit isal_compressor(int level = 6) : isal_compressor(native_tag{}, detail::isal_level(level)) {}

    /// A compressor at igzip's own level 0-3 (clamped).
    static isal_compressor native(int igzip_level) {
        return isal_compressor(native_tag{},
                            static_cast<std::uint32_t>(std::clamp(igzip_level, 0, 3)));
    }

    /// Consumes a prefix of `in`; compressed bytes go into `out`'s spare capacity.
    std::size_t process(std::string_view in, chunk& out) {
        if (in.empty() || out.spare() == 0)
            return 0;
        isal_zstream& zs = s_->zs;
        const std::uint32_t avail_in = detail::isal_clamp(in.size());
        const std::uint32_t avail_out = detail::isal_clamp(out.spare());
        zs.next_in = detail::isal_bytes(in.data());
        zs.avail_in = avail_in;
        zs.next_out = reinterpret_cast<std::uint8_t*>(out.tail());
        zs.avail_out = avail_out;
        zs.end_of_stream = 0;
        zs.flush = NO_FLUSH;
        check(isal_deflate(&zs));
        out.commit(avail_out - zs.avail_out);
        return avail_in - zs.avail_in;
    }

    /// Writes the last block and the gzip trailer; true once they are entirely out.
    bool finish(chunk& out) {
        isal_zstream& zs = s_->zs;
        while (zs.internal_state.state != ZSTATE_END) {
            if (out.spare() == 0)
                return false;
            const std::uint32_t avail_out = detail::isal_clamp(out.spare());
            zs.next_in = nullptr;
            zs.avail_in = 0;
            zs.next_out = reinterpret_cast<std::uint8_t*>(out.tail());
            zs.avail_out = avail_out;
            zs.end_of_stream = 1;
            check(isal_deflate(&zs));
            out.commit(avail_out - zs.avail_out);
            if (zs.avail_out == avail_out && zs.internal_state.state != ZSTATE_END)
                throw error(errc::failed, "gzip", "isal_deflate made no progress at end of stream");
        }
        return true;
    }

private:
    struct native_tag {};
    isal_compressor(native_tag, std::uint32_t level)
        : s_(std::make_unique<detail::isal_deflate_state>()) {
        isal_deflate_init(&s_->zs);
        s_->zs.gzip_flag = IGZIP_GZIP;
        s_->zs.level = level;
        if (const std::size_t n = detail::isal_level_buf_size(level)) {
            s_->level_buf = std::make_unique_for_overwrite<std::uint8_t[]>(n);
            s_->zs.level_buf = s_->level_buf.get();
            s_->zs.level_buf_size = static_cast<std::uint32_t>(n);
        }
    }
    static void check(int rc) {
        if (rc != COMP_OK)
            throw error(errc::failed, "gzip",
                        "isal_deflate failed (error " + std::to_string(rc) + ")");
    }

    std::unique_ptr<detail::isal_deflate_state> s_;
};

/// Streaming gzip decompression with ISA-L igzip (`isal_inflate`), about twice as fast as
/// zlib's inflate. Same behaviour and errors as `zlib_decompressor`: multi-member input,
/// `bad_input` with the compressed byte offset for corrupt, truncated, trailing-garbage and
/// empty input, output only into the caller's spare capacity. Models `sluice::codec`.
class isal_decompressor : public detail::member_reader<isal_decompressor> {
public:
    isal_decompressor() : s_(std::make_unique<inflate_state>()) { restart(); }

private:
    friend class detail::member_reader<isal_decompressor>;

    void restart() noexcept {
        isal_inflate_init(s_.get());
        // Parse the gzip header, check the CRC-32 and ISIZE trailer.
        s_->crc_flag = ISAL_GZIP;
    }
    /// One isal_inflate call; `at` is the compressed offset of `in` (for errors).
    detail::inflate_step step(std::string_view in, chunk& out, std::uint64_t at) {
        inflate_state& st = *s_;
        const std::uint32_t avail_in = detail::isal_clamp(in.size());
        const std::uint32_t avail_out = detail::isal_clamp(out.spare());
        st.next_in = in.empty() ? nullptr : detail::isal_bytes(in.data());
        st.avail_in = avail_in;
        st.next_out = reinterpret_cast<std::uint8_t*>(out.tail());
        st.avail_out = avail_out;
        const int rc = isal_inflate(&st);
        out.commit(avail_out - st.avail_out);
        const std::size_t took = avail_in - st.avail_in;
        if (rc < 0)
            fail(std::string("corrupt gzip data: ") + describe(rc), at + took);
        return {took, st.block_state == ISAL_BLOCK_FINISH};
    }
    static const char* describe(int rc) noexcept {
        switch (rc) {
            case ISAL_INVALID_BLOCK:
                return "invalid deflate block";
            case ISAL_INVALID_SYMBOL:
                return "invalid deflate symbol";
            case ISAL_INVALID_LOOKBACK:
                return "invalid distance too far back";
            case ISAL_INVALID_WRAPPER:
                return "invalid gzip header";
            case ISAL_UNSUPPORTED_METHOD:
                return "unsupported compression method";
            case ISAL_INCORRECT_CHECKSUM:
                return "incorrect checksum";
            default:
                return "isal_inflate error";
        }
    }
    std::unique_ptr<inflate_state> s_;
};

}  // namespace sluice::gzip
