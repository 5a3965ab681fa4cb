// Wide JSON objects: past a few dozen keys the readers index the keys by hash, so duplicate
// detection stays linear in the key count; the merge rule (first position, last value) must
// hold the same on both sides of the switch. (The CLI test cli_hardening converts a
// 200k-key record under a time bound.)
#include <catch2/catch.hpp>

#include "reader_support.hpp"

#include <string>
#include <vector>

#include <sluice/json/json_array_reader.hpp>
#include <sluice/json/jsonl_reader.hpp>

namespace json = sluice::json;

namespace {

/// `{"k0":0,"k1":1,...}` with `n` keys, then the (key, value) pairs in `extra`.
std::string wide_object(std::size_t n, const std::vector<std::pair<std::string, std::string>>& extra) {
    std::string s = "{";
    for (std::size_t i = 0; i < n; ++i) s += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    for (const auto& [k, v] : extra) s += "\"" + k + "\":" + v + ",";
    s.back() = '}';
    return s;
}

void check_merged(const json::json_record& r, std::size_t n) {
    // k3 (before the switch to hashing) and k40, k4999 (after it) were repeated with new
    // values; "new" is one fresh key at the end; k7 was given twice more.
    REQUIRE(r.size() == n + 1);
    for (std::size_t i = 0; i < n; ++i) {
        REQUIRE(r.name(i) == "k" + std::to_string(i));
        std::string want = i == 3 ? "-3" : i == 40 ? "\"forty\"" : i == n - 1 ? "null" : i == 7 ? "77" : std::to_string(i);
        REQUIRE(r.field(i).value.raw() == want);
    }
    CHECK(r.name(n) == "new");
    CHECK(r["new"].raw() == "true");
    CHECK(r["k40"].str() == "forty");
}

}  // namespace

TEST_CASE("wide objects: duplicates keep the first position and the last value", "[json][wide]") {
    for (std::size_t n : {std::size_t{33}, std::size_t{64}, std::size_t{5000}}) {
        const std::string last = "k" + std::to_string(n - 1);
        std::string obj = wide_object(n, {{"k3", "-3"}, {"k40", "\"forty\""}, {"k7", "70"},
                                          {"new", "true"}, {last, "null"}, {"k7", "77"}});
        if (n <= 40) obj = wide_object(n, {{"k3", "-3"}, {"k40", "\"forty\""}});  // k40 is new
        INFO("keys: " << n);
        if (n <= 40) {
            auto recs = read_with(obj + "\n", 4096, json::read_jsonl());
            REQUIRE(recs.size() == 1);
            CHECK(recs[0].size() == n + 1);
            CHECK(recs[0]["k3"].raw() == "-3");
            CHECK(recs[0].name(n) == "k40");
            continue;
        }
        auto lines = read_with(obj + "\n" + obj + "\n", 4096, json::read_jsonl());
        REQUIRE(lines.size() == 2);
        check_merged(lines[0], n);
        check_merged(lines[1], n);  // the index is rebuilt for each record
        auto elems = read_with("[" + obj + "," + obj + "]", 4096, json::read_array());
        REQUIRE(elems.size() == 2);
        check_merged(elems[1], n);
    }
}

TEST_CASE("wide objects: a narrow record after a wide one", "[json][wide]") {
    auto recs = read_with(wide_object(100, {}) + "\n{\"a\":1,\"a\":2,\"b\":3}\n", 4096, json::read_jsonl());
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].size() == 100);
    REQUIRE(recs[1].size() == 2);
    CHECK(recs[1]["a"].raw() == "2");
}
