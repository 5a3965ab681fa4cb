// Long containers are validated member by member (document_parser's piecewise path, which
// bounds simdjson's buffers by piecewise_bytes instead of ~6x the record). The piecewise
// path must accept and reject exactly what the whole-document path does and describe
// records the same: checked with piecewise_bytes = 2 (every container goes piecewise)
// against the default, on hand-picked texts and on random mutations of them.
#include <catch2/catch.hpp>

#include "reader_support.hpp"

#include <random>
#include <string>
#include <vector>

#include <sluice/json/json_array_reader.hpp>
#include <sluice/json/jsonl_reader.hpp>

namespace json = sluice::json;

namespace {

const std::vector<std::string> texts = {
    R"({"a":1,"b":[1,2,{"c":"d"}],"e":{"f":null},"g":"h\"i","k\u00e9y":"v\n\u00e9"})",
    R"({ "a" : 1 , "b" : [ 1 , 2 ] , "a" : "dup" })",
    R"([1, 2.5e3, -0, "x", true, false, null, [], {}, [[[]]], {"a":{"b":{"c":[1]}}}])",
    R"({"s":"with } and ] and , inside","t":"\\","u":"\\\"","v":"a\\\\"})",
    R"({"":0,"\"":1,"\\":2})",
    "[]", "{}", "[ ]", "{ }", R"({"a":[]})", R"([{}])",
    R"({"big":12345678901234567890123,"neg":-1.5E-7})",
    // malformed
    R"({"a":1,})", R"([1,])", R"([,1])", R"({,"a":1})", R"({"a" 1})", R"({"a":})",
    R"({"a":1 "b":2})", R"([1 2])", R"({"a":[1,2})", R"({"a":{"b":1]})", R"([1,2}])",
    R"({"a":1}})", R"([1]])", R"({"a":1} x)", R"([1] [2])", R"({"a":01})", R"([1.])",
    R"({"a":tru})", R"(["\x"])", R"({"\ud800":1})", R"(["abc)", R"({"a":"b)", R"({a:1})",
    R"({"a":1,"b"})", R"([1,2,)", R"({"a":[}]})", R"({"a":nul})", R"(["a"b])",
    "[\"tab\there\"]", "{\"a\":\"\x01\"}", "[\"\xff\"]", R"([-])", R"({"a":+1})",
    R"({"a":"\u12"})", R"([[[[[[[[[[1]]]]]]]]]])",
};

struct outcome {
    bool ok = false;
    std::vector<std::string> parts;  // type, raw, then key / type / raw / str per member
};

outcome read_one(const std::string& text, std::size_t piecewise, unsigned depth = 1024) {
    outcome o;
    json::jsonl_options opt;
    opt.piecewise_bytes = piecewise;
    opt.max_depth = depth;
    try {
        auto recs = read_with(text + "\n", 4096, json::read_jsonl(opt));
        REQUIRE(recs.size() == 1);
        const auto& r = recs[0];
        o.ok = true;
        o.parts.push_back(std::string(json::to_string(r.type())));
        o.parts.push_back(std::string(r.raw()));
        for (const auto& f : r) {
            o.parts.push_back(std::string(f.key));
            o.parts.push_back(std::string(json::to_string(f.value.type())));
            o.parts.push_back(std::string(f.value.raw()));
            o.parts.push_back(std::string(f.value.str()));
        }
    } catch (const sluice::error& e) {
        REQUIRE(e.code() == sluice::errc::bad_input);
        REQUIRE(e.where().line == 1);
    }
    return o;
}

void same(const std::string& text, unsigned depth = 1024) {
    INFO("text: " << text);
    outcome whole = read_one(text, json::jsonl_options{}.piecewise_bytes, depth);
    outcome pieces = read_one(text, 2, depth);
    REQUIRE(whole.ok == pieces.ok);
    CHECK(whole.parts == pieces.parts);
}

}  // namespace

TEST_CASE("piecewise validation agrees with the whole-document parse", "[json][piecewise]") {
    for (const auto& t : texts) same(t);
    // Nesting limits count the same way on both paths.
    for (unsigned depth : {1u, 2u, 3u, 4u}) {
        same("[[[1]]]", depth);
        same(R"({"a":{"b":[1]}})", depth);
    }
}

TEST_CASE("piecewise validation agrees on random mutations", "[json][piecewise]") {
    std::mt19937 rng(16);
    const std::string alphabet = "{}[],:\"\\ 01ae-.tnu";
    for (int round = 0; round < 5000; ++round) {
        std::string t = texts[rng() % 12];  // the valid ones
        int edits = 1 + static_cast<int>(rng() % 3);
        for (int e = 0; e < edits && !t.empty(); ++e) {
            std::size_t at = rng() % t.size();
            switch (rng() % 3) {
                case 0: t[at] = alphabet[rng() % alphabet.size()]; break;
                case 1: t.erase(at, 1); break;
                default: t.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
            }
        }
        if (t.empty() || t.find('\n') != std::string::npos || t.find_first_not_of(" \t") == std::string::npos) continue;
        same(t);
    }
}

TEST_CASE("piecewise: a long array line and a long object line", "[json][piecewise]") {
    std::string arr = "[";
    std::string obj = "{";
    for (int i = 0; i < 20000; ++i) {
        arr += std::to_string(i) + ",\"s\\u00e9" + std::to_string(i) + "\",";
        obj += "\"k\\u00e9" + std::to_string(i) + "\":[" + std::to_string(i) + "],";
    }
    arr.back() = ']';
    obj.back() = '}';
    json::jsonl_options small;
    small.piecewise_bytes = 4096;  // both lines are far longer
    auto recs = read_with(arr + "\n" + obj + "\n", 4096, json::read_jsonl(small));
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].type() == json::json_type::array);
    CHECK(recs[0].raw() == arr);
    REQUIRE(recs[1].size() == 20000);
    CHECK(recs[1].name(19999) == "k\xc3\xa9" "19999");  // unescaped into the record's buffer
    CHECK(recs[1]["k\xc3\xa9" "7"].raw() == "[7]");
    // The same through the array reader, element by element.
    json::array_options ao;
    ao.piecewise_bytes = 4096;
    auto elems = read_with("[" + obj + ",\n" + arr + "]", 4096, json::read_array(ao));
    REQUIRE(elems.size() == 2);
    CHECK(elems[0].size() == 20000);
    CHECK(elems[1].raw() == arr);
}
