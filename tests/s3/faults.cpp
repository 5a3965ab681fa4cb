// Transient faults injected by the test proxy are retried through; permanent errors are
// not; the circuit breaker opens on a dead endpoint and half-opens with one probe; no
// message carries a secret.
#include "support.hpp"

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace s3test;
using namespace std::chrono_literals;

namespace {

s3::upload_options small_parts() {
    s3::upload_options o;
    o.part_size = 256 * 1024;
    o.allow_small_parts_for_testing = true;
    o.concurrency = 2;
    return o;
}

/// Uploads `size` test bytes to `key`, checks the object is complete and intact.
void upload_and_verify(const std::string& key, std::uint64_t size, const s3::config& c,
                       const s3::upload_options& o) {
    auto r = sluice::run(test_data(size, 32'768), s3::upload(c, bucket(), key, o));
    CHECK(r.bytes == size);
    std::string back;
    sluice::run(s3::read(c, bucket(), key),
                sluice::for_each([&](sluice::chunk& ch) { back.append(ch.view()); }));
    CHECK(back == test_data::all(size));
    auto v = uploads(key);
    CHECK(v.open == 0);
}

/// A port on 127.0.0.1 with nothing listening.
int dead_port() {
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("503 SlowDown and 500 answers are retried through", "[s3][faults]") {
    S3_REQUIRE_SERVER();
    admin("POST", "/__admin/config", R"({"min_part_size":1})");
    std::string key = unique_key("faults/status");
    fault(key, R"("status":503,"count":3,"match":"UploadPart")");
    fault(key, R"("status":500,"count":1,"match":"CreateMultipartUpload")");
    fault(key, R"("status":503,"count":1,"match":"CompleteMultipartUpload")");
    fault(key, R"("status":429,"count":1,"match":"GetObject")");
    int retries = 0;
    auto c = test_config();
    c.retry.on_retry = [&](int, const sluice::error& e, std::chrono::milliseconds) {
        ++retries;
        UNSCOPED_INFO(e.what());
        CHECK(leaks_nothing(e.what(), c.credentials));
    };
    upload_and_verify(key, 2'000'000, c, small_parts());
    CHECK(retries == 6);  // 3 parts + Create + Complete + GET
    auto v = uploads(key);
    REQUIRE(v.parts.size() == 1);
    CHECK(v.parts[0].size() == 8);  // numbering intact: 1..8, each once
    for (std::size_t i = 0; i < v.parts[0].size(); ++i) CHECK(v.parts[0][i].first == int(i) + 1);

    std::string small = unique_key("faults/put");
    fault(small, R"("status":500,"count":2,"match":"PutObject")");
    upload_and_verify(small, 1000, test_config(), {});
}

TEST_CASE("connections dropped mid-part are retried", "[s3][faults]") {
    S3_REQUIRE_SERVER();
    admin("POST", "/__admin/config", R"({"min_part_size":1})");
    std::string key = unique_key("faults/drop");
    fault(key, R"("drop_mid_part":3)");
    upload_and_verify(key, 3'000'000, test_config(), small_parts());
}

TEST_CASE("a stalled request times out and is retried", "[s3][faults]") {
    S3_REQUIRE_SERVER();
    admin("POST", "/__admin/config", R"({"min_part_size":1})");
    std::string key = unique_key("faults/stall");
    fault(key, R"("stall_ms":3000,"count":1,"match":"UploadPart")");
    auto c = test_config();
    c.stall_timeout = 500ms;
    std::vector<std::string> errors;
    c.retry.on_retry = [&](int, const sluice::error& e, std::chrono::milliseconds) {
        errors.push_back(e.what());
    };
    auto t0 = std::chrono::steady_clock::now();
    upload_and_verify(key, 1'000'000, c, small_parts());
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);  // did not wait out the stall
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("stall timeout") != std::string::npos);
}

TEST_CASE("retries are bounded; the failed upload is aborted", "[s3][faults]") {
    S3_REQUIRE_SERVER();
    admin("POST", "/__admin/config", R"({"min_part_size":1})");
    std::string key = unique_key("faults/exhaust");
    fault(key, R"("status":503,"count":1000,"match":"UploadPart")");
    auto c = test_config();
    c.retry.max_attempts = 3;
    c.breaker.failure_threshold = 1000;
    auto res = sluice::try_run(test_data(2'000'000, 32'768), s3::upload(c, bucket(), key, small_parts()));
    REQUIRE_FALSE(res.has_value());
    std::string m = res.error().what();
    INFO(m);
    CHECK(m.find("UploadPart s3://" + bucket() + "/" + key) != std::string::npos);
    CHECK(m.find("HTTP 503 SlowDown") != std::string::npos);
    CHECK(m.find("(request id ") != std::string::npos);
    CHECK(m.find("(after 3 attempts)") != std::string::npos);
    CHECK(leaks_nothing(m, c.credentials));
    auto v = uploads(key);
    CHECK(v.states == std::vector<std::string>{"aborted"});
    fault(key, R"("status":503,"count":0)");
}

TEST_CASE("permanent errors are not retried and leak no secret", "[s3][faults]") {
    S3_REQUIRE_SERVER();
    auto c = test_config();
    c.credentials.secret_access_key = "wrong-secret-4c1d9e";
    c.credentials.session_token = "SESSION-TOKEN-9b2e77";
    int retries = 0;
    c.retry.on_retry = [&](int, const sluice::error&, std::chrono::milliseconds) { ++retries; };
    std::string key = unique_key("faults/denied");
    auto res = sluice::try_run(test_data(1000), s3::upload(c, bucket(), key));
    REQUIRE_FALSE(res.has_value());
    std::string m = res.error().what();
    INFO(m);
    CHECK(retries == 0);
    CHECK(m.find("PutObject s3://" + bucket() + "/" + key + ": HTTP 403 SignatureDoesNotMatch") !=
          std::string::npos);
    CHECK(m.find("(request id ") != std::string::npos);
    CHECK(leaks_nothing(m, c.credentials));

    // 404: a missing bucket.
    try {
        s3::client(test_config()).put_object("no-such-bucket-sluice", "k", "x");
        FAIL("no error");
    } catch (const s3::s3_error& e) {
        CHECK(e.status() == 404);
        CHECK(e.s3_code() == "NoSuchBucket");
        CHECK_FALSE(e.transient());
    }
}

TEST_CASE("the circuit breaker opens on a dead endpoint and half-opens with one probe",
          "[s3][faults][breaker]") {
    // Needs no server: nothing listens on the port.
    auto c = test_config();
    c.endpoint = "http://127.0.0.1:" + std::to_string(dead_port());
    c.retry.max_attempts = 5;
    c.retry.base_delay = 1ms;
    c.retry.max_delay = 5ms;
    c.breaker.failure_threshold = 3;
    c.breaker.cooldown = 300ms;
    s3::client cli(c);
    auto& conn = cli.breakers().of(sluice::failure_kind::connection);

    // A call uses all its attempts: the breaker never cuts its retries short, and the call
    // counts once.
    s3::s3_call first = cli.call("PutObject", "PUT", "bucket", "key", {});
    first.body = "data";
    try {
        cli.execute(first);
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(std::string(e.what()).find("(after 5 attempts)") != std::string::npos);
    }
    CHECK(conn.consecutive_failures() == 1);
    CHECK(conn.state() == sluice::breaker_state::closed);

    // Three failed calls in a row open it; the fourth is refused at once.
    CHECK_THROWS(cli.put_object("bucket", "key", "data"));
    CHECK_THROWS(cli.put_object("bucket", "key", "data"));
    auto t0 = std::chrono::steady_clock::now();
    std::string m;
    try {
        cli.put_object("bucket", "key", "data");
        FAIL("no error");
    } catch (const sluice::error& e) {
        m = e.what();
    }
    INFO(m);
    CHECK(m.find("circuit breaker open for S3 endpoint " + c.endpoint +
                 " (connection failures) after 3 consecutive failures") != std::string::npos);
    CHECK(m.find("next probe in") != std::string::npos);
    CHECK(m.find("PUT " + c.endpoint + "/bucket/key") != std::string::npos);  // last failure
    CHECK(leaks_nothing(m, c.credentials));
    CHECK(conn.state() == sluice::breaker_state::open);
    CHECK(cli.breakers().of(sluice::failure_kind::server).state() == sluice::breaker_state::closed);
    CHECK(std::chrono::steady_clock::now() - t0 < 100ms);

    // After the cooldown exactly one of several concurrent callers probes.
    std::this_thread::sleep_for(350ms);
    std::atomic<int> probes{0}, refused{0};
    {
        std::vector<std::jthread> ts;
        for (int i = 0; i < 6; ++i)
            ts.emplace_back([&] {
                s3::s3_call call = cli.call("PutObject", "PUT", "bucket", "key", {});
                call.body = "x";
                call.max_attempts = 1;
                try {
                    cli.execute(call);
                } catch (const sluice::error& e) {
                    std::string w = e.what();
                    if (w.find("circuit breaker open") != std::string::npos)
                        ++refused;
                    else
                        ++probes;
                }
            });
    }
    CHECK(probes == 1);
    CHECK(refused == 5);
    CHECK(conn.state() == sluice::breaker_state::open);  // the probe failed
    CHECK(conn.times_opened() == 2);
}

TEST_CASE("a successful probe closes the breaker", "[s3][faults][breaker]") {
    S3_REQUIRE_SERVER();
    auto c = test_config();
    c.retry.max_attempts = 1;
    c.breaker.failure_threshold = 2;
    c.breaker.cooldown = 200ms;
    s3::client cli(c);
    auto& server = cli.breakers().of(sluice::failure_kind::server);
    std::string key = unique_key("faults/probe");
    fault(key, R"("status":503,"count":2,"match":"PutObject")");
    CHECK_THROWS(cli.put_object(bucket(), key, "a"));
    CHECK_THROWS(cli.put_object(bucket(), key, "a"));
    CHECK(server.state() == sluice::breaker_state::open);
    CHECK_THROWS_WITH(cli.put_object(bucket(), key, "a"), Catch::Contains("circuit breaker open"));
    std::this_thread::sleep_for(250ms);
    CHECK_NOTHROW(cli.put_object(bucket(), key, "probe"));
    CHECK(server.state() == sluice::breaker_state::closed);
}

TEST_CASE("a call's retries are not capped by the breaker threshold", "[s3][faults][breaker]") {
    // Issue 16: a threshold of 5 failed a call allowed 10 attempts at its sixth 503.
    S3_REQUIRE_SERVER();
    auto c = test_config();
    c.retry.max_attempts = 10;
    c.retry.base_delay = 1ms;
    c.breaker.failure_threshold = 5;
    s3::client cli(c);
    std::string key = unique_key("faults/ten");
    fault(key, R"("status":503,"count":6,"match":"PutObject")");
    s3::s3_call call = cli.call("PutObject", "PUT", bucket(), key, {});
    call.body = "ten";
    CHECK_NOTHROW(cli.execute(call));
    CHECK(cli.breakers().of(sluice::failure_kind::server).state() == sluice::breaker_state::closed);
}

TEST_CASE("one object's failures do not open the breaker for unrelated calls",
          "[s3][faults][breaker]") {
    // Issue 16: one job's bad key made the server answer 500 five times, which opened the
    // client's only breaker and failed two unrelated jobs at once.
    S3_REQUIRE_SERVER();
    auto c = test_config();
    c.retry.max_attempts = 5;
    c.retry.base_delay = 1ms;
    c.breaker.failure_threshold = 3;
    s3::client cli(c);
    std::string bad = unique_key("faults/bad-object");
    fault(bad, R"("status":500,"count":5,"match":"PutObject")");
    CHECK_THROWS_WITH(cli.put_object(bucket(), bad, "x"), Catch::Contains("(after 5 attempts)"));
    std::string good = unique_key("faults/unrelated");
    CHECK_NOTHROW(cli.put_object(bucket(), good, "fine"));
    CHECK_NOTHROW(cli.put_object(bucket(), good + "-2", "fine"));
    CHECK_FALSE(cli.breakers().refusing());

    // Client errors never count: 4xx answers and a key longer than S3 allows (refused
    // before any request, so the server's answer to it cannot count either).
    std::string denied = unique_key("faults/denied4xx");
    fault(denied, R"("status":404,"count":10,"match":"PutObject")");
    for (int i = 0; i < 5; ++i) CHECK_THROWS(cli.put_object(bucket(), denied, "x"));
    std::string long_key = unique_key("faults/long-") + std::string(1025, 'k');
    for (int i = 0; i < 5; ++i) {
        try {
            cli.put_object(bucket(), long_key, "x");
            FAIL("no error");
        } catch (const sluice::error& e) {
            CHECK(e.code() == sluice::errc::usage);
            CHECK(std::string(e.what()).find("S3 keys are at most 1024 bytes") != std::string::npos);
        }
    }
    CHECK_FALSE(cli.breakers().refusing());
    CHECK(cli.breakers().of(sluice::failure_kind::server).consecutive_failures() == 0);
    CHECK_NOTHROW(cli.put_object(bucket(), good + "-3", "fine"));
}
