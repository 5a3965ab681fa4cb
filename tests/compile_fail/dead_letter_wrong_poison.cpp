// A dead-letter handler for CSV rows must take poison<csv::owned_row> (the owning record),
// not poison<csv::row>: one static_assert names the type it must accept (issue 11).
// expect: the handler cannot take this stage's rejects
// expect: handler_must_accept<sluice::poison<sluice::csv::owned_row>
#include <sluice/adaptors/validate.hpp>
#include <sluice/csv/csv.hpp>
#include <sluice/sluice.hpp>

#include <string>
#include <vector>

int main() {
    auto policy = sluice::on_error::dead_letter([](sluice::poison<sluice::csv::row>&&) {});
    namespace r = sluice::rules;
    return static_cast<int>(std::vector<std::string>{"id\n1\n"} | sluice::csv::read() |
                            sluice::validate(policy, r::required(r::column("id"))) |
                            sluice::count());
}
