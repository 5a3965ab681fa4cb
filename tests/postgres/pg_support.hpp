#pragma once
// Shared by the Postgres tests: the test server's DSN and the skip-when-absent guard.
#include <catch2/catch.hpp>

#include <cstdlib>

namespace {
/// The DSN exported by scripts/lib/postgres.sh (pg_start), or null without a server.
inline const char* test_dsn() {
    const char* d = std::getenv("SLUICE_TEST_PG_DSN");
    return d && *d ? d : nullptr;
}
}  // namespace

/// Skips the current test case (with a visible note) when no server is configured.
#define PG_REQUIRE_SERVER()                                                                \
    if (!test_dsn()) {                                                                     \
        WARN("SKIPPED: SLUICE_TEST_PG_DSN is not set (source scripts/lib/postgres.sh; "    \
             "pg_start)");                                                                 \
        return;                                                                            \
    }
