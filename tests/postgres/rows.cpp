// pg::rows: row views, typed get, both strategies, early stop, cancellation through the
// stop token (the server-side query is gone) and a backend killed mid-stream.
#include <catch2/catch.hpp>

#include "pg_support.hpp"

#include <cmath>
#include <cstdlib>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <sluice/postgres/connection.hpp>
#include <sluice/postgres/rows.hpp>
#include <sluice/sluice.hpp>

namespace pg = sluice::pg;

namespace {


// (Set-returning functions in the select list stream; in FROM they are materialised
// first, which would make these tests slow.)
// Statements of `pid` still running, seen from another session.
int active_statements(pg::connection& observer, int pid) {
    auto r = observer.query(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state <> 'idle'", pid);
    return std::stoi(std::string(r.value(0, 0)));
}

}  // namespace

TEST_CASE("rows: views, names, types, typed get", "[postgres][rows]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    std::vector<pg::owned_row> kept;
    auto src = pg::rows(c,
                        "SELECT g AS n, 'v' || g AS s, CASE WHEN g = 2 THEN NULL ELSE g * 1.5 "
                        "END AS f, g % 2 = 0 AS even, 'NaN'::float8 AS nan "
                        "FROM generate_series(1, $1::int) g WHERE g > $2",
                        3, 0);
    for (const pg::row& r : src) {
        REQUIRE(r.size() == 5);
        CHECK(r.name(0) == "n");
        CHECK(r.type(0) == 23);  // int4
        CHECK(r.type(1) == 25);  // text
        CHECK(r.get<int>(0) == static_cast<int>(r.index()) + 1);
        CHECK(r.get<std::string>("s") == "v" + std::to_string(r.index() + 1));
        CHECK(r.get<bool>("even") == (r.index() == 1));
        CHECK(std::isnan(r.get<double>("nan")));
        kept.push_back(r.to_owned());
    }
    REQUIRE(kept.size() == 3);
    CHECK(kept[1].is_null(2));
    CHECK(kept[1].get<std::optional<double>>(2) == std::nullopt);
    CHECK(kept[2].get<double>("f") == 4.5);
    CHECK_THROWS_AS(kept[1].get<double>(2), sluice::error);     // NULL into a double
    CHECK_THROWS_AS(kept[0].get<std::int8_t>("s"), sluice::error);  // not a number
    CHECK_THROWS_AS(kept[0].get<int>("nope"), sluice::error);
}

TEST_CASE("rows: single-row mode and cursor give the same rows", "[postgres][rows]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    const char* q = "SELECT g, md5(g::text) FROM generate_series(1, 2500) g";
    auto collect = [&](int fetch) {
        pg::rows_options o;
        o.fetch_size = fetch;
        std::vector<std::string> out;
        pg::rows(c, o, q) | sluice::for_each([&](const pg::row& r) {
            out.push_back(std::string(r[0]) + "," + std::string(r[1]));
        });
        return out;
    };
    auto single = collect(0);
    CHECK(single.size() == 2500);
    CHECK(collect(1000) == single);
    CHECK(collect(7) == single);
    CHECK_FALSE(c.in_transaction());
    // Empty results, and a query error at the start.
    CHECK((pg::rows(c, "SELECT 1 WHERE false") | sluice::count()) == 0);
    CHECK_THROWS_AS(pg::rows(c, "SELECT * FROM no_such_table") | sluice::count(), pg::pg_error);
    CHECK(c.query("SELECT 1").value(0, 0) == "1");
}

TEST_CASE("rows: stopping early ends the query; the connection stays usable", "[postgres][rows]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    pg::connection observer(test_dsn());
    for (int fetch : {0, 100}) {
        pg::rows_options o;
        o.fetch_size = fetch;
        auto first = pg::rows(c, o, "SELECT generate_series(1, 10000000) AS g") |
                     sluice::take(5) | sluice::to_vector();
        CHECK(first.size() == 5);
        CHECK(active_statements(observer, c.backend_pid()) == 0);
        CHECK(c.query("SELECT 2").value(0, 0) == "2");
        CHECK_FALSE(c.in_transaction());
    }
}

TEST_CASE("rows: cancellation through the stop token", "[postgres][rows]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    pg::connection observer(test_dsn());
    for (int fetch : {0, 500}) {
        INFO("fetch_size " << fetch);
        std::stop_source stop;
        std::uint64_t seen = 0;
        auto src = pg::rows(c, pg::rows_options{fetch, 64},
                            "SELECT generate_series(1, 50000000) AS g");
        auto r = sluice::try_run(src, sluice::for_each([&](const pg::row&) {
                                     if (++seen == 20000) stop.request_stop();
                                 }),
                                 sluice::run_options{stop.get_token()});
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == sluice::errc::cancelled);
        CHECK(seen < 30000);
        CHECK(active_statements(observer, c.backend_pid()) == 0);
        CHECK(c.query("SELECT 3").value(0, 0) == "3");
    }
}

TEST_CASE("rows: a backend killed mid-stream is a network error naming the rows done",
          "[postgres][rows]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    pg::connection killer(test_dsn());
    std::uint64_t seen = 0;
    auto r = sluice::try_run(
        pg::rows(c, "SELECT generate_series(1, 50000000) AS g, repeat('x', 100)"),
        sluice::for_each([&](const pg::row&) {
            if (++seen == 10000) killer.query("SELECT pg_terminate_backend($1)", c.backend_pid());
        }));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == sluice::errc::network);
    CHECK_THAT(r.error().what(), Catch::Contains("after ") && Catch::Contains(" rows)"));
    CHECK_THAT(r.error().what(), Catch::Contains("57P01") || Catch::Contains("connection"));
    CHECK_FALSE(c.ok());
}
