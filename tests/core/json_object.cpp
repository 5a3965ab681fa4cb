// json::object_writer, the one JSON object builder (metrics, dead letters, the service).
#include <catch2/catch.hpp>

#include <sluice/core/chunk.hpp>
#include <sluice/core/json_object.hpp>
#include <sluice/core/metrics.hpp>

#include <string>
#include <vector>

namespace json = sluice::json;

TEST_CASE("object_writer: members in order, keys and strings escaped", "[core][json_object]") {
    std::string out;
    json::object_writer<std::string>(out)
        .string("name", "a \"quoted\"\tname\x01")
        .number("n", 42)
        .boolean("ok", true)
        .null("none")
        .raw("list", "[1,2]")
        .close();
    CHECK(out ==
          R"({"name":"a \"quoted\"\tname\u0001","n":42,"ok":true,"none":null,"list":[1,2]})");
}

TEST_CASE("object_writer: an empty object, and into a chunk", "[core][json_object]") {
    std::string empty;
    json::object_writer<std::string>(empty).close();
    CHECK(empty == "{}");

    sluice::chunk c;
    c.append("x=");
    json::object_writer<sluice::chunk> w(c);
    w.string("k\"", "v");
    w.close();
    CHECK(c.view() == R"(x={"k\"":"v"})");
}

TEST_CASE("metrics JSON escapes stage names with the shared escaper", "[core][json_object]") {
    std::vector<sluice::counters_snapshot> stages(1);
    stages[0].name = "read \"in\"\n";
    stages[0].in = 3;
    const std::string j = sluice::to_json(stages);
    CHECK(j.rfind(R"({"stages":[{"name":"read \"in\"\n","in":3,"out":0,)", 0) == 0);
    CHECK(j.substr(j.size() - 3) == "}]}");
}
