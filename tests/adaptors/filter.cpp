#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <string>
#include <vector>

TEST_CASE("filter keeps matching records on both paths", "[adaptor][filter]") {
    auto even = [](int x) { return x % 2 == 0; };
    CHECK((sluice::iota(0, 10) | sluice::filter(even) | sluice::to_vector()) ==
          std::vector<int>{0, 2, 4, 6, 8});
    std::vector<int> pulled;
    for (int x : sluice::iota(0, 10) | sluice::filter(even)) pulled.push_back(x);
    CHECK(pulled == std::vector<int>{0, 2, 4, 6, 8});
}

TEST_CASE("filter passes references through unchanged", "[adaptor][filter]") {
    std::vector<std::string> v{"keep", "drop", "keep too"};
    auto p = sluice::from_range(v) |
             sluice::filter([](const std::string& s) { return s.starts_with("keep"); });
    static_assert(std::is_same_v<sluice::reference_t<decltype(p)>, std::string&>);
    p | sluice::for_each([](std::string& s) { s = "kept"; });
    CHECK(v == std::vector<std::string>{"kept", "drop", "kept"});
}

TEST_CASE("filter accepts member pointers and mutable callables", "[adaptor][filter]") {
    struct rec {
        int id;
        bool active;
    };
    std::vector<rec> v{{1, true}, {2, false}, {3, true}};
    CHECK((v | sluice::filter(&rec::active) | sluice::count()) == 2);
    int calls = 0;
    auto every_other = [calls](const rec&) mutable { return calls++ % 2 == 0; };
    CHECK((v | sluice::filter(every_other) | sluice::count()) == 2);
}

TEST_CASE("filter stages are std views even with lambdas", "[adaptor][filter]") {
    auto all = [](int) { return true; };
    auto p = sluice::iota(0, 3) | sluice::filter(all);
    static_assert(std::ranges::view<decltype(p)>);
    auto q = std::move(p);
    q = sluice::iota(0, 5) | sluice::filter(all);  // assignable although lambdas are not
    CHECK((q | sluice::count()) == 5);
}
