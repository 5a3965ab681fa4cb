// iota | filter | map | sum over 10^8 elements: sluice's fused push path against the same
// hand-written loop, std::views and range-v3. Outputs are checked equal before timing.
#include <benchmark/benchmark.h>

#include <sluice/sluice.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <range/v3/numeric/accumulate.hpp>
#include <range/v3/view/filter.hpp>
#include <range/v3/view/iota.hpp>
#include <range/v3/view/transform.hpp>
#include <ranges>

namespace {

constexpr std::int64_t n = 100'000'000;

// Opaque bound so no implementation can fold the whole loop at compile time.
std::int64_t bound() {
    benchmark::DoNotOptimize(n);
    return n;
}

inline bool keep(std::int64_t x) { return x % 3 != 0; }
inline std::int64_t transform(std::int64_t x) { return x * x + 1; }

SLUICE_NOINLINE std::int64_t hand_written(std::int64_t last) {
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < last; ++i)
        if (keep(i)) sum += transform(i);
    return sum;
}

SLUICE_NOINLINE std::int64_t with_sluice(std::int64_t last) {
    return sluice::iota(std::int64_t{0}, last) | sluice::filter([](std::int64_t x) { return keep(x); }) |
           sluice::map([](std::int64_t x) { return transform(x); }) |
           sluice::fold(std::int64_t{0}, std::plus<>{});
}

SLUICE_NOINLINE std::int64_t with_sluice_pull(std::int64_t last) {
    std::int64_t sum = 0;
    for (std::int64_t x : sluice::iota(std::int64_t{0}, last) |
                              sluice::filter([](std::int64_t x) { return keep(x); }) |
                              sluice::map([](std::int64_t x) { return transform(x); }))
        sum += x;
    return sum;
}

SLUICE_NOINLINE std::int64_t with_std_views(std::int64_t last) {
    std::int64_t sum = 0;
    for (std::int64_t x : std::views::iota(std::int64_t{0}, last) |
                              std::views::filter([](std::int64_t x) { return keep(x); }) |
                              std::views::transform([](std::int64_t x) { return transform(x); }))
        sum += x;
    return sum;
}

SLUICE_NOINLINE std::int64_t with_range_v3(std::int64_t last) {
    return ranges::accumulate(ranges::views::iota(std::int64_t{0}, last) |
                                  ranges::views::filter([](std::int64_t x) { return keep(x); }) |
                                  ranges::views::transform([](std::int64_t x) { return transform(x); }),
                              std::int64_t{0});
}

template <std::int64_t (*F)(std::int64_t)>
void run(benchmark::State& state) {
    std::int64_t last = bound();
    for (auto _ : state) {
        // Re-opaque the bound each iteration, so the loop cannot be hoisted out of timing.
        benchmark::DoNotOptimize(last);
        benchmark::ClobberMemory();
        std::int64_t r = F(last);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations() * last);
}

void check_equal() {
    std::int64_t last = bound() / 100;
    std::int64_t want = hand_written(last);
    if (with_sluice(last) != want || with_sluice_pull(last) != want ||
        with_std_views(last) != want || with_range_v3(last) != want) {
        std::fprintf(stderr, "pipeline benchmark: implementations disagree\n");
        std::exit(1);
    }
}

// Encoding records into chunks: bytes/s of iota | map | encode(line_encoder).
void encode_chunks(benchmark::State& state) {
    std::int64_t rows = 10'000'000;
    std::size_t bytes = 0;
    for (auto _ : state) {
        bytes = sluice::iota(std::int64_t{0}, rows) |
                sluice::map([](std::int64_t x) { return x * 2654435761 % 1000000007; }) |
                sluice::encode(sluice::line_encoder{}) |
                sluice::fold(std::size_t{0}, [](std::size_t a, sluice::chunk& c) {
                    benchmark::DoNotOptimize(c.data());
                    return a + c.size();
                });
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.SetItemsProcessed(state.iterations() * rows);
}

}  // namespace

BENCHMARK(run<hand_written>)->Name("sum/hand_written")->Unit(benchmark::kMillisecond);
BENCHMARK(run<with_sluice>)->Name("sum/sluice_push")->Unit(benchmark::kMillisecond);
BENCHMARK(run<with_sluice_pull>)->Name("sum/sluice_pull")->Unit(benchmark::kMillisecond);
BENCHMARK(run<with_std_views>)->Name("sum/std_views")->Unit(benchmark::kMillisecond);
BENCHMARK(run<with_range_v3>)->Name("sum/range_v3")->Unit(benchmark::kMillisecond);
BENCHMARK(encode_chunks)->Name("encode/line_encoder")->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
    check_equal();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
}
