// http::read_api against an in-process cpp-httplib server: cursor pages, Link pages, a top-level
// array, an oversized page, 503s then success, a 404, a dead server (breaker), no secrets in
// messages, cancellation.
#include <catch2/catch.hpp>

#include <httplib.h>

#include <sluice/http/api_source.hpp>
#include <sluice/sluice.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace http = sluice::http;

namespace {

/// httplib 0.11's stop() does nothing before the accept loop runs: wait for it, or the
/// destructor's join could hang.
void wait_running(httplib::Server& svr) {
    while (!svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

/// A paginated API on 127.0.0.1: /items?cursor=N serves ids [N, N+per_page) of `total`.
struct test_api {
    httplib::Server svr;
    std::thread t;
    int port = 0;
    int total = 25, per_page = 10;
    std::atomic<int> fail_next{0};  // answer this many requests with 503
    std::atomic<int> requests{0};

    test_api() {
        svr.Get("/items", [this](const httplib::Request& req, httplib::Response& res) {
            ++requests;
            if (fail_next > 0) {
                --fail_next;
                res.status = 503;
                res.set_content("{\"error\":\"busy\"}", "application/json");
                return;
            }
            int from = req.has_param("cursor") ? std::stoi(req.get_param_value("cursor")) : 0;
            std::string body = "{\"data\":[";
            int to = std::min(total, from + per_page);
            for (int i = from; i < to; ++i) {
                if (i > from) body += ",";
                body += "{\"id\":" + std::to_string(i) + ",\"name\":\"n,\\\"" + std::to_string(i) + "\"}";
            }
            body += "],\"next_cursor\":";
            body += to < total ? "\"" + std::to_string(to) + "\"" : "null";
            body += "}";
            res.set_content(body, "application/json");
        });
        svr.Get("/linked", [this](const httplib::Request& req, httplib::Response& res) {
            int page = req.has_param("page") ? std::stoi(req.get_param_value("page")) : 0;
            std::string body = "[";
            for (int i = 0; i < 3; ++i) body += (i ? "," : "") + std::to_string(page * 3 + i);
            body += "]";
            if (page < 2)
                res.set_header("Link", "</linked?page=" + std::to_string(page + 1) + ">; rel=\"next\"");
            res.set_content(body, "application/json");
        });
        svr.Get("/big", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("[\"" + std::string(100000, 'x') + "\"]", "application/json");
        });
        svr.Get("/missing", [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
        port = svr.bind_to_any_port("127.0.0.1");
        t = std::thread([this] { svr.listen_after_bind(); });
        wait_running(svr);
    }
    ~test_api() {
        svr.stop();
        t.join();
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port) + path;
    }
};

http::api_options cursor_options(const test_api& api) {
    http::api_options o;
    o.url = api.url("/items");
    o.records_key = "data";
    o.cursor_key = "next_cursor";
    o.cursor_param = "cursor";
    o.retry.base_delay = std::chrono::milliseconds(1);
    o.headers = {{"Authorization", "Bearer s3cr3t-token"}};
    return o;
}

std::vector<long> ids(http::api_options o) {
    std::vector<long> out;
    for (const auto& r : http::read_api(std::move(o))) out.push_back(r["id"].get<long>());
    return out;
}

}  // namespace

TEST_CASE("cursor pages are followed to the last page", "[http][api_source]") {
    test_api api;
    auto got = ids(cursor_options(api));
    REQUIRE(got.size() == 25);
    for (long i = 0; i < 25; ++i) CHECK(got[static_cast<std::size_t>(i)] == i);
    CHECK(api.requests == 3);
}

TEST_CASE("Link rel=next pages and a top-level array", "[http][api_source]") {
    test_api api;
    http::api_options o;
    o.url = api.url("/linked");
    std::vector<long> got;
    auto src = http::read_api(o);
    for (const auto& r : src) got.push_back(r.value().get<long>());
    CHECK(got == std::vector<long>{0, 1, 2, 3, 4, 5, 6, 7, 8});
    CHECK(src.pages_done() == 3);
}

TEST_CASE("an oversized page is a limit error", "[http][api_source]") {
    test_api api;
    http::api_options o;
    o.url = api.url("/big?api_key=hunter2");
    o.max_page_bytes = 4096;
    try {
        ids(o);
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::limit);
        std::string m = e.what();
        CHECK(m.find("max_page_bytes") != std::string::npos);
        CHECK(m.find("hunter2") == std::string::npos);  // the query is fingerprinted
    }
}

TEST_CASE("503s are retried, then the pages continue", "[http][api_source]") {
    test_api api;
    api.fail_next = 3;
    std::vector<std::string> log;
    auto o = cursor_options(api);
    o.log = [&](const std::string& m) { log.push_back(m); };
    CHECK(ids(o).size() == 25);
    REQUIRE(log.size() == 3);
    CHECK(log[0].find("HTTP 503") != std::string::npos);
    for (const auto& m : log) CHECK(m.find("s3cr3t") == std::string::npos);
}

TEST_CASE("cursors appear only as fingerprints", "[http][api_source]") {
    test_api api;
    api.total = 1000;
    auto o = cursor_options(api);
    o.max_pages = 0;
    api.fail_next = 0;
    std::vector<std::string> log;
    o.log = [&](const std::string& m) { log.push_back(m); };
    auto src = http::read_api(o);
    int n = 0;
    for (const auto& r : src) {
        (void)r;
        if (++n == 15) api.fail_next = 1;  // the third page fails once
    }
    REQUIRE(log.size() == 1);
    CHECK(log[0].find("cursor=") == std::string::npos);
    CHECK(log[0].find("cursor " + http::fingerprint("20")) != std::string::npos);
}

TEST_CASE("a permanent HTTP error fails at once", "[http][api_source]") {
    test_api api;
    http::api_options o;
    o.url = api.url("/missing");
    o.retry.base_delay = std::chrono::milliseconds(1);
    try {
        ids(o);
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::network);
        CHECK(std::string(e.what()).find("HTTP 404") != std::string::npos);
        CHECK(std::string(e.what()).find("after") == std::string::npos);  // not retried
    }
}

TEST_CASE("a dead server: the retries run out, then shared breakers refuse at once",
          "[http][api_source]") {
    int port;
    {
        test_api api;  // a port that was just free and is closed again
        port = api.port;
    }
    http::api_options o;
    o.url = "http://127.0.0.1:" + std::to_string(port) + "/items";
    o.retry.base_delay = std::chrono::milliseconds(1);
    o.retry.max_attempts = 10;
    o.breaker.failure_threshold = 2;
    o.shared_breaker = std::make_shared<sluice::endpoint_breakers>(o.breaker);
    for (int source = 0; source < 2; ++source) {
        auto src = http::read_api(o);
        try {
            for (const auto& r : src) (void)r;
            FAIL("no error");
        } catch (const sluice::error& e) {
            // The breaker threshold (2) does not cap the page's 10 attempts (issue 16).
            CHECK(e.code() == sluice::errc::network);
            CHECK(std::string(e.what()).find("(after 10 attempts)") != std::string::npos);
        }
    }
    auto src = http::read_api(o);
    try {
        for (const auto& r : src) (void)r;
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(std::string(e.what()).find("circuit breaker open") != std::string::npos);
    }
    CHECK(src.breaker().of(sluice::failure_kind::connection).state() == sluice::breaker_state::open);
}

TEST_CASE("4xx answers never count toward the breaker", "[http][api_source]") {
    test_api api;
    http::api_options o;
    o.url = api.url("/missing");
    o.retry.base_delay = std::chrono::milliseconds(1);
    o.breaker.failure_threshold = 1;
    o.shared_breaker = std::make_shared<sluice::endpoint_breakers>(o.breaker);
    for (int i = 0; i < 3; ++i) CHECK_THROWS_WITH(ids(o), Catch::Contains("HTTP 404"));
    CHECK_FALSE(o.shared_breaker->refusing());
}

TEST_CASE("malformed JSON in a page is bad input naming the page", "[http][api_source]") {
    httplib::Server svr;
    svr.Get("/bad", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("[{\"id\":1},{\"id\":]", "application/json");
    });
    int port = svr.bind_to_any_port("127.0.0.1");
    std::thread t([&] { svr.listen_after_bind(); });
    wait_running(svr);
    http::api_options o;
    o.url = "http://127.0.0.1:" + std::to_string(port) + "/bad";
    try {
        ids(o);
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::bad_input);
        INFO(e.what());
        CHECK(std::string(e.what()).find("page 1") != std::string::npos);
    }
    svr.stop();
    t.join();
}

TEST_CASE("the run's stop token cancels the source", "[http][api_source]") {
    test_api api;
    api.total = 100000;
    std::stop_source stop;
    std::size_t n = 0;
    auto src = http::read_api(cursor_options(api));
    auto r = sluice::try_run(src, sluice::for_each([&](const sluice::json::json_record&) {
                                 if (++n == 30) stop.request_stop();
                             }),
                             {.stop = stop.get_token()});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::cancelled);
    CHECK(src.pages_done() <= 4);
}
