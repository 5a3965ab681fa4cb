// A byte sink cannot take integers: the run says so in one line.
// expect: this sink cannot take the records this pipeline yields
#include <sluice/sluice.hpp>

int main() {
    return static_cast<int>(sluice::iota(0, 3) | sluice::to_file("out.txt"));
}
