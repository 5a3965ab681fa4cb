// The README's example, compiled and run as a test: orders.csv -> paid orders as gzipped
// JSON lines.
#include <sluice/adaptors/compress.hpp>
#include <sluice/adaptors/encode.hpp>
#include <sluice/adaptors/filter.hpp>
#include <sluice/compress/gzip.hpp>
#include <sluice/csv/read.hpp>
#include <sluice/json/jsonl_encoder.hpp>
#include <sluice/sinks/to_file.hpp>
#include <sluice/sources/read_file.hpp>
// For reading it back:
#include <sluice/adaptors/lines.hpp>
#include <sluice/sinks/to_vector.hpp>

#include <cstdio>
#include <fstream>

int main() {
    std::ofstream("orders.csv") << "id,paid\n1,true\n2,false\n3,true\n";

    // Laid out as in README.md.
    // clang-format off
    auto bytes = sluice::read_file("orders.csv") | sluice::csv::read()
               | sluice::filter([](const sluice::csv::row& r) { return r["paid"] == "true"; })
               | sluice::encode(sluice::json::jsonl_encoder{})
               | sluice::compress(sluice::gzip::compressor(6))
               | sluice::to_file("paid.jsonl.gz");
    // clang-format on

    // Read it back the same way and check the two paid orders arrived.
    auto lines = sluice::read_file("paid.jsonl.gz")
                 | sluice::decompress(sluice::gzip::decompressor()) | sluice::lines()
                 | sluice::to_vector();
    bool ok = bytes > 0 && lines.size() == 2 && lines[0] == R"({"id":"1","paid":"true"})"
              && lines[1] == R"({"id":"3","paid":"true"})";
    std::printf("%s\n", ok ? "ok" : "unexpected output");
    return ok ? 0 : 1;
}
