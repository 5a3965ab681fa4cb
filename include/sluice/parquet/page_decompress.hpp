#pragma once
/// \file
/// Decompressing one Parquet page for the reader: zstd and gzip through sluice's streaming
/// codecs (compress/zstd.hpp, compress/gzip.hpp), Snappy's raw block format through
/// libsnappy, UNCOMPRESSED as it is. The output is bounded by the size the page header
/// announces: more output, or less, is a `bad_input` error, so a page cannot make the
/// reader allocate beyond what its (checked) header says.

#include <snappy.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "../compress/any_codec.hpp"
#include "../compress/gzip.hpp"
#include "../compress/zstd.hpp"
#include "../core/chunk.hpp"
#include "metadata.hpp"
#include "rle_decoder.hpp"

namespace sluice::parquet {

/// "UNCOMPRESSED", "SNAPPY", ... for messages.
inline std::string_view to_string(compression_codec c) noexcept {
    switch (c) {
        case compression_codec::uncompressed: return "UNCOMPRESSED";
        case compression_codec::snappy: return "SNAPPY";
        case compression_codec::gzip: return "GZIP";
        case compression_codec::lzo: return "LZO";
        case compression_codec::brotli: return "BROTLI";
        case compression_codec::lz4: return "LZ4";
        case compression_codec::zstd: return "ZSTD";
        case compression_codec::lz4_raw: return "LZ4_RAW";
    }
    return "unknown";
}

/// Whether the reader can decompress pages of codec `c`.
constexpr bool reader_supports(compression_codec c) noexcept {
    return c == compression_codec::uncompressed || c == compression_codec::snappy ||
           c == compression_codec::gzip || c == compression_codec::zstd;
}

/// Decompresses pages of one column chunk's codec into a reused buffer.
class page_decompressor {
public:
    page_decompressor() = default;
    explicit page_decompressor(compression_codec c) : codec_(c) {
        if (!reader_supports(c))
            detail::corrupt("compression codec " + std::string(to_string(c)) + " is not supported");
    }

    compression_codec codec() const noexcept { return codec_; }

    /// Decompresses `in` into `out` (replaced), which must come to exactly `expected` bytes.
    void run(std::string_view in, std::size_t expected, chunk& out) {
        out.clear();
        out.reserve(expected + 1);  // +1: a byte too many shows as output beyond `expected`
        switch (codec_) {
            case compression_codec::uncompressed:
                if (in.size() != expected) size_mismatch(in.size(), expected);
                out.append(in);
                return;
            case compression_codec::snappy: {
                std::size_t n = 0;
                if (!snappy::GetUncompressedLength(in.data(), in.size(), &n)) detail::corrupt("corrupt Snappy data");
                if (n != expected) size_mismatch(n, expected);
                if (!snappy::RawUncompress(in.data(), in.size(), out.data())) detail::corrupt("corrupt Snappy data");
                out.commit(n);
                return;
            }
            case compression_codec::gzip:
            case compression_codec::zstd: stream(in, expected, out); return;
            default: detail::corrupt("unsupported compression codec");
        }
    }

private:
    [[noreturn]] static void size_mismatch(std::size_t got, std::size_t expected) {
        detail::corrupt("page decompresses to " + std::to_string(got) + " bytes, its header says " +
                        std::to_string(expected));
    }

    void stream(std::string_view in, std::size_t expected, chunk& out) {
        // A fresh codec per page: a page is one gzip member / zstd frame, and a codec left
        // in a bad state by a corrupt page never sees the next one.
        any_codec c = codec_ == compression_codec::zstd ? any_codec(zstd::decompressor())
                                                        : any_codec(gzip::decompressor());
        while (!in.empty()) {
            if (out.spare() == 0) size_mismatch(expected + 1, expected);
            const std::size_t before = out.size();
            const std::size_t took = c.process(in, out);
            in.remove_prefix(took);
            if (took == 0 && out.size() == before) detail::corrupt("the page's compressed data makes no progress");
        }
        for (int i = 0; !c.finish(out); ++i)
            if (out.spare() == 0 || i > 1000) size_mismatch(expected + 1, expected);
        if (out.size() != expected) size_mismatch(out.size(), expected);
    }

    compression_codec codec_ = compression_codec::uncompressed;
};

}  // namespace sluice::parquet
