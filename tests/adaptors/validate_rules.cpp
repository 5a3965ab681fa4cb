// validate's rules for CSV rows (issue 11): a column projection, one-sided bounds, integer
// and decimal rules, `contains`; a rejected row's dead letter keeps the raw line, quoting
// included, and every reject shows in the stage's `rejects` counter.
#include <catch2/catch.hpp>

#include <sluice/adaptors/validate.hpp>
#include <sluice/csv/csv.hpp>
#include <sluice/sluice.hpp>

#include <limits>
#include <string>
#include <vector>

namespace r = sluice::rules;

namespace {

std::vector<sluice::dead_letter_record> rejects_of(const std::string& csv, auto... rules) {
    std::vector<sluice::dead_letter_record> dead;
    auto policy = sluice::on_error::dead_letter(
        [&](sluice::dead_letter_record&& d) { dead.push_back(std::move(d)); });
    (void)(sluice::from_range(std::vector<std::string>{csv}) | sluice::csv::read() |
           sluice::validate(policy, rules...) | sluice::count());
    return dead;
}

}  // namespace

TEST_CASE("column() projects a CSV row's field by name or index", "[adaptor][validate]") {
    auto dead = rejects_of("id,email\n1,a@x\n2,\n3,\"c,\"\"q\"\"\"\n",
                           r::required(r::column("email")), r::contains(r::column(1), "@"));
    REQUIRE(dead.size() == 2);
    CHECK(dead[0].error.message() == "email: required");
    CHECK(dead[0].raw == "2,\n");
    CHECK(dead[0].where().record == 1);
    CHECK(dead[1].error.message() == "column 2: does not contain \"@\"");
    // The raw line as read, quotes doubled as in the file.
    CHECK(dead[1].raw == "3,\"c,\"\"q\"\"\"\n");
    CHECK(dead[1].stage == "validate");

    // A short record lacks the column: only `required` fails on it.
    auto ragged = [] {
        sluice::csv::read_options o;
        o.ragged = sluice::csv::ragged::keep;
        return o;
    }();
    std::vector<sluice::dead_letter_record> d2;
    auto n = sluice::from_range(std::vector<std::string>{"a,b\n1\n2,x\n"}) | sluice::csv::read(ragged) |
             sluice::validate(sluice::on_error::dead_letter([&](sluice::dead_letter_record&& d) {
                                  d2.push_back(std::move(d));
                              }),
                              r::contains(r::column("b"), "y")) |
             sluice::count();
    CHECK(n == 1);
    REQUIRE(d2.size() == 1);
    CHECK(d2[0].raw == "2,x\n");

    // A column the header does not have is a usage error, not a reject.
    auto res = sluice::try_run(sluice::from_range(std::vector<std::string>{"a\n1\n"}) |
                                   sluice::csv::read() |
                                   sluice::validate(sluice::on_error::skip, r::required(r::column("zz"))),
                               sluice::count());
    REQUIRE_FALSE(res);
    CHECK(res.error().code() == sluice::errc::usage);
}

TEST_CASE("at_least and at_most check one side", "[adaptor][validate]") {
    std::string why;
    auto lo = r::at_least("qty", r::self, 1);
    CHECK(lo.check(1, why));
    CHECK(lo.check(1000000, why));
    CHECK_FALSE(lo.check(0, why));
    CHECK(why == "qty: 0 is less than 1");
    auto hi = r::at_most("pct", r::self, 100.0);
    CHECK(hi.check(std::string("-5e9"), why));
    CHECK_FALSE(hi.check(std::string("100.5"), why));
    CHECK(why == "pct: 100.5 is greater than 100");
    CHECK_FALSE(hi.check(std::string("ten"), why));
    CHECK(why == "pct: not a number: \"ten\"");
    const double inf = std::numeric_limits<double>::infinity();
    CHECK_FALSE(lo.check(inf, why));  // not finite: fails unless allowed
    CHECK(lo.allow_non_finite().check(inf, why));
    CHECK_FALSE(hi.allow_non_finite().check(inf, why));
    auto d = rejects_of("q\n5\n0\n-1\n", r::at_least(r::column("q"), 1));
    REQUIRE(d.size() == 2);
    CHECK(d[1].error.message() == "q: -1 is less than 1");
}

TEST_CASE("integer accepts whole numbers that fit in 64 bits", "[adaptor][validate]") {
    std::string why;
    auto i = r::integer("n", r::self);
    for (const char* ok : {"0", "-12", "+7", " 42 ", "18446744073709551615", "-9223372036854775808"})
        CHECK(i.check(std::string(ok), why));
    for (const char* bad : {"", "1.0", "1e3", "x", "-", "18446744073709551616",
                            "-9223372036854775809", "1 2"}) {
        INFO(bad);
        CHECK_FALSE(i.check(std::string(bad), why));
    }
    CHECK(why == "n: not an integer: \"1 2\"");
    CHECK(i.check(3, why));
    CHECK(i.check(3.0, why));
    CHECK_FALSE(i.check(3.5, why));
    CHECK(why == "n: 3.5 is not an integer");
}

TEST_CASE("decimal(precision, scale) as NUMERIC(p, s) stores without rounding",
          "[adaptor][validate]") {
    std::string why;
    auto d = r::decimal("amount", r::self, 5, 2);
    for (const char* ok : {"0", "123.45", "-999.99", "+1.5", "0.01", "007.10", ".5", "12."})
        CHECK(d.check(std::string(ok), why));
    CHECK_FALSE(d.check(std::string("1.234"), why));
    CHECK(why == "amount: 1.234 has 3 digits after the point (at most 2)");
    CHECK_FALSE(d.check(std::string("1234.5"), why));
    CHECK(why == "amount: 1234.5 has 4 digits before the point (at most 3)");
    CHECK(d.check(std::string("00999.5"), why));
    for (const char* bad : {"", ".", "1e3", "1,5", "--1", "abc", "1.2.3"}) {
        INFO(bad);
        CHECK_FALSE(d.check(std::string(bad), why));
    }
    CHECK(why == "amount: not a decimal number: \"1.2.3\"");
    CHECK(d.check(12.5, why));
    CHECK_FALSE(d.check(0.125, why));
    CHECK_THROWS_AS(r::decimal("x", r::self, 2, 3), sluice::error);
    auto dead = rejects_of("amount\n10.00\n10.001\n", r::decimal(r::column("amount"), 10, 2));
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].raw == "10.001\n");
}

TEST_CASE("validate's rejects show in its counters; typed handlers get owned rows",
          "[adaptor][validate]") {
    sluice::metrics m;
    sluice::run_options o;
    o.metrics = &m;
    std::vector<sluice::poison<sluice::csv::owned_row>> dead;
    auto n = sluice::run(sluice::from_range(std::vector<std::string>{"id\n1\nx\n\"y\"\n"}) |
                             sluice::csv::read() |
                             sluice::validate(sluice::on_error::dead_letter(
                                                  [&](sluice::poison<sluice::csv::owned_row>&& p) {
                                                      dead.push_back(std::move(p));
                                                  }),
                                              r::integer(r::column("id"))),
                         sluice::count(), o);
    CHECK(n == 1);
    REQUIRE(dead.size() == 2);
    CHECK(dead[1].record.raw() == "\"y\"\n");
    CHECK(dead[1].record[0] == "y");
    auto snap = m.snapshot();
    REQUIRE(snap.size() == 1);
    CHECK(snap[0].name == "validate");
    CHECK(snap[0].rejects == 2);
}
