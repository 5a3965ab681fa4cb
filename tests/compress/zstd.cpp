// zstd codecs: round trips, interoperability with zstd(1), multi-frame input, workers,
// and broken streams.
#include <sluice/compress/zstd.hpp>

#include <catch2/catch.hpp>

#include "test_support.hpp"

using namespace sluice_test;

namespace {

void expect_bad_input(std::string_view packed, std::uint64_t offset = sluice::position::unknown) {
    try {
        (void)decompress_all(packed, sluice::zstd::decompressor());
        FAIL("no error");
    } catch (const sluice::error& e) {
        INFO(e.what());
        CHECK(e.code() == sluice::errc::bad_input);
        CHECK(e.stage() == "zstd");
        CHECK(e.where().has_byte_offset());
        CHECK(e.where().byte_offset <= packed.size());
        if (offset != sluice::position::unknown)
            CHECK(e.where().byte_offset == offset);
    }
}

std::string zstd_cli(std::string_view data, const char* args = "-3") {
    temp_file in("zstd_cli_in", data);
    return shell_output(std::string("zstd -q -c ") + args + " " + in.path());
}

}  // namespace

TEST_CASE("zstd: round trips at several levels and sizes", "[compress][zstd]") {
    for (std::size_t size : round_trip_sizes) {
        for (int kind = 0; kind < 2; ++kind) {
            const std::string data = kind == 0 ? random_bytes(size) : text_bytes(size);
            for (int level : {1, 3, -5}) {
                INFO("level " << level << ", " << (kind ? "text" : "random") << ", " << size
                              << " bytes");
                const std::string packed = compress_all(data, sluice::zstd::compressor(level));
                const std::size_t out_chunk = size <= 1000000 ? 4096 : sluice::default_chunk_size;
                CHECK(decompress_all(packed, sluice::zstd::decompressor(), out_chunk) == data);
            }
        }
    }
}

TEST_CASE("zstd: libzstd workers give the same bytes back", "[compress][zstd]") {
    const std::string data = text_bytes(10000000);
    const std::string packed = compress_all(data, sluice::zstd::compressor(3, 2));
    CHECK(decompress_all(packed, sluice::zstd::decompressor()) == data);
}

TEST_CASE("zstd: zstd(1) reads our output and we read its output", "[compress][zstd][interop]") {
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{1000000}}) {
        INFO(size << " bytes");
        const std::string data = text_bytes(size);
        const std::string packed = compress_all(data, sluice::zstd::compressor(3));
        CHECK(!packed.empty());  // empty input still gives one (empty) frame
        temp_file f("zstd_out.zst", packed);
        CHECK(shell("zstd -q -t " + f.path()) == 0);
        CHECK(shell_output("zstd -q -dc " + f.path()) == data);
        CHECK(decompress_all(zstd_cli(data), sluice::zstd::decompressor()) == data);
    }
}

TEST_CASE("zstd: concatenated frames decode to both", "[compress][zstd]") {
    const std::string a = text_bytes(300000, 1), b = random_bytes(100000, 2);
    const std::string za = zstd_cli(a), zb = compress_all(b, sluice::zstd::compressor(1));
    const std::string empty_frame = compress_all("", sluice::zstd::compressor(3));
    CHECK(decompress_all(za + zb, sluice::zstd::decompressor()) == a + b);
    CHECK(decompress_all(empty_frame + za + empty_frame + zb, sluice::zstd::decompressor(), 1000)
          == a + b);
}

TEST_CASE("zstd: broken streams are bad_input", "[compress][zstd][errors]") {
    const std::string data = text_bytes(1000000);
    std::string packed = compress_all(data, sluice::zstd::compressor(3));
    SECTION("a flipped byte in the middle") {
        packed[packed.size() / 2] = static_cast<char>(packed[packed.size() / 2] ^ 0x55);
        expect_bad_input(packed);
    }
    SECTION("a flipped checksum") {
        packed[packed.size() - 2] = static_cast<char>(packed[packed.size() - 2] ^ 1);
        expect_bad_input(packed);
    }
    SECTION("not zstd") {
        expect_bad_input("hello, world\n", 0);
    }
    SECTION("garbage after a frame") {
        expect_bad_input(packed + "garbage");
    }
    SECTION("empty input") {
        expect_bad_input("", 0);
    }
    SECTION("truncated") {
        for (std::size_t keep : {std::size_t{1}, std::size_t{4}, std::size_t{6}, packed.size() / 2,
                                 packed.size() - 1}) {
            INFO("kept " << keep);
            expect_bad_input(std::string_view(packed).substr(0, keep));
        }
    }
}

TEST_CASE("zstd: a decompression bomb stays within the chunk size", "[compress][zstd][limits]") {
    const std::string zeros(1 << 16, '\0');
    const std::string packed =
        collect(sluice::iota(0, 1600) | sluice::map([&](int) { return std::string_view(zeros); })
                | sluice::compress(sluice::zstd::compressor(3)));
    CHECK(packed.size() < 100000);
    std::uint64_t total = 0, biggest = 0;
    sluice::from_range(split_chunks(packed))
        | sluice::decompress(sluice::zstd::decompressor(), {.chunk_size = 65536})
        | sluice::for_each([&](sluice::chunk& c) {
              biggest = std::max<std::uint64_t>(biggest, c.size());
              total += c.size();
          });
    CHECK(total == std::uint64_t{1600} << 16);
    CHECK(biggest <= 65536);
}
