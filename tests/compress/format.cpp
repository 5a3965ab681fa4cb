// Format detection, names and extensions (compress/format.hpp: dependency-free).
#include <sluice/compress/format.hpp>

#include <catch2/catch.hpp>

#include <string>

using sluice::compression::format;
namespace cz = sluice::compression;

TEST_CASE("detect: magic numbers", "[compress][format]") {
    CHECK(cz::detect(std::string("\x1f\x8b\x08\x00", 4)) == format::gzip);
    CHECK(cz::detect(std::string("\x1f\x8b", 2)) == format::gzip);
    CHECK(cz::detect(std::string("\x28\xb5\x2f\xfd\x00", 5)) == format::zstd);
    CHECK(cz::detect(std::string("\x28\xb5\x2f", 3)) == format::none);  // too short to tell
    CHECK(cz::detect(std::string("\x1f", 1)) == format::none);
    CHECK(cz::detect("") == format::none);
    CHECK(cz::detect("id,name\n") == format::none);
    CHECK(cz::detect(std::string("\x78\x9c", 2)) == format::none);  // zlib is not gzip
    STATIC_REQUIRE(cz::detect("\x1f\x8b") == format::gzip);
}

TEST_CASE("format_from_extension", "[compress][format]") {
    CHECK(cz::format_from_extension("data.csv.gz") == format::gzip);
    CHECK(cz::format_from_extension("DATA.CSV.GZ") == format::gzip);
    CHECK(cz::format_from_extension("a.tgz") == format::gzip);
    CHECK(cz::format_from_extension("events.jsonl.zst") == format::zstd);
    CHECK(cz::format_from_extension("events.jsonl.zstd") == format::zstd);
    CHECK(cz::format_from_extension("events.jsonl") == format::none);
    CHECK(cz::format_from_extension("gz") == format::none);
    CHECK(cz::format_from_extension("") == format::none);
    CHECK(cz::format_from_extension("-") == format::none);
}

TEST_CASE("parse_format and names", "[compress][format]") {
    CHECK(cz::parse_format("gzip") == format::gzip);
    CHECK(cz::parse_format("GZ") == format::gzip);
    CHECK(cz::parse_format("zstd") == format::zstd);
    CHECK(cz::parse_format("zst") == format::zstd);
    CHECK(cz::parse_format("none") == format::none);
    CHECK_FALSE(cz::parse_format("bzip2").has_value());
    CHECK_FALSE(cz::parse_format("").has_value());
    for (format f : {format::none, format::gzip, format::zstd})
        CHECK(cz::parse_format(cz::to_string(f)) == f);
    CHECK(cz::extension(format::gzip) == ".gz");
    CHECK(cz::extension(format::zstd) == ".zst");
    CHECK(cz::default_level(format::gzip) == 6);
    CHECK(cz::default_level(format::zstd) == 3);
}
