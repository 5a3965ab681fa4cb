// Issue 11's ETL job against the real server: a CSV reader, validate and the loader share
// one reject budget of 100. Before, each stage counted its own cap (103 dead letters), the
// reader's skips were in no counter, and validate's dead letter held parsed fields, not the
// line. Now: exactly 100 dead letters, then the run fails with errc::limit and nothing is
// loaded; each stage's rejects are in its counter; validate's dead letter is the raw line.
#include <catch2/catch.hpp>

#include "pg_support.hpp"

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <sluice/adaptors/validate.hpp>
#include <sluice/csv/csv.hpp>
#include <sluice/postgres/connection.hpp>
#include <sluice/postgres/copy_in.hpp>
#include <sluice/sinks/dead_letter_file.hpp>
#include <sluice/sluice.hpp>

namespace pg = sluice::pg;
namespace rules = sluice::rules;

namespace {

const char* const table = "sluice_reject_budget";

void make_table(pg::connection& c) {
    c.exec(std::string("DROP TABLE IF EXISTS ") + table + "; CREATE TABLE " + table +
           " (id int PRIMARY KEY, n int CHECK (n >= 0), note text)");
}

/// 400 records: every 10th from 3 on is ragged (the reader rejects it), from 5 on has a
/// note without "ok" (validate), from 7 on a negative n (the server's CHECK): 40 each.
std::string input() {
    std::string s = "id,n,note\n";
    for (int i = 0; i < 400; ++i) {
        const std::string id = std::to_string(i);
        switch (i % 10) {
            case 3: s += id + "," + id + "\n"; break;
            case 5: s += id + "," + id + ",\"bad, \"\"quoted\"\" " + id + "\"\n"; break;
            case 7: s += id + ",-" + id + ",\"ok " + id + "\"\n"; break;
            default: s += id + "," + id + ",\"ok, \"\"fine\"\" " + id + "\"\n";
        }
    }
    return s;
}

struct outcome {
    std::vector<sluice::dead_letter_record> dead;
    std::map<std::string, std::uint64_t> rejects;  // counters name -> rejects
    sluice::result<pg::load_result> load;
};

outcome run_job(pg::connection& c, std::uint64_t cap) {
    outcome o{{}, {}, sluice::result<pg::load_result>(pg::load_result{})};
    sluice::reject_budget budget(cap);
    auto policy = sluice::on_error::dead_letter([&o](sluice::dead_letter_record&& d) {
                      o.dead.push_back(std::move(d));
                  }).within(budget);
    sluice::csv::read_options ro;
    ro.errors = policy;
    pg::copy_in_options lo;
    lo.errors = policy;
    sluice::metrics m;
    sluice::run_options opts;
    opts.metrics = &m;
    o.load = sluice::try_run(sluice::from_range(std::vector<std::string>{input()}) |
                                 sluice::csv::read(ro) |
                                 sluice::validate(policy, rules::contains(rules::column("note"), "ok")),
                             pg::copy_in(c, table, {"id", "n", "note"}, lo), opts);
    for (const auto& s : m.snapshot()) o.rejects[s.name] = s.rejects;
    return o;
}

}  // namespace

TEST_CASE("CSV reader, validate and loader share one budget of 100 rejects",
          "[postgres][reject_budget]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    make_table(c);

    auto o = run_job(c, 100);
    REQUIRE_FALSE(o.load);
    CHECK(o.load.error().code() == sluice::errc::limit);
    CHECK(std::string(o.load.error().what()).find("reject budget of 100") != std::string::npos);
    CHECK(o.dead.size() == 100);
    // The reader and validate see their records first (40 each); the loader's 20 come when
    // it loads its batch, and its 21st is the one too many.
    CHECK(o.rejects["csv"] == 40);
    CHECK(o.rejects["validate"] == 40);
    CHECK(o.rejects["postgres"] == 20);
    CHECK(o.rejects["csv"] + o.rejects["validate"] + o.rejects["postgres"] == o.dead.size());
    // All or nothing: the failed load left no row.
    CHECK(c.query(std::string("SELECT count(*) FROM ") + table).value(0, 0) == "0");

    // The dead letters: {stage, line|record, error, raw} with each record's original text.
    std::map<std::string, std::vector<const sluice::dead_letter_record*>> by_stage;
    for (const auto& d : o.dead) by_stage[d.stage].push_back(&d);
    REQUIRE(by_stage["csv"].size() == 40);
    REQUIRE(by_stage["validate"].size() == 40);
    REQUIRE(by_stage["postgres"].size() == 20);
    const auto& first_csv = *by_stage["csv"][0];
    CHECK(first_csv.raw == "3,3\n");
    CHECK(first_csv.where().line == 5);  // the header is line 1, record 3 is line 5
    const auto& first_validate = *by_stage["validate"][0];
    CHECK(first_validate.raw == "5,5,\"bad, \"\"quoted\"\" 5\"\n");  // quoting kept
    CHECK(first_validate.error.message() == "note: does not contain \"ok\"");
    CHECK(first_validate.where().line == 7);
    const auto& first_pg = *by_stage["postgres"][0];
    CHECK(first_pg.code == "23514");  // check_violation
    CHECK(first_pg.raw.find("-7\t") != std::string::npos);
    CHECK(first_pg.where().has_record());

    // With room for all 120, the load commits the other 280 rows, counted per stage.
    auto all = run_job(c, 200);
    REQUIRE(all.load);
    CHECK(all.dead.size() == 120);
    CHECK(all.rejects["csv"] == 40);
    CHECK(all.rejects["validate"] == 40);
    CHECK(all.rejects["postgres"] == 40);
    CHECK(all.load->rows_rejected == 40);
    CHECK(all.load->rows_written == 280);
    CHECK(c.query(std::string("SELECT count(*) FROM ") + table).value(0, 0) == "280");
}

TEST_CASE("dead_letter_file writes the shared dead letters as JSON lines",
          "[postgres][reject_budget]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    make_table(c);
    const std::string path = "dead.jsonl";
    {
        sluice::dead_letter_file bad(path);
        auto policy = sluice::on_error::dead_letter(bad).within(sluice::reject_budget(100));
        sluice::csv::read_options ro;
        ro.errors = policy;
        pg::copy_in_options lo;
        lo.errors = policy;
        auto r = sluice::try_run(sluice::from_range(std::vector<std::string>{input()}) |
                                     sluice::csv::read(ro) |
                                     sluice::validate(policy, rules::contains(rules::column("note"), "ok")),
                                 pg::copy_in(c, table, {"id", "n", "note"}, lo));
        REQUIRE_FALSE(r);
        CHECK(bad.count() == 100);
        bad.finish();  // kept here to look at; the CLI aborts it on failure
    }
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    REQUIRE(lines.size() == 100);
    CHECK(lines[0] == R"({"stage":"csv","line":5,"record":3,"column":3,"byte_offset":)" +
                          std::to_string(input().find("3,3\n")) +
                          R"x(,"error":"record has 2 fields, expected 3 (as the header)","raw":"3,3\n"})x");
    CHECK(lines[1] == R"({"stage":"validate","line":7,"record":4,"error":"note: does not contain \"ok\"","raw":"5,5,\"bad, \"\"quoted\"\" 5\"\n"})");
    CHECK(lines[99].find(R"("stage":"postgres")") != std::string::npos);
    CHECK(lines[99].find(R"("code":"23514")") != std::string::npos);
    std::remove(path.c_str());
}
