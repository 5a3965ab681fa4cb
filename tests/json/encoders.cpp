// jsonl_encoder and array_encoder through sluice::encode, and their output read back.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include <sluice/json/array_encoder.hpp>
#include <sluice/json/document_reader.hpp>
#include <sluice/json/json_array_reader.hpp>
#include <sluice/json/jsonl_encoder.hpp>
#include <sluice/json/jsonl_reader.hpp>
#include <sluice/sluice.hpp>

#include "../csv/random_csv.hpp"

namespace json = sluice::json;
using row = std::vector<std::pair<std::string, std::string>>;

namespace {
std::string concat(auto&& pipeline) {
    std::string s;
    for (auto& c : pipeline) s += sluice::bytes_of(c);
    return s;
}
}  // namespace

TEST_CASE("jsonl_encoder: one object per line", "[json][encoder]") {
    std::vector<row> rows{{{"id", "1"}, {"name", "Ann"}}, {{"id", "2"}, {"name", "B\"o\nb"}}};
    std::string out = concat(rows | sluice::encode(json::jsonl_encoder{}));
    CHECK(out == "{\"id\":\"1\",\"name\":\"Ann\"}\n{\"id\":\"2\",\"name\":\"B\\\"o\\nb\"}\n");
}

TEST_CASE("jsonl_encoder: many records across chunk boundaries read back equal",
          "[json][encoder]") {
    std::vector<row> rows;
    for (int i = 0; i < 2000; ++i)
        rows.push_back({{"i", std::to_string(i)}, {"s", std::string(i % 37, static_cast<char>(1 + i % 120))}});
    std::string out = concat(rows | sluice::encode(json::jsonl_encoder{}, {.chunk_size = 1000}));
    std::size_t n = 0;
    for (const auto& rec : sluice::from_range(std::vector<std::string>{out}) | json::read_jsonl()) {
        REQUIRE(rec["i"].str() == rows[n][0].second);
        REQUIRE(rec["s"].str() == rows[n][1].second);
        ++n;
    }
    CHECK(n == rows.size());
}

TEST_CASE("array_encoder: brackets, separators and the empty stream", "[json][encoder]") {
    std::vector<row> none;
    CHECK(concat(none | sluice::encode(json::array_encoder{})) == "[]\n");
    std::vector<row> rows{{{"a", "1"}}, {{"a", "2"}}};
    std::string out = concat(rows | sluice::encode(json::array_encoder{}));
    CHECK(out == "[\n{\"a\":\"1\"},\n{\"a\":\"2\"}\n]\n");
    auto doc = json::parse_document(out);
    CHECK(doc.type() == json::json_type::array);
}

TEST_CASE("jsonl_encoder re-emits reader records exactly (numbers keep their digits)",
          "[json][encoder]") {
    std::string in =
        "{\"n\":12345678901234567890,\"f\":1.0,\"s\":\"\\u00e9\\n\",\"a\":[1, {\"b\":null}],\"d\":1,\"d\":2}\n"
        "[1,2]\n\"str\"\n-0.0e5\n";
    std::string out = concat(sluice::from_range(std::vector<std::string>{in}) | json::read_jsonl() |
                             sluice::encode(json::jsonl_encoder{}));
    // Nested values are compacted (whitespace between tokens removed, all else as written).
    CHECK(out ==
          "{\"n\":12345678901234567890,\"f\":1.0,\"s\":\"\\u00e9\\n\",\"a\":[1,{\"b\":null}],\"d\":2}\n"
          "[1,2]\n\"str\"\n-0.0e5\n");
}

TEST_CASE("jsonl_encoder: pretty-printed input becomes one compact line per record",
          "[json][encoder]") {
    std::string in = "[\r\n  {\r\n    \"a\": {\r\n      \"b\": [ 1, 2.50 ],\r\n      \"s\": \"x  y\\n\"\r\n"
                     "    },\r\n    \"n\": 1e400\r\n  },\r\n  [ 1,\n\t{ \"c\" : [ ] } ]\r\n]\r\n";
    std::string out = concat(sluice::from_range(std::vector<std::string>{in}) |
                             json::read_array() | sluice::encode(json::jsonl_encoder{}));
    CHECK(out == "{\"a\":{\"b\":[1,2.50],\"s\":\"x  y\\n\"},\"n\":1e400}\n[1,{\"c\":[]}]\n");
}

#include <sluice/csv/csv.hpp>

TEST_CASE("jsonl_encoder: CSV rows become objects of exact strings", "[json][encoder][csv]") {
    std::string csv = "id,note,empty\n1,\"say \"\"hi\"\",\nbye\",\n2,caf\xc3\xa9,x\n";
    std::string out = concat(sluice::from_range(std::vector<std::string>{csv}) | sluice::csv::read() |
                             sluice::encode(json::jsonl_encoder{}));
    CHECK(out == "{\"id\":\"1\",\"note\":\"say \\\"hi\\\",\\nbye\",\"empty\":\"\"}\n"
                 "{\"id\":\"2\",\"note\":\"caf\xc3\xa9\",\"empty\":\"x\"}\n");
}

TEST_CASE("jsonl_encoder: CSV rows with long and escaped column names", "[json][encoder][csv]") {
    // The rendered keys are copied in 16-byte steps: names shorter and longer than a step,
    // and names that need escapes, at every field.
    std::string names[] = {"a", "exactly sixteen!", std::string(37, 'k'), "q\"uote", "tab\tname",
                           "caf\xc3\xa9 \xe7\x94\xb0\xe4\xb8\xad and then some more bytes"};
    std::string csv;
    for (std::size_t i = 0; i < std::size(names); ++i) {
        if (i) csv += ',';
        std::string n = names[i];
        std::string q = "\"";
        for (char c : n) q += c == '"' ? std::string("\"\"") : std::string(1, c);
        csv += q + "\"";
    }
    csv += "\n";
    for (int r = 0; r < 50; ++r)
        for (std::size_t i = 0; i < std::size(names); ++i)
            csv += std::string(static_cast<std::size_t>(r % 20), static_cast<char>('a' + i)) +
                   (i + 1 < std::size(names) ? "," : "\n");
    std::string out = concat(sluice::from_range(std::vector<std::string>{csv}) | sluice::csv::read() |
                             sluice::encode(json::jsonl_encoder{}, {.chunk_size = 64}));
    // The generic writer (no key cache) gives the reference.
    std::string want;
    for (const auto& rec : sluice::from_range(std::vector<std::string>{csv}) | sluice::csv::read()) {
        sluice::chunk c;
        json::writer w(c);
        w.begin_object();
        for (std::size_t i = 0; i < rec.size(); ++i) w.key(names[i]).string(std::string_view(rec[i]));
        w.end_object();
        want += c.view();
        want += '\n';
    }
    CHECK(out == want);
}

TEST_CASE("jsonl_encoder: CSV rows with doubled quotes equal the generic writer's output",
          "[json][encoder][csv]") {
    // Fields with doubled quotes are written from their text in the input
    // (write_undoubled_string); an owned copy has no such text and takes write_string.
    // Random CSV with doubled quotes, line feeds, CRLF and UTF-8 in quoted fields.
    std::mt19937 rng(20261207);
    std::size_t doubled = 0;
    for (int round = 0; round < 40; ++round) {
        csv_gen::shape s;
        s.records = 50;
        s.columns = 1 + round % 6;
        s.long_percent = 10;
        const std::string in = csv_gen::make(rng, s);
        std::string fused = concat(sluice::from_range(std::vector<std::string>{in}) | sluice::csv::read() |
                                   sluice::encode(json::jsonl_encoder{}, {.chunk_size = 100}));
        std::string plain;
        json::jsonl_encoder enc;
        for (const auto& r : csv_gen::read_owned(in, doubled)) {
            sluice::chunk c;
            enc.encode(r, c);
            plain += c.view();
        }
        INFO("round " << round << " input " << in);
        CHECK(fused == plain);
    }
    CHECK(doubled > 100);  // the fused path ran
}
