// A pipeline with a stage sized at run time (read_file's block) has no compile-time buffer
// bound: a static_assert on buffer_bound_v cannot pass by leaving that stage out.
// expect: pipeline buffers within 1 MiB
#include <sluice/sluice.hpp>

int main() {
    using P = decltype(sluice::read_file("data.bin") | sluice::take(1));
    static_assert(sluice::buffer_bound_v<P> <= (1u << 20), "pipeline buffers within 1 MiB");
    return 0;
}
