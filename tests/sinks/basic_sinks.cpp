// count, fold, for_each, to_vector.
#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <string>
#include <vector>

TEST_CASE("count counts", "[sinks][count]") {
    CHECK((sluice::iota(0, 123) | sluice::count()) == 123);
    CHECK((std::vector<int>{} | sluice::count()) == 0);
}

TEST_CASE("fold folds left to right", "[sinks][fold]") {
    auto s = sluice::iota(1, 4) | sluice::map([](int x) { return std::to_string(x); }) |
             sluice::fold(std::string(">"), [](std::string acc, std::string x) { return acc + x; });
    CHECK(s == ">123");
    CHECK((sluice::iota(0, 0) | sluice::fold(7, std::plus<>{})) == 7);
}

TEST_CASE("for_each calls the function and returns the count", "[sinks][for_each]") {
    int sum = 0;
    auto n = sluice::iota(0, 5) | sluice::for_each([&](int x) { sum += x; });
    CHECK(n == 5);
    CHECK(sum == 10);
}

TEST_CASE("to_vector collects", "[sinks][to_vector]") {
    CHECK((sluice::iota(0, 3) | sluice::to_vector()) == std::vector<int>{0, 1, 2});
    CHECK((sluice::iota(0, 3) | sluice::to_vector<long>()) == std::vector<long>{0, 1, 2});
}
