// pg::copy_out: byte for byte what psql's \copy prints; flat memory from 200k to 2M rows
// (also for pg::json_lines); a backend killed mid-export and a cancelled export leave no
// output file, and the server-side query is gone.
#include <catch2/catch.hpp>

#include "pg_support.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stop_token>
#include <string>

#include <sluice/postgres/connection.hpp>
#include <sluice/postgres/copy_out.hpp>
#include <sluice/postgres/json_lines.hpp>
#include <sluice/sluice.hpp>

namespace pg = sluice::pg;
namespace fs = std::filesystem;

namespace {


std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string find_psql() {
    for (const char* p : {"/usr/bin/psql", "/usr/lib/postgresql/15/bin/psql"})
        if (::access(p, X_OK) == 0) return p;
    return {};
}

// Peak RSS (KiB) of a child that exports `rows` generated rows with `how` ("csv"/"jsonl").
long child_peak_rss(const char* how, long rows) {
    pid_t pid = ::fork();
    if (pid == 0) {
        try {
            pg::connection c(test_dsn());
            std::string q = "SELECT g AS id, md5(g::text) AS h, now() AS at, g * 1.5 AS x, "
                            "ARRAY[g, g + 1] AS a FROM generate_series(1, " +
                            std::to_string(rows) + ") g";
            std::uint64_t bytes = 0;
            auto count = sluice::for_each([&](const sluice::chunk& ch) { bytes += ch.size(); });
            if (std::string(how) == "csv")
                pg::copy_out(c, q) | count;
            else
                pg::json_lines(c, q) | count;
            ::_exit(bytes > static_cast<std::uint64_t>(rows) * 40 ? 0 : 2);
        } catch (...) {
            ::_exit(3);
        }
    }
    int status = 0;
    struct rusage ru {};
    ::wait4(pid, &status, 0, &ru);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return ru.ru_maxrss;
}

int active_statements(pg::connection& observer, int pid) {
    auto r = observer.query(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state <> 'idle'", pid);
    return std::stoi(std::string(r.value(0, 0)));
}

bool dir_has_files(const fs::path& dir) {
    return fs::exists(dir) && fs::directory_iterator(dir) != fs::directory_iterator();
}

}  // namespace

TEST_CASE("copy_out is byte for byte psql's \\copy", "[postgres][copy_out]") {
    PG_REQUIRE_SERVER();
    std::string psql = find_psql();
    if (psql.empty()) {
        WARN("SKIPPED: psql not found");
        return;
    }
    pg::connection c(test_dsn());
    c.exec(R"sql(
        DROP TABLE IF EXISTS sluice_copy_out_t;
        CREATE TABLE sluice_copy_out_t AS
        SELECT g AS id, CASE g % 6 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN E'a,"b"\nc\\d'
                   WHEN 3 THEN 'Zoë 🚀 田中' WHEN 4 THEN E'tab\there' ELSE 'plain' END AS t,
               (g * 1.25)::numeric AS n, g % 3 = 0 AS b, '2024-01-01 00:00:00+00'::timestamptz
               + g * interval '1 hour 1.5 seconds' AS ts, ARRAY[g::text, NULL, 'x y'] AS a,
               jsonb_build_object('k', g, 's', E'q"\\') AS j, '\x00ff'::bytea AS by,
               'NaN'::float8 AS f
        FROM generate_series(1, 3000) g)sql");
    const std::string query = "SELECT * FROM sluice_copy_out_t ORDER BY id";
    for (bool header : {false, true}) {
        pg::copy_out_options o;
        o.header = header;
        o.chunk_size = 4096;  // many chunks
        std::string ours;
        std::uint64_t chunks = 0;
        pg::copy_out(c, query, o) | sluice::for_each([&](const sluice::chunk& ch) {
            ours += ch.view();
            ++chunks;
        });
        CHECK(chunks > 10);
        std::string out = "copy_out_psql.csv";
        std::string cmd = psql + " -X -q -d '" + std::string(test_dsn()) + "' -c \"\\copy (" +
                          query + ") to '" + out + "' with (format csv" +
                          (header ? ", header" : "") + ")\"";
        REQUIRE(std::system(cmd.c_str()) == 0);
        std::string theirs = read_all(out);
        CHECK(theirs.size() > 100000);
        CHECK(ours == theirs);
        fs::remove(out);
    }
    // Text format, a custom delimiter and NULL.
    pg::copy_out_options o;
    o.delimiter = ";";
    o.null_string = "<null>";
    std::string ours;
    pg::copy_out(c, "SELECT 1, NULL::text, 'a;b'", o) |
        sluice::for_each([&](const sluice::chunk& ch) { ours += ch.view(); });
    CHECK(ours == "1;<null>;\"a;b\"\n");
}

TEST_CASE("copy_out with crlf ends every line, the header's too, with CRLF", "[postgres][copy_out]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    const std::string query =
        "SELECT g AS id, CASE WHEN g % 2 = 0 THEN E'two\\nlines' ELSE 'one' END AS t, "
        "E'cr\\r' AS c FROM generate_series(1, 5000) g";
    auto collect = [&](pg::copy_out_options o) {
        std::string out;
        o.chunk_size = 4096;  // rows across many chunks
        pg::copy_out(c, query, o) |
            sluice::for_each([&](const sluice::chunk& ch) { out += ch.view(); });
        return out;
    };
    pg::copy_out_options o;
    o.header = true;
    const std::string lf = collect(o);
    o.crlf = true;
    const std::string crlf = collect(o);
    // The expected text: each line end outside quotes (COPY quotes fields holding CR or LF)
    // becomes CRLF; a quoted field's own LF and CR stay.
    std::string want;
    bool quoted = false;
    for (char ch : lf) {
        if (ch == '"') quoted = !quoted;
        if (ch == '\n' && !quoted) want += '\r';
        want += ch;
    }
    CHECK(lf.find("\"two\nlines\"") != std::string::npos);
    CHECK(crlf == want);
    CHECK(crlf.starts_with("id,t,c\r\n1,one,\"cr\r\"\r\n2,\"two\nlines\",\"cr\r\"\r\n"));
    // Text format too; binary has no lines.
    o.format = "text";
    o.header = false;
    CHECK(collect(o).starts_with("1\tone\tcr\\r\r\n2\ttwo\\nlines\tcr\\r\r\n"));
    o.format = "binary";
    CHECK_THROWS_AS(pg::copy_out(c, query, o), sluice::error);
}

TEST_CASE("export memory is flat from 200k to 2M rows", "[postgres][copy_out][memory]") {
    PG_REQUIRE_SERVER();
    for (const char* how : {"csv", "jsonl"}) {
        long small = child_peak_rss(how, 200000);
        long large = child_peak_rss(how, 2000000);
        INFO(how << ": peak RSS " << small << " KiB (200k rows) vs " << large << " KiB (2M rows)");
        CHECK(static_cast<double>(large) <= static_cast<double>(small) * 1.15);
        CHECK(large < 32 * 1024);
    }
}

TEST_CASE("a backend killed mid-export: network error, no output file", "[postgres][copy_out]") {
    PG_REQUIRE_SERVER();
    pg::connection killer(test_dsn());
    fs::path dir = fs::current_path() / "killed";
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const char* how : {"csv", "jsonl"}) {
        INFO(how);
        pg::connection c(test_dsn());
        std::string q = "SELECT generate_series(1, 50000000) AS g, repeat('x', 100) AS pad";
        std::uint64_t chunks = 0;
        auto kill_after = sluice::tap([&](const sluice::chunk&) {
            if (++chunks == 20) killer.query("SELECT pg_terminate_backend($1)", c.backend_pid());
        });
        std::string path = (dir / (std::string("out.") + how)).string();
        auto r = std::string(how) == "csv"
                     ? sluice::try_run(pg::copy_out(c, q) | kill_after, sluice::to_file(path))
                     : sluice::try_run(pg::json_lines(c, q) | kill_after, sluice::to_file(path));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == sluice::errc::network);
        CHECK_THAT(r.error().what(), Catch::Contains("after ") && Catch::Contains(" rows)"));
        CHECK_FALSE(dir_has_files(dir));
    }
}

TEST_CASE("a cancelled export: cancelled, no output, the query is gone", "[postgres][copy_out]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    pg::connection observer(test_dsn());
    fs::path dir = fs::current_path() / "cancelled";
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const char* how : {"csv", "jsonl"}) {
        INFO(how);
        std::stop_source stop;
        std::uint64_t chunks = 0;
        auto stop_after = sluice::tap([&](const sluice::chunk&) {
            if (++chunks == 10) stop.request_stop();
        });
        std::string q = "SELECT generate_series(1, 50000000) AS g";
        std::string path = (dir / "out").string();
        sluice::run_options ro{stop.get_token()};
        auto r = std::string(how) == "csv"
                     ? sluice::try_run(pg::copy_out(c, q) | stop_after, sluice::to_file(path), ro)
                     : sluice::try_run(pg::json_lines(c, q) | stop_after, sluice::to_file(path), ro);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == sluice::errc::cancelled);
        CHECK(chunks < 20);
        CHECK_FALSE(dir_has_files(dir));
        CHECK(active_statements(observer, c.backend_pid()) == 0);
        CHECK(c.query("SELECT 4").value(0, 0) == "4");
    }
}
