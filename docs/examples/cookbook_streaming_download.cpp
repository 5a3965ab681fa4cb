// Cookbook pattern 1: an HTTP endpoint that streams a table as CSV (docs/cookbook.md).
//
// GET /events.csv[?gzip=1] streams `SELECT * FROM events` with COPY: the first byte leaves as
// soon as 64 KiB are ready, memory stays flat, and a client that hangs up cancels the query.
// With SLUICE_TEST_PG_DSN set it serves generate_series(1, 100000) from that database;
// without, it serves generated rows from sluice::iota. Either way it then downloads its own
// endpoint with httplib::Client, checks the row count and exits.
#include <httplib.h>

#include <sluice/compress/codecs.hpp>
#include <sluice/http/httplib.hpp>
#include <sluice/postgres/postgres.hpp>
#include <sluice/sluice.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>

namespace http = sluice::http;
namespace pg = sluice::pg;

int main() {
    const char* dsn = std::getenv("SLUICE_TEST_PG_DSN");
    std::stop_source server_shutdown;  // request_stop() closes every open download

    httplib::Server svr;
    svr.new_task_queue = [] { return new httplib::ThreadPool(16); };  // one thread per download
    svr.Get("/events.csv", [&](const httplib::Request& req, httplib::Response& res) {
        bool gzip = req.get_param_value("gzip") == "1";
        http::stream_options so;
        so.stop = server_shutdown.get_token();
        so.on_failure = [](const sluice::error& e) { std::fprintf(stderr, "download failed: %s\n", e.what()); };
        if (dsn && *dsn) {
            // Connect before streaming: a failure here can still be a 503 with a message.
            std::shared_ptr<pg::connection> conn;
            try {
                conn = std::make_shared<pg::connection>(dsn);
            } catch (const sluice::error&) {
                res.status = 503;
                res.set_content("{\"error\":\"database unavailable\"}", "application/json");
                return;
            }
            http::stream_response(res, gzip ? "application/gzip" : "text/csv",
                [conn, gzip](http::response_sink& sink, std::stop_token stop) {
                    // A table name from a client must be checked against an allow-list and
                    // quoted: "SELECT * FROM " + pg::quote_qualified_name(name).
                    pg::copy_out_options co;
                    co.header = true;
                    auto rows = pg::copy_out(*conn, "SELECT g AS id, 'event ' || g AS name "
                                                    "FROM generate_series(1, 100000) g", co);
                    if (gzip)
                        sluice::run(std::move(rows) | sluice::compress(sluice::compression::make_compressor(
                                                          sluice::compression::format::gzip)),
                                    sink, {.stop = stop});
                    else
                        sluice::run(rows, sink, {.stop = stop});  // stop: hang-up or shutdown
                },
                so);
        } else {
            http::stream_response(res, "text/csv",
                [](http::response_sink& sink, std::stop_token stop) {
                    auto rows = sluice::iota(1, 100001) | sluice::map([](int i) {
                                    return std::to_string(i) + ",event " + std::to_string(i) + "\n";
                                });
                    sluice::run(rows, sink, {.stop = stop});
                },
                so);
        }
    });

    int port = svr.bind_to_any_port("127.0.0.1");
    std::thread server([&] { svr.listen_after_bind(); });
    while (!svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

    // The client side: count the lines as they stream in.
    httplib::Client cli("127.0.0.1", port);
    std::size_t lines = 0, bytes = 0;
    auto r = cli.Get("/events.csv", [&](const char* data, std::size_t n) {
        bytes += n;
        for (std::size_t i = 0; i < n; ++i) lines += data[i] == '\n';
        return true;
    });
    server_shutdown.request_stop();
    svr.stop();
    server.join();
    std::size_t want = dsn && *dsn ? 100001 : 100000;  // + the CSV header from COPY
    std::printf("%s: HTTP %d, %zu lines, %zu bytes\n", dsn && *dsn ? "postgres" : "generated",
                r ? r->status : 0, lines, bytes);
    return r && r->status == 200 && lines == want ? 0 : 1;
}
