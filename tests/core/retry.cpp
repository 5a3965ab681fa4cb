// sluice::retry: transient failures retried with capped, fully jittered backoff; everything
// else (and cancellation) passes straight through.
#include <catch2/catch.hpp>

#include <sluice/policy/retry.hpp>

#include <chrono>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {
sluice::retry_policy fast(int attempts) {
    sluice::retry_policy p;
    p.max_attempts = attempts;
    p.base_delay = 1ms;
    p.max_delay = 4ms;
    return p;
}
}  // namespace

TEST_CASE("retry returns the first success", "[adaptor][retry]") {
    int calls = 0;
    int v = sluice::retry(
        [&] {
            if (++calls < 3) throw sluice::transient_error(sluice::errc::network, "svc", "reset");
            return 42;
        },
        fast(5));
    CHECK(v == 42);
    CHECK(calls == 3);
}

TEST_CASE("retry passes the attempt number and supports void", "[adaptor][retry]") {
    std::vector<int> seen;
    sluice::retry(
        [&](int attempt) {
            seen.push_back(attempt);
            if (attempt < 2) throw sluice::transient_error(sluice::errc::network, "svc", "x");
        },
        fast(3));
    CHECK(seen == std::vector<int>{1, 2});
}

TEST_CASE("retry gives up after max_attempts and says so", "[adaptor][retry]") {
    int calls = 0;
    try {
        sluice::retry(
            [&] {
                ++calls;
                throw sluice::transient_error(sluice::errc::network, "svc", "timed out");
            },
            fast(4));
        FAIL("no exception");
    } catch (const sluice::error& e) {
        CHECK(calls == 4);
        CHECK(e.code() == sluice::errc::network);
        CHECK(std::string(e.what()) == "svc: timed out (after 4 attempts)");
    }
}

TEST_CASE("permanent errors and foreign exceptions are not retried", "[adaptor][retry]") {
    int calls = 0;
    CHECK_THROWS_WITH(sluice::retry(
                          [&] {
                              ++calls;
                              throw sluice::error(sluice::errc::bad_input, "svc", "403");
                          },
                          fast(5)),
                      "svc: 403");
    CHECK(calls == 1);
    CHECK_THROWS_AS(sluice::retry([&]() -> int { throw std::runtime_error("x"); }, fast(5)),
                    std::runtime_error);
}

TEST_CASE("a custom classifier decides what is transient", "[adaptor][retry]") {
    auto p = fast(3);
    p.retryable = [](const sluice::error& e) { return e.code() == sluice::errc::io; };
    int calls = 0;
    CHECK_THROWS(sluice::retry(
        [&] {
            ++calls;
            throw sluice::error(sluice::errc::io, "svc", "EIO");
        },
        p));
    CHECK(calls == 3);
}

TEST_CASE("backoff is equal jitter under an exponential, capped ceiling", "[adaptor][retry]") {
    sluice::retry_policy p;
    p.base_delay = 100ms;
    p.max_delay = 1000ms;
    for (int retry = 0; retry < 8; ++retry) {
        auto ceiling = std::min<long>(1000, 100L << retry);
        long lo = 1'000'000, hi = -1;
        for (int i = 0; i < 2000; ++i) {
            long d = sluice::detail::backoff_delay(p, retry).count();
            lo = std::min(lo, d);
            hi = std::max(hi, d);
        }
        CHECK(lo >= ceiling / 2);      // the lower half is always waited...
        CHECK(hi <= ceiling);
        CHECK(lo < ceiling * 5 / 8);   // ...the upper half is random
        CHECK(hi > ceiling * 7 / 8);
    }
}

TEST_CASE("the retry window grows with the attempts", "[adaptor][retry]") {
    // Issue 16: 5 attempts at 100 ms base and full jitter could give up after ~0.1 s and
    // never waited more than 1.5 s, shorter than a typical S3 brown-out.
    sluice::retry_policy p;
    p.base_delay = 1000ms;
    p.max_delay = 20'000ms;
    p.max_attempts = 5;
    CHECK(sluice::min_retry_window(p) == 7500ms);  // 0.5 + 1 + 2 + 4 s
    p.max_attempts = 10;
    CHECK(sluice::min_retry_window(p) == 55'500ms);  // ... + 8 + 10 + 10 + 10 + 10 s
    // Every sleep is at least half its ceiling, so later sleeps are longer than early ones.
    for (int i = 0; i < 200; ++i)
        CHECK(sluice::detail::backoff_delay(p, 3) > sluice::detail::backoff_delay(p, 1));
}

TEST_CASE("on_retry sees each failure and its sleep", "[adaptor][retry]") {
    auto p = fast(3);
    std::vector<int> attempts;
    p.on_retry = [&](int a, const sluice::error&, std::chrono::milliseconds d) {
        attempts.push_back(a);
        CHECK(d <= 4ms);
    };
    CHECK_THROWS(sluice::retry(
        [] { throw sluice::transient_error(sluice::errc::network, "svc", "x"); }, p));
    CHECK(attempts == std::vector<int>{1, 2});
}

TEST_CASE("a stop request interrupts the backoff sleep", "[adaptor][retry]") {
    std::stop_source src;
    sluice::retry_policy p;
    p.max_attempts = 5;
    p.base_delay = 10s;
    p.max_delay = 10s;
    p.stop = src.get_token();
    std::jthread stopper([&] {
        std::this_thread::sleep_for(50ms);
        src.request_stop();
    });
    auto t0 = std::chrono::steady_clock::now();
    try {
        sluice::retry([] { throw sluice::transient_error(sluice::errc::network, "svc", "x"); },
                      p);
        FAIL("no exception");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::cancelled);
    }
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
}

TEST_CASE("cancellation is never retried", "[adaptor][retry]") {
    int calls = 0;
    CHECK_THROWS(sluice::retry(
        [&] {
            ++calls;
            throw sluice::cancelled_error("svc");
        },
        fast(5)));
    CHECK(calls == 1);
}
