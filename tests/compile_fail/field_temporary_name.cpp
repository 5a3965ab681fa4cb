// A field's name is kept as a view: a temporary std::string would dangle (issue 10).
// expect: must outlive the field list
#include <sluice/record/fields.hpp>

#include <string>

struct point {
    int x, y;
};

int main() {
    std::string prefix = "p";
    auto f = sluice::field(prefix + "x", &point::x);
    return f.name.empty() ? 1 : 0;
}
