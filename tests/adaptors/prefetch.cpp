#include <catch2/catch.hpp>

#include "thread_support.hpp"

#include <sluice/adaptors/prefetch.hpp>
#include <sluice/sluice.hpp>

#include <dirent.h>

#include <chrono>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

TEST_CASE("prefetch keeps order on the pull and push paths", "[adaptor][prefetch]") {
    auto v = sluice::iota(0, 100000) | sluice::prefetch(4) | sluice::to_vector();
    REQUIRE(v.size() == 100000);
    for (int i = 0; i < 100000; ++i) REQUIRE(v[static_cast<std::size_t>(i)] == i);

    auto p = sluice::iota(0, 1000) | sluice::prefetch(3);
    int expect = 0;
    for (int& x : p) CHECK(x == expect++);
    CHECK(expect == 1000);
}

TEST_CASE("prefetch moves chunks across and turns views into owned strings",
          "[adaptor][prefetch]") {
    std::string text;
    for (int i = 0; i < 50000; ++i) text += "line " + std::to_string(i) + "\n";
    std::vector<std::string> blocks;
    for (std::size_t i = 0; i < text.size(); i += 7777) blocks.push_back(text.substr(i, 7777));
    // lines() yields string_views into its buffer: they become std::string before crossing.
    std::string joined;
    sluice::from_range(blocks) | sluice::lines() | sluice::prefetch(16) |
        sluice::for_each([&](std::string& s) { joined += s + "\n"; });
    CHECK(joined == text);
    // encode() yields chunk&: each crosses by move, so the bytes arrive intact.
    std::string bytes;
    sluice::from_range(blocks) | sluice::lines() |
        sluice::encode(sluice::line_encoder{}, {.chunk_size = 4096}) | sluice::prefetch(2) |
        sluice::for_each([&](sluice::chunk& c) { bytes.append(c.view()); });
    CHECK(bytes == text);
}

TEST_CASE("a slow consumer keeps the queue within its capacity", "[adaptor][prefetch]") {
    sluice::metrics m;
    sluice::run_options o;
    o.metrics = &m;
    int seen = 0;
    sluice::run(sluice::iota(0, 200) | sluice::prefetch({.capacity = 5, .name = "pf"}),
                sluice::for_each([&](int) {
                    if (++seen % 20 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
                }),
                o);
    CHECK(seen == 200);
    auto snap = m.snapshot();
    REQUIRE(snap.size() == 1);
    CHECK(snap[0].name == "pf");
    CHECK(snap[0].in == 200);
    CHECK(snap[0].out == 200);
    CHECK(snap[0].queue_capacity == 5);
    CHECK(snap[0].queue_high_water <= 5);
    CHECK(snap[0].queue_high_water >= 1);
    CHECK(snap[0].blocked_downstream_ns > 0);  // the producer had to wait for room
    const std::string json = m.to_json();
    CHECK(json.find("\"name\":\"pf\"") != std::string::npos);
    CHECK(json.find("\"queue_high_water\":") != std::string::npos);
}

TEST_CASE("an upstream exception crosses the thread and surfaces at the pull",
          "[adaptor][prefetch]") {
    const int before = thread_count();
    std::vector<int> got;
    auto r = sluice::try_run(sluice::iota(0, 1000) | sluice::map([](int x) {
                                 if (x == 500) throw std::runtime_error("boom at 500");
                                 return x;
                             }) | sluice::prefetch(8),
                             sluice::for_each([&](int x) { got.push_back(x); }));
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == "boom at 500");
    CHECK(got.size() == 500);  // everything before the failure arrived, in order
    CHECK(threads_back_to(before));
}

TEST_CASE("cancellation mid-run stops both sides and leaves no thread",
          "[adaptor][prefetch]") {
    const int before = thread_count();
    std::stop_source stop;
    sluice::run_options o;
    o.stop = stop.get_token();
    long n = 0;
    auto r = sluice::try_run(sluice::iota(0) | sluice::prefetch(4), sluice::for_each([&](int) {
                                 if (++n == 10000) stop.request_stop();
                             }),
                             o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::cancelled);
    CHECK(threads_back_to(before));
}

TEST_CASE("an lvalue pipeline stopped early has no thread left after the run",
          "[adaptor][prefetch]") {
    const int before = thread_count();
    auto p = sluice::iota(0) | sluice::prefetch(4) | sluice::take(10);
    CHECK(sluice::run(p, sluice::count()) == 10);
    CHECK(threads_back_to(before));  // joined at the end of the run, not at p's destruction
}

TEST_CASE("a downstream exception ends the run and joins the producer", "[adaptor][prefetch]") {
    const int before = thread_count();
    auto r = sluice::try_run(sluice::iota(0) | sluice::prefetch(2), sluice::for_each([](int x) {
                                 if (x == 100) throw std::runtime_error("sink failed");
                             }));
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == "sink failed");
    CHECK(threads_back_to(before));
}

TEST_CASE("prefetch reports its queued records to the memory plan when their size is given",
          "[adaptor][prefetch][memory_budget]") {
    std::string shown;
    std::size_t total_with = 0, total_without = 0;
    sluice::run_options o;
    o.on_memory_plan = [&](const sluice::memory_plan& p) {
        shown = p.breakdown();
        total_with = p.total();
    };
    auto n = sluice::run(sluice::iota(0, 100)
                             | sluice::prefetch({.capacity = 3, .name = "q", .item_bytes = 1000}),
                         sluice::count(), o);
    CHECK(n == 100);
    CHECK(total_with == 5 * 1000);  // three queued, one being made, one held
    CHECK_THAT(shown, Catch::Contains("queued records"));
    // Without a size nothing is reported (the plan cannot know what a record holds).
    o.on_memory_plan = [&](const sluice::memory_plan& p) { total_without = p.total(); };
    sluice::run(sluice::iota(0, 100) | sluice::prefetch(3), sluice::count(), o);
    CHECK(total_without == 0);
}
