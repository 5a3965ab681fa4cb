// csv::read: the RFC 4180 dialect, options, row access and positions.
#include <catch2/catch.hpp>

#include <sluice/csv/read.hpp>
#include <sluice/sluice.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "csv_test_util.hpp"

using namespace std::string_literals;
using csv_test::no_header;
using csv_test::read_all;
using csv_test::table;
namespace csv = sluice::csv;

TEST_CASE("plain records, header skipped", "[csv][reader]") {
    CHECK(read_all("a,b,c\n1,2,3\n4,5,6\n") == table{{"1", "2", "3"}, {"4", "5", "6"}});
    CHECK(read_all("a,b\n1,2\n", no_header()) == table{{"a", "b"}, {"1", "2"}});
}

TEST_CASE("quoted fields hold delimiters, quotes, CR, LF and CRLF", "[csv][reader]") {
    CHECK(read_all("x,\"a,b\"\n", no_header()) == table{{"x", "a,b"}});
    CHECK(read_all("\"say \"\"hi\"\"\"\n", no_header()) == table{{"say \"hi\""}});
    CHECK(read_all("\"\"\"\"\n", no_header()) == table{{"\""}});
    CHECK(read_all("\"a\nb\",\"c\r\nd\",\"e\rf\"\n", no_header()) ==
          table{{"a\nb", "c\r\nd", "e\rf"}});
    CHECK(read_all("\"\",\"\"\n", no_header()) == table{{"", ""}});
    CHECK(read_all(",\n", no_header()) == table{{"", ""}});
}

TEST_CASE("line ends: LF, CRLF, none at the end; a lone CR is data", "[csv][reader]") {
    CHECK(read_all("a,b\r\n1,2\r\n", no_header()) == table{{"a", "b"}, {"1", "2"}});
    CHECK(read_all("a,b\n1,2", no_header()) == table{{"a", "b"}, {"1", "2"}});
    CHECK(read_all("a,b\r\n1,\"2\"", no_header()) == table{{"a", "b"}, {"1", "2"}});
    CHECK(read_all("a,b\r\n1,\"2\"\r\n", no_header()) == table{{"a", "b"}, {"1", "2"}});
    CHECK(read_all("a\rb,c\n", no_header()) == table{{"a\rb", "c"}});
    CHECK(read_all("a,b\r", no_header()) == table{{"a", "b"}});  // CR before the end: a line end
}

TEST_CASE("a UTF-8 BOM is dropped; blank lines are skipped", "[csv][reader]") {
    CHECK(read_all("\xEF\xBB\xBF" "a,b\n1,2\n") == table{{"1", "2"}});
    CHECK(read_all("\xEF\xBB\xBF" "x\n", no_header()) == table{{"x"}});
    CHECK(read_all("\n\r\n\na,b\n\n1,2\n\r\n\n3,4\n\n") == table{{"1", "2"}, {"3", "4"}});
    CHECK(read_all("").empty());
    CHECK(read_all("\n\n\n").empty());
    CHECK(read_all("\xEF\xBB\xBF").empty());
    // A line holding only "" is a record with one empty field, not a blank line.
    CHECK(read_all("a\n\"\"\n") == table{{""}});
}

TEST_CASE("delimiters and quote characters", "[csv][reader]") {
    for (char d : {',', '\t', ';', '|'}) {
        csv::read_options o = no_header();
        o.delimiter = d;
        std::string in = "a"s + d + "\"b" + d + "c\"" + d + "\n";
        CHECK(read_all(in, o) == table{{"a", "b"s + d + "c", ""}});
    }
    csv::read_options o = no_header();
    o.quote = '\'';
    CHECK(read_all("'a,''b''',\"c\"\n", o) == table{{"a,'b'", "\"c\""}});
}

TEST_CASE("dialect from a file name", "[csv][reader]") {
    CHECK(csv::delimiter_for_path("x.tsv") == '\t');
    CHECK(csv::delimiter_for_path("dir.v2/x.TSV.gz") == '\t');
    CHECK(csv::delimiter_for_path("x.tab.zst") == '\t');
    CHECK(csv::delimiter_for_path("x.psv") == '|');
    CHECK(csv::delimiter_for_path("x.csv") == ',');
    CHECK(csv::delimiter_for_path("x.tsv/data") == ',');
    CHECK(csv::read_options::for_path("a.tsv").delimiter == '\t');
    CHECK(csv::write_options::for_path("a.tsv").delimiter == '\t');
    CHECK(read_all("a\tb\n1\t\"2\t3\"\n", csv::read_options::for_path("f.tsv")) ==
          table{{"1", "2\t3"}});
}

TEST_CASE("row access by index and by header name, typed access", "[csv][reader]") {
    std::string in = "id,name,price,ok\n7,\"Ann, B\",2.5,true\n-12,x,1e3,0\n";
    std::vector<std::string> src{in};
    auto rows = sluice::from_range(src) | csv::read();
    int n = 0;
    for (const csv::row& r : rows) {
        REQUIRE(r.size() == 4);
        CHECK(r.header().size() == 4);
        CHECK(r.header()[1] == "name");
        CHECK(rows.header().names() == std::vector<std::string>{"id", "name", "price", "ok"});
        CHECK(r.contains("price"));
        CHECK_FALSE(r.contains("nope"));
        if (n == 0) {
            CHECK(r[1] == "Ann, B");
            CHECK(r["name"] == "Ann, B");
            CHECK(r.get("name") == "Ann, B");
            CHECK(r.get<std::int64_t>("id") == 7);
            CHECK(r.get<double>(2) == 2.5);
            CHECK(r.get<bool>("ok"));
            CHECK(r.get<std::string>(1) == "Ann, B");
            CHECK(r.get<std::optional<int>>("id") == 7);
        } else {
            CHECK(r.get<int>("id") == -12);
            CHECK(r.get<double>("price") == 1000.0);
            CHECK_FALSE(r.get<bool>("ok"));
        }
        ++n;
    }
    CHECK(n == 2);
}

TEST_CASE("typed access errors name the column and the line", "[csv][reader]") {
    std::vector<std::string> src{"id,qty\n1,2\n\n3,x\n"};
    try {
        for (const csv::row& r : sluice::from_range(src) | csv::read()) (void)r.get<int>("qty");
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::bad_input);
        CHECK(e.where().line == 4);
        CHECK(e.where().column == 2);
        CHECK(e.where().record == 1);
        CHECK_THAT(e.what(), Catch::Contains("'qty'") && Catch::Contains("'x'") &&
                                 Catch::Contains("int32"));
    }
    std::vector<std::string> one{"id\n1\n"};
    for (const csv::row& r : sluice::from_range(one) | csv::read()) {
        CHECK_THROWS_AS(r["missing"], sluice::error);
        CHECK_THROWS_AS(r.at(3), sluice::error);
        CHECK_THROWS_AS(r.get<int>(5), sluice::error);
        CHECK_THROWS_AS(r.get<std::uint8_t>(std::size_t{0}) == 1 ? throw 1 : 0, int);
    }
}

TEST_CASE("positions: physical line, byte offset, record index", "[csv][reader]") {
    std::string in = "\xEF\xBB\xBF" "h1,h2\n\n1,\"a\nb\"\r\n\n2,3\n4,5";
    std::vector<std::string> src{in};
    std::vector<std::uint64_t> lines, offsets, indexes;
    for (const csv::row& r : sluice::from_range(src) | csv::read()) {
        lines.push_back(r.line());
        offsets.push_back(r.byte_offset());
        indexes.push_back(r.index());
    }
    CHECK(lines == std::vector<std::uint64_t>{3, 6, 7});
    CHECK(offsets == std::vector<std::uint64_t>{10, 20, 24});
    CHECK(indexes == std::vector<std::uint64_t>{0, 1, 2});
}

TEST_CASE("to_owned keeps the fields and the header", "[csv][reader]") {
    std::vector<std::string> src{"k,v\n\"a\"\"\",1\nb,2\n"};
    std::vector<csv::owned_row> kept;
    for (const csv::row& r : sluice::from_range(src) | csv::read()) kept.push_back(r.to_owned());
    REQUIRE(kept.size() == 2);
    CHECK(kept[0]["k"] == "a\"");
    CHECK(kept[1].get<int>("v") == 2);
    CHECK(kept[1].line() == 3);
    CHECK(kept[0].header().names() == std::vector<std::string>{"k", "v"});
    // to_vector keeps owned copies too.
    auto v = sluice::from_range(src) | csv::read() | sluice::to_vector();
    REQUIRE(v.size() == 2);
    CHECK(v[0][0] == "a\"");
}

TEST_CASE("unquoted fields are views into the read buffer", "[csv][reader]") {
    std::vector<std::string> src{"a,\"b\"\"\",\"c\"\n"};
    for (const csv::row& r : sluice::from_range(src) | csv::read(no_header())) {
        // The reader copies input into its own padded buffer: unquoted fields and quoted
        // ones without escapes point into it, the escaped one into the scratch buffer.
        CHECK(r[0] == "a");
        CHECK(r[2].data() == r[0].data() + 9);
        CHECK(r[1] == "b\"");
    }
}

TEST_CASE("pipes from a file and counts", "[csv][reader]") {
    auto path = std::string("reader_pipe_test.csv");
    {
        std::FILE* f = std::fopen(path.c_str(), "wb");
        REQUIRE(f);
        std::fputs("a,b\n1,2\n3,4\n", f);
        std::fclose(f);
    }
    CHECK((sluice::read_file(path) | csv::read() | sluice::count()) == 2);
    std::remove(path.c_str());
}

TEST_CASE("doubled quotes and line feeds in quoted fields at every offset", "[csv][reader]") {
    // `""` pairs are collapsed and a quoted field's line feeds counted 16 bytes at a time:
    // a pair (or a line feed) at every position of fields up to 40 bytes, two pairs at
    // every pair of positions, each followed by a record whose line number must be exact.
    for (std::size_t len = 1; len <= 40; ++len) {
        for (std::size_t a = 0; a < len; ++a) {
            for (std::size_t b = a; b < len; ++b) {
                std::string content(len, 'v');
                content[a] = '"';
                content[b] = b == a ? '"' : (b % 3 ? '"' : '\n');
                std::string quoted, want;
                for (char c : content) {
                    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
                    want += c;
                }
                std::string in = "\"" + quoted + "\",x\nlast,y\n";
                const std::uint64_t lfs = static_cast<std::uint64_t>(std::count(want.begin(), want.end(), '\n'));
                std::uint64_t last_line = 0;
                std::vector<std::string> got;
                auto o = csv_test::no_header();
                for (const sluice::csv::row& r : sluice::from_range(std::vector<std::string>{in}) | sluice::csv::read(o)) {
                    got.emplace_back(r[0]);
                    last_line = r.line();
                }
                INFO("len " << len << " at " << a << ", " << b);
                REQUIRE(got.size() == 2);
                REQUIRE(got[0] == want);
                REQUIRE(last_line == 2 + lfs);
            }
        }
    }
}

TEST_CASE("doubled_quotes: the fields with doubled quotes, as they stand in the input", "[csv][reader]") {
    std::vector<std::string> src{"a,b,c\n\"x\"\"y\",plain,\"q\"\"\"\"\"\n\"no pairs\",,\"\"\"\"\n1,2,3\n"};
    std::vector<std::vector<std::pair<std::size_t, std::string>>> seen;
    for (const csv::row& r : sluice::from_range(src) | csv::read()) {
        auto& s = seen.emplace_back();
        for (const auto& d : r.doubled_quotes()) {
            s.emplace_back(d.column, std::string(d.text));
            // The field is the text undoubled.
            std::string undoubled;
            for (std::size_t i = 0; i < d.text.size(); ++i) {
                undoubled += d.text[i];
                if (d.text[i] == '"') ++i;
            }
            CHECK(r[d.column] == undoubled);
        }
    }
    using entries = std::vector<std::pair<std::size_t, std::string>>;
    REQUIRE(seen.size() == 3);
    CHECK(seen[0] == entries{{0, "x\"\"y"}, {2, "q\"\"\"\""}});
    CHECK(seen[1] == entries{{2, "\"\""}});
    CHECK(seen[2].empty());
    // An owned copy, another quote character, a truncated record and replaced UTF-8 keep
    // none for the fields they changed or do not double.
    for (const csv::row& r : sluice::from_range(std::vector<std::string>{"k\n'it''s'\n"}) |
                                 csv::read({.quote = '\''}))
        CHECK(r.doubled_quotes().empty());
    csv::read_options fit;
    fit.ragged = csv::ragged::fit;
    for (const csv::row& r :
         sluice::from_range(std::vector<std::string>{"a,b\n\"1\"\"\",2,\"3\"\"\"\n"}) | csv::read(fit)) {
        REQUIRE(r.doubled_quotes().size() == 1);
        CHECK(r.doubled_quotes()[0].column == 0);
    }
    csv::read_options pad;
    pad.ragged = csv::ragged::pad;
    for (const csv::row& r :
         sluice::from_range(std::vector<std::string>{"a,b,c,d,e,f,g,h\n\"1\"\"\"\n"}) | csv::read(pad)) {
        REQUIRE(r.size() == 8);
        CHECK(r.doubled_quotes().size() == 1);
        CHECK(r[0] == "1\"");
        CHECK(r[7].empty());
    }
    csv::read_options replace;
    replace.utf8 = csv::utf8_mode::replace;
    for (const csv::row& r :
         sluice::from_range(std::vector<std::string>{"a\n\"\xff\"\"\"\n"}) | csv::read(replace)) {
        CHECK(r.doubled_quotes().empty());
        CHECK(r[0] == "\xEF\xBF\xBD\"");
    }
}
