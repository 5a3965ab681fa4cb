// net::send / net::call against a real HTTP server on a loopback port: transient statuses
// are retried and the call then succeeds, permanent ones fail at once as net::http_error,
// a dead endpoint exhausts the attempts and counts once in its breaker, an open breaker
// refuses without a request, 4xx never count, caller_retries defers the count, stop ends
// the backoff; plus the shared rules (is_retryable, failure_kind_of, answer_error).
#include <catch2/catch.hpp>

#include <sluice/net/curl_transport.hpp>
#include <sluice/net/send.hpp>
#include <sluice/net/transient.hpp>
#include <sluice/policy/endpoint_breakers.hpp>
#include <sluice/policy/retry.hpp>

#include <atomic>
#include <chrono>
#include <stop_token>
#include <string>
#include <thread>

#include "loopback.hpp"

namespace net = sluice::net;
using namespace std::chrono_literals;

namespace {

/// /flaky answers 503 `fail_next` times, then 200 "done"; /missing is 404; /throttle is 429.
struct flaky_server {
    nettest::loopback_server s;
    std::atomic<int> fail_next{0};
    std::atomic<int> requests{0};
    flaky_server() {
        s.svr.Get("/flaky", [this](const httplib::Request&, httplib::Response& res) {
            ++requests;
            if (fail_next > 0) {
                --fail_next;
                res.status = 503;
                res.set_content("busy, try later", "text/plain");
                return;
            }
            res.set_content("done", "text/plain");
        });
        s.svr.Get("/missing", [this](const httplib::Request&, httplib::Response& res) {
            ++requests;
            res.status = 404;
            res.set_content("not here", "text/plain");
        });
        s.start();
    }
};

net::send_policy quick(int attempts, sluice::endpoint_breakers* b = nullptr) {
    net::send_policy p;
    p.retry.max_attempts = attempts;
    p.retry.base_delay = 1ms;
    p.retry.max_delay = 5ms;
    p.breakers = b;
    return p;
}

net::http_request get(const std::string& url) {
    net::http_request r;
    r.url = url;
    r.stage = "test";
    return r;
}

}  // namespace

TEST_CASE("the transient-failure rules", "[net][transient]") {
    for (long s : {408L, 429L, 500L, 502L, 503L, 504L}) CHECK(net::status_is_transient(s));
    for (long s : {200L, 301L, 400L, 401L, 403L, 404L, 412L, 501L, 505L})
        CHECK_FALSE(net::status_is_transient(s));
    CHECK(net::curl_code_is_transient(CURLE_COULDNT_CONNECT));
    CHECK(net::curl_code_is_transient(CURLE_OPERATION_TIMEDOUT));
    CHECK(net::curl_code_is_transient(CURLE_RECV_ERROR));
    CHECK(net::curl_code_is_transient(CURLE_PARTIAL_FILE));
    CHECK_FALSE(net::curl_code_is_transient(CURLE_UNSUPPORTED_PROTOCOL));
    CHECK_FALSE(net::curl_code_is_transient(CURLE_URL_MALFORMAT));
    CHECK_FALSE(net::curl_code_is_transient(CURLE_PEER_FAILED_VERIFICATION));

    CHECK(net::is_retryable(sluice::transient_error(sluice::errc::network, "t", "reset")));
    CHECK(net::is_retryable(net::http_error("t", "HTTP 503", 503, true)));
    CHECK_FALSE(net::is_retryable(net::http_error("t", "HTTP 404", 404, false)));
    CHECK_FALSE(net::is_retryable(sluice::error(sluice::errc::network, "t", "bad URL")));

    using sluice::failure_kind;
    CHECK(net::failure_kind_of(net::http_error("t", "", 503, true)) == failure_kind::server);
    CHECK(net::failure_kind_of(net::http_error("t", "", 501, false)) == failure_kind::server);
    CHECK(net::failure_kind_of(net::http_error("t", "", 200, true)) == failure_kind::server);
    CHECK(net::failure_kind_of(net::http_error("t", "", 429, true)) == failure_kind::client);
    CHECK(net::failure_kind_of(net::http_error("t", "", 404, false)) == failure_kind::client);
    CHECK(net::failure_kind_of(sluice::error(sluice::errc::limit, "t", "")) == failure_kind::client);
    CHECK(net::failure_kind_of(sluice::error(sluice::errc::usage, "t", "")) == failure_kind::none);
    CHECK(net::failure_kind_of(sluice::transient_error(sluice::errc::network, "t", "")) ==
          failure_kind::connection);
}

TEST_CASE("answer_error names the request, the status and the start of the body", "[net][send]") {
    net::http_request r = get("http://h/p?token=abc");
    net::http_response a;
    a.status = 503;
    a.body = std::string(500, 'x');
    net::http_error e = net::answer_error(r, a);
    CHECK(e.status() == 503);
    CHECK(e.transient());
    CHECK(e.stage() == "test");
    CHECK(e.message() == "GET http://h/p: HTTP 503: " + std::string(200, 'x'));
}

TEST_CASE("transient statuses are retried until the answer is a success", "[net][send]") {
    flaky_server srv;
    srv.fail_next = 3;
    net::curl_transport t;
    int retries = 0;
    auto p = quick(5);
    p.retry.on_retry = [&](int, const sluice::error& e, std::chrono::milliseconds) {
        ++retries;
        CHECK(std::string(e.what()).find("HTTP 503: busy, try later") != std::string::npos);
    };
    net::http_response a = net::send(t, get(srv.s.url("/flaky")), p);
    CHECK(a.status == 200);
    CHECK(a.body == "done");
    CHECK(srv.requests == 4);
    CHECK(retries == 3);
}

TEST_CASE("attempts run out: the last error says how many", "[net][send]") {
    flaky_server srv;
    srv.fail_next = 100;
    net::curl_transport t;
    try {
        net::send(t, get(srv.s.url("/flaky")), quick(3));
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::network);
        CHECK(std::string(e.what()).find("HTTP 503") != std::string::npos);
        CHECK(std::string(e.what()).find("(after 3 attempts)") != std::string::npos);
    }
    CHECK(srv.requests == 3);
}

TEST_CASE("a permanent status fails at once as net::http_error", "[net][send]") {
    flaky_server srv;
    net::curl_transport t;
    try {
        net::send(t, get(srv.s.url("/missing")), quick(5));
        FAIL("no error");
    } catch (const net::http_error& e) {
        CHECK(e.status() == 404);
        CHECK_FALSE(e.transient());
        CHECK(std::string(e.what()).find("HTTP 404: not here") != std::string::npos);
    }
    CHECK(srv.requests == 1);
}

TEST_CASE("breakers: a dead endpoint counts once per call, then refuses without a request",
          "[net][send][breaker]") {
    int port = nettest::closed_port();
    sluice::endpoint_breakers b({.failure_threshold = 2, .cooldown = 60s, .name = "dead endpoint"});
    net::curl_transport t;
    auto p = quick(4, &b);
    int attempts = 0;
    auto counted = [&] {
        ++attempts;
        return t.request(get("http://127.0.0.1:" + std::to_string(port) + "/x"));
    };
    for (int call = 0; call < 2; ++call) {
        // The threshold (2) does not cut the call's own 4 attempts short.
        attempts = 0;
        CHECK_THROWS_WITH(net::call(counted, p), Catch::Contains("(after 4 attempts)"));
        CHECK(attempts == 4);
    }
    CHECK(b.of(sluice::failure_kind::connection).state() == sluice::breaker_state::open);
    attempts = 0;
    CHECK_THROWS_WITH(net::call(counted, p), Catch::Contains("circuit breaker open"));
    CHECK(attempts == 0);
}

TEST_CASE("breakers: 4xx answers never count; server errors do, once per call", "[net][send][breaker]") {
    flaky_server srv;
    sluice::endpoint_breakers b({.failure_threshold = 1, .cooldown = 60s, .name = "api"});
    net::curl_transport t;
    for (int i = 0; i < 3; ++i)
        CHECK_THROWS_AS(net::send(t, get(srv.s.url("/missing")), quick(3, &b)), net::http_error);
    CHECK_FALSE(b.refusing());

    srv.fail_next = 2;  // the call's retries absorb them: a success, nothing counted
    CHECK(net::send(t, get(srv.s.url("/flaky")), quick(3, &b)).body == "done");
    CHECK_FALSE(b.refusing());

    srv.fail_next = 100;
    CHECK_THROWS(net::send(t, get(srv.s.url("/flaky")), quick(2, &b)));
    CHECK(b.of(sluice::failure_kind::server).state() == sluice::breaker_state::open);
    CHECK(b.of(sluice::failure_kind::connection).state() == sluice::breaker_state::closed);
}

TEST_CASE("caller_retries: a retryable last failure does not count yet", "[net][send][breaker]") {
    flaky_server srv;
    srv.fail_next = 100;
    sluice::endpoint_breakers b({.failure_threshold = 1, .cooldown = 60s, .name = "api"});
    net::curl_transport t;
    auto p = quick(2, &b);
    p.caller_retries = true;
    CHECK_THROWS(net::send(t, get(srv.s.url("/flaky")), p));
    CHECK_FALSE(b.refusing());
    p.caller_retries = false;
    CHECK_THROWS(net::send(t, get(srv.s.url("/flaky")), p));
    CHECK(b.refusing());
}

TEST_CASE("a stop request ends the backoff with cancelled", "[net][send]") {
    flaky_server srv;
    srv.fail_next = 100;
    net::curl_transport t;
    std::stop_source stop;
    net::send_policy p;
    p.retry.max_attempts = 10;
    p.retry.base_delay = 5s;  // the first sleep alone is 2.5 s or more
    p.retry.stop = stop.get_token();
    net::http_request r = get(srv.s.url("/flaky"));
    r.stop = stop.get_token();
    std::jthread stopper([&] {
        std::this_thread::sleep_for(200ms);
        stop.request_stop();
    });
    auto t0 = std::chrono::steady_clock::now();
    try {
        net::send(t, r, p);
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::cancelled);
    }
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
    CHECK(srv.requests == 1);
}
