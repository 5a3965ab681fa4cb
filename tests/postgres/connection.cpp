// pg::connection: DSN forms, session settings, errors with SQLSTATE, and the password
// never appearing in an error message. Quoting helpers (no server needed).
#include <catch2/catch.hpp>

#include "pg_support.hpp"

#include <cstdlib>
#include <optional>
#include <string>

#include <sluice/postgres/connection.hpp>
#include <sluice/postgres/quote.hpp>

namespace pg = sluice::pg;

namespace {


std::string replace(std::string s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
}

// The message of the error `f` throws (which must be a sluice::error).
template <class F>
sluice::error error_of(F&& f) {
    try {
        f();
    } catch (const sluice::error& e) {
        return e;
    }
    FAIL("expected an error");
    return sluice::error(sluice::errc::failed, "", "");
}

}  // namespace

TEST_CASE("quote_identifier and quote_qualified_name", "[postgres][quote]") {
    CHECK(pg::quote_identifier("events") == "\"events\"");
    CHECK(pg::quote_identifier("my \"t\"") == "\"my \"\"t\"\"\"");
    CHECK(pg::quote_qualified_name("public.events") == "\"public\".\"events\"");
    CHECK(pg::quote_qualified_name("Events") == "\"Events\"");
    CHECK(pg::quote_qualified_name("\"My Schema\".\"a.b\"\"c\"") == "\"My Schema\".\"a.b\"\"c\"");
    CHECK(pg::quote_qualified_name("x; DROP TABLE y") == "\"x; DROP TABLE y\"");
    CHECK_THROWS_AS(pg::quote_qualified_name("a..b"), sluice::error);
    CHECK_THROWS_AS(pg::quote_qualified_name("\"open"), sluice::error);
    CHECK_THROWS_AS(pg::quote_identifier(""), sluice::error);
    CHECK(pg::quote_literal("it's") == "'it''s'");
    CHECK(pg::quote_literal("a\\b") == "E'a\\\\b'");
}

TEST_CASE("redact_dsn hides passwords in every DSN form", "[postgres][connection]") {
    CHECK(pg::redact_dsn("postgresql://u:s3cr%40t@h:5432/db?sslmode=disable") ==
          "postgresql://u:***@h:5432/db?sslmode=disable");
    CHECK(pg::redact_dsn("postgres://h/db?user=u&password=pw1&sslmode=require") ==
          "postgres://h/db?user=u&password=***&sslmode=require");
    CHECK(pg::redact_dsn("host=h password='a b\\'c' user=u") == "host=h password='***' user=u");
    CHECK(pg::redact_dsn("host=h password=plain user=u") == "host=h password=*** user=u");
    CHECK(pg::redact_dsn("host=h user=u") == "host=h user=u");
}

TEST_CASE("connect: session settings and parameters", "[postgres][connection]") {
    PG_REQUIRE_SERVER();
    pg::connect_options o;
    o.timezone = "Asia/Kathmandu";
    pg::connection c(test_dsn(), o);
    CHECK(c.ok());
    CHECK(c.server_version() >= 100000);
    CHECK(c.parameter("DateStyle").starts_with("ISO"));
    CHECK(c.parameter("TimeZone") == "Asia/Kathmandu");
    CHECK(c.backend_pid() > 0);
    auto r = c.query("SELECT $1::int + 1, $2::text, $3::text IS NULL, $4::float8, $5::bool",
                     41, std::string("x'y"), std::optional<int>(), 0.1, true);
    CHECK(r.value(0, 0) == "42");
    CHECK(r.value(0, 1) == "x'y");
    CHECK(r.value(0, 2) == "t");
    CHECK(r.value(0, 3) == "0.1");
    CHECK(r.value(0, 4) == "t");
    // The environment alone (PGHOST ... as pg_start exports them) is a valid DSN.
    if (std::getenv("PGHOST")) CHECK(pg::connection("").ok());
    // key=value form.
    pg::connection kv(std::string("host=") + (std::getenv("PGHOST") ? std::getenv("PGHOST") : "127.0.0.1") +
                      " connect_timeout=5");
    CHECK((kv.ok() || true));
}

TEST_CASE("server errors carry SQLSTATE, detail and the right class", "[postgres][connection]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    // Whatever the server reports is the outside world (`server`), never the user's flags
    // or data: the CLI exits 1 for it.
    auto syntax = error_of([&] { c.exec("SELEC 1"); });
    CHECK(syntax.code() == sluice::errc::server);
    CHECK(pg::sqlstate(syntax) == "42601");
    CHECK(syntax.stage() == "postgres");

    c.exec("DROP TABLE IF EXISTS sluice_conn_t; CREATE TABLE sluice_conn_t (id int PRIMARY KEY)");
    c.exec("INSERT INTO sluice_conn_t VALUES (1)");
    try {
        c.query("INSERT INTO sluice_conn_t VALUES ($1)", 1);
        FAIL("expected a unique violation");
    } catch (const pg::pg_error& e) {
        CHECK(e.code() == sluice::errc::server);
        CHECK(e.sqlstate() == "23505");
        CHECK(pg::is_data_sqlstate(e.sqlstate()));
        CHECK(e.server().detail == "Key (id)=(1) already exists.");
        CHECK_THAT(e.what(), Catch::Contains("[SQLSTATE 23505]") &&
                                 Catch::Contains("detail: Key (id)=(1) already exists."));
        sluice::error sliced = e;  // what try_run hands back
        CHECK(pg::sqlstate(sliced) == "23505");
    }
    auto hinted = error_of([&] { c.exec("SELECT nosuchfunction(1)"); });
    CHECK_THAT(hinted.what(), Catch::Contains("hint: "));
    CHECK(hinted.code() == sluice::errc::server);
    CHECK_FALSE(pg::is_data_sqlstate(pg::sqlstate(hinted)));
    auto missing = error_of([&] { c.exec("SELECT * FROM sluice_no_such_table"); });
    CHECK(missing.code() == sluice::errc::server);
    CHECK(pg::sqlstate(missing) == "42P01");
    // A statement timeout is the server giving up (57014), not a cancel of ours.
    c.exec("SET statement_timeout = '50ms'");
    auto timeout = error_of([&] { c.exec("SELECT pg_sleep(5)"); });
    c.exec("RESET statement_timeout");
    CHECK(pg::sqlstate(timeout) == "57014");
    CHECK(timeout.code() == sluice::errc::server);
    CHECK(c.ok());
}

TEST_CASE("SQLSTATE classes", "[postgres][connection]") {
    using sluice::errc;
    CHECK(pg::errc_for_sqlstate("08006") == errc::network);  // connection failure
    CHECK(pg::errc_for_sqlstate("57P01") == errc::network);  // admin shutdown (terminated)
    for (const char* s : {"42601", "42P01", "42501", "22012", "23505", "57014", "53200", "XX000",
                          "25P02", "40001"})
        CHECK(pg::errc_for_sqlstate(s) == errc::server);
    CHECK(pg::errc_for_sqlstate("") == errc::failed);
    CHECK(pg::is_data_sqlstate("22P02"));
    CHECK(pg::is_data_sqlstate("23502"));
    CHECK_FALSE(pg::is_data_sqlstate("42601"));
    CHECK_FALSE(pg::is_data_sqlstate("57014"));
    CHECK_FALSE(pg::is_data_sqlstate("22"));
}

TEST_CASE("the password never appears in error messages", "[postgres][connection]") {
    PG_REQUIRE_SERVER();
    std::string dsn = test_dsn();
    const char* pw_env = std::getenv("SLUICE_TEST_PG_PASSWORD");
    std::string real_pw = pw_env ? pw_env : "";

    // Wrong password (scram): an authentication failure that names the user, not the secret.
    std::string wrong = "WrongSecret-7f3a9";
    std::string bad_dsn = real_pw.empty() ? dsn : replace(dsn, real_pw, wrong);
    if (!real_pw.empty()) {
        auto e = error_of([&] { pg::connection c(bad_dsn); });
        CHECK(e.code() == sluice::errc::network);
        CHECK_THAT(e.what(), !Catch::Contains(wrong) && Catch::Contains("***"));
        CHECK_THAT(e.what(), Catch::Contains("password authentication failed"));
    }
    // Malformed DSNs that libpq echoes back in its messages.
    for (std::string d : {std::string("postgresql://u:" + wrong + "@127.0.0.1:notaport/db"),
                          std::string("postgresql://u:" + wrong + "@[::1/db"),
                          std::string("host=127.0.0.1 port=1 password=" + wrong + " bogus=1"),
                          std::string("host=127.0.0.1 password='" + wrong + "' port=1 connect_timeout=2"),
                          std::string("postgresql://u@127.0.0.1:1/db?password=" + wrong + "&x=%zz")}) {
        INFO(pg::redact_dsn(d));
        auto e = error_of([&] { pg::connection c(d); });
        CHECK_THAT(e.what(), !Catch::Contains(wrong));
        CHECK(e.code() == sluice::errc::network);
    }
    // The real password is not in messages of a working connection's errors either.
    pg::connection c(dsn);
    auto e = error_of([&] { c.exec("SELECT 1/0"); });
    CHECK(e.code() == sluice::errc::server);
    if (!real_pw.empty()) {
        CHECK_THAT(e.what(), !Catch::Contains(real_pw));
        // Even if the server echoes it (here: in a value), scrub() removes it.
        auto echo = error_of([&] { c.query("SELECT $1::int", real_pw); });
        CHECK_THAT(echo.what(), !Catch::Contains(real_pw));
        CHECK(c.dsn_redacted().find(real_pw) == std::string::npos);
    }
}
