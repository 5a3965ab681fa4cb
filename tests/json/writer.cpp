// json::writer and json::write_value: compact, valid JSON (checked by reading it back).
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sluice/json/document_reader.hpp>
#include <sluice/json/write_value.hpp>
#include <sluice/json/writer.hpp>

using sluice::chunk;
namespace json = sluice::json;

TEST_CASE("writer: objects, arrays and commas", "[json][writer]") {
    chunk out;
    json::writer w(out);
    w.begin_object()
        .key("id").number(42)
        .key("name").string("Ann \"A\"")
        .key("tags").begin_array().string("x").begin_array().end_array().begin_object().end_object().null().end_array()
        .key("ok").boolean(true)
        .key("no").boolean(false)
        .key("big").raw_number("12345678901234567890")
        .key("one").raw_number("1.0")
        .key("nested").raw(R"({"a":[1,2]})")
        .end_object();
    CHECK(out.view() ==
          R"({"id":42,"name":"Ann \"A\"","tags":["x",[],{},null],"ok":true,"no":false,)"
          R"("big":12345678901234567890,"one":1.0,"nested":{"a":[1,2]}})");
    auto rec = json::parse_document(out.view());
    CHECK(rec["big"].raw() == "12345678901234567890");
    CHECK(rec["name"].str() == "Ann \"A\"");
}

TEST_CASE("writer: numbers through to_chars", "[json][writer]") {
    chunk out;
    json::writer w(out);
    w.begin_array()
        .number(std::numeric_limits<std::int64_t>::min())
        .number(std::numeric_limits<std::uint64_t>::max())
        .number(0.1)
        .number(-2.5e300)
        .number(1.0)
        .number(std::numeric_limits<double>::quiet_NaN())
        .number(std::numeric_limits<double>::infinity())
        .number(1.5f)
        .end_array();
    CHECK(out.view() == "[-9223372036854775808,18446744073709551615,0.1,-2.5e+300,1,null,null,1.5]");
    CHECK_NOTHROW(json::parse_document(out.view()));
}

TEST_CASE("writer: appends to what the chunk holds, allocation-free when reserved",
          "[json][writer]") {
    chunk out(4096);
    out.append("x");
    const char* before = out.data();
    for (int i = 0; i < 20; ++i) {
        json::writer w(out);
        w.begin_object().key("k").number(i).end_object();
    }
    CHECK(out.data() == before);  // no reallocation: the writer itself never allocates
    CHECK(out.view().substr(0, 10) == "x{\"k\":0}{\"");
}

namespace {
struct point {
    int x, y;
};
// A user type opts in through argument-dependent lookup.
void write_value(json::writer& w, const point& p) {
    w.begin_object().key("x").number(p.x).key("y").number(p.y).end_object();
}
}  // namespace

TEST_CASE("write_value: standard types, pairs, optionals and user overloads", "[json][writer]") {
    chunk out;
    json::writer w(out);
    std::vector<std::pair<std::string, std::string>> rec{{"a", "1"}, {"b\n", "two\t"}, {"a", "dup"}};
    std::map<std::string, std::vector<std::optional<int>>> m{{"k", {1, std::nullopt, 3}}};
    w.begin_array();
    write_value(w, rec);
    write_value(w, m);
    write_value(w, std::vector<point>{{1, 2}, {3, 4}});
    write_value(w, std::string("s"));
    write_value(w, "lit");
    write_value(w, nullptr);
    write_value(w, 2.5);
    write_value(w, std::uint8_t{7});
    w.end_array();
    CHECK(out.view() == R"([{"a":"1","b\n":"two\t","a":"dup"},{"k":[1,null,3]},)"
                        R"([{"x":1,"y":2},{"x":3,"y":4}],"s","lit",null,2.5,7])");
    CHECK_NOTHROW(json::parse_document(out.view()));
    STATIC_REQUIRE(json::json_writable<point>);
    STATIC_REQUIRE(!json::json_writable<std::pair<int, int>>);
}

namespace {
// The shape of a CSV row: size(), operator[](i) and names.
struct fake_row {
    std::vector<std::string> names, values;
    std::size_t size() const { return values.size(); }
    std::string_view operator[](std::size_t i) const { return values[i]; }
    std::string_view name(std::size_t i) const { return names[i]; }
};
struct fake_row_with_header {
    std::vector<std::string> hdr, values;
    std::size_t size() const { return values.size(); }
    std::string_view operator[](std::size_t i) const { return values[i]; }
    const std::vector<std::string>& header() const { return hdr; }
};
}  // namespace

TEST_CASE("write_value: string records (CSV rows) become objects of strings", "[json][writer]") {
    STATIC_REQUIRE(json::string_record<fake_row>);
    STATIC_REQUIRE(json::string_record<fake_row_with_header>);
    STATIC_REQUIRE(!json::string_record<std::string>);
    chunk out;
    json::writer w(out);
    write_value(w, fake_row{{"id", "note"}, {"007", "say \"hi\",\r\nbye"}});
    CHECK(out.view() == R"({"id":"007","note":"say \"hi\",\r\nbye"})");
    out.clear();
    json::writer w2(out);
    write_value(w2, fake_row_with_header{{"a"}, {""}});
    CHECK(out.view() == R"({"a":""})");
}

namespace {
struct order {
    std::int64_t id;
    std::string customer;
    std::optional<double> total;
    std::vector<std::string> tags;
    static constexpr auto sluice_fields =
        std::make_tuple(sluice::field("id", &order::id), sluice::field("customer", &order::customer),
                        sluice::field("total", &order::total), sluice::field("tags", &order::tags));
};
}  // namespace

TEST_CASE("write_value: structs described with sluice_fields", "[json][writer]") {
    STATIC_REQUIRE(json::json_writable<order>);
    chunk out;
    json::writer w(out);
    w.begin_array();
    write_value(w, order{7, "Ann \"A\"", 12.5, {"x", "y"}});
    write_value(w, order{8, "", std::nullopt, {}});
    w.end_array();
    CHECK(out.view() == R"([{"id":7,"customer":"Ann \"A\"","total":12.5,"tags":["x","y"]},)"
                        R"({"id":8,"customer":"","total":null,"tags":[]}])");
}

TEST_CASE("write_value: a header-less string record names columns by number", "[json][writer]") {
    chunk out;
    json::writer w(out);
    write_value(w, fake_row_with_header{{"a"}, {"1", "2"}});
    CHECK(out.view() == R"({"a":"1","2":"2"})");
}
