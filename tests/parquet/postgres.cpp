// Postgres -> Parquet against the test server: a table with every mapped type, NULLs in every
// column, extremes, unicode, empty vs NULL, infinities, in several row groups; the file is read
// back by DuckDB and hyparquet. Skipped without SLUICE_TEST_PG_DSN.
#include <catch2/catch.hpp>

#include <sluice/core/range_source.hpp>
#include <sluice/parquet/encode.hpp>
#include <sluice/postgres/connection.hpp>
#include <sluice/postgres/parquet.hpp>
#include <sluice/postgres/rows.hpp>
#include <sluice/sinks/for_each.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "../postgres/pg_support.hpp"

namespace pg = sluice::pg;
namespace pq = sluice::parquet;

namespace {

std::string read_back(const std::string& file, const std::string& name, const char* sql) {
    { std::ofstream(name, std::ios::binary) << file; }
    const std::string npm =
        std::filesystem::path(SLUICE_TEST_CSV_SPECTRUM_DIR).parent_path().parent_path().string();
    const std::string cmd = "SLUICE_NPM_DIR='" + npm + "' node '" SLUICE_TEST_SOURCE_DIR
                            "/cli/parquet_read.mjs' '" + name + "' '" + sql + "' 2>&1";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p);
    char buf[65536];
    std::size_t k;
    while ((k = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, k);
    INFO(out.substr(0, 2000));
    REQUIRE(pclose(p) == 0);
    return out;
}

bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("every Postgres type maps without loss", "[parquet][postgres]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    c.exec("SET TimeZone = 'Asia/Kolkata'");  // offsets in the text must be applied
    c.exec(R"sql(
        CREATE TEMP TABLE every_type (
            id int8 PRIMARY KEY, i2 int2, i4 int4, f4 float4, f8 float8, b bool,
            amount numeric(12,2), big numeric(38,6), anynum numeric, d date, t time,
            ts timestamp, tz timestamptz, u uuid, j json, jb jsonb, raw bytea, s text,
            v varchar(10), iv interval, ip inet, tags text[], nums int4[], decs numeric(5,2)[])
    )sql");
    c.exec(R"sql(
        INSERT INTO every_type VALUES
        (1, -32768, 2147483647, 1.5, 'NaN', true, -9999999999.99,
         99999999999999999999999999999999.999999, 123456789012345678901234567890.123456789,
         '2024-02-29', '23:59:59.999999', '2024-01-02 03:04:05.123456',
         '2024-01-02 03:04:05.5+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
         '{ "a" : [1, 2] }', '{"b": {"c": null}}', '\x00ff41', 'héllo ✓ 日本', 'x',
         '1 year 2 mons 3 days', '10.1.2.0/24', '{a,"b,c",NULL,""}', '{1,NULL,-3}', '{1.50,NULL}'),
        (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (3, 0, 0, '-Infinity', 'Infinity', false, 0, 0, 'NaN', '-infinity', '00:00:00',
         'infinity', '-infinity', '00000000-0000-0000-0000-000000000000', '[]', '{}', '', '', '',
         '0', '::1', '{}', '{}', '{}'),
        (4, 32767, -2147483648, 3.4028235e38, -1.7976931348623157e308, true, 9999999999.99, -1,
         '-0.000000000000000000000000000000000001', '4713-01-01 BC', '24:00:00',
         '1970-01-01 00:00:00', '1970-01-01 05:30:00', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
         '"x"', 'null', '\x', 'Ω', 'tab	here', '-1 days', '::', NULL, '{NULL}', '{-999.99}')
    )sql");
    const char* sql = "SELECT * FROM every_type ORDER BY id";
    const pq::schema s = pg::parquet_schema(pg::describe(c, sql));
    REQUIRE(s.columns.size() == 24);
    CHECK(s.columns[6].type.type == pq::value_type::decimal);
    CHECK(s.columns[6].type.precision == 12);
    CHECK(s.columns[8].type.type == pq::value_type::string);  // unbounded numeric: exact text
    CHECK(s.columns[21].type.list);

    for (bool v2 : {false, true}) {
        pq::write_options o;
        o.row_group_rows = 2;  // two row groups
        o.data_page_v2 = v2;
        std::string file;
        pg::rows(c, sql) | pq::encode(s, o) |
            sluice::for_each([&](sluice::chunk& ch) { file.append(ch.view()); });
        const std::string j = read_back(file, "pg.parquet", "ORDER BY id");
        INFO(j);
        for (const char* want : {
                 R"x(["i2","SMALLINT"])x", R"x(["amount","DECIMAL(12,2)"])x",
                 R"x(["big","DECIMAL(38,6)"])x", R"x(["anynum","VARCHAR"])x",
                 R"x(["tz","TIMESTAMP WITH TIME ZONE"])x", R"x(["u","UUID"])x",
                 R"x(["raw","BLOB"])x", R"x(["tags","VARCHAR[]"])x", R"x(["decs","DECIMAL(5,2)[]"])x",
                 R"x("i2":-32768,"i4":2147483647,"f4":1.5,"f8":"NaN","b":true,"amount":"-9999999999.99")x",
                 R"x("big":"99999999999999999999999999999999.999999")x",
                 R"x("anynum":"123456789012345678901234567890.123456789")x",
                 R"x("d":"2024-02-29","t":"23:59:59.999999","ts":"2024-01-02 03:04:05.123456")x",
                 R"x("tz":"2024-01-02 03:04:05.5+00")x",
                 R"x("j":"{\"a\":[1,2]}","jb":"{\"b\":{\"c\":null}}")x",
                 R"x("s":"héllo ✓ 日本","v":"x","iv":"1 year 2 mons 3 days","ip":"10.1.2.0/24")x",
                 R"x("tags":["a","b,c",null,""],"nums":[1,null,-3],"decs":["1.50",null])x",
                 R"x({"id":"2","i2":null,"i4":null,"f4":null,"f8":null,"b":null,"amount":null)x",
                 R"x("f4":"-Infinity","f8":"Infinity")x", R"x("anynum":"NaN")x",
                 R"x("ts":"infinity","tz":"-infinity")x", R"x("s":"","v":"","iv":"00:00:00")x",
                 R"x("tags":[],"nums":[],"decs":[])x", R"x("tags":null,"nums":[null],"decs":["-999.99"])x",
                 R"x("d":"4713-01-01 (BC)","t":"24:00:00")x", R"x("tz":"1970-01-01 00:00:00+00")x",
                 R"x("big":"-1.000000")x", R"x("anynum":"-0.000000000000000000000000000000000001")x",
                 R"x("f8":-1.7976931348623157e+308)x", R"x("v":"tab\there")x",
                 // hyparquet
                 R"x("num_rows":4)x", R"x("raw":{"hex":"00ff41"})x", R"x("raw":{"hex":""})x",
                 R"x("tz":"1704164645500000")x", R"x("d":-2147483647)x",
             })
            CHECK(contains(j, want));
    }
}

TEST_CASE("a timestamp past year 294247 is an error naming column and row", "[parquet][postgres]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    const char* sql =
        "SELECT x AS id, CASE WHEN x = 3 THEN '294270-01-01'::timestamp ELSE now()::timestamp END AS at "
        "FROM generate_series(1, 3) x";
    const pq::schema s = pg::parquet_schema(pg::describe(c, sql));
    try {
        pg::rows(c, sql) | pq::encode(s) | sluice::for_each([](sluice::chunk&) {});
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK_THAT(e.what(), Catch::Contains("column 'at', row 3"));
        CHECK_THAT(e.what(), Catch::Contains("294247"));
    }
}
