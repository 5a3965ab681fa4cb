#pragma once
/// \file
/// `bytes | sluice::auto_decompress()`: looks at the first bytes of the stream and
/// decompresses gzip or zstd, or passes anything else through unchanged - so a reader
/// handles `data.csv`, `data.csv.gz` and a misnamed `data.csv.zst` alike. Detection is by
/// magic number (see format.hpp), never by file name.
/// Link: sluice::compress (zlib, libzstd; ISA-L when found).

#include <cstddef>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "../adaptors/compress.hpp"
#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "format.hpp"
#include "gzip.hpp"
#include "identity.hpp"
#include "zstd.hpp"

namespace sluice {

namespace compression {

// The decoder holds `gzip::decoder`, whose type depends on the backend macros, so it lives
// in gzip.hpp's selection namespace (see the ODR note there).
inline namespace SLUICE_GZIP_SELECTION_NS {

/// A codec that decides what it decodes from the stream's first bytes: gzip (the default
/// gzip decoder), zstd, or identity for anything else. Models `sluice::codec`; the
/// decision costs one `std::visit` per chunk, not per byte.
///
/// Until `detect_bytes` bytes have arrived it holds them back (at most 4 bytes), so a
/// stream whose first chunk is tiny is still detected correctly; a stream shorter than a
/// magic number is passed through as `none`.
class auto_decoder {
public:
    /// The format chosen, or `none` while undecided (see `decided()`).
    format detected() const noexcept { return format_; }
    /// True once the first bytes have been seen (or the stream ended).
    bool decided() const noexcept { return !std::holds_alternative<std::monostate>(codec_); }

    /// Consumes a prefix of `in`; decoded bytes go into `out`'s spare capacity.
    std::size_t process(std::string_view in, chunk& out) {
        if (!decided()) {
            if (held_ == 0 && in.size() >= detect_bytes) {
                decide(in);
            } else {
                // Too short to tell: keep the bytes (consumed) and look again later.
                const std::size_t n = std::min(in.size(), detect_bytes - held_);
                std::memcpy(head_ + held_, in.data(), n);
                held_ += n;
                if (held_ == detect_bytes)
                    decide({head_, held_});
                return n;
            }
        }
        if (!replay(out))
            return 0;  // made progress on the held-back bytes
        return std::visit([&](auto& c) -> std::size_t { return run(c, in, out); }, codec_);
    }

    /// Flushes the chosen decoder (deciding now for a stream shorter than a magic number).
    bool finish(chunk& out) {
        if (!decided())
            decide({head_, held_});
        if (!replay(out))
            return false;
        return std::visit([&](auto& c) -> bool { return end(c, out); }, codec_);
    }

private:
    void decide(std::string_view first) {
        format_ = detect(first);
        switch (format_) {
            case format::gzip:
                codec_.emplace<gzip::decoder>();
                break;
            case format::zstd:
                codec_.emplace<zstd::decoder>();
                break;
            case format::none:
                codec_.emplace<identity_codec>();
                break;
        }
    }
    /// Feeds the held-back bytes to the chosen codec; true when none are left, false only
    /// when `out` is full.
    bool replay(chunk& out) {
        while (replayed_ < held_) {
            if (out.spare() == 0)
                return false;
            const std::size_t before = out.size();
            const std::size_t n = std::visit(
                [&](auto& c) -> std::size_t {
                    return run(c, std::string_view(head_ + replayed_, held_ - replayed_), out);
                },
                codec_);
            replayed_ += n;
            if (n == 0 && out.size() == before)
                throw error(errc::failed, "auto_decompress", "codec made no progress");
        }
        return true;
    }
    template <class C>
    static std::size_t run(C& c, std::string_view in, chunk& out) {
        if constexpr (std::is_same_v<C, std::monostate>)
            return 0;
        else
            return c.process(in, out);
    }
    template <class C>
    static bool end(C& c, chunk& out) {
        if constexpr (std::is_same_v<C, std::monostate>)
            return true;
        else
            return c.finish(out);
    }

    std::variant<std::monostate, identity_codec, gzip::decoder, zstd::decoder> codec_;
    format format_ = format::none;
    char head_[detect_bytes] = {};
    std::size_t held_ = 0;      // bytes in head_
    std::size_t replayed_ = 0;  // of those, handed to the codec
};

/// The partial call of `auto_decompress`.
struct auto_decompress_fn {
    /// `bytes | auto_decompress(options)`: decodes gzip/zstd found by magic bytes.
    auto operator()(codec_options o = {}) const { return decompress(auto_decoder{}, o); }
    /// `auto_decompress(bytes, options)`.
    template <class S>
    requires pipeable_input<S>
    auto operator()(S&& s, codec_options o = {}) const {
        return decompress(std::forward<S>(s), auto_decoder{}, o);
    }
};

}  // namespace SLUICE_GZIP_SELECTION_NS

}  // namespace compression

// The object's type depends on the backend selection too, hence the same inline namespace.
inline namespace SLUICE_GZIP_SELECTION_NS {
/// `bytes | sluice::auto_decompress()`: gzip or zstd input (by magic number) is decoded,
/// anything else passes through unchanged. Chunks are at most `codec_options::chunk_size`.
inline constexpr compression::auto_decompress_fn auto_decompress{};
}  // namespace SLUICE_GZIP_SELECTION_NS

}  // namespace sluice
