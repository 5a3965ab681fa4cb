// Compression throughput and ratio of every gzip backend (zlib, libdeflate, ISA-L) at levels
// 1 and 6, zstd at 1 and 3, and decompression, on an ~80 MiB realistic CSV generated in
// memory. Each codec's output is decoded and compared with the input before it is timed.
//
//   build/bin/bench_compress                      (all)
//   build/bin/bench_compress --benchmark_filter=gzip_6
//   SLUICE_BENCH_CORPUS=/tmp/corpus.csv build/bin/bench_compress   (also writes the corpus,
//       for benchmarks/peers/compress_peers.sh to time gzip/pigz/zstd on the same bytes)
//
// Counters: bytes_per_second is uncompressed MB/s (both directions); "ratio" is
// compressed / uncompressed; "out_bytes" the compressed size.
#include <sluice/compress/gzip.hpp>
#include <sluice/compress/gzip_zlib.hpp>
#include <sluice/compress/zstd.hpp>
#include <sluice/sluice.hpp>
#if defined(SLUICE_HAVE_LIBDEFLATE) && SLUICE_HAVE_LIBDEFLATE
#include <sluice/compress/gzip_libdeflate.hpp>
#endif
#if defined(SLUICE_HAVE_ISAL) && SLUICE_HAVE_ISAL
#include <sluice/compress/gzip_isal.hpp>
#endif

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

/// A deterministic, realistic CSV corpus of about `bytes` bytes: an event log with integer
/// ids, ISO timestamps, names (some non-ASCII), e-mails, decimals, enums and free text that
/// sometimes needs quoting (commas, doubled quotes, an embedded newline).
std::string make_csv_corpus(std::size_t bytes) {
    std::uint64_t s = 0x9e3779b97f4a7c15ull;
    auto rnd = [&s]() {  // xorshift64*
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 0x2545f4914f6cdd1dull;
    };
    static constexpr std::array<std::string_view, 16> first{
        "Anna",  "José",  "Zoë",   "Li",     "Mohammed", "Ольга", "Søren",  "Aiko",
        "Pedro", "Grace", "Émile", "Fatima", "Chen",     "Björn", "Nguyễn", "Sarah"};
    static constexpr std::array<std::string_view, 12> last{
        "Smith",   "García", "Müller", "Wang",  "Kowalski", "Ivanova",
        "O'Brien", "Tanaka", "Dubois", "Rossi", "Nakamura", "Johnson"};
    static constexpr std::array<std::string_view, 6> status{"ok",       "failed",    "pending",
                                                            "refunded", "cancelled", "shipped"};
    static constexpr std::array<std::string_view, 40> words{
        "the",       "order",    "arrived",   "late",    "and",   "box",       "was",
        "damaged",   "great",    "service",   "will",    "buy",   "again",     "product",
        "quality",   "is",       "excellent", "not",     "as",    "described", "fast",
        "delivery",  "customer", "support",   "helpful", "price", "too",       "high",
        "recommend", "to",       "friends",   "size",    "fits",  "well",      "colour",
        "différent", "très",     "bien",      "很好",    "😀"};
    std::string out;
    out.reserve(bytes + 512);
    out += "id,ts,user,email,amount,currency,status,score,comment\n";
    std::uint64_t id = 1000000, t = 1700000000;
    char buf[128];
    while (out.size() < bytes) {
        const std::uint64_t r = rnd();
        t += r % 7;
        const std::uint64_t sec = t % 60, min = (t / 60) % 60, hour = (t / 3600) % 24,
                            day = 1 + (t / 86400) % 28, mon = 1 + (t / (86400 * 28)) % 12;
        const auto& f = first[r % first.size()];
        const auto& l = last[(r >> 8) % last.size()];
        int n = std::snprintf(
            buf, sizeof buf, "%llu,2024-%02llu-%02lluT%02llu:%02llu:%02lluZ,",
            static_cast<unsigned long long>(id++), static_cast<unsigned long long>(mon),
            static_cast<unsigned long long>(day), static_cast<unsigned long long>(hour),
            static_cast<unsigned long long>(min), static_cast<unsigned long long>(sec));
        out.append(buf, static_cast<std::size_t>(n));
        out += f;
        out += ' ';
        out += l;
        out += ',';
        out += "user";
        out += std::to_string((r >> 16) % 50000);
        out += "@example.com,";
        n = std::snprintf(buf, sizeof buf, "%llu.%02llu,%s,%s,%.3f,",
                          static_cast<unsigned long long>((r >> 20) % 5000),
                          static_cast<unsigned long long>((r >> 32) % 100),
                          ((r >> 40) & 3) ? "EUR" : "USD", status[(r >> 42) % status.size()].data(),
                          static_cast<double>((r >> 44) % 100000) / 1000.0);
        out.append(buf, static_cast<std::size_t>(n));
        const std::uint64_t kind = (r >> 50) % 8;
        const std::size_t nw = 3 + (rnd() % 14);
        std::string text;
        for (std::size_t i = 0; i < nw; ++i) {
            if (i)
                text += (rnd() % 9 == 0) ? ", " : " ";
            text += words[rnd() % words.size()];
        }
        if (kind == 0)
            text += " \"\"really\"\" good";
        if (kind == 1)
            text += "\nsecond line";
        if (kind <= 1 || text.find(',') != std::string::npos) {
            out += '"';
            out += text;
            out += '"';
        } else {
            out += text;
        }
        out += '\n';
    }
    return out;
}

/// The corpus, built once (and written to $SLUICE_BENCH_CORPUS when set).
const std::string& corpus() {
    static const std::string data = [] {
        std::string d = make_csv_corpus(std::size_t{80} << 20);
        if (const char* path = std::getenv("SLUICE_BENCH_CORPUS"))
            std::ofstream(path, std::ios::binary)
                .write(d.data(), static_cast<std::streamsize>(d.size()));
        return d;
    }();
    return data;
}

/// Runs `data` through a codec stage in 64 KiB input pieces (what read_file yields), the
/// real pipeline: from_range | compress/decompress | for_each.
template <class C>
std::string run_codec(std::string_view data, C codec) {
    std::vector<std::string_view> pieces;
    for (std::size_t i = 0; i < data.size(); i += sluice::default_chunk_size)
        pieces.push_back(data.substr(i, sluice::default_chunk_size));
    std::string out;
    out.reserve(data.size() / 2);
    sluice::from_range(pieces) | sluice::compress(std::move(codec))
        | sluice::for_each([&](sluice::chunk& c) { out.append(c.view()); });
    return out;
}

/// Compression benchmark: round trip checked once, then timed.
template <class MakeEnc, class MakeDec>
void bench_compress(benchmark::State& state, MakeEnc make_enc, MakeDec make_dec) {
    const std::string& data = corpus();
    std::string packed = run_codec(data, make_enc());
    if (run_codec(packed, make_dec()) != data) {
        state.SkipWithError("round trip mismatch");
        return;
    }
    for (auto _ : state) {
        packed = run_codec(data, make_enc());
        benchmark::DoNotOptimize(packed.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
    state.counters["ratio"] = static_cast<double>(packed.size()) / static_cast<double>(data.size());
    state.counters["out_bytes"] = static_cast<double>(packed.size());
}

/// Decompression benchmark of `packed_with`'s output: checked once, then timed.
template <class MakeEnc, class MakeDec>
void bench_decompress(benchmark::State& state, MakeEnc make_enc, MakeDec make_dec) {
    const std::string& data = corpus();
    const std::string packed = run_codec(data, make_enc());
    std::string plain = run_codec(packed, make_dec());
    if (plain != data) {
        state.SkipWithError("round trip mismatch");
        return;
    }
    for (auto _ : state) {
        plain = run_codec(packed, make_dec());
        benchmark::DoNotOptimize(plain.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}

namespace gz = sluice::gzip;
auto zlib_dec = [] { return gz::zlib_decompressor(); };
auto zstd_dec = [] { return sluice::zstd::decompressor(); };

void gzip_zlib_1(benchmark::State& s) {
    bench_compress(
        s, [] { return gz::zlib_compressor(1); }, zlib_dec);
}
void gzip_zlib_6(benchmark::State& s) {
    bench_compress(
        s, [] { return gz::zlib_compressor(6); }, zlib_dec);
}
void gzip_default_6(benchmark::State& s) {
    bench_compress(
        s, [] { return gz::compressor(6); }, zlib_dec);
}
BENCHMARK(gzip_zlib_1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(gzip_zlib_6)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(gzip_default_6)->Unit(benchmark::kMillisecond)->UseRealTime();
#if defined(SLUICE_HAVE_LIBDEFLATE) && SLUICE_HAVE_LIBDEFLATE
void gzip_libdeflate_1(benchmark::State& s) {
    bench_compress(
        s, [] { return gz::libdeflate_block_compressor(1); }, zlib_dec);
}
void gzip_libdeflate_6(benchmark::State& s) {
    bench_compress(
        s, [] { return gz::libdeflate_block_compressor(6); }, zlib_dec);
}
BENCHMARK(gzip_libdeflate_1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(gzip_libdeflate_6)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif
#if defined(SLUICE_HAVE_ISAL) && SLUICE_HAVE_ISAL
// gzip-style levels: 1 -> igzip 1, 6 -> igzip 3 (see gz::detail::isal_level).
void gzip_isal_1(benchmark::State& s) {
    bench_compress(
        s, [] { return gz::isal_compressor(1); }, zlib_dec);
}
void gzip_isal_6(benchmark::State& s) {
    bench_compress(
        s, [] { return gz::isal_compressor(6); }, zlib_dec);
}
BENCHMARK(gzip_isal_1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(gzip_isal_6)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif
void zstd_1(benchmark::State& s) {
    bench_compress(
        s, [] { return sluice::zstd::compressor(1); }, zstd_dec);
}
void zstd_3(benchmark::State& s) {
    bench_compress(
        s, [] { return sluice::zstd::compressor(3); }, zstd_dec);
}
BENCHMARK(zstd_1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(zstd_3)->Unit(benchmark::kMillisecond)->UseRealTime();

// Decompression of level-6 gzip / level-3 zstd output.
void gunzip_zlib(benchmark::State& s) {
    bench_decompress(
        s, [] { return gz::compressor(6); }, zlib_dec);
}
BENCHMARK(gunzip_zlib)->Unit(benchmark::kMillisecond)->UseRealTime();
#if defined(SLUICE_HAVE_ISAL) && SLUICE_HAVE_ISAL
void gunzip_isal(benchmark::State& s) {
    bench_decompress(
        s, [] { return gz::compressor(6); }, [] { return gz::isal_decompressor(); });
}
BENCHMARK(gunzip_isal)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif
void unzstd(benchmark::State& s) {
    bench_decompress(
        s, [] { return sluice::zstd::compressor(3); }, zstd_dec);
}
BENCHMARK(unzstd)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
