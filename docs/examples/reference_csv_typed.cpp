// docs/reference.md, "csv::read<T>": typed records from a CSV file, with malformed
// records dead-lettered through `read_options::errors` instead of failing the run, and a
// value that does not convert failing the run with its position.
#include <sluice/csv/csv.hpp>
#include <sluice/sluice.hpp>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

struct order {
    std::int64_t id = 0;
    std::string customer;
    std::optional<double> total;  // an empty field reads as std::nullopt
    static constexpr auto sluice_fields =
        std::make_tuple(sluice::field("id", &order::id), sluice::field("customer", &order::customer),
                        sluice::field("total", &order::total));
};

struct dead_letter {
    std::uint64_t line, column;
    std::string raw, message;
};

int main() {
    std::ofstream("orders.csv") << "id,customer,total\n"
                                   "1,ann,12.5\n"
                                   "2,bob\n"          // too few fields
                                   "3,\"cy\"x,7\n"    // text after a closing quote
                                   "4,dan,\n";        // no total
    std::vector<dead_letter> bad;
    sluice::csv::read_options opt;
    // Skip the record and read on; the dead letter keeps its text as read.
    opt.errors = sluice::on_error::dead_letter([&](sluice::dead_letter_record&& d) {
        bad.push_back({d.where().line, d.where().column, std::move(d.raw), d.error.message()});
    });
    auto orders = sluice::read_file("orders.csv") | sluice::csv::read<order>(opt)
                | sluice::to_vector<order>();  // copies: the stage reuses one `order`

    for (const auto& d : bad)
        std::printf("dead letter: line %llu, column %llu: %s: %s", (unsigned long long)d.line,
                    (unsigned long long)d.column, d.message.c_str(), d.raw.c_str());

    // A field that does not convert is not a reader error: it fails the run, naming the
    // column and the line.
    std::ofstream("typo.csv") << "id,customer,total\n1,ann,1.5\nx2,bob,2\n";
    auto r = sluice::try_run(sluice::read_file("typo.csv") | sluice::csv::read<order>(),
                             sluice::count());
    if (!r) std::printf("typo.csv: %s\n", r.error().what());

    bool ok = orders.size() == 2 && orders[0].id == 1 && orders[0].customer == "ann" &&
              orders[0].total == 12.5 && orders[1].id == 4 && !orders[1].total &&
              bad.size() == 2 && bad[0].line == 3 && bad[0].column == 3 && bad[0].raw == "2,bob\n" &&
              bad[1].line == 4 && bad[1].column == 2 &&
              !r && r.error().code() == sluice::errc::bad_input && r.error().where().line == 3 &&
              r.error().where().column == 1;
    std::printf("%s\n", ok ? "ok" : "unexpected output");
    return ok ? 0 : 1;
}
