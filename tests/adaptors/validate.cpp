#include <catch2/catch.hpp>

#include <sluice/adaptors/validate.hpp>
#include <sluice/sluice.hpp>

#include <optional>
#include <string>
#include <vector>

namespace {
struct user {
    std::string name;
    std::string email;
    std::optional<int> age;
    std::string score;  // text, as a CSV cell would be
};
const std::vector<user> users{
    {"ann", "ann@example.org", 34, "7.5"},
    {"", "nobody@example.org", 20, "1"},                          // 1: name required
    {"bob", "bob-at-example.org", 40, "2"},                        // 2: email pattern
    {"carl", "carl@example.org", 200, "3"},                        // 3: age range
    {"dora", "dora@example.org", std::nullopt, "4"},               // ok: age missing
    {"a-very-long-name-indeed", "e@example.org", 1, "5"},          // 5: too long
    {"eve", "eve@example.org", 30, "lots"},                        // 6: not a number
    {"fay", "fay@example.org", 30, "-1"},                          // 7: user predicate
};

auto rules_for_users() {
    namespace r = sluice::rules;
    return std::make_tuple(r::required("name", &user::name), r::max_len("name", &user::name, 16),
                           r::matches("email", &user::email, R"([^@\s]+@[^@\s]+)"),
                           r::in_range("age", &user::age, 0, 150),
                           r::in_range("score", &user::score, -10.0, 10.0),
                           r::check("score must not be negative",
                                    [](const user& u) { return u.score[0] != '-'; }));
}
}  // namespace

TEST_CASE("validate passes good records and fails the run on the first bad one",
          "[adaptor][validate]") {
    auto rules = rules_for_users();
    auto stage = std::apply([](auto... r) { return sluice::validate(r...); }, rules);
    auto r = sluice::try_run(users | stage, sluice::count());
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::bad_input);
    CHECK(std::string(r.error().what()) == "validate: record 1: name: required");
}

TEST_CASE("validate dead-letters every failure with its reason", "[adaptor][validate]") {
    std::vector<sluice::poison<user>> dead;
    auto policy = sluice::on_error::dead_letter(
        [&](sluice::poison<user>&& p) { dead.push_back(std::move(p)); });
    auto rules = rules_for_users();
    auto stage = std::apply([&](auto... r) { return sluice::validate(policy, r...); }, rules);
    auto good = users | stage | sluice::to_vector();
    REQUIRE(good.size() == 2);
    CHECK(good[0].name == "ann");
    CHECK(good[1].name == "dora");
    REQUIRE(dead.size() == 6);
    CHECK(dead[0].error.message() == "name: required");
    CHECK(dead[1].error.message() == "email: does not match /[^@\\s]+@[^@\\s]+/");
    CHECK(dead[2].error.message() == "age: 200 is outside [0, 150]");
    CHECK(dead[3].error.message() == "name: longer than 16 bytes (23)");
    CHECK(dead[4].error.message() == "score: not a number: \"lots\"");
    CHECK(dead[5].error.message() == "score must not be negative");
    CHECK(dead[5].error.where().record == 7);
    CHECK(dead[5].record.name == "fay");
}

TEST_CASE("validate on lines with the identity projection and a reject limit",
          "[adaptor][validate]") {
    namespace r = sluice::rules;
    std::vector<std::string> blocks{"12\n7\nabc\n99999\n", "5\n"};
    auto pipeline = [&](std::uint64_t max) {
        return sluice::from_range(blocks) | sluice::lines() |
               sluice::validate(sluice::on_error::skip.max_rejects(max),
                                r::matches("n", r::self, "[0-9]+"), r::max_len("n", r::self, 3));
    };
    CHECK(sluice::run(pipeline(2), sluice::count()) == 3);
    auto res = sluice::try_run(pipeline(1), sluice::count());
    REQUIRE_FALSE(res);
    CHECK(res.error().code() == sluice::errc::limit);
}

TEST_CASE("an invalid pattern is a usage error at construction", "[adaptor][validate]") {
    CHECK_THROWS_AS(sluice::rules::matches("x", sluice::rules::self, "(unclosed"), sluice::error);
}
