#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace {
/// A codec that doubles every byte and appends a trailer bigger than one output chunk:
/// exercises output-bound handling in both process() and finish().
struct doubling_codec {
    std::size_t trailer_left = 0;
    std::size_t process(std::string_view in, sluice::chunk& out) {
        std::size_t n = std::min(in.size(), out.spare() / 2);
        for (std::size_t i = 0; i < n; ++i) {
            out.push_back(in[i]);
            out.push_back(in[i]);
        }
        trailer_left = 100;
        return n;
    }
    bool finish(sluice::chunk& out) {
        while (trailer_left && out.spare()) {
            out.push_back('#');
            --trailer_left;
        }
        return trailer_left == 0;
    }
};
/// Breaks the contract: never consumes, never produces.
struct stuck_codec {
    std::size_t process(std::string_view, sluice::chunk&) { return 0; }
    bool finish(sluice::chunk&) { return true; }
};
std::string doubled(const std::string& s) {
    std::string r;
    for (char c : s) r += std::string(2, c);
    return r;
}
}  // namespace

TEST_CASE("identity codec passes bytes through in bounded chunks", "[adaptor][compress]") {
    std::string text(100000, 'x');
    for (std::size_t i = 0; i < text.size(); i += 7) text[i] = char('a' + i % 26);
    std::vector<std::string> in{text.substr(0, 10), text.substr(10, 50000), text.substr(50010)};
    std::string out;
    in | sluice::compress(sluice::identity_codec{}, {.chunk_size = 4096}) |
        sluice::for_each([&](sluice::chunk& c) {
            CHECK(c.size() <= 4096);
            out += c.view();
        });
    CHECK(out == text);
}

TEST_CASE("codec output bounds hold in process and finish", "[adaptor][compress]") {
    std::vector<std::string> in{"abc", "defgh", std::string(300, 'z')};
    std::string pushed, pulled;
    in | sluice::compress(doubling_codec{}, {.chunk_size = 16}) |
        sluice::for_each([&](sluice::chunk& c) {
            CHECK(c.size() <= 16);
            pushed += c.view();
        });
    for (auto& c : sluice::from_range(in) | sluice::compress(doubling_codec{}, {.chunk_size = 16}))
        pulled += c.view();
    std::string want = doubled("abcdefgh" + std::string(300, 'z')) + std::string(100, '#');
    CHECK(pushed == want);
    CHECK(pulled == want);
}

TEST_CASE("a codec that makes no progress is reported, not looped on", "[adaptor][compress]") {
    auto r = sluice::try_run(std::vector<std::string>{"data"} | sluice::decompress(stuck_codec{}),
                             sluice::count());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().what(), Catch::Contains("no progress"));
}

TEST_CASE("encode then compress then write: the byte layer composes", "[adaptor][compress]") {
    auto n = sluice::iota(0, 1000) | sluice::encode(sluice::line_encoder{}) |
             sluice::compress(sluice::identity_codec{}) |
             sluice::fold(std::size_t{0}, [](std::size_t a, sluice::chunk& c) { return a + c.size(); });
    std::size_t want = 0;
    for (int i = 0; i < 1000; ++i) want += std::to_string(i).size() + 1;
    CHECK(n == want);
}
