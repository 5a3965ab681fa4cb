// json::write_compact / write_compact_members: whitespace between tokens goes, everything
// else (number text, key order, duplicate keys, string contents and escapes) stays, and the
// vectorised string scan agrees with a byte-at-a-time reference at every alignment.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/json/compact.hpp>

namespace {

std::string compact(std::string_view s) {
    sluice::chunk out;
    sluice::json::write_compact(s, out);
    return std::string(out.view());
}

std::string compact_members(std::string_view s, std::vector<bool> keep) {
    sluice::chunk out;
    sluice::json::write_compact_members(
        s, [&keep](std::size_t i) { return i < keep.size() && keep[i]; }, out);
    return std::string(out.view());
}

// The obvious implementation, to compare against.
std::string reference(std::string_view s) {
    std::string r;
    bool in_string = false, escaped = false;
    for (char c : s) {
        if (in_string) {
            r += c;
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
            r += c;
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            r += c;
        }
    }
    return r;
}

}  // namespace

TEST_CASE("compact: pretty-printed values become one line", "[json][compact]") {
    CHECK(compact("{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2.50\n  ]\n}\n") ==
          R"({"a":1,"b":[1,2.50]})");
    // CRLF and tabs between tokens.
    CHECK(compact("{\r\n\t\"k\" : \"v\" ,\r\n\t\"n\":1e400\r\n}\r\n") == R"({"k":"v","n":1e400})");
    // Nested arrays of objects, empty containers with space inside.
    CHECK(compact("[\n  {\"x\": [ {\"y\": [ ] }, { } ] },\n  { \"z\" : null }\n]") ==
          R"([{"x":[{"y":[]},{}]},{"z":null}])");
    // Scalars, with surrounding space.
    CHECK(compact("  \"s\"  ") == R"("s")");
    CHECK(compact(" -0.0e+5 ") == "-0.0e+5");
    CHECK(compact("") == "");
    CHECK(compact(" \n\t\r ") == "");
}

TEST_CASE("compact: everything but the whitespace is kept exactly", "[json][compact]") {
    // Number text, key order, duplicate keys.
    CHECK(compact(R"({ "b" : 12345678901234567890 , "a" : 1.0, "b" : -1.25E-3 })") ==
          R"({"b":12345678901234567890,"a":1.0,"b":-1.25E-3})");
    // Strings: spaces, escapes (\n, \", \\ before the closing quote, \u) untouched.
    CHECK(compact(R"({ "k e y" : "line\nbreak  \"q\" \\", "u" : "\u00e9 \ud83d\ude9a" })") ==
          R"({"k e y":"line\nbreak  \"q\" \\","u":"\u00e9 \ud83d\ude9a"})");
    CHECK(compact(R"([ "\\", "\\\"" , "a\/b" ])") == R"(["\\","\\\"","a\/b"])");
    // UTF-8 passes through.
    CHECK(compact("{ \"é\" : \"李 🚚\" }") == "{\"é\":\"李 🚚\"}");
    // Already compact: unchanged.
    std::string done = R"({"a":[1,{"b":null}],"c":"x y"})";
    CHECK(compact(done) == done);
}

TEST_CASE("compact: appends, and never reads past malformed input", "[json][compact]") {
    sluice::chunk out;
    out.append("prefix:");
    sluice::json::write_compact("[ 1 , 2 ]", out);
    CHECK(out.view() == "prefix:[1,2]");
    CHECK(compact("\"unterminated  \\") == "\"unterminated  \\");
    CHECK(compact("{ \"a\" : \"b  ") == "{\"a\":\"b  ");
}

TEST_CASE("compact: the block scan agrees with the reference at every offset", "[json][compact]") {
    // Strings long enough for the 16-byte loop, with quotes, backslashes and spaces at every
    // position, inside and outside strings.
    std::mt19937 rng(12345);
    const std::string alphabet = "  \n\r\t\"\\abc{}[]:,1";
    for (int round = 0; round < 20000; ++round) {
        std::size_t len = rng() % 60;
        std::string s;
        for (std::size_t i = 0; i < len; ++i) s += alphabet[rng() % alphabet.size()];
        INFO(s);
        REQUIRE(compact(s) == reference(s));
    }
}

TEST_CASE("compact_members: chosen members keep their spacing", "[json][compact]") {
    // A server-encoded row: member 1 is jsonb (kept), members 0 and 2 are json (compacted),
    // member 3 a composite holding json (compacted at any depth).
    std::string row = "{\"j\":{\n  \"a\": 1\n},\"jb\":{\"a\": [1, 2], \"b\": {\"c\": null}},"
                      "\"j2\":[ 1,\r\n 2 ],\"r\":{\"f1\":1,\"f2\":{ \"x\" : \"a b\" }}}";
    CHECK(compact_members(row, {false, true, false, false}) ==
          R"({"j":{"a":1},"jb":{"a": [1, 2], "b": {"c": null}},"j2":[1,2],)"
          R"("r":{"f1":1,"f2":{"x":"a b"}}})");
    CHECK(compact_members(row, {}) == compact(row));
    // A kept member that is a scalar, and keys holding ':' and ',' inside strings.
    CHECK(compact_members(R"({"a:,b":"x, y","c":[1, 2],"d":{"e": 1}})", {false, true, false}) ==
          R"({"a:,b":"x, y","c":[1, 2],"d":{"e":1}})");
}
