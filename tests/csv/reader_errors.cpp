// csv::read: every strict rule is a bad_input error with the record's line, the column
// and the byte; the relaxation options and the error policy (skip, dead letters).
#include <catch2/catch.hpp>

#include <sluice/csv/read.hpp>
#include <sluice/sluice.hpp>

#include <string>
#include <utility>
#include <vector>

#include "csv_test_util.hpp"

using csv_test::no_header;
using csv_test::read_all;
using csv_test::read_error;
using csv_test::table;
namespace csv = sluice::csv;

namespace {
void check_error(const sluice::error& e, std::uint64_t line, std::uint64_t column,
                 std::uint64_t byte, const char* text) {
    INFO(e.what());
    CHECK(e.code() == sluice::errc::bad_input);
    CHECK(e.stage() == "csv");
    CHECK(e.where().line == line);
    CHECK(e.where().column == column);
    CHECK(e.where().byte_offset == byte);
    CHECK_THAT(e.message(), Catch::Contains(text));
}
}  // namespace

TEST_CASE("unterminated quote names the line where it opened", "[csv][reader][errors]") {
    // Line 1 header, 2 blank, 3 opens a quote that never closes.
    for (std::size_t piece : {0, 1, 5}) {
        auto e = read_error("a,b\n\n1,\"abc\n2,3\n4,5\n", {}, piece);
        check_error(e, 3, 2, 7, "unterminated");
    }
    // The quote opens on the record's second line (inside an earlier quoted field).
    auto e = read_error("a,b\n\"x\ny\",\"z\n", {});
    check_error(e, 3, 2, 10, "unterminated");
}

TEST_CASE("text after a closing quote", "[csv][reader][errors]") {
    check_error(read_error("a,b\n1,\"x\"y\n"), 2, 2, 9, "after a closing quote");
    check_error(read_error("a,b\n\"x\"\"y\"z,1\n"), 2, 1, 10, "after a closing quote");
    check_error(read_error("a,b\n\"x\" ,1\n"), 2, 1, 7, "after a closing quote");
    check_error(read_error("a,b\n1,\"x\"y\"z\"\n"), 2, 2, 9, "after a closing quote");
}

TEST_CASE("a quote inside an unquoted field", "[csv][reader][errors]") {
    check_error(read_error("a,b\n\n1,x\"y\n"), 3, 2, 8, "quote inside an unquoted field");
    check_error(read_error("a,b\nx\",1\n"), 2, 1, 5, "quote inside an unquoted field");
}

TEST_CASE("field count differs from the header or the first record", "[csv][reader][errors]") {
    check_error(read_error("a,b\n1,2\n\n1,2,3\n"), 4, 3, 9, "3 fields, expected 2");
    check_error(read_error("a,b\n1\n"), 2, 2, 4, "1 fields, expected 2");
    check_error(read_error("1,2\n3\n", no_header()), 2, 2, 4, "expected 2 (as the first record)");
    // The line is where the record starts even when a quoted field spans lines.
    check_error(read_error("a,b\n\"x\ny\",1,2\n"), 2, 3, 4, "expected 2");
}

TEST_CASE("invalid UTF-8", "[csv][reader][errors]") {
    check_error(read_error("a,b\n1,ok\n2,\xff\n"), 3, 2, 11, "invalid UTF-8");
    check_error(read_error("a,b\n\"\xc3\",1\n"), 2, 1, 5, "invalid UTF-8");  // truncated sequence
    check_error(read_error("a,b\n1,\xed\xa0\x80\n"), 2, 2, 6, "invalid UTF-8");  // surrogate
    check_error(read_error("a,b\n1,\xc0\xaf\n"), 2, 2, 6, "invalid UTF-8");      // overlong
    check_error(read_error("a,b\n1,x\xe2\x82"), 2, 2, 7, "invalid UTF-8");       // cut at the end
    check_error(read_error("a,\xf8\n"), 1, 2, 2, "invalid UTF-8");               // in the header
    // Valid multi-byte text across every block boundary.
    std::string ok = "a,b\n";
    for (int i = 0; i < 200; ++i) ok += "\xc3\xa9t\xc3\xa9,\xe2\x82\xac\xf0\x9f\x98\x80\n";
    for (std::size_t piece : {1, 2, 3, 7, 64})
        CHECK(read_all(ok, {}, piece).size() == 200);
}

TEST_CASE("max_record_size bounds the carry-over buffer", "[csv][reader][errors]") {
    csv::read_options o;
    o.max_record_size = 100;
    std::string in = "a\n\"" + std::string(1000, 'x');
    auto e = read_error(in, o, 10);
    CHECK(e.where().line == 2);
    CHECK_THAT(e.message(), Catch::Contains("max_record_size") && Catch::Contains("never closed"));
    // Records under the limit are fine whatever the block size.
    std::string fine = "a\n" + std::string(90, 'y') + "\n" + std::string(90, 'z') + "\n";
    CHECK(read_all(fine, o, 7).size() == 2);
}

TEST_CASE("bad options are usage errors", "[csv][reader][errors]") {
    csv::read_options o;
    o.delimiter = '"';
    std::vector<std::string> src{"a"};
    try {
        (void)(sluice::from_range(src) | csv::read(o));
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::usage);
    }
}

TEST_CASE("lenient quotes", "[csv][reader][relaxed]") {
    csv::read_options o = no_header();
    o.lenient_quotes = true;
    for (std::size_t piece : {0, 1, 3}) {
        CHECK(read_all("1,x\"y,2\n3,4,5\n", o, piece) == table{{"1", "x\"y", "2"}, {"3", "4", "5"}});
        CHECK(read_all("\"x\"y,2\n\"a\"\"b\",c\r\n", o, piece) == table{{"xy", "2"}, {"a\"b", "c"}});
        // A stray quote must not swallow the following lines.
        CHECK(read_all("a\"b,1\nc,\"d\ne\"\nf,g", o, piece) ==
              table{{"a\"b", "1"}, {"c", "d\ne"}, {"f", "g"}});
    }
    auto e = read_error("a\n\"x\n", o);
    CHECK(e.where().line == 2);
}

TEST_CASE("ragged rows: pad, truncate, fit, keep", "[csv][reader][relaxed]") {
    const std::string in = "a,b\n1\n1,2,3\n";
    csv::read_options o;
    o.ragged = csv::ragged::fit;
    CHECK(read_all(in, o) == table{{"1", ""}, {"1", "2"}});
    o.ragged = csv::ragged::keep;
    CHECK(read_all(in, o) == table{{"1"}, {"1", "2", "3"}});
    o.ragged = csv::ragged::pad;
    CHECK(read_error(in, o).where().line == 3);
    CHECK(read_all("a,b\n1\n", o) == table{{"1", ""}});
    o.ragged = csv::ragged::truncate;
    CHECK(read_error(in, o).where().line == 2);
    CHECK(read_all("a,b\n1,2,3\n", o) == table{{"1", "2"}});
}

TEST_CASE("invalid UTF-8: replace or ignore", "[csv][reader][relaxed]") {
    csv::read_options o = no_header();
    o.utf8 = csv::utf8_mode::replace;
    CHECK(read_all("a\xff,\"b\xe2\x82\"\"\",ok\xc3\xa9\n", o) ==
          table{{"a\xEF\xBF\xBD", "b\xEF\xBF\xBD\"", "ok\xc3\xa9"}});
    CHECK(read_all("\xf0\x9f\x98,x\n", o) == table{{"\xEF\xBF\xBD", "x"}});
    o.utf8 = csv::utf8_mode::ignore;
    CHECK(read_all("a\xff,b\n", o) == table{{"a\xff", "b"}});
}

TEST_CASE("errors (a dead-letter policy) skips bad records and reports their raw bytes", "[csv][reader][relaxed]") {
    std::vector<std::pair<std::uint64_t, std::string>> bad;
    csv::read_options o;
    o.errors = sluice::on_error::dead_letter([&](sluice::dead_letter_record&& d) {
        bad.emplace_back(d.error.where().line, std::string(d.raw));
    });
    const std::string in = "a,b\n1,2\n3,x\"y\n4,5,6\n7,\xff\n\"8\"z,9\n10,11\n12,\"open\n";
    for (std::size_t piece : {0, 1, 4}) {
        bad.clear();
        CHECK(read_all(in, o, piece) == table{{"1", "2"}, {"10", "11"}});
        REQUIRE(bad.size() == 5);
        CHECK(bad[0] == std::pair<std::uint64_t, std::string>{3, "3,x\"y\n"});
        CHECK(bad[1] == std::pair<std::uint64_t, std::string>{4, "4,5,6\n"});
        CHECK(bad[2].first == 5);
        CHECK(bad[3] == std::pair<std::uint64_t, std::string>{6, "\"8\"z,9\n"});
        CHECK(bad[4] == std::pair<std::uint64_t, std::string>{8, "12,\"open\n"});
    }
    // A handler that throws the error fails the run with it.
    o.errors = sluice::on_error::dead_letter([](sluice::dead_letter_record&& d) { throw d.error; });
    CHECK(read_error(in, o).where().line == 3);
}

TEST_CASE("line numbers count line feeds inside quotes wherever they are", "[csv][reader][errors]") {
    // Stage one notes the last block with a line feed inside quotes and stage two counts a
    // quoted field's line feeds only before it: quoted fields without line feeds before and
    // after one (in the same block and far away, across refills and compaction), then an
    // error whose line must count all of them.
    std::string in = "a,b\n";
    std::uint64_t line = 2;
    for (int i = 0; i < 3000; ++i) {
        if (i % 500 == 7) {
            in += "\"x\ny\",\"q\"\n";  // two physical lines
            line += 2;
        } else {
            in += "\"plain quoted " + std::to_string(i) + "\",2\n";
            ++line;
        }
    }
    in += "1,2,3\n";  // a field count error on `line`
    for (std::size_t piece : {std::size_t{0}, std::size_t{4096}, std::size_t{777}}) {
        INFO("piece " << piece);
        sluice::error e = read_error(in, {}, piece);
        CHECK(e.code() == sluice::errc::bad_input);
        CHECK(e.where().line == line);
    }
}
