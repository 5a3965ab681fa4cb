// Parallel stages: block-parallel gzip against single-threaded gzip on the same bytes,
// parallel_map's cost per record against a plain loop, and a CSV -> JSONL.gz-like pipeline
// (records encoded to lines, then gzip) on one thread and with prefetch + parallel gzip.
// Outputs are checked for equality (or round-tripped) before anything is timed. Report the
// figures as ratios: on a shared 2-core machine the absolute numbers move, the ratios less.
#include <benchmark/benchmark.h>

#include <sluice/adaptors/parallel_map.hpp>
#include <sluice/adaptors/prefetch.hpp>
#include <sluice/compress/parallel_gzip.hpp>
#include <sluice/sluice.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

/// About 32 MiB of CSV-like text (what a converter compresses).
const std::string& corpus() {
    static const std::string s = [] {
        std::string out;
        out.reserve(32u << 20);
        std::uint64_t st = 88172645463325252ull;
        auto rnd = [&] {
            st ^= st << 13;
            st ^= st >> 7;
            st ^= st << 17;
            return st;
        };
        static const char* names[] = {"alpha", "beta", "gamma", "delta", "Zoë", "naïve"};
        for (std::uint64_t i = 0; out.size() < (32u << 20); ++i) {
            out += std::to_string(i);
            out += ',';
            out += names[rnd() % 6];
            out += ',';
            out += std::to_string(rnd() % 100000);
            out += ".";
            out += std::to_string(rnd() % 100);
            out += ",2024-01-";
            out += std::to_string(1 + rnd() % 28);
            out += '\n';
        }
        return out;
    }();
    return s;
}

/// The corpus in 256 KiB pieces, as read_file hands them on.
const std::vector<std::string_view>& blocks() {
    static const std::vector<std::string_view> b = [] {
        std::vector<std::string_view> v;
        std::string_view s = corpus();
        while (!s.empty()) {
            v.push_back(s.substr(0, 256 * 1024));
            s.remove_prefix(v.back().size());
        }
        return v;
    }();
    return b;
}

template <class C>
std::string compress_with(C codec) {
    std::string out;
    sluice::from_range(blocks()) | sluice::compress(std::move(codec)) |
        sluice::for_each([&](sluice::chunk& c) { out.append(c.view()); });
    return out;
}

std::string gunzip(const std::string& packed) {
    std::string out;
    std::vector<std::string_view> in{packed};
    sluice::from_range(in) | sluice::decompress(sluice::gzip::zlib_decompressor()) |
        sluice::for_each([&](sluice::chunk& c) { out.append(c.view()); });
    return out;
}

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "benchmark output check failed: %s\n", what);
        std::abort();
    }
}

// --- gzip level 6: 1 vs N threads on the same bytes ----------------------------------------

void BM_gzip6_single(benchmark::State& state) {
    std::size_t size = 0;
    for (auto _ : state) size = compress_with(sluice::gzip::compressor(6)).size();
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * corpus().size()));
    state.counters["ratio_out_in"] = static_cast<double>(size) / corpus().size();
}
BENCHMARK(BM_gzip6_single)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_gzip6_parallel(benchmark::State& state) {
    const auto threads = static_cast<unsigned>(state.range(0));
    static const std::string single = compress_with(sluice::gzip::compressor(6));
    const std::string packed = compress_with(sluice::gzip::default_parallel_compressor(6, threads));
    check(gunzip(packed) == corpus(), "parallel gzip round trip");
    std::size_t size = packed.size();
    for (auto _ : state)
        size = compress_with(sluice::gzip::default_parallel_compressor(6, threads)).size();
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * corpus().size()));
    // Output size relative to the single-threaded encoder's at the same level (goal <= 1.03).
    state.counters["size_vs_single"] = static_cast<double>(size) / single.size();
}
BENCHMARK(BM_gzip6_parallel)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_gzip6_zlib_stream(benchmark::State& state) {
    // The `gzip -6` reference for output size: one zlib stream.
    std::size_t size = 0;
    for (auto _ : state) size = compress_with(sluice::gzip::zlib_compressor(6)).size();
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * corpus().size()));
    state.counters["ratio_out_in"] = static_cast<double>(size) / corpus().size();
}
BENCHMARK(BM_gzip6_zlib_stream)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- parallel_map overhead per record -------------------------------------------------------

constexpr int map_n = 1 << 20;
inline std::uint64_t work(std::uint64_t x) { return x * 0x9e3779b97f4a7c15ull >> 7; }

void BM_map_plain_loop(benchmark::State& state) {
    for (auto _ : state) {
        std::uint64_t sum = 0;
        for (int i = 0; i < map_n; ++i) sum += work(static_cast<std::uint64_t>(i));
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * map_n);
}
BENCHMARK(BM_map_plain_loop)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_parallel_map(benchmark::State& state) {
    const auto workers = static_cast<unsigned>(state.range(0));
    auto once = [&] {
        return sluice::iota(0, map_n) |
               sluice::parallel_map([](int x) { return work(static_cast<std::uint64_t>(x)); },
                                    {.workers = workers, .window = 256}) |
               sluice::fold(std::uint64_t{0}, [](std::uint64_t a, std::uint64_t b) { return a + b; });
    };
    std::uint64_t expect = 0;
    for (int i = 0; i < map_n; ++i) expect += work(static_cast<std::uint64_t>(i));
    check(once() == expect, "parallel_map sum");
    for (auto _ : state) benchmark::DoNotOptimize(once());
    state.SetItemsProcessed(state.iterations() * map_n);
}
BENCHMARK(BM_parallel_map)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- CSV -> JSONL.gz-like: records to lines, then gzip ---------------------------------------

/// Turns a CSV line into a JSON-ish object line (the shape of the converter's work).
struct jsonish_encoder {
    void encode(std::string_view line, sluice::chunk& out) {
        out.append("{\"row\":\"");
        out.append(line);
        out.append("\"}\n");
    }
};

template <class Codec>
std::string convert(Codec codec, bool pipelined) {
    std::string out;
    auto sink = sluice::for_each([&](auto& c) { out.append(sluice::bytes_of(c)); });
    auto encoded = sluice::from_range(blocks()) | sluice::lines() |
                   sluice::encode(jsonish_encoder{});
    if (pipelined)
        std::move(encoded) | sluice::prefetch(4) | sluice::compress(std::move(codec)) | sink;
    else
        std::move(encoded) | sluice::compress(std::move(codec)) | sink;
    return out;
}

void BM_convert_1thread(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(convert(sluice::gzip::compressor(6), false));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * corpus().size()));
}
BENCHMARK(BM_convert_1thread)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_convert_2threads(benchmark::State& state) {
    // Encoding on the prefetch thread, compression on two workers (2 cores: they share).
    const std::string a = convert(sluice::gzip::compressor(6), false);
    const std::string b = convert(sluice::gzip::default_parallel_compressor(6, 2), true);
    check(gunzip(a) == gunzip(b), "converter outputs");
    for (auto _ : state)
        benchmark::DoNotOptimize(convert(sluice::gzip::default_parallel_compressor(6, 2), true));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * corpus().size()));
}
BENCHMARK(BM_convert_2threads)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
