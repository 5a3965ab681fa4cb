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
    "usage: export_service --dsn DSN --listen HOST:PORT --allow-tables a,b\n"
    "                      [--allow-destinations s3://bucket/prefix/[,...]] [options]\n"
    "\n"
    "Streams allow-listed Postgres tables as CSV/JSONL (optionally gzip) over HTTP and runs\n"
    "background exports to S3 with progress and presigned download links.\n"
    "\n"
    "  --dsn DSN             Postgres connection string (URI or key=value)\n"
    "  --listen HOST:PORT    address to listen on, e.g. 127.0.0.1:8080; an address in use\n"
    "                        is an error (exit 1, \"address already in use\")\n"
    "  --allow-tables LIST   comma-separated tables (schema.table allowed) that may be exported\n"
    "  --allow-destinations LIST\n"
    "                        comma-separated s3://bucket/prefix/ folders background exports\n"
    "                        may write to; a \"to\" outside all of them (after resolving . and\n"
    "                        .. segments, repeated slashes and %XX escapes) is refused with\n"
    "                        403 before any work. Without it, background exports are refused.\n"
    "  --max-concurrent N    background exports running at once (default 2); the rest wait\n"
    "  --threads N           requests handled at once (default 32); slow clients still\n"
    "                        sending their headers do not take one\n"
    "  --max-connections N   open connections served at once (default 1024); more wait\n"
    "  --header-timeout S    seconds a client has to send the request line and headers\n"
    "                        (default 10; then 408 and the connection is closed)\n"
    "  --heartbeat S         seconds between this instance's heartbeats on its running jobs\n"
    "                        (default 5); another instance's running job is failed (and its\n"
    "                        upload aborted) once its heartbeat is 6 intervals old\n"
    "  --reuse-port          share the port with other processes (SO_REUSEPORT); off by default\n"
    "  --help                this text\n"
    "\n"
    "Requests: bodies up to 64 KiB (413 beyond, not read), request line and headers up to\n"
    "16 KiB (431), no chunked request bodies (411).\n"
    "Environment: SLUICE_SERVICE_TOKEN (required; clients send Authorization: Bearer TOKEN),\n"
    "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL (S3).\n"
    "Job records live in the table sluice_export_jobs, created if missing; several instances\n"
    "may share it.\n";

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

/// The command line.
struct options {
    std::string dsn, listen, tables, destinations;
    unsigned max_concurrent = 2;
    unsigned heartbeat_s = 5;
    export_service::server_limits limits;
};

options parse_args(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die_usage(a + " needs a value");
            return argv[++i];
        };
        auto number = [&](unsigned max) -> unsigned {
            std::string v = value();
            char* end = nullptr;
            unsigned long n = std::strtoul(v.c_str(), &end, 10);
            if (v.empty() || *end || n == 0 || n > max)
                die_usage(a + " must be a number from 1 to " + std::to_string(max));
            return static_cast<unsigned>(n);
        };
        if (a == "--help" || a == "-h") {
            std::fputs(usage_text, stdout);
            std::exit(0);
        }
        if (a == "--dsn") o.dsn = value();
        else if (a == "--listen") o.listen = value();
        else if (a == "--allow-tables") o.tables = value();
        else if (a == "--allow-destinations") o.destinations = value();
        else if (a == "--max-concurrent") o.max_concurrent = number(1024);
        else if (a == "--threads") o.limits.threads = number(1024);
        else if (a == "--max-connections") o.limits.max_connections = number(65536);
        else if (a == "--header-timeout") o.limits.header_timeout = std::chrono::seconds(number(3600));
        else if (a == "--heartbeat") o.heartbeat_s = number(3600);
        else if (a == "--reuse-port") o.limits.reuse_port = true;
        else die_usage("unknown argument '" + a + "'");
    }
    if (o.dsn.empty() || o.listen.empty() || o.tables.empty())
        die_usage("--dsn, --listen and --allow-tables are required");
    return o;
}

/// HOST:PORT -> (host, port), or a usage error.
std::pair<std::string, int> split_listen(const std::string& listen) {
    std::size_t colon = listen.rfind(':');
    if (colon == std::string::npos) die_usage("--listen must be HOST:PORT");
    int port = std::atoi(listen.c_str() + colon + 1);
    if (port <= 0 || port > 65535) die_usage("--listen: bad port");
    return {listen.substr(0, colon), port};
}

/// Serves until SIGTERM/SIGINT (blocked in `sigs` by the caller); returns the exit status.
int serve(const options& o, export_service::service_config& cfg, const sigset_t& sigs,
          std::stop_source& shutdown) {
    auto [host, port] = split_listen(o.listen);
    export_service::heartbeat_options hb;
    hb.interval = std::chrono::seconds(o.heartbeat_s);
    hb.stale_after = hb.interval * 6;
    export_service::job_manager jobs(o.dsn, sluice::s3::config::from_env(), o.max_concurrent, log_line, hb);
    export_service::guarded_server svr(o.limits);
    export_service::install_routes(svr, cfg, jobs);
    // Bind before touching the job table: a second instance on a port in use changes nothing.
    if (std::string why = svr.bind(host, port); !why.empty()) {
        log_line("cannot listen on " + o.listen + ": " + why);
        return 1;
    }
    jobs.start();
    std::thread watcher([&] {
        int sig = 0;
        sigwait(&sigs, &sig);
        log_line(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ": draining");
        shutdown.request_stop();  // open downloads stop within one chunk and are closed
        jobs.shutdown();          // running jobs cancelled (uploads aborted), marked so
        svr.stop();
    });
    if (cfg.destinations.empty())
        log_line("background exports to S3 are disabled: no --allow-destinations given");
    log_line("listening on " + o.listen + " (" + std::to_string(cfg.allowed_tables.size()) +
             " tables, max " + std::to_string(o.max_concurrent) + " concurrent jobs, instance " +
             jobs.instance_id() + ")");
    bool ok = svr.listen_after_bind();
    if (!shutdown.stop_requested()) {
        // The server stopped on its own: wake the watcher so it can be joined.
        log_line("the server stopped unexpectedly");
        pthread_kill(watcher.native_handle(), SIGTERM);
    }
    watcher.join();
    log_line("stopped");
    return ok || shutdown.stop_requested() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    options o = parse_args(argc, argv);
    const char* token = std::getenv("SLUICE_SERVICE_TOKEN");
    if (!token || !*token) die_usage("SLUICE_SERVICE_TOKEN is not set");
    split_listen(o.listen);  // usage errors before anything starts

    // Signals go to one thread (sigwait), blocked everywhere else: set before any thread.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a client that hangs up is a failed write, not a crash

    std::stop_source shutdown;
    export_service::service_config cfg;
    cfg.dsn = o.dsn;
    cfg.token = token;
    cfg.allowed_tables = split(o.tables);
    cfg.shutdown = shutdown.get_token();
    cfg.log = log_line;
    try {
        if (!o.destinations.empty()) cfg.destinations = export_service::parse_destinations(o.destinations);
    } catch (const sluice::error& e) {
        die_usage(e.message());
    }
    try {
        return serve(o, cfg, sigs, shutdown);
    } catch (const sluice::error& e) {
        log_line(e.what());
        return 1;
    }
}
