// pg::csv_encoder against the server's own COPY ... (FORMAT csv, HEADER): the same bytes for
// values COPY quotes (empty strings, delimiters, quotes, CR/LF, a lone \. in a one-column
// result) and leaves bare (NULL), for arrays, bytea, timestamps, odd column names, CRLF.
#include <catch2/catch.hpp>

#include "pg_support.hpp"

#include <string>

#include <sluice/postgres/connection.hpp>
#include <sluice/postgres/copy_out.hpp>
#include <sluice/postgres/csv_encoder.hpp>
#include <sluice/postgres/rows.hpp>
#include <sluice/sluice.hpp>

namespace pg = sluice::pg;

namespace {

const char* const create_table = R"sql(
DROP TABLE IF EXISTS sluice_csv_encoder;
CREATE TABLE sluice_csv_encoder (
  id int PRIMARY KEY, t text, n numeric, f float8, b bool, by bytea, ta text[], j jsonb,
  tz timestamptz, "Odd ""name"", with
newline" text);
INSERT INTO sluice_csv_encoder VALUES
 (1, '', 0, 'NaN', true, '', '{}', '{}', '2024-01-02 03:04:05.5+00', ''),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, 'a,b', 1.50, '-Infinity', false, '\x00ff2c22', '{"a,b",NULL,"","q\"x"}',
  '{"k": "v,\"w\""}', '1999-12-31 23:59:59+05:30', 'x'),
 (4, 'say "hi"', -1e-20, 1e300, NULL, '\x0a0d', '{{1,2}}', '"line\nbreak"', 'infinity', '"'),
 (5, E'line\nbreak\r', 12345678901234567890, -0, true, NULL, NULL, 'null', NULL, E'\r\n'),
 (6, '\.', NULL, 1.5, NULL, NULL, NULL, NULL, NULL, '\.'),
 (7, ' lead and trail ', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'Zoë 🚀 田中');
)sql";

std::string via_copy(pg::connection& c, const std::string& query, bool crlf) {
    pg::copy_out_options o;
    o.header = true;
    o.crlf = crlf;
    std::string out;
    pg::copy_out(c, query, o) | sluice::for_each([&](const sluice::chunk& ch) { out += ch.view(); });
    return out;
}

std::string via_encoder(pg::connection& c, const std::string& query, bool crlf) {
    std::string out;
    pg::csv_encoder enc(pg::csv_encoder_options{true, crlf});
    pg::rows(c, query) | sluice::encode(std::move(enc)) |
        sluice::for_each([&](const sluice::chunk& ch) { out += ch.view(); });
    return out;
}

}  // namespace

TEST_CASE("csv_encoder writes what COPY CSV HEADER writes", "[postgres][csv]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    c.exec(create_table);
    for (const char* tz : {"UTC", "Asia/Kolkata"}) {
        c.exec(std::string("SET TimeZone TO '") + tz + "'");
        for (bool crlf : {false, true}) {
            INFO("TimeZone " << tz << (crlf ? ", CRLF" : ", LF"));
            const std::string q = "SELECT * FROM sluice_csv_encoder ORDER BY id";
            CHECK(via_encoder(c, q, crlf) == via_copy(c, q, crlf));
        }
    }
    c.exec("DROP TABLE sluice_csv_encoder");
}

TEST_CASE("csv_encoder: a one-column result quotes a lone \\. as COPY does", "[postgres][csv]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    const std::string q = "SELECT v FROM (VALUES ('\\.'), (''), (NULL), ('a')) AS t(v)";
    const std::string got = via_encoder(c, q, false);
    CHECK(got == via_copy(c, q, false));
    CHECK(got == "v\n\"\\.\"\n\"\"\n\na\n");
}

TEST_CASE("csv_encoder: an empty result still has its header line", "[postgres][csv]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    const std::string q = "SELECT 1 AS \"a,b\", 'x' AS c WHERE false";
    pg::csv_encoder enc;
    sluice::chunk out;
    enc.finish_header(pg::describe(c, q), out);
    CHECK(std::string(out.view()) == via_copy(c, q, false));
    CHECK(enc.header_written());
    sluice::chunk again;
    enc.finish_header(pg::describe(c, q), again);
    CHECK(again.size() == 0);
}
