#include <catch2/catch.hpp>

#include <sluice/formats/data_format.hpp>

#include <optional>

using sluice::data_format;
using sluice::data_format_from_path;
using sluice::parse_data_format;

TEST_CASE("data_format: names as a user types them", "[formats][data_format]") {
    CHECK(parse_data_format("csv") == data_format::csv);
    CHECK(parse_data_format("tsv") == data_format::tsv);
    CHECK(parse_data_format("jsonl") == data_format::jsonl);
    CHECK(parse_data_format("ndjson") == data_format::jsonl);
    CHECK(parse_data_format("json") == data_format::json);
    CHECK_FALSE(parse_data_format("xml"));
    CHECK_FALSE(parse_data_format(""));
    CHECK_FALSE(parse_data_format("CSV"));  // flags are exact
    for (auto f : {data_format::csv, data_format::tsv, data_format::jsonl, data_format::json})
        CHECK(parse_data_format(sluice::to_string(f)) == f);
    static_assert(parse_data_format("tsv") == data_format::tsv);
}

TEST_CASE("data_format: implied by a name, compression looked through", "[formats][data_format]") {
    CHECK(data_format_from_path("data.csv") == data_format::csv);
    CHECK(data_format_from_path("dir/data.TSV") == data_format::tsv);
    CHECK(data_format_from_path("data.tab") == data_format::tsv);
    CHECK(data_format_from_path("events.jsonl.gz") == data_format::jsonl);
    CHECK(data_format_from_path("events.ndjson.zst") == data_format::jsonl);
    CHECK(data_format_from_path("events.json.ZSTD") == data_format::json);
    CHECK(data_format_from_path("events.csv.gzip") == data_format::csv);
    CHECK(data_format_from_path("s3://bucket/day/part.jsonl.gz") == data_format::jsonl);
    // Nothing to tell from: no extension, stdin, an unknown one, only a compression.
    CHECK_FALSE(data_format_from_path("data"));
    CHECK_FALSE(data_format_from_path("-"));
    CHECK_FALSE(data_format_from_path("data.xml"));
    CHECK_FALSE(data_format_from_path("data.gz"));
    // A dot in a directory or a bucket name is not an extension.
    CHECK_FALSE(data_format_from_path("v1.csv/data"));
    CHECK_FALSE(data_format_from_path("s3://my.csv"));
    CHECK_FALSE(data_format_from_path("s3://my.csv/data"));
}

TEST_CASE("compression extensions: one list for detection and stripping",
          "[formats][data_format]") {
    namespace c = sluice::compression;
    for (const auto& e : c::known_extensions) {
        std::string name = std::string("x.csv") + std::string(e.suffix);
        CHECK(c::format_from_extension(name) == e.f);
        CHECK(c::strip_extension(name) == "x.csv");
        CHECK(c::compression_extension(name) == e.suffix);
    }
    CHECK(c::strip_extension("x.csv") == "x.csv");
    CHECK(c::strip_extension("X.CSV.GZ") == "X.CSV");
    CHECK(c::compression_extension("x.csv").empty());
}
