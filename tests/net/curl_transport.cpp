// net::curl_transport against real servers on loopback ports: answers of any status are
// returned, headers by any case, streamed 2xx bodies, keep-alive (one connection for many
// requests), bodies and paths sent as given, the failure contract (refused = transient, a
// stall = transient, a bad scheme = permanent, cancellation, on_body abandoning, a body
// limit), messages without query strings, decoded content, and a CA file for https.
#include <catch2/catch.hpp>

#include <sluice/net/curl_transport.hpp>
#include <sluice/policy/retry.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "loopback.hpp"

namespace net = sluice::net;
using namespace std::chrono_literals;

namespace {

/// What `fn` threw (it must throw a sluice::error), with its dynamic type's verdict kept:
/// the copy is sliced to sluice::error.
struct caught {
    sluice::error e;
    bool transient;
    std::string what() const { return e.what(); }
};

template <class F>
caught thrown_by(F&& fn) {
    try {
        fn();
    } catch (const sluice::error& e) {
        return {e, dynamic_cast<const sluice::transient_error*>(&e) != nullptr};
    }
    FAIL("no sluice::error thrown");
    return {sluice::error(sluice::errc::failed, "", ""), false};
}

}  // namespace

TEST_CASE("answers of every status are returned, headers found in any case", "[net][curl_transport]") {
    nettest::loopback_server s;
    s.svr.Get("/ok", [](const httplib::Request&, httplib::Response& res) {
        res.set_header("X-Thing", "a value");
        res.set_content("hello", "text/plain");
    });
    s.svr.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
        res.status = 404;
        res.set_content("no such thing", "text/plain");
    });
    s.start();
    net::curl_transport t;
    net::http_response ok = t.request("GET", s.url("/ok"), {});
    CHECK(ok.status == 200);
    CHECK(ok.ok());
    CHECK(ok.body == "hello");
    CHECK(ok.header("x-thing") == "a value");
    CHECK(ok.header("X-THING") == "a value");
    CHECK(ok.header("absent").empty());

    net::http_response missing = t.request("GET", s.url("/missing"), {});
    CHECK(missing.status == 404);
    CHECK_FALSE(missing.ok());
    CHECK(missing.body == "no such thing");
}

TEST_CASE("one transport keeps its connection alive across requests", "[net][curl_transport]") {
    nettest::loopback_server s;
    std::mutex m;
    std::set<int> ports;
    int requests = 0;
    s.svr.Get("/n", [&](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lk(m);
        ports.insert(req.remote_port);
        ++requests;
        res.set_content("x", "text/plain");
    });
    s.start();
    net::curl_transport t;
    for (int i = 0; i < 5; ++i) REQUIRE(t.request("GET", s.url("/n"), {}).status == 200);
    CHECK(requests == 5);
    CHECK(ports.size() == 1);  // one client socket: no new connection per request

    net::curl_transport other;
    REQUIRE(other.request("GET", s.url("/n"), {}).status == 200);
    CHECK(ports.size() == 2);  // ... and a second transport has its own
}

TEST_CASE("bodies and paths are sent exactly as given", "[net][curl_transport]") {
    nettest::loopback_server s;
    std::string seen_path, seen_body, seen_expect, seen_type, seen_method;
    s.svr.Put(R"(/.*)", [&](const httplib::Request& req, httplib::Response& res) {
        seen_method = req.method;
        seen_path = req.path;
        seen_body = req.body;
        seen_expect = req.get_header_value("Expect");
        seen_type = req.get_header_value("Content-Type");
        res.status = 201;
    });
    s.svr.Get(R"(/.*)", [&](const httplib::Request& req, httplib::Response& res) {
        seen_path = req.path;
        res.set_content("ok", "text/plain");
    });
    s.start();
    net::curl_transport t;
    // 2 MiB: large enough that libcurl would add "Expect: 100-continue" on its own.
    std::string body(2 << 20, '\0');
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 131 % 251);
    net::http_response r = t.request("PUT", s.url("/bucket/a/./b/../c"), {}, body);
    CHECK(r.status == 201);
    CHECK(seen_method == "PUT");
    CHECK(seen_path == "/bucket/a/./b/../c");  // not folded to /bucket/a/c (CURLOPT_PATH_AS_IS)
    CHECK(seen_body == body);
    CHECK(seen_expect.empty());
    CHECK(seen_type.empty());  // no form Content-Type invented for the body

    REQUIRE(t.request("GET", s.url("/x/../y"), {}).status == 200);
    CHECK(seen_path == "/x/../y");
}

TEST_CASE("a 2xx body is streamed after its headers; an error body is collected", "[net][curl_transport]") {
    nettest::loopback_server s;
    std::string big(300000, 'b');
    s.svr.Get("/big", [&](const httplib::Request&, httplib::Response& res) {
        res.set_header("ETag", "\"v1\"");
        res.set_content(big, "application/octet-stream");
    });
    s.svr.Get("/busy", [](const httplib::Request&, httplib::Response& res) {
        res.status = 503;
        res.set_content("<Error>busy</Error>", "application/xml");
    });
    s.start();
    net::curl_transport t;
    std::string got, etag_seen_first;
    int pieces = 0;
    net::http_request r;
    r.url = s.url("/big");
    r.on_headers = [&](const net::http_response& h) {
        CHECK(got.empty());
        CHECK(h.status == 200);
        etag_seen_first = h.header("etag");
    };
    r.on_body = [&](std::string_view d) {
        got += d;
        ++pieces;
        return true;
    };
    net::http_response a = t.request(r);
    CHECK(a.status == 200);
    CHECK(a.body.empty());  // handed to on_body, not collected
    CHECK(got == big);
    CHECK(pieces > 1);
    CHECK(etag_seen_first == "\"v1\"");

    r.url = s.url("/busy");
    got.clear();
    net::http_response e = t.request(r);
    CHECK(e.status == 503);
    CHECK(e.body == "<Error>busy</Error>");
    CHECK(got.empty());
}

TEST_CASE("failures to get an answer: transient or not, never with the query string", "[net][curl_transport]") {
    net::transport_options o;
    o.connect_timeout = 2s;
    net::curl_transport t(o);

    SECTION("a refused connection is transient") {
        net::http_request r;
        r.url = "http://127.0.0.1:" + std::to_string(nettest::closed_port()) + "/k?X-Amz-Signature=secret";
        r.stage = "test";
        caught c = thrown_by([&] { t.request(r); });
        CHECK(c.transient);
        CHECK(c.e.code() == sluice::errc::network);
        CHECK(c.e.stage() == "test");
        std::string m = c.what();
        CHECK(m.find("GET http://127.0.0.1:") != std::string::npos);
        CHECK(m.find("secret") == std::string::npos);
        CHECK(m.find("Signature") == std::string::npos);
    }
    SECTION("an unsupported scheme is permanent") {
        caught c = thrown_by([&] { t.request("GET", "ftp://127.0.0.1/x", {}); });
        CHECK_FALSE(c.transient);
        CHECK(c.e.code() == sluice::errc::network);
    }
    SECTION("the label names the request when given") {
        net::http_request r;
        r.url = "http://127.0.0.1:" + std::to_string(nettest::closed_port()) + "/p";
        r.label = "GET page 7";
        caught c = thrown_by([&] { t.request(r); });
        CHECK(std::string(c.e.message()).rfind("GET page 7: ", 0) == 0);
    }
}

TEST_CASE("a stalled answer is dropped by the stall timer, as a transient failure", "[net][curl_transport]") {
    nettest::loopback_server s;
    s.svr.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
        std::this_thread::sleep_for(1500ms);
        res.set_content("late", "text/plain");
    });
    s.start();
    net::transport_options o;
    o.stall_timeout = 200ms;
    net::curl_transport t(o);
    auto t0 = std::chrono::steady_clock::now();
    caught c = thrown_by([&] { t.request("GET", s.url("/slow"), {}); });
    CHECK(std::chrono::steady_clock::now() - t0 < 1400ms);
    CHECK(c.transient);
    CHECK(c.what().find("stall timeout") != std::string::npos);

    // The whole-request timeout bounds it too (transient as well).
    net::transport_options w;
    w.stall_timeout = 0ms;
    w.request_timeout = 300ms;
    net::curl_transport tw(w);
    caught c2 = thrown_by([&] { tw.request("GET", s.url("/slow"), {}); });
    CHECK(c2.transient);
}

TEST_CASE("stop, an abandoning on_body and a body over max_body end the transfer", "[net][curl_transport]") {
    nettest::loopback_server s;
    std::string big(1 << 20, 'z');
    s.svr.Get("/big", [&](const httplib::Request&, httplib::Response& res) {
        res.set_content(big, "application/octet-stream");
    });
    s.svr.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
        std::this_thread::sleep_for(2000ms);
        res.set_content("late", "text/plain");
    });
    s.svr.Get("/bigerror", [&](const httplib::Request&, httplib::Response& res) {
        res.status = 500;
        res.set_content(big, "text/plain");
    });
    s.start();
    net::curl_transport t;

    SECTION("stop") {
        std::stop_source stop;
        net::http_request r;
        r.url = s.url("/slow");
        r.stage = "test";
        r.stop = stop.get_token();
        std::jthread stopper([&] {
            std::this_thread::sleep_for(100ms);
            stop.request_stop();
        });
        auto t0 = std::chrono::steady_clock::now();
        caught c = thrown_by([&] { t.request(r); });
        CHECK(c.e.code() == sluice::errc::cancelled);
        CHECK(c.e.stage() == "test");
        CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);
    }
    SECTION("on_body returns false") {
        net::http_request r;
        r.url = s.url("/big");
        std::size_t n = 0;
        r.on_body = [&](std::string_view d) {
            n += d.size();
            return false;
        };
        caught c = thrown_by([&] { t.request(r); });
        CHECK(c.e.code() == sluice::errc::cancelled);
        CHECK(n < big.size());
    }
    SECTION("max_body") {
        net::http_request r;
        r.url = s.url("/bigerror");
        r.max_body = 4096;
        caught c = thrown_by([&] { t.request(r); });
        CHECK(c.e.code() == sluice::errc::limit);
        CHECK(c.what().find("larger than 4096 bytes") != std::string::npos);
        r.max_body = 0;
        CHECK(t.request(r).body.size() == big.size());  // the same transport goes on
    }
}

TEST_CASE("decode_content: a gzip answer is handed on decoded", "[net][curl_transport]") {
    // gzip of "hello, decoded world\n" (python3: gzip.compress(..., mtime=0)).
    static const unsigned char gz[] = {
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0x48, 0xcd, 0xc9,
        0xc9, 0xd7, 0x51, 0x48, 0x49, 0x4d, 0xce, 0x4f, 0x49, 0x4d, 0x51, 0x28, 0xcf, 0x2f,
        0xca, 0x49, 0xe1, 0x02, 0x00, 0x69, 0xcf, 0xca, 0xdd, 0x15, 0x00, 0x00, 0x00};
    nettest::loopback_server s;
    std::string accept;
    s.svr.Get("/z", [&](const httplib::Request& req, httplib::Response& res) {
        accept = req.get_header_value("Accept-Encoding");
        res.set_header("Content-Encoding", "gzip");
        res.set_content(std::string(reinterpret_cast<const char*>(gz), sizeof gz), "text/plain");
    });
    s.start();
    net::transport_options o;
    o.decode_content = true;
    net::curl_transport decoding(o);
    CHECK(decoding.request("GET", s.url("/z"), {}).body == "hello, decoded world\n");
    CHECK(accept.find("gzip") != std::string::npos);

    net::curl_transport raw;  // object stores: bytes as stored
    CHECK(raw.request("GET", s.url("/z"), {}).body.size() == sizeof gz);
}

namespace {

/// An https server on 127.0.0.1 (python3's ssl module) with a fresh self-signed
/// certificate for 127.0.0.1; empty port when openssl or python3 is missing.
struct tls_server {
    std::filesystem::path dir;
    int port = 0;
    pid_t pid = 0;
    FILE* proc = nullptr;

    tls_server() {
        dir = std::filesystem::temp_directory_path() /
              ("sluice-net-tls-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        std::string d = dir.string();
        std::string gen = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
                          "-addext subjectAltName=IP:127.0.0.1 -keyout '" + d + "/key.pem' -out '" +
                          d + "/cert.pem' >/dev/null 2>&1";
        if (std::system(gen.c_str()) != 0) return;
        std::ofstream(dir / "serve.py") << R"py(
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"over tls"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
c.load_cert_chain(sys.argv[1] + "/cert.pem", sys.argv[1] + "/key.pem")
s.socket = c.wrap_socket(s.socket, server_side=True)
import os
print(s.server_address[1], os.getpid(), flush=True)
s.serve_forever()
)py";
        proc = ::popen(("exec python3 '" + d + "/serve.py' '" + d + "'").c_str(), "r");
        if (!proc) return;
        char line[64] = {0};
        long p = 0, id = 0;
        if (std::fgets(line, sizeof line, proc) && std::sscanf(line, "%ld %ld", &p, &id) == 2) {
            port = static_cast<int>(p);
            pid = static_cast<pid_t>(id);
        }
    }
    ~tls_server() {
        if (pid > 0) ::kill(pid, SIGTERM);
        if (proc) ::pclose(proc);
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    std::string ca() const { return (dir / "cert.pem").string(); }
};

}  // namespace

TEST_CASE("https: a CA file replaces the system's bundle", "[net][curl_transport][tls]") {
    tls_server s;
    if (s.port == 0) {
        WARN("SKIPPED: openssl or python3 is not available for the TLS server");
        return;
    }
    std::string url = "https://127.0.0.1:" + std::to_string(s.port) + "/";

    // The system's bundle does not know the self-signed certificate: refused, and a
    // certificate problem is not worth another attempt.
    net::curl_transport system_ca;
    caught c = thrown_by([&] { system_ca.request("GET", url, {}); });
    CHECK_FALSE(c.transient);

    net::transport_options o;
    o.ca_file = s.ca();
    net::curl_transport own_ca(o);
    net::http_response r = own_ca.request("GET", url, {});
    CHECK(r.status == 200);
    CHECK(r.body == "over tls");

    net::transport_options bad;
    bad.ca_file = (s.dir / "no-such-ca.pem").string();
    net::curl_transport missing_ca(bad);
    caught c2 = thrown_by([&] { missing_ca.request("GET", url, {}); });
    CHECK_FALSE(c2.transient);
}
