// net::send through the curl transport against the real S3 test server (scripts/lib/s3.sh:
// s3rver behind the fault-injecting proxy), reaching objects through presigned URLs so that
// no S3 client code is involved: injected 503s, a connection cut mid-body and a stalled
// answer are each retried to a byte-exact success; a refused signature fails at once.
// SKIPs without SLUICE_TEST_S3_ENDPOINT.
#include "../s3/support.hpp"

#include <sluice/net/curl_transport.hpp>
#include <sluice/net/send.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace s3test;
namespace net = sluice::net;
using namespace std::chrono_literals;

namespace {

/// An object of `size` test bytes under a fresh key starting with `stem`; returns the key.
std::string put_object(const std::string& stem, std::size_t size, std::uint64_t seed) {
    std::string key = unique_key(stem);
    s3::client(test_config()).put_object(bucket(), key, test_data::all(size, seed));
    return key;
}

struct retry_log {
    std::vector<std::string> errors;
    net::send_policy policy(int attempts = 5) {
        net::send_policy p;
        p.retry.max_attempts = attempts;
        p.retry.base_delay = 5ms;
        p.retry.max_delay = 50ms;
        p.retry.on_retry = [this](int, const sluice::error& e, std::chrono::milliseconds) {
            errors.push_back(e.what());
        };
        return p;
    }
};

net::http_request presigned_get(const std::string& key) {
    net::http_request r;
    r.url = s3::presign(test_config(), bucket(), key, 600s);
    r.stage = "test";
    return r;
}

}  // namespace

TEST_CASE("net::send retries injected 503s to the object", "[net][send][s3_server]") {
    S3_REQUIRE_SERVER();
    std::string key = put_object("net/503", 100'000, 3);
    fault(key, "\"match\":\"GetObject\",\"status\":503,\"count\":2");
    net::curl_transport t;
    retry_log log;
    net::http_response a = net::send(t, presigned_get(key), log.policy());
    CHECK(a.status == 200);
    CHECK(a.body == test_data::all(100'000, 3));
    REQUIRE(log.errors.size() == 2);
    CHECK(log.errors[0].find("HTTP 503") != std::string::npos);
    CHECK(log.errors[0].find("SlowDown") != std::string::npos);
    for (const auto& m : log.errors) CHECK(m.find("X-Amz-Signature") == std::string::npos);
}

TEST_CASE("net::send retries a GET cut mid-body (a transient curl failure)", "[net][send][s3_server]") {
    S3_REQUIRE_SERVER();
    std::string key = put_object("net/drop", 400'000, 4);
    fault(key, "\"drop_mid_get\":1,\"after_bytes\":10000");
    net::curl_transport t;
    retry_log log;
    std::string streamed;
    net::http_request r = presigned_get(key);
    r.on_body = [&](std::string_view d) {
        streamed += d;
        return true;
    };
    // A streamed body starts over at every attempt: the caller resets what it kept.
    r.on_headers = [&](const net::http_response&) { streamed.clear(); };
    net::http_response a = net::send(t, r, log.policy());
    CHECK(a.status == 200);
    CHECK(streamed == test_data::all(400'000, 4));
    REQUIRE(log.errors.size() == 1);
    CHECK(log.errors[0].find("GET " + endpoint()) != std::string::npos);
}

TEST_CASE("net::send retries an answer held past the stall timeout", "[net][send][s3_server]") {
    S3_REQUIRE_SERVER();
    std::string key = put_object("net/stall", 50'000, 5);
    fault(key, "\"match\":\"GetObject\",\"stall_ms\":3000,\"count\":1");
    net::transport_options o;
    o.stall_timeout = 300ms;
    net::curl_transport t(o);
    retry_log log;
    auto t0 = std::chrono::steady_clock::now();
    net::http_response a = net::send(t, presigned_get(key), log.policy());
    CHECK(std::chrono::steady_clock::now() - t0 < 2500ms);
    CHECK(a.body == test_data::all(50'000, 5));
    REQUIRE(log.errors.size() == 1);
    CHECK(log.errors[0].find("stall timeout") != std::string::npos);
}

TEST_CASE("a refused signature is a permanent net::http_error", "[net][send][s3_server]") {
    S3_REQUIRE_SERVER();
    std::string key = put_object("net/403", 1000, 6);
    net::http_request r = presigned_get(key);
    r.url.replace(r.url.find("X-Amz-Expires=600"), 17, "X-Amz-Expires=700");
    net::curl_transport t;
    retry_log log;
    try {
        net::send(t, r, log.policy());
        FAIL("no error");
    } catch (const net::http_error& e) {
        CHECK(e.status() == 403);
        CHECK_FALSE(e.transient());
        CHECK(std::string(e.what()).find("SignatureDoesNotMatch") != std::string::npos);
        CHECK(std::string(e.what()).find("X-Amz-Signature") == std::string::npos);
    }
    CHECK(log.errors.empty());
}
