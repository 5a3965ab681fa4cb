#pragma once
/// \file
/// Compressing one Parquet page body for the writer: zstd and gzip through sluice's
/// streaming codecs (compress/zstd.hpp, compress/gzip.hpp; a page is one zstd frame / one
/// gzip member), Snappy's raw block format through libsnappy, UNCOMPRESSED as it is.

#include <snappy.h>

#include <optional>
#include <string>
#include <string_view>

#include "../compress/any_codec.hpp"
#include "../compress/gzip.hpp"
#include "../compress/zstd.hpp"
#include "../core/chunk.hpp"
#include "metadata.hpp"

namespace sluice::parquet {

/// Compresses page bodies with one codec; keeps its output buffer between pages.
class page_compressor {
public:
    explicit page_compressor(compression_codec c = compression_codec::zstd,
                             std::optional<int> level = std::nullopt)
        : codec_(c), level_(level) {
        if (c != compression_codec::uncompressed && c != compression_codec::snappy &&
            c != compression_codec::gzip && c != compression_codec::zstd)
            throw error(errc::usage, "parquet", "the writer supports zstd, snappy, gzip and none");
    }

    compression_codec codec() const noexcept { return codec_; }

    /// Appends the compressed form of `in` to `out`.
    void run(std::string_view in, std::string& out) {
        switch (codec_) {
            case compression_codec::uncompressed: out.append(in); return;
            case compression_codec::snappy: {
                const std::size_t at = out.size();
                out.resize(at + snappy::MaxCompressedLength(in.size()));
                std::size_t n = 0;
                snappy::RawCompress(in.data(), in.size(), out.data() + at, &n);
                out.resize(at + n);
                return;
            }
            default: stream(in, out); return;
        }
    }

private:
    void stream(std::string_view in, std::string& out) {
        any_codec c = codec_ == compression_codec::zstd
                          ? any_codec(zstd::compressor(level_.value_or(3)))
                          : any_codec(gzip::compressor(level_.value_or(6)));
        buf_.clear();
        buf_.reserve(in.size() / 2 + 4096);
        while (!in.empty()) {
            buf_.reserve_spare(64 * 1024);
            in.remove_prefix(c.process(in, buf_));
        }
        while (true) {
            buf_.reserve_spare(64 * 1024);
            if (c.finish(buf_)) break;
        }
        out.append(buf_.view());
    }

    compression_codec codec_;
    std::optional<int> level_;
    chunk buf_;
};

}  // namespace sluice::parquet
