#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <string>
#include <vector>

namespace {
/// Writes a header and footer to check the encoder hooks.
struct bracket_encoder {
    void begin(sluice::chunk& out) { out.append("["); }
    void encode(int x, sluice::chunk& out) {
        out.append(std::to_string(x));
        out.push_back(',');
    }
    void end(sluice::chunk& out) { out.append("]"); }
};
}  // namespace

TEST_CASE("encode turns records into chunks of the configured size", "[adaptor][encode]") {
    std::string all;
    std::vector<std::size_t> sizes;
    sluice::iota(0, 10000) | sluice::encode(sluice::line_encoder{}, {.chunk_size = 1000}) |
        sluice::for_each([&](sluice::chunk& c) {
            all += c.view();
            sizes.push_back(c.size());
        });
    std::string want;
    for (int i = 0; i < 10000; ++i) want += std::to_string(i) + "\n";
    CHECK(all == want);
    for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
        CHECK(sizes[i] >= 1000);
        CHECK(sizes[i] < 1000 + 8);  // a chunk is handed on as soon as it is full
    }
}

TEST_CASE("encode on the pull path equals the push path", "[adaptor][encode]") {
    std::string pushed, pulled;
    sluice::iota(0, 5000) | sluice::encode(sluice::line_encoder{}, {.chunk_size = 777}) |
        sluice::for_each([&](sluice::chunk& c) { pushed += c.view(); });
    for (auto& c : sluice::iota(0, 5000) | sluice::encode(sluice::line_encoder{}, {.chunk_size = 777}))
        pulled += c.view();
    CHECK(pushed == pulled);
}

TEST_CASE("encoder begin/end hooks run once, also for an empty stream", "[adaptor][encode]") {
    std::string out;
    sluice::iota(0, 3) | sluice::encode(bracket_encoder{}) |
        sluice::for_each([&](sluice::chunk& c) { out += c.view(); });
    CHECK(out == "[0,1,2,]");
    out.clear();
    sluice::iota(0, 0) | sluice::encode(bracket_encoder{}) |
        sluice::for_each([&](sluice::chunk& c) { out += c.view(); });
    CHECK(out == "[]");
}

TEST_CASE("line_encoder writes strings and numbers", "[adaptor][encode]") {
    sluice::chunk c;
    sluice::line_encoder e;
    e.encode(std::string_view("text"), c);
    e.encode(42, c);
    e.encode(-1.5, c);
    e.encode(true, c);
    CHECK(c.view() == "text\n42\n-1.5\ntrue\n");
}

TEST_CASE("a consumer may move a chunk away; encode allocates afresh", "[adaptor][encode]") {
    std::vector<sluice::chunk> kept;
    sluice::iota(0, 3000) | sluice::encode(sluice::line_encoder{}, {.chunk_size = 512}) |
        sluice::for_each([&](sluice::chunk& c) { kept.push_back(std::move(c)); });
    std::string all;
    for (auto& c : kept) all += c.view();
    std::string want;
    for (int i = 0; i < 3000; ++i) want += std::to_string(i) + "\n";
    CHECK(all == want);
}
