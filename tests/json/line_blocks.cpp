// line_blocks + json::read_jsonl given each block's origin, as the CLI's block-parallel
// convert reads JSON Lines: the records (raw text, line, record index counted over the
// input) and the first error (what(), record index made absolute) are those of one reader
// over the whole input, for random inputs in tiny blocks.
#include <catch2/catch.hpp>

#include <sluice/adaptors/line_blocks.hpp>
#include <sluice/json/jsonl_reader.hpp>
#include <sluice/sluice.hpp>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "../csv/random_csv.hpp"

namespace json = sluice::json;
using csv_gen::pick;

namespace {

struct result {
    std::vector<std::string> records;  // "line #index raw"
    std::string error;
    bool operator==(const result&) const = default;
};

std::string describe(const json::json_record& r, std::uint64_t index) {
    return std::to_string(r.line()) + " #" + std::to_string(index) + " " + std::string(r.raw());
}

result read_whole(const std::vector<std::string>& pieces, const json::jsonl_options& o) {
    result out;
    auto reader = sluice::from_range(pieces) | json::read_jsonl(o);
    sluice::run_context ctx;
    reader.bind(ctx);
    try {
        std::uint64_t i = 0;
        while (auto r = reader.next()) out.records.push_back(describe(*r, i++));
    } catch (const sluice::error& e) {
        out.error = e.what();
    }
    return out;
}

result read_blocks(const std::vector<std::string>& pieces, const sluice::block_options& bo,
                   const json::jsonl_options& jo) {
    result out;
    auto blocks = sluice::from_range(pieces) | sluice::line_blocks(bo);
    sluice::run_context split_ctx;
    blocks.bind(split_ctx);
    std::uint64_t before = 0;
    while (auto b = blocks.next()) {
        json::jsonl_options o = jo;
        o.origin = b->origin();
        auto reader = sluice::from_range(std::array<std::string_view, 1>{b->view()}) | json::read_jsonl(o);
        sluice::run_context ctx;
        reader.bind(ctx);
        try {
            std::uint64_t i = 0;
            while (auto r = reader.next()) out.records.push_back(describe(*r, before + i++));
        } catch (const sluice::error& e) {
            sluice::position p = e.where();
            if (p.has_record()) p.record += before;
            out.error = sluice::error(e.code(), e.stage(), e.message(), p).what();
            return out;
        }
        before += reader.record_count();
    }
    return out;
}

std::string value(std::mt19937& rng, int depth = 0) {
    switch (pick(rng, 0, depth > 2 ? 4 : 6)) {
        case 0: return std::to_string(pick(rng, 0, 100000));
        case 1: return "\"caf\xC3\xA9 \\n \\\"q\\\" \\u00e9\"";
        case 2: return "true";
        case 3: return "null";
        case 4: return "\"" + std::string(pick(rng, 0, 30), 'x') + "\"";
        case 5: return "[" + value(rng, depth + 1) + "," + value(rng, depth + 1) + "]";
        default: return "{\"k\":" + value(rng, depth + 1) + "}";
    }
}

/// Random JSON Lines: objects, blank and whitespace-only lines, CRLF, maybe a BOM; with
/// `bad`, one broken line somewhere.
std::string random_jsonl(std::mt19937& rng, std::size_t n, bool bad) {
    std::string in = pick(rng, 0, 3) == 0 ? "\xEF\xBB\xBF" : "";
    const std::size_t bad_at = bad ? pick(rng, 0, n) : n + 1;
    for (std::size_t i = 0; i <= n; ++i) {
        if (pick(rng, 0, 6) == 0) in += pick(rng, 0, 1) ? "\n" : " \t\r\n";
        if (i == bad_at) {
            static const char* const broken[] = {"{\"a\":}", "{\"a\":1", "[1,2", "{\"s\":\"\xFF\"}",
                                                 "{\"a\":1} x", "nul"};
            in += broken[pick(rng, 0, std::size(broken) - 1)];
        } else if (i < n) {
            in += "{\"id\":" + std::to_string(i) + ",\"v\":" + value(rng) + "}";
        } else {
            break;
        }
        if (i + 1 < n || pick(rng, 0, 1)) in += pick(rng, 0, 3) == 0 ? "\r\n" : "\n";
    }
    return in;
}

}  // namespace

TEST_CASE("line_blocks + read_jsonl with origin: one reader's records and errors",
          "[json][line_blocks]") {
    std::mt19937 rng(515);
    std::size_t errors = 0;
    for (int round = 0; round < 2000; ++round) {
        const bool bad = pick(rng, 0, 2) == 0;
        const std::string in = random_jsonl(rng, pick(rng, 0, 40), bad);
        sluice::block_options bo;
        bo.block_bytes = pick(rng, 1, 64);
        bo.first_block_bytes = pick(rng, 1, 16);
        json::jsonl_options jo;
        INFO("round " << round << " block " << bo.block_bytes << " first " << bo.first_block_bytes
                      << "\n" << in);
        const result whole = read_whole(csv_gen::random_pieces(rng, in, 50), jo);
        const result split = read_blocks(csv_gen::random_pieces(rng, in, pick(rng, 1, 80)), bo, jo);
        REQUIRE(split.error == whole.error);
        REQUIRE(split.records == whole.records);
        errors += !whole.error.empty();
    }
    CHECK(errors > 300);
}

TEST_CASE("line_blocks + read_jsonl: a BOM only at the input's start", "[json][line_blocks]") {
    // A line in a later block that starts with the BOM's bytes is not stripped there.
    const std::string in = "\xEF\xBB\xBF{\"a\":1}\n{\"b\":2}\n\xEF\xBB\xBF{\"c\":3}\n";
    std::vector<std::string> bytes;
    for (char c : in) bytes.emplace_back(1, c);
    const result whole = read_whole({in}, {});
    const result split = read_blocks(bytes, {.block_bytes = 1, .first_block_bytes = 1}, {});
    CHECK(split == whole);
    CHECK(whole.records.size() == 2);
    CHECK_THAT(whole.error, Catch::Contains("line 3"));
}

TEST_CASE("line_blocks + read_jsonl: a line over max_record_size fails as in one piece",
          "[json][line_blocks]") {
    // A 20 kB line, a limit of 1000 bytes: line_blocks cuts it off at the limit; the reader
    // of that block fails on it as the one-piece reader (fed 100 bytes at a time) does.
    for (const std::string& long_line : {"{\"a\":\"" + std::string(20000, 'x') + "\"}", std::string(20000, ' ') + "{}"}) {
        const std::string in = "{\"a\":1}\n\n" + long_line + "\n{\"b\":2}\n";
        json::jsonl_options jo;
        jo.max_record_size = 1000;
        sluice::block_options bo{.block_bytes = 64, .first_block_bytes = 8, .max_record_size = jo.max_record_size};
        std::vector<std::string> pieces;
        for (std::size_t at = 0; at < in.size(); at += 100) pieces.push_back(in.substr(at, 100));
        const result whole = read_whole(pieces, jo);
        REQUIRE_THAT(whole.error, Catch::Contains("record longer than 1000 bytes"));
        const result split = read_blocks(pieces, bo, jo);
        CHECK(split.error == whole.error);
        CHECK(split.records == whole.records);
    }
}
