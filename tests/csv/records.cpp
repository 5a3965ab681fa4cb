// User structs: the field list (record/fields.hpp), csv::read<T>, csv::as<T> and encoding.
#include <catch2/catch.hpp>

#include <sluice/csv/csv.hpp>
#include <sluice/record/fields.hpp>
#include <sluice/sluice.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace csv = sluice::csv;

namespace {
/// The bytes an encoding pipeline yields (chunks are move-only, so no to_vector).
template <class P>
std::string collect(P&& p) {
    std::string s;
    for (sluice::chunk& c : p) s += c.view();
    return s;
}

struct order {
    std::int64_t id = 0;
    std::string customer;
    std::optional<double> total;
    bool paid = false;
    static constexpr auto sluice_fields =
        std::make_tuple(sluice::field("id", &order::id), sluice::field("customer", &order::customer),
                        sluice::field("total", &order::total), sluice::field("paid", &order::paid));
    friend bool operator==(const order&, const order&) = default;
};
}  // namespace

namespace geo {
struct point {
    int x = 0;
    int y = 0;
    friend bool operator==(const point&, const point&) = default;
};
// The ADL form, for types that cannot get a member.
constexpr auto sluice_fields(sluice::type_tag<point>) {
    return std::make_tuple(sluice::field("x", &point::x), sluice::field("y", &point::y));
}
}  // namespace geo

static_assert(sluice::has_fields<order> && sluice::has_fields<geo::point>);
static_assert(!sluice::has_fields<int>);
static_assert(sluice::field_count_v<order> == 4);
static_assert(sluice::field_names<geo::point>()[1] == "y");

TEST_CASE("for_each_field visits members in order", "[csv][records]") {
    order o{1, "ann", 2.5, true};
    std::vector<std::string> names;
    sluice::for_each_field(o, [&](std::string_view n, auto&) { names.emplace_back(n); });
    CHECK(names == std::vector<std::string>{"id", "customer", "total", "paid"});
    geo::point p;
    sluice::for_each_field(p, [](std::string_view, int& v, auto index) { v = int(index) + 10; });
    CHECK(p == geo::point{10, 11});
}

TEST_CASE("csv::read<T> maps columns by header name", "[csv][records]") {
    std::vector<std::string> src{"paid,extra,customer,id,total\ntrue,x,\"Ann, Inc\",7,9.5\n0,y,Bob,8,\n"};
    auto v = sluice::from_range(src) | csv::read<order>() | sluice::to_vector();
    REQUIRE(v.size() == 2);
    CHECK(v[0] == order{7, "Ann, Inc", 9.5, true});
    CHECK(v[1] == order{8, "Bob", std::nullopt, false});
    // The same through csv::as.
    auto w = sluice::from_range(src) | csv::read() | csv::as<order>() | sluice::to_vector();
    CHECK(w == v);
}

TEST_CASE("without a header, columns are positional", "[csv][records]") {
    csv::read_options o;
    o.header = false;
    std::vector<std::string> src{"1,2\n-3,4\n"};
    auto v = sluice::from_range(src) | csv::read<geo::point>(o) | sluice::to_vector();
    CHECK(v == std::vector<geo::point>{{1, 2}, {-3, 4}});
}

TEST_CASE("record errors name the column and the line", "[csv][records]") {
    std::vector<std::string> src{"id,customer,total,paid\n1,a,,true\n\n2,b,x,true\n"};
    try {
        (void)(sluice::from_range(src) | csv::read<order>() | sluice::to_vector());
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::bad_input);
        CHECK(e.where().line == 4);
        CHECK(e.where().column == 3);
        CHECK_THAT(e.message(), Catch::Contains("'total'") && Catch::Contains("double"));
    }
    std::vector<std::string> missing{"id,customer\n1,a\n"};
    CHECK_THROWS_WITH(sluice::from_range(missing) | csv::read<order>() | sluice::to_vector(),
                      Catch::Contains("no column 'total'"));
}

TEST_CASE("structs encode with their field names as header", "[csv][records]") {
    std::vector<order> orders{{1, "a,b", 1.25, true}, {2, "", std::nullopt, false}};
    std::string out = collect(orders | sluice::encode(csv::encoder{}));
    CHECK(out == "id,customer,total,paid\n1,\"a,b\",1.25,true\n2,,,false\n");
    // ...and read back to the same values.
    std::vector<std::string> src{out};
    CHECK((sluice::from_range(src) | csv::read<order>() | sluice::to_vector()) == orders);

    // for_record writes the header even without records.
    std::vector<order> none;
    std::string h = collect(none | sluice::encode(csv::encoder::for_record<order>()));
    CHECK(h == "id,customer,total,paid\n");
}
