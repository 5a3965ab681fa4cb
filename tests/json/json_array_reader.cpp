// json::read_array: element by element over nested input, strings holding brackets,
// commas and escaped quotes, any block size; errors for broken and truncated arrays.
#include <catch2/catch.hpp>

#include "reader_support.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sluice/json/json_array_reader.hpp>
#include <sluice/sluice.hpp>

namespace json = sluice::json;
namespace fs = std::filesystem;

namespace {

std::vector<json::json_owned_record> read_all(const std::string& content, std::size_t block = 4096,
                                             json::array_options o = {}) {
    return read_with(content, block, json::read_array(o));
}

sluice::error error_of(const std::string& content, std::size_t block = 4096, json::array_options o = {}) {
    return error_with(content, block, json::read_array(o));
}

}  // namespace

TEST_CASE("read_array: elements one by one, nested, with tricky strings", "[json][array]") {
    std::string in =
        "\xEF\xBB\xBF [\n"
        "  {\"id\": 1, \"s\": \"a ] } , [ { \\\" \\\\\", \"n\": {\"deep\": [[1, 2], {\"x\": \"]\"}]}},\n"
        "  {\"id\": 2, \"s\": \"\\\\\"},\n"
        "  {\"id\": 3, \"big\": 12345678901234567890, \"f\": 1.0}\n"
        "  , [1, [2, [3]]], \"str,]\", 4.5e1, true, null\n"
        "]\n";
    for (std::size_t block : {1, 3, 7, 4096}) {
        for (std::size_t batch : {std::size_t{1}, std::size_t{16}, std::size_t{1} << 20}) {
            INFO("block " << block << " batch " << batch);
            auto recs = read_all(in, block, {.batch_size = batch});
            REQUIRE(recs.size() == 8);
            CHECK(recs[0]["s"].str() == "a ] } , [ { \" \\");
            CHECK(recs[0]["n"].raw() == "{\"deep\": [[1, 2], {\"x\": \"]\"}]}");
            CHECK(recs[0].line() == 2);
            CHECK(recs[1]["s"].str() == "\\");
            CHECK(recs[1].line() == 3);
            CHECK(recs[2]["big"].raw() == "12345678901234567890");
            CHECK(recs[2]["f"].raw() == "1.0");
            CHECK(recs[3].raw() == "[1, [2, [3]]]");
            CHECK(recs[3].line() == 5);
            CHECK(recs[4].value().str() == "str,]");
            CHECK(recs[5].raw() == "4.5e1");
            CHECK(recs[6].type() == json::json_type::boolean);
            CHECK(recs[7].type() == json::json_type::null);
        }
    }
}

TEST_CASE("read_array: empty arrays and whitespace", "[json][array]") {
    CHECK(read_all("[]").empty());
    CHECK(read_all(" \n[ \n ] \n\n").empty());
    CHECK(read_all("[{}]").size() == 1);
}

TEST_CASE("read_array: a long array is streamed with bounded memory", "[json][array]") {
    std::string in = "[";
    for (int i = 0; i < 5000; ++i) {
        if (i) in += ",\n";
        in += "{\"i\":" + std::to_string(i) + ",\"s\":\"" + std::string(i % 40, 'y') + "\"}";
    }
    in += "]";
    temp_file f(in);
    auto p = sluice::read_file(f.path.string(), {.block_size = 4096}) | json::read_array({.batch_size = 1024});
    int n = 0;
    for (const auto& rec : p) {
        REQUIRE(rec["i"].get<int>() == n);
        REQUIRE(rec.line() == static_cast<std::uint64_t>(n + 1));
        ++n;
    }
    CHECK(n == 5000);
}

TEST_CASE("read_array: structural errors name the line", "[json][array]") {
    struct bad {
        std::string text;
        std::uint64_t line;
    };
    for (const auto& b : std::vector<bad>{
             {"", 1},
             {"  \n ", 2},
             {"{\"a\":1}", 1},
             {"[1,\n2", 2},                       // truncated inside an element
             {"[1,\n2,\n", 3},                    // truncated after a comma
             {"[\n{\"a\": \"x]\"}", 2},           // truncated: the ] is in a string
             {"[\n{\"a\": \"x", 2},               // truncated inside a string
             {"[1,\n,2]", 2},                     // missing element
             {"[1,\n2,\n]", 3},                   // trailing comma
             {"[1]\n x", 2},                      // content after the array
             {"[1] [2]", 1},
             {"[\n{\"a\":1}\n{\"b\":2}]", 3},     // missing comma: names where it is missing
             {"[\n\n{\"a\":01}]", 3},             // a malformed element
             {"[1}", 1},
             {"[{\"a\":\"\\ud800\"}]", 1},
             {"\xEF\xBB", 1},
         }) {
        INFO(b.text);
        for (std::size_t block : {1, 4096}) {
            auto e = error_of(b.text, block);
            CHECK(e.code() == sluice::errc::bad_input);
            CHECK(e.where().line == b.line);
        }
    }
}

TEST_CASE("read_array: max_record_size bounds an element", "[json][array]") {
    std::string in = "[1,\n\"" + std::string(5000, 'z') + "\"]";
    auto e = error_of(in, 100, {.batch_size = 128, .max_record_size = 1000});
    CHECK(e.where().line == 2);
    CHECK(read_all(in, 100, {.batch_size = 128, .max_record_size = 6000}).size() == 2);
}

TEST_CASE("read_array: the reader resumes after a malformed element", "[json][array]") {
    temp_file f("[{\"a\":1},\n{\"a\":tru},\n{\"a\":3}]");
    auto p = sluice::read_file(f.path.string(), {.block_size = 3}) | json::read_array();
    std::vector<std::string> good;
    std::vector<std::uint64_t> bad_lines;
    for (;;) {
        try {
            auto r = p.next();
            if (!r) break;
            good.emplace_back((*r)["a"].raw());
        } catch (const sluice::error& e) {
            bad_lines.push_back(e.where().line);
            CHECK(p.last_text() == "{\"a\":tru}");
        }
    }
    CHECK(good == std::vector<std::string>{"1", "3"});
    CHECK(bad_lines == std::vector<std::uint64_t>{2});
}
