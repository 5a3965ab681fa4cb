// auto_decompress (detection by magic bytes) and the run-time codec factories.
#include <sluice/compress/auto_decompress.hpp>
#include <sluice/compress/codecs.hpp>

#include <catch2/catch.hpp>

#include "test_support.hpp"

using namespace sluice_test;
using sluice::compression::format;
namespace cz = sluice::compression;

namespace {
/// `packed` through auto_decompress, cut into pieces of `piece` bytes.
std::string auto_decode(std::string_view packed, std::size_t piece, std::size_t chunk_size = 4096) {
    std::vector<std::string> pieces;
    for (std::size_t i = 0; i < packed.size(); i += piece)
        pieces.emplace_back(packed.substr(i, piece));
    return collect(sluice::from_range(std::move(pieces))
                   | sluice::auto_decompress({.chunk_size = chunk_size}));
}
}  // namespace

TEST_CASE("auto_decompress: gzip, zstd and plain input", "[compress][auto]") {
    const std::string data = text_bytes(200000);
    const std::string gz = compress_all(data, sluice::gzip::compressor(6));
    const std::string zs = compress_all(data, sluice::zstd::compressor(3));
    // 1-byte pieces: the magic number arrives across several pulls.
    for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{65536}}) {
        INFO("pieces of " << piece);
        CHECK(auto_decode(gz, piece) == data);
        CHECK(auto_decode(zs, piece) == data);
        CHECK(auto_decode(data, piece) == data);
    }
}

TEST_CASE("auto_decompress: short and empty input pass through", "[compress][auto]") {
    for (std::string s :
         {std::string(), std::string("a"), std::string("\x1f", 1), std::string("abc"),
          std::string("\x28\xb5\x2f", 3), std::string("abcd"), std::string("abcde")}) {
        CHECK(auto_decode(s, 1, 2) == s);
        CHECK(auto_decode(s, 100) == s);
    }
}

TEST_CASE("auto_decompress: broken gzip is still an error", "[compress][auto][errors]") {
    const std::string gz = compress_all(text_bytes(100000), sluice::gzip::compressor(6));
    try {
        (void)auto_decode(std::string_view(gz).substr(0, gz.size() / 2), 1000);
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::bad_input);
        CHECK(e.stage() == "gzip");
    }
}

TEST_CASE("auto_decompressor reports what it found", "[compress][auto]") {
    cz::auto_decompressor d;
    CHECK_FALSE(d.decided());
    sluice::chunk out(1024);
    const std::string zs = compress_all("hello", sluice::zstd::compressor(3));
    std::string_view in = zs;
    while (!in.empty())
        in.remove_prefix(d.process(in, out));
    CHECK(d.decided());
    CHECK(d.detected() == format::zstd);
    while (!d.finish(out)) {
    }
    CHECK(out.view() == "hello");
}

TEST_CASE("make_compressor / make_decompressor: one pipeline type for every format",
          "[compress][any_codec]") {
    const std::string data = text_bytes(500000);
    for (format f : {format::none, format::gzip, format::zstd}) {
        for (int threads : {1, 2}) {
            INFO(cz::to_string(f) << ", threads " << threads);
            sluice::any_codec enc = cz::make_compressor(f, std::nullopt, threads);
            const std::string packed = compress_all(data, std::move(enc));
            CHECK(cz::detect(packed) == f);
            if (f == format::none)
                CHECK(packed == data);
            CHECK(decompress_all(packed, cz::make_decompressor(f)) == data);
            CHECK(decompress_all(packed, cz::make_auto_decompressor()) == data);
        }
    }
    // Explicit levels reach the codec.
    const std::string fast = compress_all(data, cz::make_compressor(format::gzip, 1));
    const std::string small = compress_all(data, cz::make_compressor(format::gzip, 9));
    CHECK(small.size() < fast.size());
}

TEST_CASE("any_codec: target() and moves", "[compress][any_codec]") {
    sluice::any_codec c = sluice::identity_codec{};
    CHECK(static_cast<bool>(c));
    CHECK(c.target<sluice::identity_codec>() != nullptr);
    CHECK(c.target<sluice::zstd::decompressor>() == nullptr);
    sluice::any_codec moved = std::move(c);
    CHECK(moved.target<sluice::identity_codec>() != nullptr);
    sluice::chunk out(8);
    CHECK(moved.process("abc", out) == 3);
    CHECK(moved.finish(out));
    CHECK(out.view() == "abc");
}

namespace {
/// `packed` through auto_decompress(name), cut into pieces of `piece` bytes.
std::string named_decode(std::string_view packed, std::string_view name, std::size_t piece) {
    std::vector<std::string> pieces;
    for (std::size_t i = 0; i < packed.size(); i += piece)
        pieces.emplace_back(packed.substr(i, piece));
    return collect(sluice::from_range(std::move(pieces)) | sluice::auto_decompress(name));
}
/// The message of the error `named_decode` throws (empty if none).
std::string named_error(std::string_view packed, std::string_view name, std::size_t piece) {
    try {
        (void)named_decode(packed, name, piece);
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::bad_input);
        return e.what();
    }
    return {};
}
}  // namespace

TEST_CASE("auto_decompress(name): the name's extension is a claim the content must bear out",
          "[compress][auto]") {
    const std::string data = text_bytes(100000);
    const std::string gz = compress_all(data, sluice::gzip::compressor(6));
    const std::string zs = compress_all(data, sluice::zstd::compressor(3));
    for (std::size_t piece : {std::size_t{1}, std::size_t{65536}}) {
        INFO("pieces of " << piece);
        // Name and content agree.
        CHECK(named_decode(gz, "data.csv.gz", piece) == data);
        CHECK(named_decode(zs, "data.csv.ZST", piece) == data);
        CHECK(named_decode(gz, "s3://bucket/dir/data.tgz", piece) == data);
        // The name says nothing: the magic number decides.
        for (std::string_view name : {"data.csv", "-", "", "data"}) {
            CHECK(named_decode(gz, name, piece) == data);
            CHECK(named_decode(zs, name, piece) == data);
            CHECK(named_decode(data, name, piece) == data);
        }
        // Plain text named .gz / .zst, the other format, short and empty content.
        const std::string plain = "id,text\n" + data;
        CHECK(named_error(plain, "data.csv.gz", piece) ==
              "decompress: data.csv.gz: not gzip data: the name says gzip, the content is "
              "neither gzip nor zstd (it starts with \"id,t\": uncompressed text?)");
        CHECK(named_error(plain, "s3://b/k.jsonl.zst", piece) ==
              "decompress: s3://b/k.jsonl.zst: not zstd data: the name says zstd, the content is "
              "neither gzip nor zstd (it starts with \"id,t\": uncompressed text?)");
        CHECK_THAT(named_error(data, "data.csv.gz", piece),
                   Catch::Contains("not gzip data") && Catch::Contains("(it starts with bytes 0a "));
        CHECK(named_error(zs, "data.csv.gz", piece) ==
              "decompress: data.csv.gz: not gzip data: the name says gzip, the content is zstd");
        CHECK(named_error(gz, "data.csv.zst", piece) ==
              "decompress: data.csv.zst: not zstd data: the name says zstd, the content is gzip");
        CHECK(named_error(std::string("\x00\xff\x10\x80rest", 8), "x.gz", piece) ==
              "decompress: x.gz: not gzip data: the name says gzip, the content is neither gzip "
              "nor zstd (it starts with bytes 00 ff 10 80)");
        CHECK(named_error("ab", "x.gz", piece) ==
              "decompress: x.gz: not gzip data: the name says gzip, the input is only 2 bytes long");
        CHECK(named_error("", "x.zst", piece) ==
              "decompress: x.zst: not zstd data: the name says zstd, the input is empty");
    }
    // Nothing is passed on before the check: the claim fails at the first pull.
    std::vector<std::string> one{data};
    auto stage = sluice::from_range(std::move(one)) | sluice::auto_decompress("in.csv.gz");
    CHECK_THROWS_AS(stage.next(), sluice::error);
    // The run-time factory takes the name too.
    CHECK(decompress_all(zs, cz::make_auto_decompressor("a.zst")) == data);
    CHECK_THROWS_AS(decompress_all(data, cz::make_auto_decompressor("a.zst")), sluice::error);
    cz::auto_decompressor d("a.tar.gz");
    CHECK(d.claimed() == format::gzip);
    CHECK(cz::auto_decompressor("a.csv").claimed() == format::none);
}

TEST_CASE("auto_decompress: plain input in chunks is handed on without a copy", "[compress][auto]") {
    const std::string data = text_bytes(100000);
    for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{5000}, std::size_t{100000}}) {
        INFO("pieces of " << piece);
        std::vector<sluice::chunk> pieces;
        for (std::size_t i = 0; i < data.size(); i += piece) {
            pieces.emplace_back();
            pieces.back().append(std::string_view(data).substr(i, piece));
        }
        pieces.emplace_back();  // an empty chunk on the way
        // Pulled: the same bytes; once the magic number is decided, the source's own chunks
        // (larger than the stage's 4096-byte chunks: not copied into them).
        {
            auto p = sluice::from_range(pieces) | sluice::auto_decompress({.chunk_size = 4096});
            std::string got;
            std::size_t whole = 0, chunks = 0;
            while (auto c = p.next()) {
                got += sluice::bytes_of(*c);
                ++chunks;
                whole += c->size() == std::min(piece, data.size());
            }
            CHECK(got == data);
            if (piece == 5000) CHECK(whole >= chunks - 2);  // all but the detection's copy and the tail
        }
        // Pushed (for_each_while): the same.
        {
            auto p = sluice::from_range(pieces) | sluice::auto_decompress({.chunk_size = 4096});
            std::string got;
            p.for_each_while([&](auto&& c) {
                got += sluice::bytes_of(c);
                return true;
            });
            CHECK(got == data);
        }
    }
    // An empty input and one shorter than a magic number.
    for (std::string_view s : {std::string_view(), std::string_view("ab")}) {
        std::vector<sluice::chunk> one(1);
        one[0].append(s);
        CHECK(collect(sluice::from_range(one) | sluice::auto_decompress()) == s);
    }
}
