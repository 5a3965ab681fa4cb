#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <memory>
#include <string>
#include <vector>

TEST_CASE("map transforms each record", "[adaptor][map]") {
    CHECK((sluice::iota(1, 4) | sluice::map([](int x) { return std::to_string(x * 2); }) |
           sluice::to_vector()) == std::vector<std::string>{"2", "4", "6"});
}

TEST_CASE("map may return references without copies", "[adaptor][map]") {
    struct rec {
        std::string name;
    };
    std::vector<rec> v{{"a"}, {"b"}};
    auto names = sluice::from_range(v) | sluice::map([](rec& r) -> std::string& { return r.name; });
    static_assert(std::is_same_v<sluice::reference_t<decltype(names)>, std::string&>);
    names | sluice::for_each([](std::string& s) { s += "1"; });
    CHECK(v[0].name == "a1");
    CHECK(v[1].name == "b1");
}

TEST_CASE("map over a member pointer", "[adaptor][map]") {
    struct rec {
        int id;
    };
    std::vector<rec> v{{4}, {5}};
    CHECK((v | sluice::map(&rec::id) | sluice::fold(0, std::plus<>{})) == 9);
}

TEST_CASE("map yields move-only values", "[adaptor][map]") {
    auto boxes = sluice::iota(0, 3) | sluice::map([](int x) { return std::make_unique<int>(x); });
    std::vector<std::unique_ptr<int>> got;
    boxes | sluice::for_each([&](std::unique_ptr<int>&& p) { got.push_back(std::move(p)); });
    REQUIRE(got.size() == 3);
    CHECK(*got[2] == 2);
    auto pulled = sluice::iota(0, 2) | sluice::map([](int x) { return std::make_unique<int>(x); });
    auto first = pulled.next();
    REQUIRE(first);
    CHECK(**first == 0);
}
