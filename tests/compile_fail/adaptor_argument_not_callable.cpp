// The partial call of a stage checks its arguments before any source is piped in: map(5)
// fails at once, naming what map needs, instead of deep inside the stage.
// expect: sluice::map: the function must be a callable object
#include <sluice/sluice.hpp>

int main() {
    auto c = sluice::map(5);
    (void)c;
}
