#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <stdexcept>
#include <string>

TEST_CASE("error message names stage and position", "[core][error]") {
    sluice::position p;
    p.line = 12;
    p.column = 3;
    p.byte_offset = 456;
    sluice::error e(sluice::errc::bad_input, "csv", "unterminated quoted field", p);
    CHECK(std::string(e.what()) == "csv: line 12, column 3, byte 456: unterminated quoted field");
    CHECK(e.code() == sluice::errc::bad_input);
    CHECK(e.stage() == "csv");
    CHECK(e.message() == "unterminated quoted field");
    CHECK(e.where().line == 12);
    CHECK_FALSE(e.where().has_record());
}

TEST_CASE("error without position or stage reads cleanly", "[core][error]") {
    sluice::error a(sluice::errc::io, "", "disk full");
    CHECK(std::string(a.what()) == "disk full");
    sluice::error b(sluice::errc::io, "to_file", "disk full");
    CHECK(std::string(b.what()) == "to_file: disk full");
}

TEST_CASE("with_position fills only unknown fields", "[core][error]") {
    sluice::position inner;
    inner.byte_offset = 10;
    sluice::position outer;
    outer.byte_offset = 99;
    outer.record = 4;
    auto e = sluice::error(sluice::errc::bad_input, "x", "m", inner).with_position(outer);
    CHECK(e.where().byte_offset == 10);
    CHECK(e.where().record == 4);
    CHECK(std::string(e.what()) == "x: byte 10, record 4: m");
}

TEST_CASE("current_error classifies what is in flight", "[core][error]") {
    auto classify = [](auto thrower) {
        try {
            thrower();
        } catch (...) {
            return sluice::current_error();
        }
        FAIL("did not throw");
        return sluice::error(sluice::errc::failed, "", "");
    };
    CHECK(classify([] { throw std::runtime_error("boom"); }).code() == sluice::errc::failed);
    CHECK(std::string(classify([] { throw std::runtime_error("boom"); }).what()) == "boom");
    CHECK(classify([] { throw std::bad_alloc(); }).code() == sluice::errc::out_of_memory);
    CHECK(classify([] { throw 42; }).code() == sluice::errc::failed);
    CHECK(classify([] { throw sluice::cancelled_error(); }).code() == sluice::errc::cancelled);
}

TEST_CASE("result holds a value or an error", "[core][error]") {
    sluice::result<int> ok(5);
    REQUIRE(ok);
    CHECK(ok.value() == 5);
    CHECK(*ok == 5);
    sluice::result<int> bad(sluice::error(sluice::errc::io, "s", "m"));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code() == sluice::errc::io);
    CHECK_THROWS_AS(bad.value(), sluice::error);
    sluice::result<void> v;
    CHECK(v);
    sluice::result<void> ve(sluice::error(sluice::errc::io, "s", "m"));
    CHECK_FALSE(ve);
    CHECK_THROWS_AS(ve.value(), sluice::error);
}
