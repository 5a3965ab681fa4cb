// csv::read_options::max_columns: a header or record with more fields fails with its line and
// column, at once (a runaway header of separators is not read to its end), and is never
// handed to the error policy; a record spanning many input blocks is parsed once. With
// unique_header, a header naming a column twice fails naming both columns.
#include <catch2/catch.hpp>

#include "csv_test_util.hpp"

#include <sluice/adaptors/tap.hpp>

#include <random>
#include <string>
#include <vector>

namespace csv = sluice::csv;
using csv_test::read_all;

namespace {

std::string row_of(std::size_t fields, const std::string& prefix = "c") {
    std::string s;
    for (std::size_t i = 0; i < fields; ++i) s += (i ? "," : "") + prefix + std::to_string(i);
    return s + "\n";
}

sluice::error error_reading(const std::string& text, csv::read_options o, std::size_t piece = 0) {
    try {
        (void)read_all(text, o, piece);
    } catch (const sluice::error& e) {
        return e;
    }
    FAIL("no error");
    return sluice::error(sluice::errc::failed, "", "");
}

}  // namespace

TEST_CASE("max_columns: a header at the limit reads, one past it fails", "[csv][reader][limits]") {
    csv::read_options o;
    o.max_columns = 50;
    auto t = read_all(row_of(50) + row_of(50, "v"), o);
    REQUIRE(t.size() == 1);
    CHECK(t[0].size() == 50);
    for (std::size_t piece : {std::size_t{0}, std::size_t{7}, std::size_t{100}}) {
        INFO("piece " << piece);
        auto e = error_reading("\n" + row_of(51) + row_of(51, "v"), o, piece);
        CHECK(e.code() == sluice::errc::bad_input);
        CHECK(e.where().line == 2);
        CHECK(e.where().column == 51);
        CHECK(std::string(e.what()).find("header has more than 50 fields") != std::string::npos);
    }
}

TEST_CASE("max_columns: the default is 10000 and can be raised", "[csv][reader][limits]") {
    CHECK(csv::read_options{}.max_columns == 10000);
    std::string wide = row_of(12000) + row_of(12000, "v");
    auto e = error_reading(wide, {}, 4096);
    CHECK(e.where().column == 10001);
    csv::read_options o;
    o.max_columns = 12000;
    auto t = read_all(wide, o, 4096);
    REQUIRE(t.size() == 1);
    CHECK(t[0].back() == "v11999");
}

TEST_CASE("max_columns: a runaway header fails before its end is read", "[csv][reader][limits]") {
    // 32 MiB of separators without a line end, in 64 KiB blocks: the error must come after
    // reading about max_columns separators, not the whole input.
    const std::size_t block = 64 * 1024, blocks = 512;
    std::vector<std::string> src(blocks, std::string(block, ','));
    std::size_t pulled = 0;
    auto rows = sluice::from_range(src) | sluice::tap([&](const std::string& b) { pulled += b.size(); }) |
                csv::read();
    try {
        (void)rows.next();
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(e.where().line == 1);
        CHECK(e.where().column == 10001);
    }
    CHECK(pulled <= 2 * block);
}

TEST_CASE("max_columns: data records too, and never through the error policy", "[csv][reader][limits]") {
    csv::read_options o;
    o.header = false;
    o.ragged = csv::ragged::keep;
    o.max_columns = 3;
    int handed = 0;
    o.errors = sluice::on_error::dead_letter([&](sluice::dead_letter_record&&) { ++handed; });
    auto e = error_reading("a,b\n\"x\",\"y\",z\n1,2,3,4\n", o, 3);
    CHECK(e.where().line == 3);
    CHECK(e.where().column == 4);
    CHECK(std::string(e.what()).find("record has more than 3 fields") != std::string::npos);
    CHECK(handed == 0);
    // Lenient quotes take the byte-at-a-time path: the same limit.
    o.lenient_quotes = true;
    e = error_reading("a,b\nx\"y,2,3,4\n", o, 2);
    CHECK(e.where().line == 2);
    CHECK(e.where().column == 4);
}

TEST_CASE("a record spanning many blocks is read once, whole", "[csv][reader][limits]") {
    // One quoted field of 1 MiB of doubled quotes (an index entry per quote) and a line end
    // inside, fed 1000 bytes at a time; then a normal record.
    std::string field(1 << 20, '"');
    std::string text = "a,b\n\"" + field + "\n\"," + row_of(1, "z") + "1,2\n";
    auto t = read_all(text, {}, 1000);
    REQUIRE(t.size() == 2);
    CHECK(t[0][0] == std::string(field.size() / 2, '"') + "\n");
    CHECK(t[0][1] == "z0");
    CHECK(t[1] == std::vector<std::string>{"1", "2"});
}

TEST_CASE("records read in small pieces equal records read whole (random texts)", "[csv][reader][limits]") {
    // Waiting for a record's end looks at new positions only; whatever the cut points, the
    // records (or the error) must be those of one whole read. Texts are random mixes of
    // fields, quotes, doubled quotes, stray quotes, CR, LF and long runs.
    std::mt19937 rng(9);
    const std::vector<std::string> atoms = {"a", ",", "\n", "\r\n", "\"\"", "\"q,\n\"\"\"", "\r",
                                            "\"\"\"\"", std::string(150, 'z'), std::string(70, ',')};
    const std::vector<std::string> stray = {"x\"y", "\"", "\"a\"b"};
    auto outcome = [](const std::string& text, csv::read_options o, std::size_t piece) {
        try {
            auto t = read_all(text, o, piece);
            std::string flat;
            for (const auto& r : t) {
                for (const auto& f : r) flat += f + '\x1f';
                flat += '\x1e';
            }
            return flat;
        } catch (const sluice::error& e) {
            return std::string("error: ") + e.what();
        }
    };
    int good = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string text;
        int n = 1 + static_cast<int>(rng() % 40);
        for (int i = 0; i < n; ++i)
            text += rng() % 10 == 0 ? stray[rng() % stray.size()] : atoms[rng() % atoms.size()];
        csv::read_options o;
        o.header = false;
        o.ragged = csv::ragged::keep;
        o.lenient_quotes = rng() % 2 == 0;
        o.max_columns = rng() % 4 == 0 ? 1 + rng() % 100 : 10000;
        INFO("text: " << text << " lenient " << o.lenient_quotes << " max_columns " << o.max_columns);
        std::string whole = outcome(text, o, 0);
        for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{64}, std::size_t{65}}) {
            std::string cut = outcome(text, o, piece);
            // Errors must agree on the place (the message); offsets are the same too.
            REQUIRE(cut == whole);
        }
        if (whole.rfind("error: ", 0) != 0) ++good;
    }
    CHECK(good > 800);  // most texts read without an error
}

TEST_CASE("unique_header: a name twice in the header is an error", "[csv][reader][limits]") {
    csv::read_options o;
    o.unique_header = true;
    auto e = error_reading("\nid,name,ID,name,x\n1,2,3,4,5\n", o);
    CHECK(e.code() == sluice::errc::bad_input);
    CHECK(e.where().line == 2);
    CHECK(e.where().column == 4);
    CHECK(std::string(e.what()).find("duplicate column name 'name' in the header (columns 2 and 4)") !=
          std::string::npos);
    // Off (the default), and with distinct names, the header reads.
    CHECK(read_all("a,b,a\n1,2,3\n").size() == 1);
    CHECK(read_all("a,b,A\n1,2,3\n", o).size() == 1);
    // Never through the error policy: without a header nothing can be read.
    o.errors = sluice::on_error::skip;
    CHECK(error_reading("a,a\n1,2\n", o).where().column == 2);
}
