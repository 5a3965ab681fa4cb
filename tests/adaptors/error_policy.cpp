#include <catch2/catch.hpp>

#include <sluice/adaptors/try_map.hpp>
#include <sluice/policy/error_policy.hpp>
#include <sluice/sluice.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {
int parse(std::string_view s) {
    std::size_t used = 0;
    const int v = std::stoi(std::string(s), &used);  // throws std::invalid_argument
    if (used != s.size()) throw std::invalid_argument("trailing characters");
    return v;
}
const std::vector<std::string> input{"1\n2\nx\n4\n", "y5\n6\n"};
}  // namespace

TEST_CASE("fail (the default) ends the run with the function's error",
          "[adaptor][error_policy]") {
    auto r = sluice::try_run(sluice::from_range(input) | sluice::lines() | sluice::try_map(parse),
                             sluice::to_vector());
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::failed);
}

TEST_CASE("skip drops poison records and counts them as rejects", "[adaptor][error_policy]") {
    sluice::metrics m;
    sluice::run_options o;
    o.metrics = &m;
    auto v = sluice::run(sluice::from_range(input) | sluice::lines() |
                             sluice::meter("parse", sluice::try_map(parse,
                                 sluice::on_error::skip.counted_as("parse"))),
                         sluice::to_vector(), o);
    CHECK(v == std::vector<int>{1, 2, 4, 6});
    auto snap = m.snapshot();
    REQUIRE(snap.size() == 1);
    CHECK(snap[0].name == "parse");
    CHECK(snap[0].in == 6);
    CHECK(snap[0].out == 4);
    CHECK(snap[0].rejects == 2);
    CHECK(snap[0].errors == 0);
    CHECK(m.to_json().find("\"rejects\":2") != std::string::npos);
}

// Issue 10: counted_as kept a string_view to the caller's string, so a temporary name
// (`stage + "-rejects"`) was freed before the run read it (heap use-after-free, which ASan
// reports in rejecter::bind). The policy owns the name now.
TEST_CASE("counted_as keeps its own copy of a temporary name", "[adaptor][error_policy]") {
    const std::string stage = "a-stage-name-well-past-the-small-string-buffer";
    auto policy = sluice::on_error::skip.counted_as(stage + "-rejects");
    // The temporary is gone; allocate blocks of its size so its memory is handed out again.
    std::vector<std::string> reuse;
    for (int i = 0; i < 8; ++i) reuse.emplace_back(stage.size() + 8, static_cast<char>('A' + i));
    CHECK(policy.counters_name() == stage + "-rejects");
    auto moved = std::move(policy).max_rejects(10);
    CHECK(moved.counters_name() == stage + "-rejects");

    sluice::metrics m;
    sluice::run_options o;
    o.metrics = &m;
    auto v = sluice::run(sluice::from_range(input) | sluice::lines() |
                             sluice::try_map(parse, moved),
                         sluice::to_vector(), o);
    CHECK(v == std::vector<int>{1, 2, 4, 6});
    auto snap = m.snapshot();
    REQUIRE(snap.size() == 1);
    CHECK(snap[0].name == stage + "-rejects");
    CHECK(snap[0].rejects == 2);
}

TEST_CASE("dead_letter hands over the raw record, the error and its position",
          "[adaptor][error_policy]") {
    std::vector<sluice::poison<std::string>> dead;
    auto v = sluice::from_range(input) | sluice::lines() |
             sluice::try_map(parse, sluice::on_error::dead_letter(
                                        [&](sluice::poison<std::string>&& p) {
                                            dead.push_back(std::move(p));
                                        })) |
             sluice::to_vector();
    CHECK(v == std::vector<int>{1, 2, 4, 6});
    REQUIRE(dead.size() == 2);
    CHECK(dead[0].record == "x");  // an owned copy of the line (a string_view upstream)
    CHECK(dead[0].error.where().record == 2);
    CHECK(dead[0].error.stage() == "try_map");
    CHECK(dead[1].record == "y5");
    CHECK(dead[1].error.where().record == 4);
}

TEST_CASE("dead_letter into a sink", "[adaptor][error_policy]") {
    struct collect : sluice::sink_base {
        std::vector<std::string> raw;
        bool push(sluice::poison<std::string>&& p) {
            raw.push_back(p.record + ": " + p.error.what());
            return true;
        }
        std::size_t finish() { return raw.size(); }
    } k;
    auto n = sluice::from_range(input) | sluice::lines() |
             sluice::try_map(parse, sluice::on_error::dead_letter(k)) | sluice::count();
    CHECK(n == 4);
    CHECK(k.finish() == 2);
    CHECK(k.raw[0].rfind("x: try_map: record 2: ", 0) == 0);
}

TEST_CASE("max_rejects turns too many rejects into errc::limit", "[adaptor][error_policy]") {
    auto ok = sluice::try_run(sluice::from_range(input) | sluice::lines() |
                                  sluice::try_map(parse, sluice::on_error::skip.max_rejects(2)),
                              sluice::count());
    CHECK(ok);
    auto r = sluice::try_run(sluice::from_range(input) | sluice::lines() |
                                 sluice::try_map(parse, sluice::on_error::skip.max_rejects(1)),
                             sluice::count());
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::limit);
    CHECK(r.error().where().record == 4);
    CHECK(std::string(r.error().what()).find("max_rejects 1") != std::string::npos);
}

TEST_CASE("cancellation is never a poison record", "[adaptor][error_policy]") {
    auto r = sluice::try_run(sluice::iota(0, 10) | sluice::try_map([](int x) -> int {
                                 if (x == 3) throw sluice::cancelled_error("user");
                                 return x;
                             }, sluice::on_error::skip),
                             sluice::count());
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::cancelled);
}

TEST_CASE("try_map on the pull path", "[adaptor][error_policy]") {
    auto p = sluice::iota(0, 10) | sluice::try_map([](int x) {
                 if (x % 3 == 0) throw std::runtime_error("multiple of 3");
                 return x * 10;
             }, sluice::on_error::skip);
    std::vector<int> v;
    for (int x : p) v.push_back(x);
    CHECK(v == std::vector<int>{10, 20, 40, 50, 70, 80});
    CHECK(p.rejects() == 4);
}
