// Second translation unit of the ODR test: see odr1.cpp.
#include <sluice/sluice.hpp>

long long odr_count_even_2();

long long odr_count_even_2() {
    auto n =
        sluice::iota(0, 10) | sluice::filter([](int x) { return x % 2 == 0; }) | sluice::count();
    return static_cast<long long>(n);
}
