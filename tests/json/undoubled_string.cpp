// json::write_undoubled_string: a text with every quote doubled (a CSV quoted field as it
// stands in the input) becomes the same JSON string as json::write_string of the undoubled
// text - at every length and alignment, with quotes, backslashes, control bytes and UTF-8
// around the 16-byte steps, appended to a chunk that has to grow.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include <sluice/json/undoubled_string.hpp>

namespace json = sluice::json;

namespace {

std::string doubled(std::string_view s) {
    std::string d;
    for (char c : s) d += c == '"' ? std::string("\"\"") : std::string(1, c);
    return d;
}

std::string expected(std::string_view s) {
    sluice::chunk out;
    json::write_string(s, out);
    return std::string(out.view());
}

std::string undoubled(std::string_view s) {
    sluice::chunk out;
    json::write_undoubled_string(doubled(s), out);
    return std::string(out.view());
}

}  // namespace

TEST_CASE("undoubled string: quotes and other escapes at every offset", "[json][escape]") {
    const std::string specials = std::string("\"\\\n\x01\x1f\xe9", 6) + std::string(1, '\0');
    for (std::size_t len = 0; len <= 48; ++len) {
        for (std::size_t at = 0; at < len; ++at) {
            for (char sp : specials) {
                std::string s(len, 'x');
                s[at] = sp;
                if (at + 1 < len) s[at + 1] = '"';  // a quote right after: pairs across a step
                INFO("len " << len << " at " << at << " byte " << int(sp));
                REQUIRE(undoubled(s) == expected(s));
            }
        }
        REQUIRE(undoubled(std::string(len, '"')) == expected(std::string(len, '"')));
    }
}

TEST_CASE("undoubled string: the events data's JSON payloads", "[json][escape]") {
    const std::string payload = R"({"ref": "c4ca4238a0", "src": "import", "items": 4, "score": 0.082})";
    CHECK(undoubled(payload) == expected(payload));
    CHECK(undoubled(payload + "\n" + payload) == expected(payload + "\n" + payload));
    CHECK(undoubled("") == "\"\"");
    CHECK(undoubled("\"") == R"("\"")");
}

TEST_CASE("undoubled string: random texts appended one after another", "[json][escape]") {
    std::uint64_t state = 0x9e3779b97f4a7c15ull;
    auto next = [&state] {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<std::uint32_t>(state >> 33);
    };
    const std::string alphabet = std::string("\"\"\"\\\n\r\t\x01\x1f\x7f\x80\xc3\xa9 az09{}:,", 21);
    sluice::chunk out(8);
    std::string want;
    for (int i = 0; i < 20000; ++i) {
        const std::size_t len = next() % 4 == 0 ? next() % 200 : next() % 24;
        const unsigned density = next() % 4;
        std::string s;
        for (std::size_t k = 0; k < len; ++k)
            s += next() % 4 < density ? alphabet[next() % alphabet.size()] : static_cast<char>('a' + next() % 26);
        json::write_undoubled_string(doubled(s), out);
        want += expected(s);
    }
    REQUIRE(std::string(out.view()) == want);
}
