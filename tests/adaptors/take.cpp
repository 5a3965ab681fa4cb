#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <vector>

TEST_CASE("take stops after n records without pulling more", "[adaptor][take]") {
    int pulled = 0;
    auto p = sluice::iota(0, 100) | sluice::tap([&](int) { ++pulled; }) | sluice::take(3);
    CHECK((p | sluice::to_vector()) == std::vector<int>{0, 1, 2});
    CHECK(pulled == 3);
}

TEST_CASE("take on the pull path", "[adaptor][take]") {
    int pulled = 0;
    std::vector<int> got;
    for (int x : sluice::iota(0, 100) | sluice::tap([&](int) { ++pulled; }) | sluice::take(2))
        got.push_back(x);
    CHECK(got == std::vector<int>{0, 1});
    CHECK(pulled == 2);
}

TEST_CASE("take zero, and more than there is", "[adaptor][take]") {
    CHECK((sluice::iota(0, 5) | sluice::take(0) | sluice::count()) == 0);
    CHECK((sluice::iota(0, 5) | sluice::take(50) | sluice::count()) == 5);
}

TEST_CASE("take after filter counts passed records", "[adaptor][take]") {
    CHECK((sluice::iota(0, 100) | sluice::filter([](int x) { return x % 10 == 0; }) |
           sluice::take(3) | sluice::to_vector()) == std::vector<int>{0, 10, 20});
}
