#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

TEST_CASE("meter counts records and bytes into the run's registry", "[adaptor][meter]") {
    sluice::metrics m;
    sluice::run_options o;
    o.metrics = &m;
    std::vector<std::string> blocks{"ab\ncd\n", "ef\n"};
    auto n = sluice::run(sluice::from_range(blocks) | sluice::meter("read") | sluice::lines() |
                             sluice::meter("lines"),
                         sluice::count(), o);
    CHECK(n == 3);
    auto snap = m.snapshot();
    REQUIRE(snap.size() == 2);
    CHECK(snap[0].name == "read");  // pipeline order, upstream first
    CHECK(snap[0].out == 2);
    CHECK(snap[0].bytes == 9);
    CHECK(snap[1].name == "lines");
    CHECK(snap[1].out == 3);
    CHECK(snap[1].bytes == 6);
}

TEST_CASE("meter around a stage counts in, out and errors", "[adaptor][meter]") {
    sluice::metrics m;
    sluice::run_options o;
    o.metrics = &m;
    auto n = sluice::run(sluice::iota(0, 100) |
                             sluice::meter("odd", sluice::filter([](int x) { return x % 2; })),
                         sluice::count(), o);
    CHECK(n == 50);
    auto snap = m.snapshot();
    REQUIRE(snap.size() == 1);
    CHECK(snap[0].in == 100);
    CHECK(snap[0].out == 50);
    CHECK(snap[0].errors == 0);

    sluice::metrics m2;
    o.metrics = &m2;
    auto failing = sluice::iota(0, 100) | sluice::meter("parse", sluice::map([](int x) {
                                              if (x == 10) throw std::runtime_error("bad");
                                              return x;
                                          }));
    CHECK_FALSE(sluice::try_run(failing, sluice::count(), o));
    auto s2 = m2.snapshot();
    REQUIRE(s2.size() == 1);
    CHECK(s2[0].in == 11);
    CHECK(s2[0].out == 10);
    CHECK(s2[0].errors == 1);
}

TEST_CASE("meter with user-held counters works without a registry", "[adaptor][meter]") {
    auto c = std::make_shared<sluice::stage_counters>("mine");
    sluice::iota(0, 42) | sluice::meter(c) | sluice::count();
    CHECK(c->out() == 42);
}

TEST_CASE("counters are readable from another thread while running", "[adaptor][meter]") {
    auto c = std::make_shared<sluice::stage_counters>("live");
    std::atomic<bool> done{false};
    std::uint64_t max_seen = 0;
    std::thread reader([&] {
        while (!done.load()) max_seen = std::max(max_seen, c->out());
    });
    sluice::iota(0, 2'000'000) | sluice::meter(c) | sluice::count();
    done = true;
    reader.join();
    CHECK(c->out() == 2'000'000);
    CHECK(max_seen <= 2'000'000);
}
