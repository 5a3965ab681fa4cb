// Two translation units include the same headers and instantiate the same pipeline; linking
// them into one program catches non-inline definitions at namespace scope (duplicate symbols)
// and, with -Wodr under LTO, inconsistent inline definitions. main() lives here.
#include <sluice/sluice.hpp>

#include <cstdio>

long long odr_count_even_1();
long long odr_count_even_2();

long long odr_count_even_1() {
    auto n =
        sluice::iota(0, 10) | sluice::filter([](int x) { return x % 2 == 0; }) | sluice::count();
    return static_cast<long long>(n);
}

int main() {
    const long long a = odr_count_even_1();
    const long long b = odr_count_even_2();
    if (a != 5 || b != 5) {
        std::fprintf(stderr, "odr: expected 5 and 5, got %lld and %lld\n", a, b);
        return 1;
    }
    return 0;
}
