// An encoder must accept the records it is given.
// expect: this encoder cannot encode the upstream\\?'s records
#include <sluice/sluice.hpp>

#include <vector>

struct point {
    int x, y;
};

int main() {
    std::vector<point> v{{1, 2}};
    return static_cast<int>(v | sluice::encode(sluice::line_encoder{}) | sluice::count());
}
