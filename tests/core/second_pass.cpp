// A pipeline read again after its end: it starts over when everything in it can (a
// container, a forward view, iota; filter, map, tap, take), and a single-pass one throws
// errc::usage. Never a silent empty second pass (issue 10). A pass that stopped early is
// resumed, as before.
#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ranges>
#include <sstream>
#include <string>
#include <vector>

namespace {
auto odd = [](int x) { return x % 2 != 0; };
}  // namespace

TEST_CASE("a pipeline over a vector counts the same twice", "[core][second_pass]") {
    std::vector<int> v{1, 2, 3, 4, 5, 6, 7};
    auto p = v | sluice::filter(odd) | sluice::map([](int x) { return x * 10; });
    STATIC_REQUIRE(sluice::rewindable<decltype(p)>);
    auto big = [](int x) { return x > 20; };
    CHECK(std::ranges::count_if(p, big) == 3);
    CHECK(std::ranges::count_if(p, big) == 3);  // was 0
    // Range-for, twice, and a sink run on the lvalue in between.
    std::vector<int> a, b;
    for (int x : p) a.push_back(x);
    CHECK((p | sluice::count()) == 4);
    CHECK((p | sluice::count()) == 4);
    for (int x : p) b.push_back(x);
    CHECK(a == std::vector<int>{10, 30, 50, 70});
    CHECK(b == a);
}

TEST_CASE("a pass that stopped early resumes; after the end it starts over", "[core][second_pass]") {
    auto p = sluice::iota(0, 10) | sluice::take(4) | sluice::tap([](int) {});
    auto it = p.begin();
    CHECK(*it == 0);
    ++it;
    CHECK(*it == 1);
    CHECK((p | sluice::to_vector()) == std::vector<int>{2, 3});  // resumes, as an input range
    std::vector<int> again;
    for (int x : p) again.push_back(x);
    CHECK(again == std::vector<int>{0, 1, 2, 3});  // take's budget is restored too
}

TEST_CASE("an lvalue pipeline piped on into more stages starts over too", "[core][second_pass]") {
    std::vector<int> v{1, 2, 3, 4, 5};
    auto p = v | sluice::filter(odd);
    CHECK((p | sluice::map([](int x) { return x + 1; }) | sluice::to_vector()) ==
          std::vector<int>{2, 4, 6});
    auto q = p | sluice::take(2);
    CHECK(std::ranges::distance(q) == 2);
    CHECK(std::ranges::distance(q) == 2);
    // q stopped after two of p's three records: p resumes after them, then starts over.
    CHECK(std::ranges::distance(p) == 1);
    CHECK(std::ranges::distance(p) == 3);
}

TEST_CASE("a single-pass pipeline read to its end throws on a second pass", "[core][second_pass]") {
    const std::string path = "second_pass.txt";
    {
        std::ofstream f(path, std::ios::binary);
        f << "a\nb\nc\n";
    }
    auto p = sluice::read_file(path) | sluice::lines();
    STATIC_REQUIRE(!sluice::rewindable<decltype(p)>);
    CHECK(std::ranges::distance(p) == 3);
    try {
        (void)std::ranges::distance(p);
        FAIL("a second pass over a read file yielded a silent result");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::usage);
        CHECK_THAT(e.message(), Catch::Contains("already read to its end"));
    }
    // The push path into a sink says the same.
    auto q = sluice::read_file(path) | sluice::lines();
    CHECK((q | sluice::count()) == 3);
    CHECK_THROWS_AS(q | sluice::count(), sluice::error);
    std::filesystem::remove(path);
}

TEST_CASE("a single-pass view inside from_range is not rewound", "[core][second_pass]") {
    std::istringstream in("1 2 3");
    auto p = std::views::istream<int>(in) | sluice::map([](int x) { return x * 2; });
    STATIC_REQUIRE(!sluice::rewindable<decltype(p)>);
    CHECK((p | sluice::to_vector()) == std::vector<int>{2, 4, 6});
    CHECK_THROWS_AS(p | sluice::to_vector(), sluice::error);
}

// Also: an istream_view keeps the value it read in the view, so from_range steps past a
// record only at the next pull (it used to read ahead and hand out the next value).
TEST_CASE("a single-pass pipeline stopped part-way resumes", "[core][second_pass]") {
    std::istringstream in("1 2 3 4");
    auto p = std::views::istream<int>(in) | sluice::filter([](int) { return true; });
    for (int x : p) {
        CHECK(x == 1);
        break;
    }
    std::vector<int> rest;
    for (int x : p) rest.push_back(x);
    CHECK(rest == std::vector<int>{2, 3, 4});
}
