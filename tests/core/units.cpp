// parse_size / parse_duration: the one parser of sizes and durations behind every flag
// (--memory, --part-size, --row-group-size, --older-than, --hold-for).

#include <sluice/core/units.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace std::chrono_literals;

namespace {
std::string message_of(auto&& f) {
    try {
        f();
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::usage);
        return e.what();
    }
    FAIL("no error thrown");
    return {};
}
}  // namespace

TEST_CASE("parse_size: binary and decimal units, plain bytes") {
    CHECK(sluice::parse_size("1048576") == 1048576);
    CHECK(sluice::parse_size("24MiB") == 24u << 20);
    CHECK(sluice::parse_size("24M") == 24u << 20);
    CHECK(sluice::parse_size("512KiB") == 512u << 10);
    CHECK(sluice::parse_size("1.5GiB") == (3ull << 30) / 2);
    CHECK(sluice::parse_size("64KB") == 64000);
    CHECK(sluice::parse_size("2MB") == 2000000);
    CHECK(sluice::parse_size("7B") == 7);
    CHECK(sluice::parse_size("1TiB") == 1ull << 40);
}

TEST_CASE("parse_size: typos are errors naming the flag and the text") {
    const std::string m = message_of([] { sluice::parse_size("24Mb", "--memory"); });
    CHECK(m.find("--memory") != std::string::npos);
    CHECK(m.find("'24Mb'") != std::string::npos);
    CHECK(m.find("unit") != std::string::npos);
    CHECK_THROWS_AS(sluice::parse_size(""), sluice::error);
    CHECK_THROWS_AS(sluice::parse_size("MiB"), sluice::error);
    CHECK_THROWS_AS(sluice::parse_size("-5MiB"), sluice::error);
    CHECK_THROWS_AS(sluice::parse_size("0"), sluice::error);
    CHECK_THROWS_AS(sluice::parse_size("0.5"), sluice::error);
    CHECK_THROWS_AS(sluice::parse_size("24 MiB"), sluice::error);
    CHECK_THROWS_AS(sluice::parse_size("99999999999TiB"), sluice::error);
}

TEST_CASE("parse_duration: s, m, h, d and plain seconds") {
    CHECK(sluice::parse_duration("90") == 90s);
    CHECK(sluice::parse_duration("90s") == 90s);
    CHECK(sluice::parse_duration("15m") == 15min);
    CHECK(sluice::parse_duration("24h") == 24h);
    CHECK(sluice::parse_duration("7d") == 7 * 24h);
    CHECK(sluice::parse_duration("0s") == 0s);
}

TEST_CASE("parse_duration: anything else is an error naming the flag") {
    const std::string m = message_of([] { sluice::parse_duration("3w", "--older-than"); });
    CHECK(m.find("--older-than") != std::string::npos);
    CHECK(m.find("'3w'") != std::string::npos);
    CHECK_THROWS_AS(sluice::parse_duration("1.5h"), sluice::error);
    CHECK_THROWS_AS(sluice::parse_duration("-1s"), sluice::error);
    CHECK_THROWS_AS(sluice::parse_duration("h"), sluice::error);
    CHECK_THROWS_AS(sluice::parse_duration("10 m"), sluice::error);
    CHECK_THROWS_AS(sluice::parse_duration("9999999999999d"), sluice::error);
}
