// A map function must produce a value.
// expect: sluice::map: the function must be callable with the upstream record and return a value
#include <sluice/sluice.hpp>

int main() {
    return static_cast<int>(sluice::iota(0, 3) | sluice::map([](int) {}) | sluice::count());
}
