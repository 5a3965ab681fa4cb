// export_service: a small HTTP service built on sluice (issue 7).
//
//   GET    /exports/TABLE.csv[.gz] | .jsonl[.gz]   stream the table (chunked)
//   POST   /exports   {"table","format","compress","to":"s3://bucket/prefix/"} -> 202 {id...}
//   GET    /exports/ID                              job status, progress, presigned URL
//   DELETE /exports/ID                              cancel (the upload is aborted)
//
// Every endpoint needs `Authorization: Bearer $SLUICE_SERVICE_TOKEN`. S3 settings come from
// the AWS_* variables. SIGTERM/SIGINT drain: running jobs are cancelled and marked so, open
// downloads are closed, then the process exits 0.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <sluice/postgres/connection.hpp>

#include "jobs.hpp"
#include "service.hpp"

namespace {

const char* usage_text =
    "usage: export_service --dsn DSN --listen HOST:PORT --allow-tables a,b [--max-concurrent N]\n"
    "\n"
    "Streams allow-listed Postgres tables as CSV/JSONL (optionally gzip) over HTTP and runs\n"
    "background exports to S3 with progress and presigned download links.\n"
    "\n"
    "  --dsn DSN             Postgres connection string (URI or key=value)\n"
    "  --listen HOST:PORT    address to listen on, e.g. 127.0.0.1:8080\n"
    "  --allow-tables LIST   comma-separated tables (schema.table allowed) that may be exported\n"
    "  --max-concurrent N    background exports running at once (default 2); the rest wait\n"
    "  --threads N           HTTP worker threads, i.e. concurrent requests (default 32)\n"
    "  --help                this text\n"
    "\n"
    "Environment: SLUICE_SERVICE_TOKEN (required; clients send Authorization: Bearer TOKEN),\n"
    "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL (S3).\n"
    "Job records live in the table sluice_export_jobs, created if missing.\n";

std::mutex log_m;
void log_line(const std::string& s) {
    std::lock_guard lk(log_m);
    std::fprintf(stderr, "export_service: %s\n", s.c_str());
    std::fflush(stderr);
}

[[noreturn]] void die_usage(const std::string& msg) {
    std::fprintf(stderr, "export_service: %s\n\n%s", msg.c_str(), usage_text);
    std::exit(2);
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::size_t b = 0;
    while (b <= s.size()) {
        std::size_t e = s.find(',', b);
        if (e == std::string::npos) e = s.size();
        if (e > b) out.push_back(s.substr(b, e - b));
        b = e + 1;
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::string dsn, listen, tables;
    unsigned max_concurrent = 2, threads = 32;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die_usage(a + " needs a value");
            return argv[++i];
        };
        auto number = [&](const std::string& v) -> unsigned {
            char* end = nullptr;
            unsigned long n = std::strtoul(v.c_str(), &end, 10);
            if (v.empty() || *end || n == 0 || n > 1024) die_usage(a + " must be a number from 1 to 1024");
            return static_cast<unsigned>(n);
        };
        if (a == "--help" || a == "-h") {
            std::fputs(usage_text, stdout);
            return 0;
        } else if (a == "--dsn") {
            dsn = value();
        } else if (a == "--listen") {
            listen = value();
        } else if (a == "--allow-tables") {
            tables = value();
        } else if (a == "--max-concurrent") {
            max_concurrent = number(value());
        } else if (a == "--threads") {
            threads = number(value());
        } else {
            die_usage("unknown argument '" + a + "'");
        }
    }
    if (dsn.empty() || listen.empty() || tables.empty()) die_usage("--dsn, --listen and --allow-tables are required");
    const char* token = std::getenv("SLUICE_SERVICE_TOKEN");
    if (!token || !*token) die_usage("SLUICE_SERVICE_TOKEN is not set");
    std::size_t colon = listen.rfind(':');
    if (colon == std::string::npos) die_usage("--listen must be HOST:PORT");
    std::string host = listen.substr(0, colon);
    int port = std::atoi(listen.c_str() + colon + 1);
    if (port <= 0 || port > 65535) die_usage("--listen: bad port");

    // Signals go to one thread (sigwait), blocked everywhere else: set before any thread.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a client that hangs up is a failed write, not a crash

    std::stop_source shutdown;
    export_service::service_config cfg;
    cfg.dsn = dsn;
    cfg.token = token;
    cfg.allowed_tables = split(tables);
    cfg.shutdown = shutdown.get_token();
    cfg.log = log_line;

    try {
        export_service::job_manager jobs(dsn, sluice::s3::config::from_env(), max_concurrent, log_line);
        jobs.start();

        httplib::Server svr;
        // A download occupies a worker for its duration (see sluice/http/httplib.hpp).
        svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
        export_service::install_routes(svr, cfg, jobs);
        if (!svr.bind_to_port(host, port)) {
            log_line("cannot listen on " + listen);
            jobs.shutdown();
            return 1;
        }

        std::thread watcher([&] {
            int sig = 0;
            sigwait(&sigs, &sig);
            log_line(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ": draining");
            shutdown.request_stop();  // open downloads stop within one chunk and are closed
            jobs.shutdown();          // running jobs cancelled (uploads aborted), marked so
            svr.stop();
        });
        log_line("listening on " + listen + " (" + std::to_string(cfg.allowed_tables.size()) +
                 " tables, max " + std::to_string(max_concurrent) + " concurrent jobs)");
        bool ok = svr.listen_after_bind();
        if (!shutdown.stop_requested()) {
            // The server stopped on its own: wake the watcher so it can be joined.
            log_line("the server stopped unexpectedly");
            pthread_kill(watcher.native_handle(), SIGTERM);
        }
        watcher.join();
        log_line("stopped");
        return ok || shutdown.stop_requested() ? 0 : 1;
    } catch (const sluice::error& e) {
        log_line(e.what());
        return 1;
    }
}
