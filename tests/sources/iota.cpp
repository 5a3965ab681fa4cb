#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <cstdint>
#include <limits>
#include <vector>

TEST_CASE("iota yields [first, last)", "[sources][iota]") {
    CHECK((sluice::iota(3, 7) | sluice::to_vector()) == std::vector<int>{3, 4, 5, 6});
    CHECK((sluice::iota(5, 5) | sluice::count()) == 0);
    CHECK((sluice::iota(5, 2) | sluice::count()) == 0);
}

TEST_CASE("iota mixes integer types through their common type", "[sources][iota]") {
    auto s = sluice::iota(0, std::int64_t{3});
    static_assert(std::is_same_v<sluice::reference_t<decltype(s)>, std::int64_t>);
    CHECK((std::move(s) | sluice::count()) == 3);
}

TEST_CASE("iota near the end of the type's range", "[sources][iota]") {
    constexpr int top = std::numeric_limits<int>::max();
    CHECK((sluice::iota(top - 3, top) | sluice::to_vector()) ==
          std::vector<int>{top - 3, top - 2, top - 1});
    constexpr int bottom = std::numeric_limits<int>::min();
    CHECK((sluice::iota(bottom, bottom + 2) | sluice::count()) == 2);
}

TEST_CASE("unbounded iota with take", "[sources][iota]") {
    CHECK((sluice::iota(10) | sluice::take(3) | sluice::to_vector()) ==
          std::vector<int>{10, 11, 12});
}

TEST_CASE("iota spans many check blocks", "[sources][iota]") {
    std::int64_t n = 3 * static_cast<std::int64_t>(sluice::stop_check_interval) + 17;
    CHECK((sluice::iota(std::int64_t{0}, n) | sluice::fold(std::int64_t{0}, std::plus<>{})) ==
          n * (n - 1) / 2);
    auto p = sluice::iota(0, 10);
    std::vector<int> pulled;
    for (int x : p) pulled.push_back(x);
    CHECK(pulled.size() == 10);
}
