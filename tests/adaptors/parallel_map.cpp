#include <catch2/catch.hpp>

#include "thread_support.hpp"

#include <sluice/adaptors/parallel_map.hpp>
#include <sluice/adaptors/prefetch.hpp>
#include <sluice/sluice.hpp>

#include <dirent.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {
/// Deterministic uneven work: some records take much longer than others.
void jitter(int x) {
    if (x % 17 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
}
}  // namespace

TEST_CASE("ordered parallel_map keeps input order", "[adaptor][parallel_map]") {
    auto v = sluice::iota(0, 3000) | sluice::parallel_map([](int x) {
                 jitter(x);
                 return x * 3;
             }, {.workers = 4, .window = 8}) |
             sluice::to_vector();
    REQUIRE(v.size() == 3000);
    for (int i = 0; i < 3000; ++i) REQUIRE(v[static_cast<std::size_t>(i)] == 3 * i);
}

TEST_CASE("unordered parallel_map yields every result once", "[adaptor][parallel_map]") {
    auto v = sluice::iota(0, 3000) | sluice::parallel_map([](int x) {
                 jitter(x);
                 return x;
             }, {.workers = 3, .ordered = false}) |
             sluice::to_vector();
    std::sort(v.begin(), v.end());
    REQUIRE(v.size() == 3000);
    for (int i = 0; i < 3000; ++i) REQUIRE(v[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("parallel_map takes views as owned strings", "[adaptor][parallel_map]") {
    std::vector<std::string> blocks{"a\nbb\nc", "cc\nddd\n"};
    auto v = sluice::from_range(blocks) | sluice::lines() |
             sluice::parallel_map([](std::string& s) { return s.size(); }, {.workers = 2}) |
             sluice::to_vector();
    CHECK(v == std::vector<std::size_t>{1, 2, 3, 3});
}

TEST_CASE("a slow record stalls intake instead of growing the reorder buffer",
          "[adaptor][parallel_map]") {
    sluice::metrics m;
    sluice::run_options o;
    o.metrics = &m;
    sluice::run(sluice::iota(0, 400) | sluice::parallel_map([](int x) {
                             if (x == 10) std::this_thread::sleep_for(std::chrono::milliseconds(30));
                             return x;
                         }, {.workers = 4, .window = 6, .name = "pm"}),
                         sluice::for_each([](int) {
                             std::this_thread::sleep_for(std::chrono::microseconds(20));
                         }),
                         o);
    auto snap = m.snapshot();
    REQUIRE(snap.size() == 1);
    CHECK(snap[0].in == 400);
    CHECK(snap[0].out == 400);
    CHECK(snap[0].queue_capacity == 6);
    CHECK(snap[0].queue_high_water <= 6);
    CHECK(snap[0].blocked_upstream_ns > 0);  // waited for the slow record
}

TEST_CASE("an exception on a worker surfaces in order on the consumer",
          "[adaptor][parallel_map]") {
    const int before = thread_count();
    std::vector<int> got;
    auto r = sluice::try_run(sluice::iota(0, 1000) | sluice::parallel_map([](int x) {
                                 if (x == 123) throw std::runtime_error("bad record 123");
                                 return x;
                             }, {.workers = 3}),
                             sluice::for_each([&](int x) { got.push_back(x); }));
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == "bad record 123");
    CHECK(got.size() == 123);
    CHECK(threads_back_to(before));
}

TEST_CASE("parallel_map turns worker exceptions into poison records under a policy",
          "[adaptor][parallel_map][error_policy]") {
    std::vector<sluice::poison<int>> dead;
    auto v = sluice::iota(0, 100) |
             sluice::parallel_map([](int& x) {
                 if (x % 10 == 3) throw std::invalid_argument("ends in 3");
                 return x;
             }, {.workers = 2}, sluice::on_error::dead_letter([&](sluice::poison<int>&& p) {
                 dead.push_back(std::move(p));
             })) |
             sluice::to_vector();
    CHECK(v.size() == 90);
    REQUIRE(dead.size() == 10);
    CHECK(dead[0].record == 3);
    CHECK(dead[0].error.where().record == 3);
    CHECK(dead[0].error.message() == "ends in 3");
    CHECK(dead[0].error.stage() == "parallel_map");

    auto r = sluice::try_run(sluice::iota(0, 100) |
                                 sluice::parallel_map([](int x) {
                                     if (x % 10 == 3) throw std::invalid_argument("ends in 3");
                                     return x;
                                 }, {.workers = 2}, sluice::on_error::skip.max_rejects(4)),
                             sluice::count());
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::limit);
}

TEST_CASE("cancelling a parallel_map run leaves no thread", "[adaptor][parallel_map]") {
    const int before = thread_count();
    std::stop_source stop;
    sluice::run_options o;
    o.stop = stop.get_token();
    int n = 0;
    auto r = sluice::try_run(sluice::iota(0) | sluice::prefetch(8) |
                                 sluice::parallel_map([](int x) { return x + 1; }, {.workers = 2}),
                             sluice::for_each([&](int) {
                                 if (++n == 5000) stop.request_stop();
                             }),
                             o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::cancelled);
    CHECK(threads_back_to(before));
}

TEST_CASE("parallel_map and prefetch compose: many stages, one order", "[adaptor][parallel_map]") {
    auto v = sluice::iota(0, 20000) | sluice::prefetch(16) |
             sluice::parallel_map([](int x) { return std::to_string(x); }, {.workers = 2}) |
             sluice::prefetch(4) | sluice::map([](std::string& s) { return std::stoi(s); }) |
             sluice::to_vector();
    REQUIRE(v.size() == 20000);
    for (int i = 0; i < 20000; ++i) REQUIRE(v[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("parallel_map with record_bytes asks the memory plan for its window",
          "[adaptor][parallel_map][memory]") {
    constexpr std::size_t kib = 1024;
    auto run_with = [&](std::optional<std::size_t> budget, std::size_t& window_bytes,
                        std::uint64_t& high_water) {
        sluice::metrics m;
        std::vector<int> out;
        sluice::run_options o;
        o.metrics = &m;
        if (budget) o.memory_budget = *budget;
        o.on_memory_plan = [&](const sluice::memory_plan& p) {
            for (const auto& i : p.items())
                if (i.stage == "pm") window_bytes = i.bytes;
        };
        sluice::run(sluice::iota(0, 2000) | sluice::parallel_map([](int x) {
                        jitter(x);
                        return x * 3;
                    }, {.workers = 2, .window = 8, .name = "pm", .record_bytes = 100 * kib}),
                    sluice::for_each([&](int x) { out.push_back(x); }), o);
        REQUIRE(out.size() == 2000);
        for (int i = 0; i < 2000; ++i) REQUIRE(out[static_cast<std::size_t>(i)] == i * 3);
        for (const auto& c : m.snapshot())
            if (c.name == "pm") high_water = c.queue_high_water;
    };
    std::size_t bytes = 0;
    std::uint64_t hw = 0;
    // No budget: the whole window, as asked.
    run_with(std::nullopt, bytes, hw);
    CHECK(bytes == 8 * 100 * kib);
    CHECK(hw <= 8);
    // A budget with room for three records: the window shrinks to three, and no more are
    // ever in flight.
    run_with(350 * kib, bytes, hw);
    CHECK(bytes == 3 * 100 * kib);
    CHECK(hw <= 3);
    CHECK(hw >= 1);
    // Not even one record: the run is refused before it starts.
    REQUIRE_THROWS_AS(run_with(50 * kib, bytes, hw), sluice::error);
}
