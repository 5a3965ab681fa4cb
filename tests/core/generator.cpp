#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {
sluice::generator<int> evens(int n) {
    for (int i = 0; i < n; i += 2) co_yield i;
}
sluice::generator<std::string> words() {
    co_yield "converted";  // a const char* becomes a std::string held across the suspension
    std::string local = "local";
    co_yield local;
    co_yield std::string("temporary");
}
sluice::generator<int> throws_after(int n) {
    for (int i = 0; i < n; ++i) co_yield i;
    throw std::runtime_error("source failed");
}
sluice::generator<std::unique_ptr<int>> boxes() {
    co_yield std::make_unique<int>(1);
    co_yield std::make_unique<int>(2);
}
}  // namespace

TEST_CASE("a generator is a source", "[core][generator]") {
    CHECK((evens(10) | sluice::fold(0, std::plus<>{})) == 0 + 2 + 4 + 6 + 8);
    CHECK((evens(10) | sluice::filter([](int x) { return x > 3; }) | sluice::to_vector()) ==
          std::vector<int>{4, 6, 8});
}

TEST_CASE("yielded values live until the next pull", "[core][generator]") {
    CHECK((words() | sluice::to_vector()) ==
          std::vector<std::string>{"converted", "local", "temporary"});
}

TEST_CASE("a generator is lazy and stops early", "[core][generator]") {
    int produced = 0;
    auto counting = [&]() -> sluice::generator<int> {
        for (int i = 0;; ++i) {
            ++produced;
            co_yield i;
        }
    };
    CHECK((counting() | sluice::take(3) | sluice::count()) == 3);
    CHECK(produced == 3);
}

TEST_CASE("exceptions in a generator reach the run", "[core][generator]") {
    auto r = sluice::try_run(throws_after(3), sluice::count());
    REQUIRE_FALSE(r);
    CHECK(std::string(r.error().what()) == "source failed");
}

TEST_CASE("move-only values can be moved out of a generator", "[core][generator]") {
    std::vector<std::unique_ptr<int>> got;
    boxes() | sluice::for_each([&](std::unique_ptr<int>& p) { got.push_back(std::move(p)); });
    REQUIRE(got.size() == 2);
    CHECK(*got[1] == 2);
}

TEST_CASE("a generator works as a std range", "[core][generator]") {
    std::vector<int> out;
    for (int x : evens(7)) out.push_back(x);
    CHECK(out == std::vector<int>{0, 2, 4, 6});
}
