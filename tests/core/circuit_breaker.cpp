// sluice::circuit_breaker: closed -> open after N consecutive failures -> half-open with
// exactly one probe after the cooldown; cancellation counts as nothing.
#include <catch2/catch.hpp>

#include <sluice/policy/circuit_breaker.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sluice::breaker_state;

namespace {
sluice::circuit_breaker_options opts(int threshold, std::chrono::milliseconds cooldown) {
    sluice::circuit_breaker_options o;
    o.failure_threshold = threshold;
    o.cooldown = cooldown;
    o.name = "test service";
    return o;
}
void fail_once(sluice::circuit_breaker& b) {
    try {
        b.call([]() -> int { throw sluice::error(sluice::errc::network, "svc", "refused"); });
    } catch (const sluice::error&) {
    }
}
}  // namespace

TEST_CASE("opens after N consecutive failures, with a clear rejection", "[adaptor][circuit_breaker]") {
    sluice::circuit_breaker b(opts(3, 10s));
    fail_once(b);
    fail_once(b);
    CHECK(b.state() == breaker_state::closed);
    CHECK(b.call([] { return 1; }) == 1);  // a success resets the count
    CHECK(b.consecutive_failures() == 0);
    fail_once(b);
    fail_once(b);
    fail_once(b);
    CHECK(b.state() == breaker_state::open);
    CHECK(b.times_opened() == 1);
    bool called = false;
    try {
        b.call([&] { called = true; });
        FAIL("not rejected");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::network);
        std::string m = e.what();
        CHECK(m.find("circuit breaker open for test service after 3 consecutive failures") !=
              std::string::npos);
        CHECK(m.find("next probe in") != std::string::npos);
        CHECK(m.find("refused") != std::string::npos);
    }
    CHECK_FALSE(called);
}

TEST_CASE("half-open admits exactly one probe among concurrent callers", "[adaptor][circuit_breaker]") {
    sluice::circuit_breaker b(opts(1, 30ms));
    fail_once(b);
    REQUIRE(b.state() == breaker_state::open);
    CHECK_FALSE(b.admit());
    std::this_thread::sleep_for(40ms);

    std::atomic<int> admitted{0}, probes{0};
    std::vector<sluice::circuit_breaker::ticket> tickets(8);
    {
        std::vector<std::jthread> ts;
        for (int i = 0; i < 8; ++i)
            ts.emplace_back([&, i] {
                tickets[static_cast<std::size_t>(i)] = b.admit();
                if (tickets[static_cast<std::size_t>(i)]) ++admitted;
                if (tickets[static_cast<std::size_t>(i)].probe) ++probes;
            });
    }
    CHECK(admitted == 1);
    CHECK(probes == 1);
    CHECK(b.state() == breaker_state::half_open);
    for (auto& t : tickets)
        if (t) b.succeeded(t);
    CHECK(b.state() == breaker_state::closed);
    CHECK(b.admit());
}

TEST_CASE("a failed probe re-opens for another cooldown", "[adaptor][circuit_breaker]") {
    sluice::circuit_breaker b(opts(2, 20ms));
    fail_once(b);
    fail_once(b);
    std::this_thread::sleep_for(30ms);
    auto t = b.admit();
    REQUIRE(t.probe);
    b.failed(t, "still down");
    CHECK(b.state() == breaker_state::open);
    CHECK(b.times_opened() == 2);
    CHECK_FALSE(b.admit());
}

TEST_CASE("cancellation is neither success nor failure", "[adaptor][circuit_breaker]") {
    sluice::circuit_breaker b(opts(2, 20ms));
    for (int i = 0; i < 5; ++i) {
        CHECK_THROWS(b.call([]() -> int { throw sluice::cancelled_error("svc"); }));
    }
    CHECK(b.state() == breaker_state::closed);
    CHECK(b.consecutive_failures() == 0);

    fail_once(b);
    fail_once(b);
    std::this_thread::sleep_for(30ms);
    // A cancelled probe hands the probe back: the next caller may probe at once.
    CHECK_THROWS(b.call([]() -> int { throw sluice::cancelled_error("svc"); }));
    auto t = b.admit();
    CHECK(t.probe);
    b.succeeded(t);
    CHECK(b.state() == breaker_state::closed);
}
