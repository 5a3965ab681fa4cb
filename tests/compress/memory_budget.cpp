// Codecs under a run's memory budget: parallel gzip lowers its threads (and keeps its output),
// libzstd's workers are dropped, a zstd decoder's window is capped (a frame needing more
// fails naming the budget), the codec stages report their state through any_codec.
#include <catch2/catch.hpp>

#include <sluice/compress/auto_decompress.hpp>
#include <sluice/compress/parallel_gzip.hpp>
#include <sluice/compress/zstd.hpp>

#include <optional>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace sluice_test;

namespace {

constexpr std::size_t mib = std::size_t{1} << 20;

/// `data` through `compress(codec)` into a string, under `opts`; the plan's text is kept.
template <class Codec>
std::string compress_with(const std::string& data, Codec codec, sluice::run_options opts,
                          std::string* plan = nullptr,
                          std::vector<sluice::memory_item>* items = nullptr) {
    std::string out;
    opts.on_memory_plan = [plan, items](const sluice::memory_plan& p) {
        if (plan)
            *plan = p.breakdown();
        if (items)
            *items = p.items();
    };
    auto chunks = split_chunks(data);
    sluice::run(sluice::from_range(chunks) | sluice::compress(std::move(codec)),
                sluice::for_each([&](sluice::chunk& c) { out.append(c.view()); }), opts);
    return out;
}

}  // namespace

TEST_CASE("parallel gzip keeps as many threads as its grant holds, output unchanged",
          "[compress][parallel_gzip][memory_budget]") {
    const std::string data = text_bytes(6 * mib);
    // No budget: four threads, four slots.
    sluice::gzip::default_parallel_compressor wide(6, 4);
    std::string plan;
    std::vector<sluice::memory_item> items;
    const std::string reference = compress_with(data, std::move(wide), {}, &plan, &items);
    REQUIRE(items.size() == 2);  // the output chunk, the threads
    REQUIRE(items[1].adaptive);
    // The minimum is one thread's worth, the preferred four: each thread adds the same.
    const std::size_t per_thread = (items[1].preferred - items[1].minimum) / 3;
    CHECK(per_thread >= 2 * mib);  // at least a block in and its compressed form

    // A budget with room for two threads (and a bit) beside the output chunk.
    sluice::gzip::default_parallel_compressor narrow(6, 4);
    sluice::run_options o;
    o.memory_budget = items[0].bytes + items[1].minimum + per_thread + per_thread / 2;
    const std::string packed = compress_with(data, std::move(narrow), o, &plan);
    CHECK_THAT(plan, Catch::Contains("gzip threads: 2 of 4"));
    // Members are the same 1 MiB blocks whatever the thread count: byte-identical output.
    CHECK(packed == reference);
    CHECK(decompress_all(packed, sluice::gzip::zlib_decompressor()) == data);

    // Below one thread's worth the run is refused before the first block.
    o.memory_budget = 2 * mib;
    sluice::gzip::default_parallel_compressor none(6, 4);
    CHECK_THROWS_WITH(
        compress_with(data, std::move(none), o),
        Catch::Contains("memory budget of 2.0 MiB exceeded") && Catch::Contains("gzip threads"));
}

TEST_CASE("libzstd's workers are dropped to fit a budget", "[compress][zstd][memory_budget]") {
    const std::string data = text_bytes(3 * mib);
    sluice::run_options o;
    o.memory_budget = 8 * mib;  // the context alone (about 3.5 MiB at level 3), no worker
    std::string plan;
    const std::string packed = compress_with(data, sluice::zstd::compressor(3, 4), o, &plan);
    CHECK_THAT(plan, Catch::Contains("zstd workers: 0 of 4"));
    CHECK(decompress_all(packed, sluice::zstd::decompressor()) == data);
}

TEST_CASE("a budget caps the zstd window a decoder accepts", "[compress][zstd][memory_budget]") {
    // Level 19 streams with an 8 MiB window (the frame header says so).
    const std::string data = random_bytes(mib / 2) + text_bytes(mib);
    const std::string packed = compress_all(data, sluice::zstd::compressor(19));
    auto decode = [&](std::optional<std::size_t> budget) {
        std::string out;
        sluice::run_options o;
        o.memory_budget = budget;
        auto pieces = split_chunks(packed);
        sluice::run(sluice::from_range(pieces) | sluice::auto_decompress("data.zst"),
                    sluice::for_each([&](sluice::chunk& c) { out.append(c.view()); }), o);
        return out;
    };
    CHECK(decode(std::nullopt) == data);
    CHECK(decode(64 * mib) == data);
    // Room for a 1 MiB window only: the frame is refused, and the error says why.
    CHECK_THROWS_WITH(decode(2 * mib),
                      Catch::Contains("memory budget allows a window of 1024 KiB"));
}

TEST_CASE("codec stages report their state through any_codec", "[compress][memory_budget]") {
    std::string plan;
    sluice::run_options o;
    o.on_memory_plan = [&](const sluice::memory_plan& p) { plan = p.breakdown(); };
    auto chunks = split_chunks(text_bytes(1000));
    sluice::any_codec c =
        sluice::compression::make_parallel_compressor(sluice::compression::format::gzip, 6, 1);
    sluice::run(sluice::from_range(chunks) | sluice::compress(std::move(c)),
                sluice::for_each([](sluice::chunk&) {}), o);
    CHECK_THAT(plan, Catch::Contains("compress"));
    CHECK_THAT(plan, Catch::Contains("output chunk"));
    CHECK_THAT(plan, Catch::Contains("gzip block in and out") || Catch::Contains("deflate window"));
}
