// pg::json_encoder / pg::json_lines against the server's own row_to_json, on a table with
// every type the mapping names (extremes, NaN/Infinity, empty vs NULL, unicode, escapes,
// N-D arrays with NULLs), under several TimeZone settings.
#include <catch2/catch.hpp>

#include "pg_support.hpp"

#include <cstdlib>
#include <string>
#include <vector>

#include <sluice/postgres/connection.hpp>
#include <sluice/postgres/json.hpp>
#include <sluice/postgres/json_lines.hpp>
#include <sluice/postgres/rows.hpp>
#include <sluice/sluice.hpp>

namespace pg = sluice::pg;

namespace {


const char* const create_types = R"sql(
DROP TABLE IF EXISTS sluice_json_types;
CREATE TABLE sluice_json_types (
  id int PRIMARY KEY, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric, b bool,
  t text, vc varchar(10), bp char(3), j json, jb jsonb, d date, ts timestamp,
  tz timestamptz, tm time, ttz timetz, iv interval, by bytea, u uuid, o oid,
  ia int[], ta text[], tza timestamptz[], na numeric[], ja jsonb[], ba bool[], fa float8[],
  bya bytea[], da date[], tsa timestamp[], ip inet, pt point, bx box[], rng int4range,
  "Odd ""name"", with\ttab" text);
INSERT INTO sluice_json_types VALUES
 (1, -32768, -2147483648, -9223372036854775808, 'NaN', 'NaN', 'NaN', true,
  '', '', '', '{"a" : 1,  "b":[1, 2]}', '{"b": [1, 2], "a": "é\u00e9"}', '4713-01-01 BC',
  '4713-01-01 00:00:00 BC', '2024-01-02 03:04:05.123456+00', '00:00:00', '23:59:59.999999+14:59',
  '-178000000 years', '', '00000000-0000-0000-0000-000000000000', 0,
  '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '::1', '(0,0)', '{}', 'empty', ''),
 (2, 32767, 2147483647, 9223372036854775807, 'Infinity', '-Infinity', 'Infinity', false,
  'Zoë "quoted" \back\slash
newline	tab  and 🚀 田中', 'ü', 'ab', '[]', 'null', 'infinity', '-infinity', 'infinity',
  '24:00:00', '00:00:00-15:59', '1 year 2 mons 3 days 04:05:06.789', '\x00ff5c22',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 4294967295,
  '{{1,NULL},{3,4}}', '{"a,b","NULL",NULL,"","q\"x","back\\slash","{}"," sp "}',
  '{"2024-01-02 03:04:05+00",NULL,"1999-12-31 23:59:59.5+05:30"}', '{1.50,NaN,-Infinity,NULL}',
  '{"{\"k\": [1, null]}",NULL,"\"s\""}', '{{{t}},{{f}},{{NULL}}}', '{1e+300,-0,NaN,Infinity,1.5e-07}',
  '{"\\x00",NULL,"\\x"}', '{2024-02-29,infinity,NULL}', '{"2024-01-01 00:00:00.000001"}',
  '10.0.0.0/8', '(1.5,-2)', '{(1,2),(0,0);(3,3),(2,2)}', '[1,10)', 'x'),
 (3, 0, 0, 0, '-0', '1e-300', '-123456789012345678901234567890.000000000000001', NULL,
  E'\x01\x1f\x7f ctrl \u2028', NULL, NULL, '"str"', '"\u0001x"', '2000-02-29',
  '294276-12-31 23:59:59.999999', '2000-01-01 00:00:00.5+00', NULL, NULL, NULL, NULL, NULL, NULL,
  '[0:1]={7,8}', '[2:2][1:2]={{a,b}}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, NULL, NULL, NULL, 3.4028235e38, 1.7976931348623157e308, 0.1, NULL, NULL, NULL, NULL, NULL, NULL,
  '0001-01-01', '1900-06-15 12:00:00', '1900-06-15 12:00:00+00', NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (5, NULL, NULL, NULL, 1.17549435e-38, 5e-324, 1e1000, NULL, NULL, NULL, NULL, NULL, NULL,
  '0044-03-15 BC', '0044-03-15 12:34:56.789 BC', '0044-03-15 12:34:56 BC', NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
)sql";

std::vector<std::string> lines_of(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty()) {
        auto nl = s.find('\n');
        out.emplace_back(s.substr(0, nl));
        s.remove_prefix(nl == std::string_view::npos ? s.size() : nl + 1);
    }
    return out;
}

std::string collect(pg::json_lines_source src) {
    std::string out;
    src | sluice::for_each([&](const sluice::chunk& c) { out += c.view(); });
    return out;
}

std::vector<std::string> server_json(pg::connection& c, const std::string& query) {
    std::vector<std::string> out;
    pg::rows(c, "SELECT row_to_json(q)::text FROM (" + query + ") q") |
        sluice::for_each([&](const pg::row& r) { out.emplace_back(r.value(0)); });
    return out;
}

/// `s` with every `from` replaced by `to`.
std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
    return s;
}

/// row_to_json embeds a json value's text as written; the encoder compacts it.
std::vector<std::string> server_json_compacted(pg::connection& c, const std::string& query,
                                               std::string_view as_written,
                                               std::string_view compacted) {
    auto rows = server_json(c, query);
    for (auto& r : rows) r = replace_all(r, as_written, compacted);
    return rows;
}

}  // namespace

TEST_CASE("json_encoder matches row_to_json for every mapped type", "[postgres][json]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    c.exec(create_types);
    const std::string query = "SELECT * FROM sluice_json_types ORDER BY id";
    for (const char* tz : {"UTC", "America/St_Johns", "Asia/Kathmandu", "Pacific/Chatham"}) {
        INFO("TimeZone " << tz);
        c.exec(std::string("SET TimeZone = '") + tz + "'");
        // Row 1's json value is stored with spaces, which the encoder removes; jsonb values
        // (and everything else) are byte for byte what the server prints.
        auto expected = server_json_compacted(c, query, R"({"a" : 1,  "b":[1, 2]})",
                                              R"({"a":1,"b":[1,2]})");
        REQUIRE(expected.size() == 5);

        pg::json_lines_options o;
        o.method = pg::json_method::client;
        auto got = lines_of(collect(pg::json_lines(c, o, query)));
        REQUIRE(got.size() == expected.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            INFO("row " << i + 1);
            CHECK(got[i] == expected[i]);
        }
        // The cursor strategy encodes the same.
        o.fetch_size = 2;
        CHECK(lines_of(collect(pg::json_lines(c, o, query))) == got);
    }
}

TEST_CASE("the json mapping is exact for built-in types only", "[postgres][json]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    c.exec(create_types);
    CHECK(pg::json_mapping_exact(pg::describe(c, "SELECT * FROM sluice_json_types")));
    c.exec("DROP TYPE IF EXISTS sluice_mood CASCADE; CREATE TYPE sluice_mood AS ENUM ('ok');"
           "DROP DOMAIN IF EXISTS sluice_pos; CREATE DOMAIN sluice_pos AS int CHECK (VALUE > 0)");
    const std::string odd =
        "SELECT 'ok'::sluice_mood AS m, 5::sluice_pos AS p, row(1, 'x') AS r, "
        "ARRAY[row(1,'a b')] AS ra, '1 2'::int2vector AS v";
    CHECK_FALSE(pg::json_mapping_exact(pg::describe(c, odd)));
    // automatic: the server encodes, so even composites come out as row_to_json has them.
    auto got = lines_of(collect(pg::json_lines(c, odd)));
    CHECK(got == server_json(c, odd));
    // Parameters work on both paths.
    CHECK(lines_of(collect(pg::json_lines(c, "SELECT $1::int AS a, $2::text AS b", 7, "x\"y"))) ==
          std::vector<std::string>{R"({"a":7,"b":"x\"y"})"});
    CHECK(lines_of(collect(pg::json_lines(c, "SELECT $1::sluice_pos AS a", 7))) ==
          std::vector<std::string>{R"({"a":7})"});
}

TEST_CASE("json array framing", "[postgres][json]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    pg::json_lines_options o;
    o.framing = pg::json_framing::array;
    CHECK(collect(pg::json_lines(c, o, "SELECT g AS n FROM generate_series(1, 3) g")) ==
          "[{\"n\":1},\n{\"n\":2},\n{\"n\":3}]\n");
    CHECK(collect(pg::json_lines(c, o, "SELECT 1 AS n WHERE false")) == "[]\n");
}

// Issue 10: the count advanced only in array framing, so an archiver reporting "rows
// exported" from a JSONL export said 0.
TEST_CASE("json_lines counts rows in every framing", "[postgres][json]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    const std::string q = "SELECT g AS n FROM generate_series(1, 2500) g";
    for (auto framing : {pg::json_framing::lines, pg::json_framing::array, pg::json_framing::bare}) {
        for (auto method : {pg::json_method::client, pg::json_method::server}) {
            INFO("framing " << static_cast<int>(framing) << ", method " << static_cast<int>(method));
            pg::json_lines_options o;
            o.framing = framing;
            o.method = method;
            o.chunk_size = 4096;  // many chunks: the count is not a per-chunk figure
            auto src = pg::json_lines(c, o, q);
            CHECK(src.rows_done() == 0);
            std::size_t bytes = 0;
            src | sluice::for_each([&](const sluice::chunk& ch) { bytes += ch.size(); });
            CHECK(bytes > 2500);
            CHECK(src.rows_done() == 2500);
            CHECK(src.encoder().count() == 2500);
        }
    }
    auto none = pg::json_lines(c, "SELECT 1 AS n WHERE false");
    none | sluice::for_each([](const sluice::chunk&) {});
    CHECK(none.rows_done() == 0);
}

TEST_CASE("json_encoder encodes owned rows and works with sluice::encode", "[postgres][json]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    std::vector<pg::owned_row> kept;
    pg::rows(c, "SELECT g AS n, 'v' || g AS s FROM generate_series(1, 2) g") |
        sluice::for_each([&](const pg::row& r) { kept.push_back(r.to_owned()); });
    std::string out;
    kept | sluice::encode(pg::json_encoder{}) |
        sluice::for_each([&](const sluice::chunk& ch) { out += ch.view(); });
    CHECK(out == "{\"n\":1,\"s\":\"v1\"}\n{\"n\":2,\"s\":\"v2\"}\n");
}

TEST_CASE("json values are compacted onto the row's line, jsonb stays byte-identical",
          "[postgres][json]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    // json keeps its text as written: pretty-printed, CRLF between tokens, \n escapes and
    // spaces inside strings, nested arrays of objects, a scalar with space around it.
    struct value {
        const char* sql;         // E'' literal
        std::string as_written;  // what the server stores and row_to_json embeds
        std::string compacted;   // what the encoder writes
    };
    const std::vector<value> values = {
        {R"(E'{\n  "a": 1,\n  "b": [\n    1,\n    2.50\n  ]\n}')",
         "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2.50\n  ]\n}", R"({"a":1,"b":[1,2.50]})"},
        {R"(E'{\r\n\t"k" : "line\\nbreak \\"q\\" \\\\ ",\r\n\t"n":1e400 ,"k":"dup"}\r\n')",
         "{\r\n\t\"k\" : \"line\\nbreak \\\"q\\\" \\\\ \",\r\n\t\"n\":1e400 ,\"k\":\"dup\"}\r\n",
         R"({"k":"line\nbreak \"q\" \\ ","n":1e400,"k":"dup"})"},
        {R"(E'[\n  {"x": [ {"y": [ ] }, { } ] },\n  { "z" : "a  b\\u0041" }\n]')",
         "[\n  {\"x\": [ {\"y\": [ ] }, { } ] },\n  { \"z\" : \"a  b\\u0041\" }\n]",
         R"([{"x":[{"y":[]},{}]},{"z":"a  b\u0041"}])"},
        {R"(E'  "str  with  spaces"\n')", "  \"str  with  spaces\"\n", R"("str  with  spaces")"},
    };
    c.exec("DROP TABLE IF EXISTS sluice_json_pretty; DROP TYPE IF EXISTS sluice_mood2 CASCADE;"
           "DROP DOMAIN IF EXISTS sluice_doc; CREATE TYPE sluice_mood2 AS ENUM ('ok');"
           "CREATE DOMAIN sluice_doc AS json;"
           "CREATE TABLE sluice_json_pretty (id int, j json, jb jsonb, ja json[], jba jsonb[])");
    for (std::size_t i = 0; i < values.size(); ++i) {
        std::string v = values[i].sql;
        c.exec("INSERT INTO sluice_json_pretty VALUES (" + std::to_string(i + 1) + ", " + v + ", " +
               v + ", ARRAY[" + v + ", NULL, " + v + "]::json[], ARRAY[" + v + "]::jsonb[])");
    }
    // The literals above say what the server stores.
    auto stored = c.exec("SELECT j::text FROM sluice_json_pretty ORDER BY id");
    for (std::size_t i = 0; i < values.size(); ++i)
        REQUIRE(stored.value(static_cast<int>(i), 0) == values[i].as_written);

    auto expect = [&](const std::string& query) {
        auto rows = server_json(c, query);
        for (auto& r : rows)
            for (const auto& v : values) r = replace_all(r, v.as_written, v.compacted);
        return rows;
    };
    auto check_lines = [&](const std::string& query, pg::json_method method) {
        INFO(query);
        pg::json_lines_options o;
        o.method = method;
        std::string out = collect(pg::json_lines(c, o, query));
        auto got = lines_of(out);
        auto want = expect(query);
        REQUIRE(got.size() == values.size());  // one line per row
        CHECK(got == want);
        // Nothing but the json values changed: the server's jsonb text is all there.
        for (const auto& r : server_json(c, "SELECT jb FROM sluice_json_pretty ORDER BY id"))
            CHECK(out.find(r.substr(6, r.size() - 7)) != std::string::npos);
    };
    const std::string plain = "SELECT * FROM sluice_json_pretty ORDER BY id";
    // Client-side encoding: json and json[] compacted, jsonb and jsonb[] as printed.
    check_lines(plain, pg::json_method::client);
    check_lines(plain, pg::json_method::automatic);
    // Server-side encoding (types the client does not map): the same compaction, also for
    // json inside a domain and a composite; jsonb members stay exactly as printed.
    const std::string odd =
        "SELECT id, j, jb, ja, jba, 'ok'::sluice_mood2 AS m, j::sluice_doc AS dj, "
        "row(id, j) AS r FROM sluice_json_pretty ORDER BY id";
    REQUIRE_FALSE(pg::json_mapping_exact(pg::describe(c, odd)));
    check_lines(odd, pg::json_method::automatic);
    check_lines(plain, pg::json_method::server);
    // Array framing: one compact object per element.
    pg::json_lines_options o;
    o.framing = pg::json_framing::array;
    auto want = expect(plain);
    std::string arr = "[";
    for (std::size_t i = 0; i < want.size(); ++i) arr += (i ? ",\n" : "") + want[i];
    CHECK(collect(pg::json_lines(c, o, plain)) == arr + "]\n");
}
