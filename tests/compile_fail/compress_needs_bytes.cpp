// compress() takes bytes; records must be encoded first.
// expect: the upstream must yield bytes
#include <sluice/sluice.hpp>

int main() {
    return static_cast<int>(sluice::iota(0, 3) | sluice::compress(sluice::identity_codec{}) |
                            sluice::count());
}
