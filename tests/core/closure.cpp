// The pipe mechanism and interop with std::views and range-v3, both directions.
#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <list>
#include <range/v3/range/conversion.hpp>
#include <range/v3/view/filter.hpp>
#include <range/v3/view/iota.hpp>
#include <range/v3/view/take.hpp>
#include <range/v3/view/transform.hpp>
#include <ranges>
#include <string>
#include <vector>

namespace {
auto odd = [](int x) { return x % 2 != 0; };
auto square = [](int x) { return static_cast<long>(x) * x; };
}  // namespace

TEST_CASE("the issue's example pipeline", "[core][closure]") {
    std::vector<int> v{1, 2, 3, 4, 5, 6, 7};
    auto total = sluice::from_range(v) | sluice::filter(odd) | sluice::map(square) |
                 sluice::fold(0L, std::plus<>{});
    CHECK(total == 1 + 9 + 25 + 49);
}

TEST_CASE("closures compose before a source is known", "[core][closure]") {
    auto odd_squares = sluice::filter(odd) | sluice::map(square);
    auto first_two = odd_squares | sluice::take(2);
    CHECK((sluice::iota(0, 100) | first_two | sluice::to_vector()) == std::vector<long>{1, 9});
    // A closure is reusable: applying it copies its arguments.
    CHECK((sluice::iota(0, 6) | odd_squares | sluice::count()) == 3);
    CHECK((sluice::iota(0, 8) | odd_squares | sluice::count()) == 4);
}

TEST_CASE("closure piped into a sink makes a reusable terminal", "[core][closure]") {
    auto count_odd = sluice::filter(odd) | sluice::count();
    CHECK((sluice::iota(0, 10) | count_odd) == 5);
    std::vector<int> v{1, 3, 4};
    CHECK((v | count_odd) == 2);
}

TEST_CASE("containers and std::views are sources", "[core][closure][std]") {
    std::list<int> l{5, 6, 7};
    CHECK((l | sluice::map(square) | sluice::to_vector()) == std::vector<long>{25, 36, 49});
    auto from_std = std::views::iota(1, 6) | std::views::transform([](int x) { return x * 10; });
    CHECK((from_std | sluice::filter([](int x) { return x > 20; }) | sluice::count()) == 3);
    int arr[] = {1, 2, 3};
    CHECK((arr | sluice::fold(0, std::plus<>{})) == 6);
}

TEST_CASE("sluice pipelines are std input views", "[core][closure][std]") {
    auto p = sluice::iota(0, 10) | sluice::map(square);
    static_assert(std::ranges::input_range<decltype(p)>);
    static_assert(std::ranges::view<decltype(p)>);
    std::vector<long> got;
    for (long x : std::move(p) | std::views::filter([](long x) { return x % 2 == 0; }) |
                      std::views::take(3))
        got.push_back(x);
    CHECK(got == std::vector<long>{0, 4, 16});
    // std::ranges algorithms consume a pipeline directly.
    auto q = sluice::iota(1, 5) | sluice::map(square);
    CHECK(std::ranges::find(q, 9L) != q.end());
}

TEST_CASE("range-v3 views consume and feed sluice pipelines", "[core][closure][range-v3]") {
    auto p = sluice::iota(0, 10) | sluice::map(square);
    auto out = p | ranges::views::transform([](long x) { return x + 1; }) |
               ranges::views::take(3) | ranges::to<std::vector>();
    CHECK(out == std::vector<long>{1, 2, 5});
    auto src = ranges::views::iota(1, 8) | ranges::views::filter(odd);
    CHECK((src | sluice::map(square) | sluice::to_vector()) == std::vector<long>{1, 9, 25, 49});
}

TEST_CASE("an lvalue pipeline is referenced, not copied", "[core][closure]") {
    auto src = sluice::iota(0, 10);
    auto first = src | sluice::take(3) | sluice::to_vector();
    CHECK(first == std::vector<int>{0, 1, 2});
    // The same source continues where the first run stopped.
    auto rest = src | sluice::to_vector();
    CHECK(rest == std::vector<int>{3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("pull and push can be mixed on one pipeline", "[core][closure]") {
    auto p = sluice::iota(0, 6) | sluice::filter(odd);
    auto first = p.next();
    REQUIRE(first);
    CHECK(*first == 1);
    CHECK((p | sluice::to_vector()) == std::vector<int>{3, 5});
}

TEST_CASE("to_vector keeps owned copies of views", "[core][closure]") {
    std::vector<std::string> words{"alpha", "beta"};
    auto views = words | sluice::map([](const std::string& s) { return std::string_view(s); }) |
                 sluice::to_vector();
    static_assert(std::is_same_v<decltype(views), std::vector<std::string>>);
    CHECK(views == words);
    auto typed = words | sluice::map([](const std::string& s) { return std::string_view(s); }) |
                 sluice::to_vector<std::string_view>();
    static_assert(std::is_same_v<decltype(typed), std::vector<std::string_view>>);
}
