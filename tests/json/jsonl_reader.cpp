// json::read_jsonl: exact raw text, duplicates, surrogates, BOM, blank lines, CRLF, records
// crossing read blocks, error lines, limits and recovery after a bad line.
#include <catch2/catch.hpp>

#include "reader_support.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sluice/json/jsonl_reader.hpp>
#include <sluice/sluice.hpp>

namespace json = sluice::json;
namespace fs = std::filesystem;

namespace {

std::vector<json::json_owned_record> read_all(const std::string& content, std::size_t block = 4096,
                                             json::jsonl_options o = {}) {
    return read_with(content, block, json::read_jsonl(o));
}

sluice::error error_of(const std::string& content, std::size_t block = 4096, json::jsonl_options o = {}) {
    return error_with(content, block, json::read_jsonl(o));
}

}  // namespace

TEST_CASE("read_jsonl: values keep their raw text and type", "[json][jsonl]") {
    auto recs = read_all(
        R"({"big":12345678901234567890,"f":1.0,"e":-1.5E+10,"s":"a\"b\u00e9\n","t":true,"n":null,"o":{"x":[1,2.50]},"a":[]})"
        "\n");
    REQUIRE(recs.size() == 1);
    const auto& r = recs[0];
    REQUIRE(r.type() == json::json_type::object);
    REQUIRE(r.size() == 8);
    CHECK(r["big"].raw() == "12345678901234567890");
    CHECK(r["big"].type() == json::json_type::number);
    CHECK(r["f"].raw() == "1.0");
    CHECK(r["e"].raw() == "-1.5E+10");
    CHECK(r["e"].get<double>() == -1.5e10);
    CHECK(r["s"].raw() == R"("a\"b\u00e9\n")");
    CHECK(r["s"].str() == "a\"b\xc3\xa9\n");
    CHECK(r["t"].get<bool>());
    CHECK(r["n"].is_null());
    CHECK(r["n"].text().empty());
    CHECK(r["o"].raw() == R"({"x":[1,2.50]})");
    CHECK(r["o"].type() == json::json_type::object);
    CHECK(r["a"].raw() == "[]");
    CHECK(r.get("missing") == nullptr);
    CHECK_THROWS_AS(r["missing"], sluice::error);
    CHECK(r["big"].get<std::uint64_t>() == 12345678901234567890ull);
    CHECK_THROWS_AS(r["big"].get<std::int64_t>(), sluice::error);  // out of range
    // Iteration in document order.
    std::vector<std::string> keys;
    for (const auto& f : r) keys.emplace_back(f.key);
    CHECK(keys == std::vector<std::string>{"big", "f", "e", "s", "t", "n", "o", "a"});
    CHECK(r.line() == 1);
}

TEST_CASE("read_jsonl: duplicate keys - last value wins, first position", "[json][jsonl]") {
    auto recs = read_all("{\"a\":1,\"b\":2,\"a\":3}\n");
    REQUIRE(recs[0].size() == 2);
    CHECK(recs[0].name(0) == "a");
    CHECK(recs[0].field(0).value.raw() == "3");
    CHECK(recs[0]["b"].raw() == "2");
    // Keys compare after unescaping.
    auto esc = read_all(R"({"a":1,"\u0061":2})" "\n");
    CHECK(esc[0].size() == 1);
    CHECK(esc[0]["a"].raw() == "2");
}

TEST_CASE("read_jsonl: lone surrogate escapes are malformed", "[json][jsonl]") {
    CHECK(error_of("{\"a\":\"\\ud800\"}\n").code() == sluice::errc::bad_input);
    CHECK(error_of("{\"a\":\"\\ud800x\"}\n").where().line == 1);
    CHECK(error_of("{\"a\":\"\\udc00\"}\n").where().line == 1);
    CHECK(error_of("{\"a\":[\"\\ud800\\u0041\"]}\n").where().line == 1);
    CHECK(error_of("{\"\\ud800\":1}\n").where().line == 1);
    auto ok = read_all("{\"a\":\"\\ud83d\\ude00\"}\n");
    CHECK(ok[0]["a"].str() == "\xf0\x9f\x98\x80");
}

TEST_CASE("read_jsonl: BOM, blank lines, CRLF and a last line without a line end",
          "[json][jsonl]") {
    std::string in = "\xEF\xBB\xBF{\"a\":1}\r\n\r\n   \n\t\n{\"a\":2}\r\n\n{\"a\":3}";
    auto recs = read_all(in);
    REQUIRE(recs.size() == 3);
    CHECK(recs[0]["a"].raw() == "1");
    CHECK(recs[0].raw() == "{\"a\":1}");
    CHECK(recs[1].line() == 5);
    CHECK(recs[2].line() == 7);
    CHECK(recs[2]["a"].raw() == "3");
    CHECK(read_all("").empty());
    CHECK(read_all("\n\n").empty());
    CHECK(read_all("\xEF\xBB\xBF").empty());
}

TEST_CASE("read_jsonl: records of any JSON type", "[json][jsonl]") {
    auto recs = read_all("[1,2]\n\"s\\t\"\n42\ntrue\nnull\n");
    REQUIRE(recs.size() == 5);
    CHECK(recs[0].type() == json::json_type::array);
    CHECK(recs[0].raw() == "[1,2]");
    CHECK(recs[0].size() == 0);
    CHECK(recs[1].value().str() == "s\t");
    CHECK(recs[2].raw() == "42");
    CHECK(recs[3].type() == json::json_type::boolean);
    CHECK(recs[4].type() == json::json_type::null);
}

TEST_CASE("read_jsonl: records crossing read blocks", "[json][jsonl]") {
    std::string in;
    for (int i = 0; i < 300; ++i) {
        in += "{\"i\":" + std::to_string(i) + ",\"s\":\"" + std::string(i % 50, 'x') + "\\n\",\"n\":[" +
              std::to_string(i * 7) + ",{\"d\":1.50}]}";
        in += i % 3 == 0 ? "\r\n" : "\n";
        if (i % 17 == 0) in += "\n";
    }
    for (std::size_t block : {1, 3, 7, 4096}) {
        for (std::size_t batch : {std::size_t{1}, std::size_t{64}, std::size_t{1} << 20}) {
            INFO("block " << block << " batch " << batch);
            auto recs = read_all(in, block, {.batch_size = batch});
            REQUIRE(recs.size() == 300);
            for (int i = 0; i < 300; ++i) {
                REQUIRE(recs[i]["i"].get<int>() == i);
                REQUIRE(recs[i]["s"].str() == std::string(i % 50, 'x') + "\n");
                REQUIRE(recs[i]["n"].raw() == std::string("[") + std::to_string(i * 7) + ",{\"d\":1.50}]");
            }
        }
    }
}

TEST_CASE("read_jsonl: malformed lines name their line", "[json][jsonl]") {
    std::string good = "{\"a\":1}\n\n";  // lines 1 and 2
    struct bad_case {
        const char* line;
    };
    for (const char* bad : {"{\"a\":1} x", "{\"a\":1}{\"b\":2}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}",
                            "{\"a\":tru}", "{\"a\":nulll}", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "{\"a\":\"\x01\"}",
                            "{\"a\":\"\xff\"}", "{\"a\":\"x}", "{'a':1}", "1 2", "{\"a\":[1 2]}", "{\"a\":+1}",
                            "{\"a\":\"\\x\"}", "{\"a\":NaN}", "}", "{", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}) {
        INFO(bad);
        for (std::size_t block : {1, 7, 4096}) {
            auto e = error_of(good + bad + "\n{\"a\":2}\n", block);
            CHECK(e.code() == sluice::errc::bad_input);
            CHECK(e.stage() == "jsonl");
            CHECK(e.where().line == 3);
            CHECK(e.where().record == 1);
            CHECK(e.where().byte_offset >= good.size());
            CHECK(std::string(e.what()).find("line 3") != std::string::npos);
        }
    }
}

TEST_CASE("read_jsonl: nesting deeper than max_depth is malformed", "[json][jsonl]") {
    std::string deep(2000, '[');
    deep += std::string(2000, ']');
    CHECK(error_of(deep + "\n").where().line == 1);
    auto ok = read_all(std::string(10, '[') + std::string(10, ']') + "\n", 4096, {.max_depth = 11});
    CHECK(ok.size() == 1);
    CHECK(error_of(std::string(10, '[') + std::string(10, ']') + "\n", 4096, {.max_depth = 9}).code() ==
          sluice::errc::bad_input);
}

TEST_CASE("read_jsonl: max_record_size bounds a line", "[json][jsonl]") {
    std::string big = "{\"a\":\"" + std::string(5000, 'x') + "\"}\n";
    json::jsonl_options o{.batch_size = 256, .max_record_size = 1000};
    auto e = error_of(std::string("{}\n") + big, 64, o);
    CHECK(e.where().line == 2);
    CHECK(std::string(e.what()).find("longer than 1000") != std::string::npos);
    CHECK(read_all(std::string("{}\n") + big, 64, {.batch_size = 256, .max_record_size = 6000}).size() == 2);
    // Without a line end at all.
    CHECK(error_of(std::string(5000, ' '), 64, o).where().line == 1);
}

TEST_CASE("read_jsonl: the reader resumes after a bad line", "[json][jsonl]") {
    temp_file f("{\"a\":1}\nnot json\n{\"a\":3}\n{\"a\":\n");
    auto p = sluice::read_file(f.path.string(), {.block_size = 5}) | json::read_jsonl();
    std::vector<std::string> good;
    std::vector<std::pair<std::uint64_t, std::string>> bad;
    for (;;) {
        try {
            auto r = p.next();
            if (!r) break;
            good.emplace_back((*r)["a"].raw());
        } catch (const sluice::error& e) {
            bad.emplace_back(e.where().line, std::string(p.last_text()));
        }
    }
    CHECK(good == std::vector<std::string>{"1", "3"});
    REQUIRE(bad.size() == 2);
    CHECK(bad[0] == std::pair<std::uint64_t, std::string>{2, "not json"});
    CHECK(bad[1] == std::pair<std::uint64_t, std::string>{4, "{\"a\":"});
    CHECK(p.line_number() == 4);
}

TEST_CASE("read_jsonl: to_owned copies survive later pulls", "[json][jsonl]") {
    auto p = sluice::from_range(std::vector<std::string>{"{\"k\":\"v1\",\"n\":1}\n{\"k\":\"v2\",\"n\":2}\n"}) |
             json::read_jsonl();
    auto it = p.begin();
    json::json_owned_record first = (*it).to_owned();
    ++it;
    json::json_owned_record copy = first;  // copies rebase their views
    json::json_owned_record moved = std::move(first);
    CHECK((*it)["k"].str() == "v2");
    CHECK(copy["k"].str() == "v1");
    CHECK(moved["n"].raw() == "1");
    CHECK(moved.raw() == "{\"k\":\"v1\",\"n\":1}");
}

TEST_CASE("read_jsonl: the reader resumes after a line over max_record_size", "[json][jsonl]") {
    // Found by fuzzing: the size error used to repeat forever on every later pull.
    std::vector<std::string> pieces{"{\"a\":1}\n", "{\"b\":\"" + std::string(77, 'x') + "\"}\n{\"c\":3}\n"};
    sluice::json::jsonl_options o;
    o.batch_size = 16;
    o.max_record_size = 32;
    auto reader = sluice::from_range(pieces) | sluice::json::read_jsonl(o);
    std::vector<std::string> got;
    int errors = 0;
    for (;;) {
        try {
            auto r = reader.next();
            if (!r) break;
            got.emplace_back((*r).raw());
        } catch (const sluice::error& e) {
            CHECK(e.code() == sluice::errc::bad_input);
            CHECK(e.where().line == 2);
            REQUIRE(++errors < 3);
        }
    }
    CHECK(errors == 1);
    CHECK(got == std::vector<std::string>{"{\"a\":1}", "{\"c\":3}"});
}

TEST_CASE("read_jsonl: a string followed by a colon where a value ends is malformed",
          "[json][jsonl]") {
    // Guards the fast path that takes plain strings without unescaping them: simdjson reads a
    // skipped string followed by ':' as a key, so every string must be consumed as a value.
    for (std::string bad : {R"({"a":"b":1})", R"({"x":[{"a":"b":"c"}]})", R"(["a":1])"}) {
        INFO(bad);
        std::vector<std::string> in{bad + "\n"};
        auto r = sluice::try_run(in | sluice::json::read_jsonl(), sluice::count());
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == sluice::errc::bad_input);
        CHECK(r.error().where().line == 1);
    }
}
