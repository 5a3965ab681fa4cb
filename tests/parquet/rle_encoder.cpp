// The RLE / bit-packed hybrid encoder, checked against the spec's byte layouts and against a
// small reference decoder written here from Encodings.md.
#include <catch2/catch.hpp>

#include <sluice/parquet/rle_encoder.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

using sluice::parquet::bit_width_for;
using sluice::parquet::rle_encoder;

namespace {

std::vector<std::uint32_t> reference_decode(const std::string& s, int bw, std::size_t count) {
    std::vector<std::uint32_t> out;
    std::size_t i = 0;
    auto varint = [&] {
        std::uint64_t v = 0;
        for (int shift = 0;; shift += 7) {
            const auto b = static_cast<unsigned char>(s.at(i++));
            v |= std::uint64_t{b & 0x7Fu} << shift;
            if (!(b & 0x80)) return v;
        }
    };
    while (out.size() < count) {
        const std::uint64_t h = varint();
        if (h & 1) {
            const std::size_t n = (h >> 1) * 8;
            std::uint64_t acc = 0;
            int bits = 0;
            for (std::size_t k = 0; k < n; ++k) {
                while (bits < bw) {
                    acc |= std::uint64_t{static_cast<unsigned char>(s.at(i++))} << bits;
                    bits += 8;
                }
                const auto v = static_cast<std::uint32_t>(acc & ((std::uint64_t{1} << bw) - 1));
                acc >>= bw;
                bits -= bw;
                if (out.size() < count) out.push_back(v);
            }
        } else {
            std::uint32_t v = 0;
            for (int b = 0; b < (bw + 7) / 8; ++b)
                v |= std::uint32_t{static_cast<unsigned char>(s.at(i++))} << (8 * b);
            for (std::uint64_t k = 0; k < (h >> 1); ++k) out.push_back(v);
        }
    }
    CHECK(i == s.size());
    return out;
}

}  // namespace

TEST_CASE("bit widths", "[parquet][rle]") {
    CHECK(bit_width_for(0) == 0);
    CHECK(bit_width_for(1) == 1);
    CHECK(bit_width_for(2) == 2);
    CHECK(bit_width_for(255) == 8);
    CHECK(bit_width_for(256) == 9);
}

TEST_CASE("a long run is one RLE run", "[parquet][rle]") {
    rle_encoder e(1);
    e.put_repeated(1, 1000);
    e.finish();
    // varint(1000 << 1) = 0xD0 0x0F, value 1 in one byte.
    CHECK(e.bytes() == std::string("\xD0\x0F\x01", 3));
}

TEST_CASE("the spec's bit-packing example", "[parquet][rle]") {
    // Encodings.md: 0..7 at bit width 3 packs to 0x88 0xC6 0xFA after the header (1 group).
    rle_encoder e(3);
    for (std::uint32_t v = 0; v < 8; ++v) e.put(v);
    e.finish();
    CHECK(e.bytes() == std::string("\x03\x88\xC6\xFA", 4));
}

TEST_CASE("mixed runs, partial groups and widths round-trip", "[parquet][rle]") {
    std::mt19937 rng(42);
    for (int bw : {1, 2, 3, 7, 8, 9, 16, 20, 32}) {
        const std::uint64_t mask = bw == 32 ? 0xFFFFFFFFu : (std::uint64_t{1} << bw) - 1;
        for (std::size_t count : {0, 1, 5, 8, 9, 100, 1000, 5003}) {
            std::vector<std::uint32_t> values;
            while (values.size() < count) {
                const auto v = static_cast<std::uint32_t>(rng() & mask);
                const std::size_t run = (rng() % 4 == 0) ? rng() % 40 : 1;
                for (std::size_t k = 0; k < run && values.size() < count; ++k) values.push_back(v);
            }
            rle_encoder e(bw);
            for (auto v : values) e.put(v);
            e.finish();
            INFO("bit width " << bw << ", " << count << " values");
            CHECK(reference_decode(e.bytes(), bw, count) == values);
        }
    }
}
