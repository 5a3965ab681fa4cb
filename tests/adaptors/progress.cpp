#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <chrono>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

TEST_CASE("progress reports once at the end with totals", "[adaptor][progress]") {
    std::vector<sluice::progress_info> reports;
    sluice::progress_options o;
    o.interval = 1h;
    o.total_items = 1000;
    sluice::iota(0, 1000) |
        sluice::progress([&](const sluice::progress_info& p) { reports.push_back(p); }, o) |
        sluice::count();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].done);
    CHECK(reports[0].items == 1000);
    REQUIRE(reports[0].percent);
    CHECK(*reports[0].percent == Approx(100.0));
}

TEST_CASE("progress is throttled by time and computes percent from bytes", "[adaptor][progress]") {
    std::vector<sluice::progress_info> reports;
    std::vector<std::string> blocks(20, std::string(100, 'x'));
    sluice::progress_options o;
    o.interval = 5ms;
    o.total_bytes = 2000;
    blocks | sluice::tap([](const std::string&) { std::this_thread::sleep_for(2ms); }) |
        sluice::progress([&](const sluice::progress_info& p) { reports.push_back(p); }, o) |
        sluice::count();
    REQUIRE(reports.size() >= 2);
    CHECK(reports.size() < 20);  // throttled: not one report per record
    for (std::size_t i = 0; i + 1 < reports.size(); ++i) {
        CHECK_FALSE(reports[i].done);
        REQUIRE(reports[i].percent);
        CHECK(*reports[i].percent == Approx(100.0 * reports[i].bytes / 2000));
        CHECK(reports[i].eta_seconds);
    }
    CHECK(reports.back().done);
    CHECK(reports.back().bytes == 2000);
    CHECK(reports.back().bytes_per_second > 0);
}

TEST_CASE("progress without totals has no percent", "[adaptor][progress]") {
    std::optional<sluice::progress_info> last;
    sluice::iota(0, 10) | sluice::progress([&](const sluice::progress_info& p) { last = p; }, 1s) |
        sluice::count();
    REQUIRE(last);
    CHECK(last->done);
    CHECK(last->items == 10);
}

TEST_CASE("progress can read bytes from a probe", "[adaptor][progress]") {
    std::uint64_t probe = 0;
    std::optional<sluice::progress_info> last;
    sluice::progress_options o;
    o.bytes_probe = [&] { return probe; };
    o.total_bytes = 50;
    sluice::iota(0, 5) | sluice::tap([&](int) { probe += 10; }) |
        sluice::progress([&](const sluice::progress_info& p) { last = p; }, o) | sluice::count();
    REQUIRE(last);
    CHECK(last->bytes == 50);
}
