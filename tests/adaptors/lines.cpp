#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <string>
#include <vector>

namespace {
std::vector<std::string> split(const std::vector<std::string>& blocks, sluice::lines_options o = {}) {
    return blocks | sluice::lines(o) | sluice::to_vector();
}
std::vector<std::string> split_pull(const std::vector<std::string>& blocks) {
    std::vector<std::string> out;
    for (auto l : sluice::from_range(blocks) | sluice::lines()) out.emplace_back(l);
    return out;
}
}  // namespace

TEST_CASE("lines splits LF and CRLF, keeps a last line without end", "[adaptor][lines]") {
    std::vector<std::string> want{"a", "bb", "", "ccc"};
    CHECK(split({"a\nbb\r\n\nccc"}) == want);
    CHECK(split_pull({"a\nbb\r\n\nccc"}) == want);
}

TEST_CASE("lines joins lines across every possible block boundary", "[adaptor][lines]") {
    std::string text = "first line\nsecond\r\n\nfourth is longer than the rest\nlast";
    std::vector<std::string> want{"first line", "second", "", "fourth is longer than the rest",
                                  "last"};
    for (std::size_t size = 1; size <= text.size(); ++size) {
        std::vector<std::string> blocks;
        for (std::size_t i = 0; i < text.size(); i += size) blocks.push_back(text.substr(i, size));
        INFO("block size " << size);
        CHECK(split(blocks) == want);
        CHECK(split_pull(blocks) == want);
    }
}

TEST_CASE("lines keeps CR when asked", "[adaptor][lines]") {
    CHECK(split({"a\r\nb\r\n"}, {.keep_cr = true}) == std::vector<std::string>{"a\r", "b\r"});
}

TEST_CASE("an over-long line is an error naming the line", "[adaptor][lines]") {
    auto r = sluice::try_run(std::vector<std::string>{"ok\n", std::string(100, 'x')} |
                                 sluice::lines({.max_line_length = 50}),
                             sluice::count());
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::bad_input);
    CHECK(r.error().where().line == 2);
}

TEST_CASE("lines over an empty stream", "[adaptor][lines]") {
    CHECK(split({}).empty());
    CHECK(split({""}).empty());
    CHECK(split({"\n"}) == std::vector<std::string>{""});
}
