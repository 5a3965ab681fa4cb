#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <string>
#include <vector>

TEST_CASE("batch groups records, the last batch may be short", "[adaptor][batch]") {
    std::vector<std::vector<int>> got;
    sluice::iota(0, 7) | sluice::batch(3) |
        sluice::for_each([&](std::vector<int>& b) { got.push_back(b); });
    CHECK(got == std::vector<std::vector<int>>{{0, 1, 2}, {3, 4, 5}, {6}});
}

TEST_CASE("batch on the pull path", "[adaptor][batch]") {
    std::vector<std::size_t> sizes;
    for (auto& b : sluice::iota(0, 10) | sluice::batch(4)) sizes.push_back(b.size());
    CHECK(sizes == std::vector<std::size_t>{4, 4, 2});
}

TEST_CASE("batch stores owned copies of views", "[adaptor][batch]") {
    // lines() yields string_views into a buffer that is refilled: a batch must own its rows.
    std::vector<std::string> blocks{"ab\ncd", "\nef\n"};
    std::vector<std::vector<std::string>> got;
    blocks | sluice::lines() | sluice::batch(2) |
        sluice::for_each([&](std::vector<std::string>& b) { got.push_back(b); });
    CHECK(got == std::vector<std::vector<std::string>>{{"ab", "cd"}, {"ef"}});
}

TEST_CASE("batch of zero is a usage error", "[adaptor][batch]") {
    CHECK_THROWS_AS(sluice::iota(0, 3) | sluice::batch(0), sluice::error);
}
