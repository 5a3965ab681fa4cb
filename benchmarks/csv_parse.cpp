// CSV reader and encoder throughput on ~100 MB of realistic CSV held in memory: mixed
// numeric and text columns, some fields quoted (commas, doubled quotes, newlines), some
// non-ASCII text. The reader is fed 256 KiB blocks from memory, as read_file would.
#include <benchmark/benchmark.h>

#include <sluice/csv/encoder.hpp>
#include <sluice/csv/read.hpp>
#include <sluice/sluice.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace csv = sluice::csv;

struct corpus {
    std::string text;
    std::vector<std::string_view> blocks;
    std::uint64_t rows = 0;
    std::uint64_t fields = 0;
    std::vector<std::vector<std::string>> sample_rows;  // for the encoder benchmark
};

/// Deterministic generator of an events-like table (10 columns).
corpus make_corpus(std::size_t target_bytes) {
    corpus c;
    std::mt19937_64 rng(42);
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    static const char* words[] = {"alpha", "beta", "gamma", "delta", "kappa", "omega", "sigma",
                                  "Zürich", "naïve", "東京", "café", "data", "stream", "pipe"};
    auto text = [&](std::size_t nwords, bool specials) {
        std::string s;
        for (std::size_t i = 0; i < nwords; ++i) {
            if (i) s += ' ';
            s += words[pick(14)];
            if (specials) {
                std::size_t r = pick(40);
                if (r == 0) s += ", and";
                if (r == 1) s += " \"quoted\"";
                if (r == 2) s += "\nnext line";
            }
        }
        return s;
    };
    csv::encoder enc;
    sluice::chunk out;
    out.reserve(target_bytes + 4096);
    std::vector<std::string> row(10);
    std::vector<std::string> header{"id", "user_id", "created_at", "kind", "title",
                                    "amount", "flag", "tags", "note", "country"};
    enc.encode(header, out);  // header line
    while (out.size() < target_bytes) {
        row[0] = std::to_string(c.rows + 1);
        row[1] = std::to_string(rng() % 1000000);
        row[2] = "2024-0" + std::to_string(1 + pick(9)) + "-1" + std::to_string(pick(10)) +
                 "T12:3" + std::to_string(pick(10)) + ":00Z";
        row[3] = words[pick(7)];
        row[4] = text(2 + pick(5), true);
        row[5] = std::to_string(pick(100000)) + "." + std::to_string(pick(100));
        row[6] = pick(2) ? "true" : "false";
        row[7] = "{" + std::string(words[pick(14)]) + "," + words[pick(14)] + "}";
        row[8] = pick(4) == 0 ? std::string() : text(1 + pick(8), true);
        row[9] = pick(3) ? "DE" : "JP";
        if (c.sample_rows.size() < 100000) c.sample_rows.push_back(row);
        enc.encode(row, out);
        ++c.rows;
        c.fields += row.size();
    }
    c.text.assign(out.view());
    for (std::size_t i = 0; i < c.text.size(); i += 256 * 1024)
        c.blocks.push_back(std::string_view(c.text).substr(i, 256 * 1024));
    return c;
}

const corpus& data() {
    static const corpus c = [] {
        corpus k = make_corpus(100u << 20);
        // Check the reader's output before timing anything.
        std::uint64_t rows = 0, fields = 0;
        for (const csv::row& r : sluice::from_range(k.blocks) | csv::read()) {
            ++rows;
            fields += r.size();
        }
        if (rows != k.rows || fields != k.fields) {
            std::fprintf(stderr, "csv_parse: reader mismatch: %llu rows / %llu fields, want %llu / %llu\n",
                         static_cast<unsigned long long>(rows), static_cast<unsigned long long>(fields),
                         static_cast<unsigned long long>(k.rows),
                         static_cast<unsigned long long>(k.fields));
            std::abort();
        }
        return k;
    }();
    return c;
}

/// Field splitting through the push path (how sinks drive a pipeline).
void csv_read_fields(benchmark::State& state) {
    const corpus& c = data();
    for (auto _ : state) {
        std::uint64_t fields = 0;
        auto p = sluice::from_range(c.blocks) | csv::read();
        p.for_each_while([&](const csv::row& r) {
            fields += r.size();
            return true;
        });
        if (fields != c.fields) state.SkipWithError("field count mismatch");
        benchmark::DoNotOptimize(fields);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.text.size()));
    state.counters["rows/s"] = benchmark::Counter(static_cast<double>(state.iterations() * c.rows),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(csv_read_fields)->Unit(benchmark::kMillisecond)->MinTime(2.0);

/// The same, touching every field's bytes (sum of lengths and first bytes).
void csv_read_touch(benchmark::State& state) {
    const corpus& c = data();
    for (auto _ : state) {
        std::uint64_t sum = 0;
        for (const csv::row& r : sluice::from_range(c.blocks) | csv::read())
            for (std::string_view f : r) sum += f.size() + (f.empty() ? 0 : static_cast<unsigned char>(f[0]));
        benchmark::DoNotOptimize(sum);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.text.size()));
}
BENCHMARK(csv_read_touch)->Unit(benchmark::kMillisecond)->MinTime(2.0);

/// Without UTF-8 validation, to show its cost.
void csv_read_no_utf8_check(benchmark::State& state) {
    const corpus& c = data();
    csv::read_options o;
    o.utf8 = csv::utf8_mode::ignore;
    for (auto _ : state) {
        std::uint64_t fields = 0;
        auto p = sluice::from_range(c.blocks) | csv::read(o);
        p.for_each_while([&](const csv::row& r) {
            fields += r.size();
            return true;
        });
        benchmark::DoNotOptimize(fields);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.text.size()));
}
BENCHMARK(csv_read_no_utf8_check)->Unit(benchmark::kMillisecond)->MinTime(2.0);

/// Encoding rows of strings (100k distinct rows, cycled), counted in output bytes.
void csv_encode_rows(benchmark::State& state) {
    const corpus& c = data();
    csv::encoder enc;
    sluice::chunk out;
    out.reserve(1 << 20);
    std::uint64_t bytes = 0;
    for (auto _ : state) {
        for (const auto& r : c.sample_rows) {
            enc.encode(r, out);
            if (out.size() >= (1 << 20) - 4096) {
                bytes += out.size();
                benchmark::DoNotOptimize(out.data());
                out.clear();
            }
        }
    }
    bytes += out.size();
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(csv_encode_rows)->Unit(benchmark::kMillisecond);

/// Re-encoding the reader's rows: CSV -> CSV through sluice::encode.
void csv_read_encode(benchmark::State& state) {
    const corpus& c = data();
    for (auto _ : state) {
        std::uint64_t bytes = 0;
        auto p = sluice::from_range(c.blocks) | csv::read() | sluice::encode(csv::encoder{});
        p.for_each_while([&](sluice::chunk& ch) {
            bytes += ch.size();
            return true;
        });
        if (bytes != c.text.size()) state.SkipWithError("re-encoded size differs from the input");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.text.size()));
}
BENCHMARK(csv_read_encode)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
