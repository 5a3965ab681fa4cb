// adaptor<X_fn>: one definition gives a stage its full call, its partial call (a closure),
// braced options, and composition with other closures.
#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace {

struct scale_options {
    int factor = 2;
    int offset = 0;
};

/// A user-defined stage: every record times `factor`, plus `offset`.
struct scale_fn : sluice::adaptor<scale_fn, scale_options> {
    template <class Up, class... O>
    using rules = sluice::adaptor_rules<sluice::rule<
        std::is_arithmetic_v<sluice::value_t<Up>>, "scale: the upstream must yield numbers">>;

    template <class Up>
    static auto make(Up up, scale_options o = {}) {
        return sluice::map(std::move(up), [o](auto x) { return x * o.factor + o.offset; });
    }
};
inline constexpr scale_fn scale{};

std::vector<int> input() { return {1, 2, 3}; }

}  // namespace

TEST_CASE("adaptor: full call and partial call give the same stage", "[core][adaptor]") {
    CHECK((scale(input()) | sluice::to_vector()) == std::vector<int>{2, 4, 6});
    CHECK((input() | scale() | sluice::to_vector()) == std::vector<int>{2, 4, 6});
}

TEST_CASE("adaptor: options as a braced list, an lvalue, or in the full call",
          "[core][adaptor]") {
    CHECK((input() | scale({.factor = 10, .offset = 1}) | sluice::to_vector()) ==
          std::vector<int>{11, 21, 31});
    scale_options o{.factor = 3};
    CHECK((input() | scale(o) | sluice::to_vector()) == std::vector<int>{3, 6, 9});
    CHECK((scale(input(), {.factor = -1}) | sluice::to_vector()) == std::vector<int>{-1, -2, -3});
}

TEST_CASE("adaptor: closures compose and stay reusable", "[core][adaptor]") {
    auto twice = scale({.factor = 2}) | sluice::filter([](int x) { return x > 2; });
    CHECK((input() | twice | sluice::to_vector()) == std::vector<int>{4, 6});
    CHECK((input() | twice | sluice::to_vector()) == std::vector<int>{4, 6});
}

TEST_CASE("adaptor: a string first is a name, not a source, for stages that say so",
          "[core][adaptor]") {
    // meter and auto_decompress take a name first (names_first): "meter(name)" must be a
    // partial call, not a pipeline over the characters of the name.
    auto m = sluice::meter("stage");
    CHECK((input() | m | sluice::count()) == 3);
    auto named = sluice::meter(std::string("stage"));
    CHECK((input() | named | sluice::count()) == 3);
}
