#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <string>
#include <vector>

TEST_CASE("tap observes without changing the stream", "[adaptor][tap]") {
    std::vector<int> seen;
    auto out = sluice::iota(0, 4) | sluice::tap([&](int x) { seen.push_back(x); }) |
               sluice::map([](int x) { return x * 10; }) | sluice::to_vector();
    CHECK(seen == std::vector<int>{0, 1, 2, 3});
    CHECK(out == std::vector<int>{0, 10, 20, 30});
}

TEST_CASE("tap sees records as const", "[adaptor][tap]") {
    std::vector<std::string> v{"x"};
    std::size_t total = 0;
    v | sluice::tap([&](const std::string& s) { total += s.size(); }) | sluice::count();
    CHECK(total == 1);
}
