// Cookbook pattern 3: a paginated REST API as a sluice source (docs/cookbook.md).
//
//   SLUICE_API_URL=https://api.example.com/v1/orders SLUICE_API_TOKEN=... ./cookbook_api_source
//
// Pages are {"data": [...], "next_cursor": "..."} (or a top-level array with Link: rel="next");
// every record is written to stdout as one JSON line. Without SLUICE_API_URL it serves a
// small paginated API itself on 127.0.0.1 and reads that, so it runs anywhere.
#include <httplib.h>

#include <sluice/http/api_source.hpp>
#include <sluice/json/json.hpp>
#include <sluice/sluice.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace http = sluice::http;

int main() {
    // Stand-in API for a run without one: 3 pages of {"data": [...], "next_cursor": ...}.
    httplib::Server demo;
    std::thread demo_thread;
    std::string url;
    if (const char* u = std::getenv("SLUICE_API_URL"); u && *u) {
        url = u;
    } else {
        demo.Get("/orders", [](const httplib::Request& req, httplib::Response& res) {
            int page = req.has_param("cursor") ? std::stoi(req.get_param_value("cursor")) : 0;
            std::string next = page < 2 ? "\"" + std::to_string(page + 1) + "\"" : "null";
            res.set_content("{\"data\":[{\"order\":" + std::to_string(page * 2) + "},{\"order\":" +
                                std::to_string(page * 2 + 1) + "}],\"next_cursor\":" + next + "}",
                            "application/json");
        });
        int port = demo.bind_to_any_port("127.0.0.1");
        demo_thread = std::thread([&] { demo.listen_after_bind(); });
        while (!demo.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        url = "http://127.0.0.1:" + std::to_string(port) + "/orders";
    }

    http::api_options o;
    o.url = url;
    if (const char* t = std::getenv("SLUICE_API_TOKEN"); t && *t)
        o.headers = {{"Authorization", std::string("Bearer ") + t}};  // never logged
    o.records_key = "data";          // the records of a page object ...
    o.cursor_key = "next_cursor";    // ... its cursor to the next page ...
    o.cursor_param = "cursor";       // ... sent back as ?cursor=...
    if (const char* m = std::getenv("SLUICE_API_MAX_PAGE_BYTES"))
        o.max_page_bytes = std::strtoull(m, nullptr, 10);
    o.retry.base_delay = std::chrono::milliseconds(50);
    o.retry.max_attempts = 3;  // a dead endpoint fails after 3 tries, not 6
    o.log = [](const std::string& m) { std::fprintf(stderr, "retry: %s\n", m.c_str()); };

    int status = 0;
    try {
        // The records flow like any other source: here straight into JSON lines on stdout.
        auto n = http::read_api(o) | sluice::encode(sluice::json::jsonl_encoder{}) | sluice::to_stdout();
        std::fprintf(stderr, "%llu bytes\n", static_cast<unsigned long long>(n));
    } catch (const sluice::error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        status = 1;
    }
    if (demo_thread.joinable()) {
        demo.stop();
        demo_thread.join();
    }
    return status;
}
