#include <catch2/catch.hpp>

#include <sluice/adaptors/validate.hpp>
#include <sluice/sluice.hpp>

#include <limits>
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

// Issue 10: `!(x < lo) && !(hi < x)` holds for NaN, so `amount = nan` passed a range rule.
TEST_CASE("in_range rejects NaN and infinities unless the rule allows them", "[adaptor][validate]") {
    namespace r = sluice::rules;
    const double inf = std::numeric_limits<double>::infinity();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::string why;
    auto amount = r::in_range("amount", sluice::rules::self, 0.0, 1000.0);
    CHECK(amount.check(12.5, why));
    CHECK_FALSE(amount.check(nan, why));
    CHECK_THAT(why, Catch::StartsWith("amount: nan is not a finite number"));
    CHECK_FALSE(amount.check(inf, why));
    CHECK_FALSE(amount.check(-inf, why));
    CHECK_FALSE(amount.check(std::numeric_limits<float>::quiet_NaN(), why));
    // Text (a CSV cell, a JSON string) parses "nan" and "inf" as numbers: the same rule.
    for (std::string text : {"nan", "NaN", "-nan", "inf", "-Infinity"}) {
        INFO(text);
        CHECK_FALSE(amount.check(text, why));
        CHECK_THAT(why, Catch::Contains("is not a finite number"));
    }
    // Infinite bounds alone do not admit infinities.
    auto any = r::in_range("x", sluice::rules::self, -inf, inf);
    CHECK(any.check(1e300, why));
    CHECK_FALSE(any.check(inf, why));

    // The opt-in: NaN passes; an infinity is compared with the bounds.
    auto lax = r::in_range("amount", sluice::rules::self, 0.0, 1000.0).allow_non_finite();
    CHECK(lax.check(nan, why));
    CHECK(lax.check(std::string("nan"), why));
    CHECK_FALSE(lax.check(inf, why));
    CHECK_THAT(why, Catch::Equals("amount: inf is outside [0, 1000]"));
    CHECK_FALSE(lax.check(1001.0, why));
    auto lax_any = any.allow_non_finite();
    CHECK(lax_any.check(inf, why));
    CHECK(lax_any.check(-inf, why));

    // Through the stage: a NaN amount is a rejected record, not a passed one.
    std::vector<double> amounts{1.0, nan, 2.0, inf};
    auto kept = amounts |
                sluice::validate(sluice::on_error::skip,
                                 r::in_range("amount", sluice::rules::self, 0.0, 10.0)) |
                sluice::to_vector();
    CHECK(kept == std::vector<double>{1.0, 2.0});
}
