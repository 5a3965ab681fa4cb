// json::write_string / write_escaped: every escape RFC 8259 requires, UTF-8 passed through,
// and the vectorised scan agreeing with a byte-at-a-time reference at every alignment.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include <sluice/core/json_escape.hpp>

namespace {

std::string quoted(std::string_view s) {
    sluice::chunk out;
    sluice::json::write_string(s, out);
    return std::string(out.view());
}

// The obvious implementation, to compare against.
std::string reference(std::string_view s) {
    static const char* hex = "0123456789abcdef";
    std::string r = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"': r += "\\\""; break;
            case '\\': r += "\\\\"; break;
            case '\b': r += "\\b"; break;
            case '\f': r += "\\f"; break;
            case '\n': r += "\\n"; break;
            case '\r': r += "\\r"; break;
            case '\t': r += "\\t"; break;
            default:
                if (c < 0x20) {
                    r += "\\u00";
                    r += hex[c >> 4];
                    r += hex[c & 15];
                } else {
                    r += static_cast<char>(c);
                }
        }
    }
    return r + "\"";
}

}  // namespace

TEST_CASE("escaping: quotes, backslash and the short control escapes", "[json][escape]") {
    CHECK(quoted("") == R"("")");
    CHECK(quoted("plain") == R"("plain")");
    CHECK(quoted("a\"b") == R"("a\"b")");
    CHECK(quoted("a\\b") == R"("a\\b")");
    CHECK(quoted("\b\f\n\r\t") == R"("\b\f\n\r\t")");
    CHECK(quoted("/") == R"("/")");  // the solidus needs no escape
    CHECK(quoted("\x7f") == "\"\x7f\"");  // nor does DEL
}

TEST_CASE("escaping: every control character below 0x20", "[json][escape]") {
    for (int c = 0; c < 0x20; ++c) {
        std::string s(1, static_cast<char>(c));
        INFO(c);
        CHECK(quoted(s) == reference(s));
        std::string e = quoted(s);
        CHECK(e.find_first_of(std::string_view("\0\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
                                               "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f", 32)) ==
              std::string::npos);
    }
    CHECK(quoted(std::string_view("\0", 1)) == R"("\u0000")");
    CHECK(quoted("\x1f") == R"("\u001f")");
}

TEST_CASE("escaping: UTF-8 passes through unchanged", "[json][escape]") {
    std::string s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8 \xe2\x80\xa9";
    CHECK(quoted(s) == "\"" + s + "\"");
}

TEST_CASE("escaping: the block scan matches the reference at every offset", "[json][escape]") {
    // Each special byte at every position of strings up to 40 bytes long, so it falls in
    // the vector loop, at its edges and in the scalar tail.
    const std::string specials = std::string("\"\\\n\x01\x1f", 5) + std::string(1, '\0');
    for (std::size_t len = 0; len <= 40; ++len) {
        for (std::size_t at = 0; at < len; ++at) {
            for (char sp : specials) {
                std::string s(len, 'x');
                s[at] = sp;
                // Bytes >= 0x80 next to the special one: the SWAR/SSE compares must not
                // mistake them for control characters.
                if (at + 1 < len) s[at + 1] = '\xe9';
                INFO("len " << len << " at " << at << " byte " << int(sp));
                REQUIRE(quoted(s) == reference(s));
            }
        }
        std::string clean(len, '\x80');
        REQUIRE(quoted(clean) == reference(clean));
    }
}

TEST_CASE("escaping: a long string of escapes grows the chunk safely", "[json][escape]") {
    std::string s(100000, '\x01');
    s += "tail";
    sluice::chunk out;
    out.append("prefix:");
    sluice::json::write_string(s, out);
    CHECK(out.size() == 7 + 2 + 6 * 100000 + 4);
    CHECK(out.view().substr(0, 15) == "prefix:\"\\u0001\\");
    CHECK(out.view().substr(out.size() - 5) == "tail\"");
}

TEST_CASE("escaping: two special bytes at every pair of offsets", "[json][escape]") {
    // The copy loop stores whole 16- and 8-byte steps and resumes after each escape at any
    // alignment: every pair of positions in strings up to 40 bytes, appended to a chunk that
    // already holds a prefix, must match the reference.
    for (std::size_t len = 2; len <= 40; ++len) {
        for (std::size_t a = 0; a < len; ++a) {
            for (std::size_t b = a + 1; b < len; ++b) {
                std::string s(len, 'y');
                s[a] = '"';
                s[b] = (a + b) % 2 ? '\x1e' : '\\';
                sluice::chunk out;
                out.append("p");
                sluice::json::write_string(s, out);
                INFO("len " << len << " at " << a << " and " << b);
                REQUIRE(std::string(out.view()) == "p" + reference(s));
            }
        }
    }
}

TEST_CASE("escaping: random values appended one after another match the reference", "[json][escape]") {
    // Short and long values, clean and escape-dense, appended to one chunk that starts
    // small: the short-value stores, the vector steps, the tails and the room checks at
    // escapes meet the chunk's growth at every point.
    std::uint64_t state = 0x243f6a8885a308d3ull;
    auto next = [&state] {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<std::uint32_t>(state >> 33);
    };
    const std::string alphabet = std::string("\"\\\n\r\t\x01\x1f\x7f\x80\xc3\xa9 az09{}:,", 19) +
                                 std::string(1, '\0');
    sluice::chunk out(8);
    std::string expected;
    for (int i = 0; i < 20000; ++i) {
        const std::size_t len = next() % 4 == 0 ? next() % 200 : next() % 20;
        const unsigned density = next() % 4;  // 0: clean, 3: mostly special bytes
        std::string s;
        for (std::size_t k = 0; k < len; ++k)
            s += next() % 4 < density ? alphabet[next() % alphabet.size()] : static_cast<char>('a' + next() % 26);
        sluice::json::write_string(s, out);
        expected += reference(s);
    }
    REQUIRE(std::string(out.view()) == expected);
}
