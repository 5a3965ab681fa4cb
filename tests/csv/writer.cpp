// csv::encoder: minimal quoting, nulls, line ends, headers, record shapes.
#include <catch2/catch.hpp>

#include <sluice/csv/encoder.hpp>
#include <sluice/csv/read.hpp>
#include <sluice/sluice.hpp>

#include "random_csv.hpp"

#include <array>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace csv = sluice::csv;
using namespace std::string_literals;

namespace {
/// The bytes an encoding pipeline yields (chunks are move-only, so no to_vector).
template <class P>
std::string collect(P&& p) {
    std::string s;
    for (sluice::chunk& c : p) s += c.view();
    return s;
}

template <class R>
std::string encode_one(const R& r, csv::write_options o = {}) {
    o.write_header = false;
    csv::encoder e(std::move(o));
    sluice::chunk out;
    e.encode(r, out);
    return std::string(out.view());
}
}  // namespace

TEST_CASE("quotes only where needed", "[csv][writer]") {
    CHECK(encode_one(std::vector<std::string>{"a", "b c", "1.5"}) == "a,b c,1.5\n");
    CHECK(encode_one(std::vector<std::string>{"a,b", "say \"hi\"", "x\ny", "cr\r"}) ==
          "\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",\"cr\r\"\n");
    CHECK(encode_one(std::vector<std::string>{"\"", ""}) == "\"\"\"\",\n");
    CHECK(encode_one(std::vector<std::string>{std::string(40, 'x') + ","}) ==
          "\"" + std::string(40, 'x') + ",\"\n");
    csv::write_options tab;
    tab.delimiter = '\t';
    CHECK(encode_one(std::vector<std::string>{"a,b", "c\td"}, tab) == "a,b\t\"c\td\"\n");
}

TEST_CASE("an empty lone field is written as \"\"", "[csv][writer]") {
    CHECK(encode_one(std::vector<std::string>{""}) == "\"\"\n");
    CHECK(encode_one(std::vector<std::optional<std::string>>{std::nullopt}) == "\"\"\n");
    CHECK(encode_one(std::vector<std::string>{"", ""}) == ",\n");
    csv::write_options o;
    o.quote_empty_strings = true;
    CHECK(encode_one(std::vector<std::string>{"", "x"}, o) == "\"\",x\n");
}

TEST_CASE("nulls, numbers, bools, tuples, arrays", "[csv][writer]") {
    csv::write_options o;
    o.null_text = "NULL";
    CHECK(encode_one(std::tuple<int, double, bool, std::optional<int>, std::nullptr_t, const char*>{
                         -3, 0.1, true, std::nullopt, nullptr, "s"},
                     o) == "-3,0.1,true,NULL,NULL,s\n");
    CHECK(encode_one(std::array<std::string_view, 2>{"x", "y"}) == "x,y\n");
    CHECK(encode_one(std::pair<std::string, long>{"k", 12345678901234L}) == "k,12345678901234\n");
}

TEST_CASE("CRLF line ends", "[csv][writer]") {
    csv::write_options o;
    o.crlf = true;
    CHECK(encode_one(std::vector<std::string>{"a", "b"}, o) == "a,b\r\n");
}

TEST_CASE("headers: explicit, from a csv row, none", "[csv][writer]") {
    std::vector<std::vector<std::string>> rows{{"1", "2"}, {"3", "4"}};
    csv::write_options o;
    o.header = {"x", "y,z"};
    std::string all = collect(rows | sluice::encode(csv::encoder{o}));
    CHECK(all == "x,\"y,z\"\n1,2\n3,4\n");

    // No records: the explicit header is still written.
    std::vector<std::vector<std::string>> none;
    std::string empty = collect(none | sluice::encode(csv::encoder{o}));
    CHECK(empty == "x,\"y,z\"\n");

    // CSV -> CSV keeps the reader's header and re-quotes only where needed.
    std::vector<std::string> src{"h1,h2\r\n\"a\",\"b,c\"\r\n"};
    std::string re = collect(sluice::from_range(src) | csv::read() | sluice::encode(csv::encoder{}));
    CHECK(re == "h1,h2\na,\"b,c\"\n");

    o = {};
    o.write_header = false;
    std::string noh = collect(sluice::from_range(src) | csv::read() | sluice::encode(csv::encoder{o}));
    CHECK(noh == "a,\"b,c\"\n");
}

TEST_CASE("a custom quote character", "[csv][writer]") {
    csv::write_options o;
    o.quote = '\'';
    CHECK(encode_one(std::vector<std::string>{"it's", "a\"b"}, o) == "'it''s',a\"b\n");
}

TEST_CASE("quoting at every offset matches a byte-at-a-time reference", "[csv][writer]") {
    // Fields are copied and quotes doubled in 16-byte steps; every length up to 40 with a
    // quote (or a delimiter) at every position, and two quotes at every pair.
    auto reference = [](const std::string& s) {
        bool quote = s.find_first_of(",\"\r\n") != std::string::npos;
        if (!quote) return s;
        std::string r = "\"";
        for (char c : s) r += c == '"' ? std::string("\"\"") : std::string(1, c);
        return r + "\"";
    };
    for (std::size_t len = 0; len <= 40; ++len) {
        std::string clean(len, 'z');
        REQUIRE(encode_one(std::array{clean}) == (len ? reference(clean) : "\"\"") + "\n");
        for (std::size_t a = 0; a < len; ++a) {
            for (char sp : {'"', ','}) {
                std::string s(len, 'z');
                s[a] = sp;
                INFO("len " << len << " at " << a);
                REQUIRE(encode_one(std::array{s, std::string("t")}) == reference(s) + ",t\n");
            }
            for (std::size_t b = a + 1; b < len; ++b) {
                std::string s(len, 'w');
                s[a] = s[b] = '"';
                INFO("len " << len << " quotes at " << a << " and " << b);
                REQUIRE(encode_one(std::array{s}) == reference(s) + "\n");
            }
        }
    }
}

TEST_CASE("rows with doubled quotes are written as an owned copy of them is", "[csv][writer]") {
    // The reader's fields with doubled quotes are copied between quotes from their text as
    // read (with '"' as the output quote); an owned row has no such text and is quoted and
    // doubled field by field. Random CSV with doubled quotes, LF/CRLF and delimiters in
    // quoted fields; CSV, TSV and another quote character out.
    std::mt19937 rng(2026120705);
    std::size_t doubled = 0;
    for (int round = 0; round < 30; ++round) {
        csv_gen::shape s;
        s.records = 40;
        s.columns = 1 + round % 5;
        const std::string in = csv_gen::make(rng, s);
        csv::write_options o;
        if (round % 3 == 1) o.delimiter = '\t';
        if (round % 3 == 2) o.quote = '\'';
        auto encode_all = [&](auto&& rows) {
            csv::encoder e(o);
            sluice::chunk c;
            for (const auto& r : rows) e.encode(r, c);
            return std::string(c.view());
        };
        const std::string plain = encode_all(csv_gen::read_owned(in, doubled));
        const std::string fused = encode_all(sluice::from_range(std::vector<std::string>{in}) | csv::read());
        INFO("round " << round << " input " << in);
        CHECK(fused == plain);
    }
    CHECK(doubled > 50);
}
