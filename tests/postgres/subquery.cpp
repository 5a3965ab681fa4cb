// pg::statement_body / pg::subquery: a query typed for psql (ending in `;` or a comment)
// stands inside COPY (...) and count(*) FROM (...); literals, quoted identifiers and dollar
// quotes are text, not statement ends.
#include <catch2/catch.hpp>

#include <sluice/postgres/subquery.hpp>

namespace pg = sluice::pg;

TEST_CASE("statement_body drops trailing semicolons, comments and whitespace", "[postgres][subquery]") {
    CHECK(pg::statement_body("select 1") == "select 1");
    CHECK(pg::statement_body("select 1;") == "select 1");
    CHECK(pg::statement_body("select 1 ; ;\n\t") == "select 1");
    CHECK(pg::statement_body("select 1 -- one") == "select 1");
    CHECK(pg::statement_body("select 1; -- one; two\n") == "select 1");
    CHECK(pg::statement_body("select 1 /* a; /* nested */ b */;") == "select 1");
    CHECK(pg::statement_body("select 1\n-- a\n-- b\n;") == "select 1");
    CHECK(pg::statement_body(";") == "");
    CHECK(pg::statement_body("") == "");
}

TEST_CASE("statement_body keeps literals and identifiers whole", "[postgres][subquery]") {
    CHECK(pg::statement_body("select ';'") == "select ';'");
    CHECK(pg::statement_body("select '--x';") == "select '--x'");
    CHECK(pg::statement_body("select 'it''s;' ;") == "select 'it''s;'");
    CHECK(pg::statement_body("select E'a\\';' ;") == "select E'a\\';'");
    CHECK(pg::statement_body("select \"a;--b\" from t;") == "select \"a;--b\" from t");
    CHECK(pg::statement_body("select $$;--$$;") == "select $$;--$$");
    CHECK(pg::statement_body("select $q$ $$; $q$ -- c") == "select $q$ $$; $q$");
    CHECK(pg::statement_body("select $1::int;") == "select $1::int");
    // Everything before the last token is kept byte for byte, comments included.
    CHECK(pg::statement_body("select /* c */ 1 -- x\n, 2;") == "select /* c */ 1 -- x\n, 2");
    // A `;` between statements is not the end: the server rejects the text as it is.
    CHECK(pg::statement_body("select 1; select 2;") == "select 1; select 2");
}

TEST_CASE("subquery puts the closing parenthesis on its own line", "[postgres][subquery]") {
    CHECK(pg::subquery("select 1; -- done") == "(select 1\n)");
    CHECK(pg::subquery("select 1 -- done") == "(select 1\n)");
}
