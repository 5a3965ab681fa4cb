// A reader's dead letters are text: its handler must take sluice::dead_letter_record, and
// says so in one static_assert rather than a page of std::function errors (issue 11).
// expect: this stage delivers sluice::dead_letter_record
#include <sluice/csv/csv.hpp>

int main() {
    sluice::csv::read_options o;
    o.errors = sluice::on_error::dead_letter([](const sluice::csv::owned_row&) {});
    return o.errors.fails() ? 1 : 0;
}
