// The README's ten-line example as a program: orders.csv -> paid orders as gzipped JSON
// lines. Its compile time is measured against fstream_baseline.cpp by measure.sh
// (docs/benchmarks.md, "Header cost"). Keep it in step with README.md.
#include <sluice/adaptors/compress.hpp>
#include <sluice/adaptors/encode.hpp>
#include <sluice/adaptors/filter.hpp>
#include <sluice/compress/gzip.hpp>
#include <sluice/csv/read.hpp>
#include <sluice/json/jsonl_encoder.hpp>
#include <sluice/sinks/to_file.hpp>
#include <sluice/sources/read_file.hpp>

int main() {
    // Laid out as in README.md.
    // clang-format off
    sluice::read_file("orders.csv") | sluice::csv::read()
        | sluice::filter([](const sluice::csv::row& r) { return r["paid"] == "true"; })
        | sluice::encode(sluice::json::jsonl_encoder{})
        | sluice::compress(sluice::gzip::compressor(6))
        | sluice::to_file("paid.jsonl.gz");
    // clang-format on
}
