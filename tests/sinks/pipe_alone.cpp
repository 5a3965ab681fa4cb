// A sink's own header is enough to run a pipeline into it: `source | sink` needs the
// definition of the run (core/run.hpp), which each sink header includes. Nothing else is
// included here on purpose.
#include <catch2/catch.hpp>

#include <sluice/sinks/count.hpp>
#include <sluice/sources/iota.hpp>

TEST_CASE("a sink header alone runs `source | sink`", "[sinks][include]") {
    CHECK((sluice::iota(0, 10) | sluice::count()) == 10);
}
