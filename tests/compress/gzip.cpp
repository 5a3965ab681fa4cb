// gzip codecs: every encoder against every decoder, interoperability with gzip(1) and
// pigz, multi-member input, and every way a gzip stream can be broken.
#include <sluice/compress/gzip.hpp>
#include <sluice/compress/gzip_zlib.hpp>
#if defined(SLUICE_HAVE_LIBDEFLATE) && SLUICE_HAVE_LIBDEFLATE
#include <sluice/compress/gzip_libdeflate.hpp>
#endif
#if defined(SLUICE_HAVE_ISAL) && SLUICE_HAVE_ISAL
#include <sluice/compress/gzip_isal.hpp>
#endif

#include <catch2/catch.hpp>

#include <fstream>

#include "test_support.hpp"

using namespace sluice_test;
namespace gz = sluice::gzip;

namespace {

template <class F>
void for_each_encoder(F&& f) {
    f("zlib 6", [] { return gz::zlib_compressor(6); });
    f("zlib 1", [] { return gz::zlib_compressor(1); });
    f("default", [] { return gz::compressor(6); });
#if defined(SLUICE_HAVE_LIBDEFLATE) && SLUICE_HAVE_LIBDEFLATE
    f("libdeflate 6", [] { return gz::libdeflate_block_compressor(6); });
    // Small blocks: many members even for 1 MB, and blocks that straddle input pieces.
    f("libdeflate 1 / 100k blocks", [] { return gz::libdeflate_block_compressor(1, 100000); });
#endif
#if defined(SLUICE_HAVE_ISAL) && SLUICE_HAVE_ISAL
    f("isal 6", [] { return gz::isal_compressor(6); });
    f("isal native 0", [] { return gz::isal_compressor::native(0); });
#endif
}

template <class F>
void for_each_decoder(F&& f) {
    f("zlib", [] { return gz::zlib_decompressor(); });
#if defined(SLUICE_HAVE_ISAL) && SLUICE_HAVE_ISAL
    f("isal", [] { return gz::isal_decompressor(); });
#endif
}

/// Decodes with every decoder and expects a bad_input error from stage "gzip".
void expect_bad_input(std::string_view packed, std::uint64_t offset = sluice::position::unknown) {
    for_each_decoder([&](const char* dname, auto make_dec) {
        INFO("decoder " << dname);
        try {
            (void)decompress_all(packed, make_dec());
            FAIL("no error");
        } catch (const sluice::error& e) {
            INFO(e.what());
            CHECK(e.code() == sluice::errc::bad_input);
            CHECK(e.stage() == "gzip");
            CHECK(e.where().has_byte_offset());
            CHECK(e.where().byte_offset <= packed.size());
            if (offset != sluice::position::unknown)
                CHECK(e.where().byte_offset == offset);
        }
    });
}

std::string gzip_cli(std::string_view data, const char* cmd = "gzip -6 -c") {
    temp_file in("gz_cli_in", data);
    return shell_output(std::string(cmd) + " " + in.path());
}

}  // namespace

TEST_CASE("gzip: every encoder round-trips through every decoder", "[compress][gzip]") {
    for (std::size_t size : round_trip_sizes) {
        for (int kind = 0; kind < 2; ++kind) {
            const std::string data = kind == 0 ? random_bytes(size) : text_bytes(size);
            for_each_encoder([&](const char* ename, auto make_enc) {
                const std::string packed = compress_all(data, make_enc());
                for_each_decoder([&](const char* dname, auto make_dec) {
                    INFO(ename << " -> " << dname << ", " << (kind ? "text" : "random") << ", "
                               << size << " bytes");
                    // Small output chunks exercise the "output full" paths on small inputs.
                    const std::size_t out_chunk =
                        size <= 1000000 ? 4096 : sluice::default_chunk_size;
                    CHECK(decompress_all(packed, make_dec(), out_chunk) == data);
                });
            });
        }
    }
}

TEST_CASE("gzip: tiny output chunks and the pull path", "[compress][gzip]") {
    const std::string data = text_bytes(300000);
    for_each_encoder([&](const char* ename, auto make_enc) {
        INFO(ename);
        // 7-byte output chunks: every codec must resume mid-header, mid-block, mid-trailer.
        const std::string packed = compress_all(data, make_enc(), 7);
        for_each_decoder([&](const char*, auto make_dec) {
            std::string out;
            auto p = sluice::from_range(split_chunks(packed))
                     | sluice::decompress(make_dec(), {.chunk_size = 7});
            for (auto& c : p) {  // pull path (next()), not for_each_while
                REQUIRE(c.size() <= 7);
                out.append(c.view());
            }
            CHECK(out == data);
        });
    });
}

TEST_CASE("gzip: gzip(1) reads what every encoder writes", "[compress][gzip][interop]") {
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{1000000}}) {
        const std::string data = text_bytes(size);
        for_each_encoder([&](const char* ename, auto make_enc) {
            INFO(ename << ", " << size << " bytes");
            const std::string packed = compress_all(data, make_enc());
            CHECK(!packed.empty());  // even empty input gives a valid (non-empty) gzip file
            temp_file f("gz_out.gz", packed);
            CHECK(shell("gzip -t " + f.path()) == 0);
            CHECK(shell_output("gzip -dc " + f.path()) == data);
        });
    }
}

TEST_CASE("gzip: empty input gives a valid empty gzip stream", "[compress][gzip]") {
    for_each_encoder([&](const char* ename, auto make_enc) {
        INFO(ename);
        const std::string packed = compress_all("", make_enc());
        REQUIRE(packed.size() >= 18);  // 10-byte header + empty block + 8-byte trailer
        CHECK(static_cast<unsigned char>(packed[0]) == 0x1f);
        CHECK(static_cast<unsigned char>(packed[1]) == 0x8b);
        for_each_decoder(
            [&](const char*, auto make_dec) { CHECK(decompress_all(packed, make_dec()).empty()); });
    });
}

TEST_CASE("gzip: decoders read gzip(1) and pigz output, and multi-member streams",
          "[compress][gzip][interop]") {
    const std::string a = text_bytes(200000, 1), b = random_bytes(70000, 2);
    const std::string ga = gzip_cli(a), gb = gzip_cli(b, "pigz -p2 -6 -c");
    REQUIRE(!ga.empty());
    REQUIRE(!gb.empty());
    const std::string empty_member = gzip_cli("");
    for_each_decoder([&](const char* dname, auto make_dec) {
        INFO(dname);
        CHECK(decompress_all(ga, make_dec()) == a);
        CHECK(decompress_all(gb, make_dec()) == b);
        CHECK(decompress_all(ga + gb, make_dec()) == a + b);
        CHECK(decompress_all(ga + empty_member + gb + empty_member, make_dec()) == a + b);
    });
}

TEST_CASE("gzip: corrupt data is bad_input with a compressed offset", "[compress][gzip][errors]") {
    const std::string data = text_bytes(1000000);
    std::string packed = compress_all(data, gz::zlib_compressor(6));
    SECTION("a flipped byte in the middle") {
        packed[packed.size() / 2] = static_cast<char>(packed[packed.size() / 2] ^ 0x55);
        expect_bad_input(packed);
    }
    SECTION("a flipped CRC in the trailer") {
        packed[packed.size() - 6] = static_cast<char>(packed[packed.size() - 6] ^ 1);
        expect_bad_input(packed);
    }
    SECTION("not gzip at all") {
        expect_bad_input("hello, world\n", 0);
    }
    SECTION("a zlib stream is not gzip") {
        expect_bad_input(std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8), 0);
    }
    SECTION("garbage after a member, offset = where it starts") {
        expect_bad_input(packed + "garbage", packed.size());
    }
    SECTION("empty input") {
        expect_bad_input("", 0);
    }
}

TEST_CASE("gzip: truncated streams are bad_input", "[compress][gzip][errors]") {
    const std::string packed = compress_all(text_bytes(500000), gz::zlib_compressor(6));
    for (std::size_t keep : {std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{10},
                             packed.size() / 2, packed.size() - 8, packed.size() - 1}) {
        INFO("kept " << keep << " of " << packed.size());
        expect_bad_input(std::string_view(packed).substr(0, keep));
    }
    // A second member cut short after a complete first one.
    const std::string two = packed + packed.substr(0, 100);
    expect_bad_input(two);
}

namespace {
std::uint64_t rss_bytes() {
    std::ifstream in("/proc/self/statm");
    std::uint64_t pages = 0, resident = 0;
    in >> pages >> resident;
    return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}
}  // namespace

TEST_CASE("gzip: a decompression bomb stays within the chunk size", "[compress][gzip][limits]") {
    // 100 MB of zeros, compressed as a stream (never held whole): about 100 KB of gzip.
    const std::string zeros(1 << 16, '\0');
    constexpr int pieces = 1600;  // 1600 x 64 KiB = 104,857,600 bytes
    const std::string packed =
        collect(sluice::iota(0, pieces) | sluice::map([&](int) { return std::string_view(zeros); })
                | sluice::compress(gz::compressor(6)));
    CHECK(packed.size() < 1000000);
    for_each_decoder([&](const char* dname, auto make_dec) {
        INFO(dname);
        const std::uint64_t before = rss_bytes();
        std::uint64_t peak = before, total = 0, biggest = 0, nonzero = 0;
        std::uint64_t n = 0;
        sluice::from_range(split_chunks(packed))
            | sluice::decompress(make_dec(), {.chunk_size = 65536})
            | sluice::for_each([&](sluice::chunk& c) {
                  biggest = std::max<std::uint64_t>(biggest, c.size());
                  total += c.size();
                  for (char ch : c.view())
                      nonzero += ch != 0;
                  if (++n % 64 == 0)
                      peak = std::max(peak, rss_bytes());
              });
        CHECK(total == std::uint64_t{pieces} << 16);
        CHECK(nonzero == 0);
        CHECK(biggest <= 65536);
        CHECK(peak - before < 16u << 20);  // the codec's state, not the 100 MB
    });
}

TEST_CASE("gzip: the default selection", "[compress][gzip]") {
    CHECK(!gz::compressor_backend.empty());
    CHECK(!gz::decompressor_backend.empty());
#if defined(SLUICE_HAVE_LIBDEFLATE) && SLUICE_HAVE_LIBDEFLATE
    CHECK(gz::compressor_backend == "libdeflate");
    STATIC_REQUIRE(std::is_same_v<gz::default_compressor, gz::libdeflate_block_compressor>);
#else
    STATIC_REQUIRE(std::is_same_v<gz::default_compressor, gz::zlib_compressor>);
#endif
}
