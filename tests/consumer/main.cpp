// Shared by the find_package and add_subdirectory consumer tests: exit status 0 iff a small
// pipeline built from the consumed package computes the right answer.
#include <sluice/sluice.hpp>

int main() {
    auto n =
        sluice::iota(0, 10) | sluice::filter([](int x) { return x % 2 == 0; }) | sluice::count();
    return n == 5 ? 0 : 1;
}
