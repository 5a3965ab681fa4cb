// filter() must reject a non-callable with one readable diagnostic naming the predicate
// concept, not a page of substitution failures.
// expect: predicate
#include <sluice/sluice.hpp>

int main() {
    auto n = sluice::iota(0, 3) | sluice::filter(42) | sluice::count();
    (void)n;
}
