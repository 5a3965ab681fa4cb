#include <catch2/catch.hpp>

#include <sluice/report/text.hpp>

#include <limits>

TEST_CASE("format_bytes uses decimal units", "[report][text]") {
    CHECK(sluice::format_bytes(0) == "0 B");
    CHECK(sluice::format_bytes(999) == "999 B");
    CHECK(sluice::format_bytes(1234) == "1.2 kB");
    CHECK(sluice::format_bytes(453.1e6) == "453.1 MB");
    CHECK(sluice::format_bytes(1.25e9) == "1.25 GB");
}

TEST_CASE("format_count separates thousands", "[report][text]") {
    CHECK(sluice::format_count(0) == "0");
    CHECK(sluice::format_count(999) == "999");
    CHECK(sluice::format_count(1000) == "1,000");
    CHECK(sluice::format_count(1234567) == "1,234,567");
}

TEST_CASE("format_duration: m:ss, h:mm:ss, ? when unknown", "[report][text]") {
    CHECK(sluice::format_duration(0) == "0:00");
    CHECK(sluice::format_duration(61.4) == "1:01");
    CHECK(sluice::format_duration(3723) == "1:02:03");
    CHECK(sluice::format_duration(-1) == "?");
    CHECK(sluice::format_duration(std::numeric_limits<double>::infinity()) == "?");
}
