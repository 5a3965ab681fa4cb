#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <deque>
#include <string>
#include <vector>

TEST_CASE("from_range references an lvalue range", "[sources][from_range]") {
    std::vector<std::string> v{"a", "b"};
    auto src = sluice::from_range(v);
    static_assert(std::is_same_v<sluice::reference_t<decltype(src)>, std::string&>);
    src | sluice::for_each([](std::string& s) { s += "!"; });
    CHECK(v == std::vector<std::string>{"a!", "b!"});
}

TEST_CASE("from_range owns an rvalue range", "[sources][from_range]") {
    auto src = sluice::from_range(std::deque<int>{3, 4, 5});
    CHECK((std::move(src) | sluice::fold(0, std::plus<>{})) == 12);
}

TEST_CASE("from_range pull path", "[sources][from_range]") {
    std::vector<int> v{1, 2};
    auto src = sluice::from_range(v);
    auto a = src.next();
    auto b = src.next();
    auto c = src.next();
    REQUIRE(a);
    REQUIRE(b);
    CHECK(*a == 1);
    CHECK(*b == 2);
    CHECK_FALSE(c);
}

TEST_CASE("from_range over an empty range", "[sources][from_range]") {
    std::vector<int> v;
    CHECK((sluice::from_range(v) | sluice::count()) == 0);
}

TEST_CASE("from_range checks the stop token between blocks", "[sources][from_range][cancel]") {
    std::vector<int> v(100'000, 1);
    std::stop_source stop;
    sluice::run_options o;
    o.stop = stop.get_token();
    std::size_t seen = 0;
    auto r = sluice::try_run(sluice::from_range(v) | sluice::tap([&](int) {
                                 if (++seen == 5) stop.request_stop();
                             }),
                             sluice::count(), o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::cancelled);
    CHECK(seen <= 5 + sluice::stop_check_interval);
}
