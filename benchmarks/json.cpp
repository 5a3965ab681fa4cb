// The JSON layer's hot paths, in bytes per second:
//   - JSONL encoding of string records (the CSV -> JSONL case: every value a JSON string),
//   - JSONL reading of Postgres-row_to_json-like records (numbers, strings with escapes and
//     unicode, nested arrays and objects), full validation included,
//   - the string escaper against a byte-at-a-time loop.
// Each benchmark checks its output (record counts, a round trip) before timing.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/json/jsonl_encoder.hpp>
#include <sluice/json/jsonl_reader.hpp>
#include <sluice/sluice.hpp>

namespace {

namespace json = sluice::json;

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "benchmark check failed: %s\n", what);
        std::abort();
    }
}

/// A deterministic generator (no <random> distribution differences between libraries).
struct lcg {
    std::uint64_t s = 0x9e3779b97f4a7c15ull;
    std::uint64_t next() {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        return s >> 33;
    }
    std::uint64_t below(std::uint64_t n) { return next() % n; }
};

// --- encoding: CSV-like string rows -> JSONL ---------------------------------------------

/// The shape of a CSV row (size, operator[], name): what the CSV reader yields.
struct string_row {
    const std::vector<std::string>* names;
    std::vector<std::string> values;
    std::size_t size() const { return values.size(); }
    std::string_view operator[](std::size_t i) const { return values[i]; }
    std::string_view name(std::size_t i) const { return (*names)[i]; }
};

const std::vector<std::string> event_names{"event_id", "user_id", "ts",      "type",
                                           "amount",   "country", "comment", "tags"};

std::vector<string_row> make_string_rows(std::size_t n) {
    static const char* types[] = {"click", "view", "purchase", "signup"};
    static const char* comments[] = {"", "plain words only", "he said \"wow\", then left",
                                     "multi\nline\ncomment", "caf\xc3\xa9 \xe2\x98\x95 na\xc3\xafve",
                                     "tab\tseparated\\path"};
    lcg r;
    std::vector<string_row> rows;
    rows.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        string_row row{&event_names, {}};
        row.values = {std::to_string(1000000 + i),
                      std::to_string(r.below(1000000)),
                      "2024-03-" + std::to_string(10 + r.below(18)) + "T12:34:56Z",
                      types[r.below(4)],
                      std::to_string(r.below(100000)) + "." + std::to_string(10 + r.below(90)),
                      r.below(2) ? "DE" : "US",
                      comments[r.below(6)],
                      "a;b;c"};
        rows.push_back(std::move(row));
    }
    return rows;
}

void BM_encode_jsonl_string_rows(benchmark::State& state) {
    auto rows = make_string_rows(100000);
    auto encode_all = [&] {
        std::size_t bytes = 0;
        for (auto& c : sluice::from_range(rows) | sluice::encode(json::jsonl_encoder{}))
            bytes += c.size();
        return bytes;
    };
    // Check: the output reads back as the same number of records with the same values.
    std::string all;
    for (auto& c : sluice::from_range(rows) | sluice::encode(json::jsonl_encoder{}))
        all += c.view();
    std::size_t n = 0;
    for (const auto& rec : sluice::from_range(std::vector<std::string>{all}) | json::read_jsonl()) {
        check(rec.size() == event_names.size(), "field count");
        check(rec["comment"].str() == rows[n].values[6], "comment round trip");
        ++n;
    }
    check(n == rows.size(), "record count");
    std::size_t bytes = 0;
    for (auto _ : state) {
        bytes = encode_all();
        benchmark::DoNotOptimize(bytes);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes * state.iterations()));
    state.counters["records/s"] =
        benchmark::Counter(static_cast<double>(rows.size() * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_encode_jsonl_string_rows)->Unit(benchmark::kMillisecond);

// --- reading: row_to_json-like JSONL -----------------------------------------------------

std::string make_pg_jsonl(std::size_t n) {
    static const char* notes[] = {"ok", "said \\\"hi\\\"\\nthen left", "caf\xc3\xa9 \xe2\x98\x95",
                                  "\\u00e9t\\u00e9 \\ud83d\\ude00", "path C:\\\\tmp\\\\x", ""};
    lcg r;
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        s += "{\"id\":" + std::to_string(i + 1);
        s += ",\"user_id\":" + std::to_string(r.below(10000000));
        s += ",\"amount\":" + std::to_string(r.below(100000)) + "." + std::to_string(10 + r.below(90));
        s += ",\"big\":12345678901234567890";
        s += ",\"ratio\":" + std::to_string(r.below(1000)) + "e-3";
        s += ",\"status\":\"";
        s += r.below(2) ? "shipped" : "pending";
        s += "\",\"note\":\"";
        s += notes[r.below(6)];
        s += "\",\"created_at\":\"2024-01-02T03:04:05.123456+00:00\"";
        s += ",\"active\":";
        s += r.below(2) ? "true" : "false";
        s += ",\"deleted_at\":null";
        s += ",\"tags\":[\"a\",\"b\",\"" + std::to_string(r.below(100)) + "\"]";
        s += ",\"meta\":{\"ip\":\"10.0.0." + std::to_string(r.below(255)) +
             "\",\"score\":0.75,\"flags\":[true,false,null],\"nested\":{\"k\":[1,2,3]}}";
        s += "}\n";
    }
    return s;
}

/// The input as a byte source would deliver it: 256 KiB blocks.
std::vector<std::string> blocks_of(const std::string& s, std::size_t block = 256 * 1024) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < s.size(); i += block) out.push_back(s.substr(i, block));
    return out;
}

void BM_read_jsonl_pg_rows(benchmark::State& state) {
    const std::size_t n = 100000;
    std::string input = make_pg_jsonl(n);
    auto blocks = blocks_of(input);
    // Check: every record parses, and re-encoding reproduces the input byte for byte.
    std::string again;
    for (auto& c : sluice::from_range(blocks) | json::read_jsonl() | sluice::encode(json::jsonl_encoder{}))
        again += c.view();
    check(again == input, "re-encoded output equals the input");
    for (auto _ : state) {
        std::size_t records = 0, width = 0;
        for (const auto& rec : sluice::from_range(blocks) | json::read_jsonl()) {
            ++records;
            width += rec.size();
        }
        check(records == n && width == n * 12, "record and field counts");
        benchmark::DoNotOptimize(width);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(input.size() * state.iterations()));
    state.counters["records/s"] =
        benchmark::Counter(static_cast<double>(n * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_read_jsonl_pg_rows)->Unit(benchmark::kMillisecond);

// JSONL -> JSONL (read, validate, re-emit): the pass-through cost of the two halves together.
void BM_read_and_reencode_jsonl(benchmark::State& state) {
    std::string input = make_pg_jsonl(100000);
    auto blocks = blocks_of(input);
    for (auto _ : state) {
        std::size_t bytes = 0;
        for (auto& c : sluice::from_range(blocks) | json::read_jsonl() |
                           sluice::encode(json::jsonl_encoder{}))
            bytes += c.size();
        check(bytes == input.size(), "output size");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(input.size() * state.iterations()));
}
BENCHMARK(BM_read_and_reencode_jsonl)->Unit(benchmark::kMillisecond);

// --- the escaper ----------------------------------------------------------------------------

std::vector<std::string> escape_corpus() {
    std::vector<std::string> v;
    for (const auto& row : make_string_rows(20000))
        for (const auto& s : row.values) v.push_back(s);
    return v;
}

/// The values of the events data set's CSV rows (docs/benchmarks.md): short numbers and
/// flags, a timestamp, an e-mail address, a name (some UTF-8), a JSON payload with eight
/// quotes to escape, a note that is mostly empty - the CSV -> JSONL hot path's inputs.
std::vector<std::string> events_corpus() {
    static const char* first[] = {"Mary", "Jos\xc3\xa9", "Wei", "Fatima", "Olu", "Mar\xc3\xad" "a"};
    static const char* last[] = {"Kowalski", "Rossi", "Nguyen", "O'Brien", "Schmidt", "Garc\xc3\xad" "a"};
    static const char* src[] = {"import", "api", "web", "batch"};
    static const char* notes[] = {"", "", "", "Customer asked for an invoice copy", "", "call back, after 5pm"};
    lcg r;
    std::vector<std::string> v;
    for (std::size_t i = 0; i < 20000; ++i) {
        const char* f = first[r.below(6)];
        const char* l = last[r.below(6)];
        v.push_back(std::to_string(i + 1));
        v.push_back(std::to_string(r.below(5000)));
        v.push_back("2023-0" + std::to_string(1 + r.below(9)) + "-1" + std::to_string(r.below(10)) +
                    " 19:34:45." + std::to_string(100000 + r.below(900000)) + "+00");
        v.push_back(std::string(f) + "." + l + std::to_string(i) + "@example.io");
        v.push_back(std::string(f) + " " + l);
        v.push_back(std::to_string(r.below(20000)) + "." + std::to_string(10 + r.below(90)));
        v.push_back(r.below(2) ? "t" : "f");
        v.push_back(r.below(3) ? "{vip}" : "{us,eu}");
        v.push_back("{\"ref\": \"c4ca4238a0\", \"src\": \"" + std::string(src[r.below(4)]) +
                    "\", \"items\": " + std::to_string(r.below(10)) + ", \"score\": 0." +
                    std::to_string(100 + r.below(900)) + "}");
        v.push_back(notes[r.below(6)]);
    }
    return v;
}

void bytewise_escape(std::string_view s, sluice::chunk& out) {
    static const char* hex = "0123456789abcdef";
    out.push_back('"');
    for (unsigned char c : s) {
        switch (c) {
            case '"': out.append("\\\""); break;
            case '\\': out.append("\\\\"); break;
            case '\n': out.append("\\n"); break;
            case '\r': out.append("\\r"); break;
            case '\t': out.append("\\t"); break;
            case '\b': out.append("\\b"); break;
            case '\f': out.append("\\f"); break;
            default:
                if (c < 0x20) {
                    char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                    out.append(e, 6);
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
    }
    out.push_back('"');
}

template <bool Fast, bool Events = false>
void BM_escape(benchmark::State& state) {
    auto corpus = Events ? events_corpus() : escape_corpus();
    sluice::chunk a, b;
    for (const auto& s : corpus) {
        json::write_string(s, a);
        bytewise_escape(s, b);
    }
    check(a.view() == b.view(), "escapers agree");
    std::size_t in_bytes = 0;
    for (const auto& s : corpus) in_bytes += s.size();
    sluice::chunk out(a.size() + 64);
    for (auto _ : state) {
        out.clear();
        for (const auto& s : corpus) {
            if constexpr (Fast)
                json::write_string(s, out);
            else
                bytewise_escape(s, out);
        }
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(in_bytes * state.iterations()));
}
BENCHMARK(BM_escape<true>)->Name("BM_escape_block_scan");
BENCHMARK(BM_escape<false>)->Name("BM_escape_bytewise");
BENCHMARK(BM_escape<true, true>)->Name("BM_escape_block_scan_events");
BENCHMARK(BM_escape<false, true>)->Name("BM_escape_bytewise_events");

}  // namespace

BENCHMARK_MAIN();
