// pg::copy_in: all-or-nothing, commit_every, idempotent (keyed) loads, dead-lettering.
#include <catch2/catch.hpp>

#include "pg_support.hpp"

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <sluice/postgres/connection.hpp>
#include <sluice/postgres/copy_in.hpp>
#include <sluice/postgres/rows.hpp>
#include <sluice/sluice.hpp>

namespace pg = sluice::pg;
using fields = std::vector<std::optional<std::string>>;

namespace {


void make_table(pg::connection& c) {
    c.exec(R"sql(
        CREATE SCHEMA IF NOT EXISTS "sluice test";
        DROP TABLE IF EXISTS "sluice test"."Load ""T""";
        CREATE TABLE "sluice test"."Load ""T""" (
            id int PRIMARY KEY, name text, amount numeric CHECK (amount >= 0), tags text[],
            created timestamptz DEFAULT '2000-01-01 00:00:00+00'))sql");
}
const char* const table = R"("sluice test"."Load ""T""")";

std::string dump(pg::connection& c) {
    auto r = c.query(std::string("SELECT coalesce(string_agg(format('%s|%s|%s|%s|%s', id, "
                                 "coalesce(name, '<null>'), amount, tags, created), E'\\n' "
                                 "ORDER BY id), '') FROM ") + table);
    return std::string(r.value(0, 0));
}

std::vector<fields> sample(int n, int offset = 0) {
    std::vector<fields> v;
    for (int i = 1; i <= n; ++i)
        v.push_back({std::to_string(i), i % 5 == 0 ? std::nullopt
                                                   : std::optional<std::string>(
                                                         "name\t" + std::to_string(i + offset) +
                                                         "\\ \"q\"\nline"),
                     std::to_string(i * 10 + offset) + ".5", "{a,\"b c\"}"});
    return v;
}

const std::vector<std::string> cols{"id", "name", "amount", "tags"};

}  // namespace

TEST_CASE("copy_in loads all rows in one transaction", "[postgres][copy_in]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    make_table(c);
    auto res = sample(1000) | pg::copy_in(c, table, cols);
    CHECK(res.rows_sent == 1000);
    CHECK(res.rows_written == 1000);
    CHECK(res.commits == 1);
    CHECK(c.query(std::string("SELECT count(*) FROM ") + table).value(0, 0) == "1000");
    // Escapes survive: tab, backslash, quote, newline; NULL stays NULL; defaults apply.
    auto r = c.query(std::string("SELECT name, created FROM ") + table + " WHERE id = $1", 1);
    CHECK(r.value(0, 0) == "name\t1\\ \"q\"\nline");
    CHECK(r.value(0, 1) == "2000-01-01 00:00:00+00");
    CHECK(c.query(std::string("SELECT count(*) FROM ") + table + " WHERE name IS NULL")
              .value(0, 0) == "200");

    // A bad row without isolation: nothing of this load stays.
    make_table(c);
    auto bad = sample(100);
    bad[57][2] = "not a number";
    try {
        bad | pg::copy_in(c, table, cols);
        FAIL("expected an error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::server);
        CHECK(pg::sqlstate(e) == "22P02");
        CHECK_THAT(e.what(), Catch::Contains("line 58"));
    }
    CHECK(dump(c).empty());
    CHECK_FALSE(c.in_transaction());
}

TEST_CASE("copy_in commit_every keeps earlier batches", "[postgres][copy_in]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    make_table(c);
    auto rows = sample(10);
    pg::copy_in_options o;
    o.commit_every = 3;
    CHECK((rows | pg::copy_in(c, table, cols, o)).commits == 4);
    make_table(c);
    rows[7][2] = "-1";  // violates the CHECK constraint, in the third batch
    CHECK_THROWS_AS(rows | pg::copy_in(c, table, cols, o), sluice::error);
    CHECK(c.query(std::string("SELECT count(*) FROM ") + table).value(0, 0) == "6");
}

TEST_CASE("copy_in with a key is idempotent", "[postgres][copy_in]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    make_table(c);
    pg::copy_in_options o;
    o.key = {"id"};
    o.batch_rows = 64;  // several staging merges
    auto rows = sample(500);
    auto first = rows | pg::copy_in(c, table, cols, o);
    CHECK(first.rows_written == 500);
    std::string after_one = dump(c);
    (rows | pg::copy_in(c, table, cols, o));
    CHECK(dump(c) == after_one);

    // Updates win; a key twice in one batch: the last occurrence wins.
    auto changed = sample(500, 7);
    changed.push_back(fields{"3", "last", "1", "{}"});
    changed.push_back(fields{"9999", "new", "2", "{}"});
    (changed | pg::copy_in(c, table, cols, o));
    CHECK(c.query(std::string("SELECT count(*) FROM ") + table).value(0, 0) == "501");
    auto r = c.query(std::string("SELECT name, amount FROM ") + table + " WHERE id IN (2, 3) ORDER BY id");
    CHECK(r.value(0, 0) == "name\t9\\ \"q\"\nline");
    CHECK(r.value(0, 1) == "27.5");
    CHECK(r.value(1, 0) == "last");
}

TEST_CASE("copy_in dead-letters bad rows", "[postgres][copy_in]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    for (bool keyed : {false, true}) {
        INFO("keyed " << keyed);
        make_table(c);
        auto rows = sample(300);
        rows[10][2] = "abc";             // not a number (COPY)
        rows[150][2] = "-5";             // CHECK constraint
        rows[299][0] = "1";              // duplicate key (unique violation, or an upsert)
        std::vector<std::pair<std::uint64_t, std::string>> dead;
        pg::copy_in_options o;
        if (keyed) o.key = {"id"};
        o.batch_rows = 100;
        o.errors = sluice::on_error::dead_letter([&](const sluice::dead_letter_record& r) {
            dead.emplace_back(r.where().record, r.code + " " + r.error.message());
            CHECK(!r.raw.empty());
        }).max_rejects(10);
        auto res = rows | pg::copy_in(c, table, cols, o);
        REQUIRE(dead.size() == (keyed ? 2u : 3u));
        CHECK(dead[0].first == 10);
        CHECK_THAT(dead[0].second, Catch::StartsWith("22P02"));
        CHECK(dead[1].first == 150);
        CHECK_THAT(dead[1].second, Catch::StartsWith("23514"));
        if (!keyed) CHECK_THAT(dead[2].second, Catch::StartsWith("23505"));
        CHECK(res.rows_rejected == dead.size());
        CHECK(c.query(std::string("SELECT count(*) FROM ") + table).value(0, 0) ==
              (keyed ? "297" : "297"));
    }

    // Beyond max_rejects: errc::limit and nothing loaded.
    make_table(c);
    auto rows = sample(50);
    rows[1][2] = rows[2][2] = "x";
    pg::copy_in_options o;
    o.errors = sluice::on_error::dead_letter([](const sluice::dead_letter_record&) {}).max_rejects(1);
    try {
        rows | pg::copy_in(c, table, cols, o);
        FAIL("expected a limit error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::limit);
    }
    CHECK(dump(c).empty());
}

TEST_CASE("copy_in takes CSV records and rows from a query", "[postgres][copy_in]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    make_table(c);
    std::vector<std::string> csv{"1,\"a, \"\"b\"\"\",1.5,\"{x}\"", "2,,2,{}\n"};
    pg::copy_in_options o;
    o.format = "csv";
    CHECK((csv | pg::copy_in(c, table, cols, o)).rows_written == 2);
    CHECK(c.query(std::string("SELECT name FROM ") + table + " WHERE id = 1").value(0, 0) ==
          "a, \"b\"");

    // Table to table through pg::row (a second connection reads while this one loads).
    pg::connection src(test_dsn());
    c.exec("DROP TABLE IF EXISTS sluice_copy_target; CREATE TABLE sluice_copy_target "
           "(LIKE \"sluice test\".\"Load \"\"T\"\"\")");
    auto res = pg::rows(src, std::string("SELECT * FROM ") + table) |
               pg::copy_in(c, "public.sluice_copy_target");
    CHECK(res.rows_written == 2);
    CHECK(c.query("SELECT count(*) FROM sluice_copy_target WHERE name IS NULL").value(0, 0) == "1");
}
