// The Parquet writer: files written from text rows and from structs are read back by DuckDB
// and hyparquet (tests/cli/parquet_read.mjs, npm packages of tests/data/npm) with every value
// equal; the footer is checked with sluice's own metadata reader; bad values name column
// and row.
#include <catch2/catch.hpp>

#include <sluice/core/range_source.hpp>
#include <sluice/parquet/encode.hpp>
#include <sluice/sinks/for_each.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace pq = sluice::parquet;

namespace {

struct text_row {
    std::vector<std::optional<std::string>> v;
    std::size_t size() const { return v.size(); }
    bool is_null(int i) const { return !v[static_cast<std::size_t>(i)]; }
    std::string_view value(int i) const { return *v[static_cast<std::size_t>(i)]; }
};

template <class Rows>
std::string write(const Rows& rows, const pq::schema& s, pq::write_options o = {}) {
    std::string file;
    sluice::from_range(rows) | pq::encode(s, o) |
        sluice::for_each([&](sluice::chunk& c) { file.append(c.view()); });
    return file;
}

pq::file_meta_data footer(const std::string& file) {
    REQUIRE(file.size() >= 12);
    REQUIRE(file.substr(0, 4) == "PAR1");
    REQUIRE(file.substr(file.size() - 4) == "PAR1");
    std::uint32_t n = 0;
    std::memcpy(&n, file.data() + file.size() - 8, 4);
    REQUIRE(n + 12 <= file.size());
    return pq::deserialize<pq::file_meta_data>(std::string_view(file).substr(file.size() - 8 - n, n));
}

std::string npm_dir() {
    return std::filesystem::path(SLUICE_TEST_CSV_SPECTRUM_DIR).parent_path().parent_path().string();
}

/// Both readers' view of `file` as a JSON text (see parquet_read.mjs).
std::string read_back(const std::string& file, const std::string& name, const char* sql = "") {
    { std::ofstream(name, std::ios::binary) << file; }
    const std::string cmd = "SLUICE_NPM_DIR='" + npm_dir() + "' node '" SLUICE_TEST_SOURCE_DIR
                            "/cli/parquet_read.mjs' '" + name + "' '" + sql + "' 2>&1";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p);
    char buf[65536];
    std::size_t k;
    while ((k = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, k);
    const int rc = pclose(p);
    INFO(out.substr(0, 2000));
    REQUIRE(rc == 0);
    return out;
}

bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("typed columns from text round-trip through DuckDB and hyparquet", "[parquet][writer]") {
    const auto s = pq::parse_schema(
        "id:int64!,small:int16,n:int32,amount:decimal(12,2),big:decimal(38,10),tiny:decimal(4,1),"
        "f:float,d:double,ok:bool,name:string,js:json,raw:bytes,day:date,t:time,ts:timestamp,"
        "tz:timestamptz,u:uuid,tags:list<string>,nums:list<int32>");
    std::vector<text_row> rows;
    rows.push_back({{"1", "-32768", "2147483647", "-1234567890.12", "-9999999999999999999999999999.9999999999",
                     "-999.9", "1.5", "-0.1", "t", "héllo ✓", "{\"a\": [1, 2], \"b\": \"x y\"}", "\\x00ff41",
                     "2024-02-29", "23:59:59.999999", "2024-01-02 03:04:05.123456",
                     "2024-01-02 03:04:05+02", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "{a,\"b,c\",NULL,\"\"}",
                     "{1,NULL,-3}"}});
    rows.push_back({{"2", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                     std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                     std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt}});
    rows.push_back({{"3", "0", "0", "0.00", "0", "0.0", "NaN", "-Infinity", "f", "", "[]", "", "-infinity",
                     "00:00:00", "infinity", "1970-01-01 00:00:00+00", "00000000-0000-0000-0000-000000000000",
                     "{}", "{}"}});
    for (pq::compression_codec codec : {pq::compression_codec::zstd, pq::compression_codec::snappy,
                                        pq::compression_codec::gzip, pq::compression_codec::uncompressed}) {
        for (bool v2 : {false, true}) {
            pq::write_options o;
            o.codec = codec;
            o.data_page_v2 = v2;
            const std::string file = write(rows, s, o);
            const auto m = footer(file);
            CHECK(m.num_rows == 3);
            REQUIRE(m.row_groups.size() == 1);
            CHECK(m.row_groups[0].columns.size() == 19);
            CHECK(m.row_groups[0].columns[0].meta_data->codec == codec);
            const std::string j = read_back(file, "typed.parquet", "ORDER BY id");
            INFO(j);
            // DuckDB: types and exact values.
            CHECK(contains(j, R"x(["amount","DECIMAL(12,2)"])x"));
            CHECK(contains(j, R"x(["big","DECIMAL(38,10)"])x"));
            CHECK(contains(j, R"x(["small","SMALLINT"])x"));
            CHECK(contains(j, R"x(["tz","TIMESTAMP WITH TIME ZONE"])x"));
            CHECK(contains(j, R"x(["ts","TIMESTAMP"])x"));
            CHECK(contains(j, R"x(["u","UUID"])x"));
            CHECK(contains(j, R"x(["tags","VARCHAR[]"])x"));
            CHECK(contains(j, R"x("amount":"-1234567890.12")x"));
            CHECK(contains(j, R"x("big":"-9999999999999999999999999999.9999999999")x"));
            CHECK(contains(j, R"x("tiny":"-999.9")x"));
            CHECK(contains(j, R"x("name":"héllo ✓")x"));
            CHECK(contains(j, R"x("js":"{\"a\":[1,2],\"b\":\"x y\"}")x"));
            CHECK(contains(j, R"x("day":"2024-02-29")x"));
            CHECK(contains(j, R"x("t":"23:59:59.999999")x"));
            CHECK(contains(j, R"x("ts":"2024-01-02 03:04:05.123456")x"));
            CHECK(contains(j, R"x("tz":"2024-01-02 01:04:05+00")x"));
            CHECK(contains(j, R"x("u":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")x"));
            CHECK(contains(j, R"x("tags":["a","b,c",null,""])x"));
            CHECK(contains(j, R"x("nums":[1,null,-3])x"));
            CHECK(contains(j, R"x("ts":"infinity")x"));
            // -infinity as DuckDB writes it (-(2^31 - 1) days), which DuckDB reads back as a date.
            CHECK(contains(j, R"x("day":"5877642-06-24 (BC)")x"));
            CHECK(contains(j, R"x("day":-2147483647)x"));
            CHECK(contains(j, R"x("ts":"9223372036854775807")x"));
            CHECK(contains(j, R"x("tags":[])x"));
            CHECK(contains(j, R"x("id":"2","small":null,"n":null,"amount":null)x"));
            CHECK(contains(j, R"x("name":"")x"));
            // hyparquet: the same rows, independently decoded.
            CHECK(contains(j, R"x("num_rows":3)x"));
            CHECK(contains(j, R"x("tz":"1704157445000000")x"));
            CHECK(contains(j, R"x("raw":{"hex":"00ff41"})x"));
            CHECK(contains(j, R"x("f":"NaN")x"));
            CHECK(contains(j, R"x("d":"-Infinity")x"));
        }
    }
}

namespace {

struct event {
    std::int64_t id;
    std::string name;
    std::optional<double> score;
    bool flag;
    std::optional<std::int32_t> n;
    static constexpr auto sluice_fields =
        std::make_tuple(sluice::field("id", &event::id), sluice::field("name", &event::name),
                        sluice::field("score", &event::score), sluice::field("flag", &event::flag),
                        sluice::field("n", &event::n));
};

}  // namespace

TEST_CASE("structs, many row groups and pages, dictionary fallback", "[parquet][writer]") {
    const auto s = pq::schema_of<event>();
    REQUIRE(s.columns.size() == 5);
    CHECK_FALSE(s.columns[0].nullable);
    CHECK(s.columns[2].nullable);
    std::vector<event> rows;
    const int n = 30000;
    for (int i = 0; i < n; ++i)
        rows.push_back({i, i % 3 == 0 ? "cat-" + std::to_string(i % 7) : "unique-" + std::to_string(i),
                        i % 5 == 0 ? std::nullopt : std::optional<double>(i * 0.5), i % 2 == 0,
                        i % 11 == 0 ? std::nullopt : std::optional<std::int32_t>(i % 100)});
    pq::write_options o;
    o.row_group_rows = 7000;
    o.page_bytes = 4096;
    o.dictionary_bytes = 20000;
    const std::string file = write(rows, s, o);
    const auto m = footer(file);
    CHECK(m.num_rows == n);
    CHECK(m.row_groups.size() == 5);
    const auto& name_md = *m.row_groups[0].columns[1].meta_data;
    CHECK(name_md.dictionary_page_offset.has_value());
    CHECK(name_md.stats->null_count == 0);
    CHECK(*m.row_groups[0].columns[2].meta_data->stats->null_count == 1400);
    const std::string j = read_back(file, "events.parquet",
                                    "ORDER BY id");
    CHECK(contains(j, R"x(["id","BIGINT"])x"));
    CHECK(contains(j, R"x({"id":"0","name":"cat-0","score":null,"flag":true,"n":null})x"));
    CHECK(contains(j, R"x({"id":"29999","name":"unique-29999","score":14999.5,"flag":false,"n":99})x"));
    CHECK(contains(j, R"x({"id":"12345","name":"cat-4","score":null,"flag":false,"n":45})x"));
    CHECK(contains(j, R"x("num_rows":30000)x"));
    CHECK(contains(j, R"x({"id":"29999","name":"unique-29999","score":14999.5,"flag":false,"n":99})x"));
}

TEST_CASE("empty files and zero rows", "[parquet][writer]") {
    const std::vector<text_row> none;
    const std::string file = write(none, pq::parse_schema("a:int64,b:string"));
    const auto m = footer(file);
    CHECK(m.num_rows == 0);
    CHECK(m.row_groups.empty());
    const std::string j = read_back(file, "empty.parquet");
    CHECK(contains(j, R"x("rows":[])x"));
    CHECK(contains(j, R"x(["a","BIGINT"])x"));
}

TEST_CASE("values Parquet cannot hold are errors naming column and row", "[parquet][writer]") {
    const auto s = pq::parse_schema("id:int32,ts:timestamp,amount:decimal(5,2),d:date");
    auto fails = [&](std::vector<std::optional<std::string>> bad, const std::string& msg) {
        std::vector<text_row> rows{{{"1", "2020-01-01 00:00:00", "1.00", "2020-01-01"}}, {std::move(bad)}};
        try {
            write(rows, s);
            FAIL("no error");
        } catch (const sluice::error& e) {
            CHECK(e.code() == sluice::errc::bad_input);
            CHECK_THAT(e.what(), Catch::Contains(msg));
            CHECK_THAT(e.what(), Catch::Contains("row 2"));
        }
    };
    fails({"1", "294248-01-01 00:00:00", "1.00", "2020-01-01"}, "column 'ts'");
    fails({"1", "2020-01-01 00:00:00", "1234.00", "2020-01-01"}, "column 'amount'");
    fails({"1", "2020-01-01 00:00:00", "1.001", "2020-01-01"}, "does not fit decimal(5,2)");
    fails({"1", "2020-01-01 00:00:00", "NaN", "2020-01-01"}, "column 'amount'");
    fails({"2147483648", "2020-01-01 00:00:00", "1.00", "2020-01-01"}, "column 'id'");
    fails({"1", "2020-01-01 00:00:00", "1.00", "2020-02-30"}, "column 'd'");
    CHECK_THROWS_WITH(pq::parse_schema("a:int64,b:decimal(40,2)"), Catch::Contains("precision"));
    CHECK_THROWS_WITH(pq::parse_schema("a:wat"), Catch::Contains("unknown type 'wat'"));
}
