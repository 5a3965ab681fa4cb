// The block splitter behind line_blocks and csv::record_blocks (core/text_block.hpp):
// over random inputs cut into random upstream pieces, with tiny targets, the blocks put back
// together are the input, each block but the last ends just after a record end (the last
// one within the target when there is one), and index, line and byte offset say where each
// block starts. A record longer than max_record_size is cut off (bounded blocks). Also
// count_byte against std::count.
#include <catch2/catch.hpp>

#include <sluice/adaptors/line_blocks.hpp>
#include <sluice/core/byte_count.hpp>
#include <sluice/core/text_block.hpp>
#include <sluice/csv/record_blocks.hpp>
#include <sluice/sluice.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "../csv/random_csv.hpp"

namespace {

using csv_gen::pick;

/// One block as it came out, with its bytes copied.
struct cut_block {
    std::string bytes;
    std::uint64_t index = 0, line = 0, byte_offset = 0;
};

template <class Stage>
std::vector<cut_block> drain(Stage s) {
    sluice::run_context ctx;
    s.bind(ctx);
    std::vector<cut_block> out;
    while (auto b = s.next()) {
        sluice::text_block& tb = *b;
        out.push_back({std::string(tb.view()), tb.index, tb.line, tb.byte_offset});
        REQUIRE(tb.origin().line == tb.line);
        REQUIRE(tb.origin().byte_offset == tb.byte_offset);
        REQUIRE(out.size() < 1000000);  // no endless stream of empty blocks
    }
    return out;
}

std::vector<cut_block> csv_blocks(const std::vector<std::string>& pieces, sluice::block_options o,
                                  char quote = '"') {
    return drain(sluice::from_range(pieces) | sluice::csv::record_blocks(o, quote));
}

std::vector<cut_block> lf_blocks(const std::vector<std::string>& pieces, sluice::block_options o) {
    return drain(sluice::from_range(pieces) | sluice::line_blocks(o));
}

/// Offsets just past each record end of `in`: line feeds after an even number of quotes
/// (from the input's start), or after any line feed when `quote` is 0.
std::vector<bool> record_ends(std::string_view in, char quote) {
    std::vector<bool> end(in.size() + 1, false);
    bool inside = false;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (quote && in[i] == quote) inside = !inside;
        if (in[i] == '\n' && !inside) end[i + 1] = true;
    }
    return end;
}

/// The checks every split must pass (no forced cuts: max_record_size is not reached).
void check_split(std::string_view in, const std::vector<cut_block>& blocks, char quote,
                 const sluice::block_options& o) {
    INFO("input: " << std::string(in));
    REQUIRE(!blocks.empty());
    const std::vector<bool> end = record_ends(in, quote);
    std::uint64_t offset = 0, line = 1;
    for (std::size_t k = 0; k < blocks.size(); ++k) {
        const cut_block& b = blocks[k];
        INFO("block " << k << " of " << blocks.size() << " at " << offset << ": " << b.bytes);
        REQUIRE(b.index == k);
        REQUIRE(b.byte_offset == offset);
        REQUIRE(b.line == line);
        REQUIRE(in.substr(offset, b.bytes.size()) == b.bytes);
        const bool last = k + 1 == blocks.size();
        const std::size_t target = std::max<std::size_t>(k == 0 ? o.first_block_bytes : o.block_bytes, 1);
        const std::size_t size = b.bytes.size();
        // The last record end within the target, from the block's start (0: none).
        std::size_t within = 0, first_after = 0;
        for (std::size_t i = 1; offset + i <= in.size(); ++i) {
            if (!end[offset + i]) continue;
            if (i <= target) within = i;
            else if (!first_after) {
                first_after = i;
                break;
            }
        }
        if (!last) {
            REQUIRE(size > 0);
            REQUIRE(end[offset + size]);
        } else {
            REQUIRE(offset + size == in.size());
        }
        if (within && (!last || size > target)) {
            // A record end within the target: the block ends at the last one.
            REQUIRE(size == within);
        } else if (size > target) {
            // Else at the last record end among the bytes added past the target, at most a
            // step (4 KiB, or one upstream piece) at a time, up to the first that has one.
            REQUIRE(within == 0);
            if (first_after) REQUIRE(size <= first_after + 4096);
        }
        line += static_cast<std::uint64_t>(std::count(b.bytes.begin(), b.bytes.end(), '\n'));
        offset += size;
    }
    REQUIRE(offset == in.size());
    // An empty input only: one empty block. Otherwise no block is empty.
    if (in.empty()) REQUIRE(blocks.size() == 1);
}

sluice::block_options tiny(std::mt19937& rng) {
    sluice::block_options o;
    o.block_bytes = pick(rng, 1, 64);
    o.first_block_bytes = pick(rng, 1, 16);
    return o;
}

/// Bytes of a few kinds that matter to the boundaries, in random order.
std::string soup(std::mt19937& rng, std::size_t n) {
    static const char alphabet[] = {'a', 'b', '"', '\n', '\r', ',', '\'', 'x'};
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += alphabet[pick(rng, 0, sizeof alphabet - 1)];
    return s;
}

}  // namespace

TEST_CASE("record_blocks: blocks of whole records over random CSV", "[core][text_block]") {
    std::mt19937 rng(20261207);
    for (int round = 0; round < 1000; ++round) {
        csv_gen::shape s;
        s.records = pick(rng, 0, 40);
        s.columns = pick(rng, 1, 4);
        s.bom = pick(rng, 0, 3) == 0;
        s.header = pick(rng, 0, 1) == 1;
        s.blank_percent = static_cast<unsigned>(pick(rng, 0, 30));
        s.long_percent = static_cast<unsigned>(pick(rng, 0, 10));
        s.final_line_end = pick(rng, 0, 3) != 0;
        s.quote = pick(rng, 0, 4) == 0 ? '\'' : '"';
        const std::string in = csv_gen::make(rng, s);
        const sluice::block_options o = tiny(rng);
        const std::size_t max_piece = pick(rng, 1, 100);
        INFO("round " << round << " block " << o.block_bytes << " first " << o.first_block_bytes
                      << " piece " << max_piece);
        check_split(in, csv_blocks(csv_gen::random_pieces(rng, in, max_piece), o, s.quote), s.quote, o);
    }
}

TEST_CASE("record_blocks: any bytes, stray quotes included, split at even quote parity",
          "[core][text_block]") {
    std::mt19937 rng(7);
    for (int round = 0; round < 1000; ++round) {
        const std::string in = soup(rng, pick(rng, 0, 300));
        const sluice::block_options o = tiny(rng);
        const std::size_t max_piece = pick(rng, 1, 40);
        INFO("round " << round);
        check_split(in, csv_blocks(csv_gen::random_pieces(rng, in, max_piece), o), '"', o);
    }
}

TEST_CASE("line_blocks: blocks of whole lines", "[core][text_block]") {
    std::mt19937 rng(99);
    for (int round = 0; round < 1000; ++round) {
        // Random CSV has quoted line feeds: line_blocks cuts at every one of them.
        std::string in = pick(rng, 0, 1) ? soup(rng, pick(rng, 0, 300))
                                         : csv_gen::make(rng, csv_gen::shape{.records = pick(rng, 0, 30)});
        const sluice::block_options o = tiny(rng);
        const std::size_t max_piece = pick(rng, 1, 100);
        INFO("round " << round);
        check_split(in, lf_blocks(csv_gen::random_pieces(rng, in, max_piece), o), 0, o);
    }
}

TEST_CASE("record_blocks: large pieces and default-sized blocks", "[core][text_block]") {
    std::mt19937 rng(3);
    csv_gen::shape s;
    s.records = 3000;
    s.long_percent = 5;
    const std::string in = csv_gen::make(rng, s);
    sluice::block_options o;
    o.block_bytes = 8 * 1024;
    o.first_block_bytes = 1024;
    for (std::size_t piece : {std::size_t{1} << 20, std::size_t{5000}, std::size_t{333}}) {
        std::vector<std::string> pieces;
        for (std::size_t at = 0; at < in.size(); at += piece) pieces.push_back(in.substr(at, piece));
        auto blocks = csv_blocks(pieces, o);
        check_split(in, blocks, '"', o);
        CHECK(blocks.size() > 10);
    }
}

TEST_CASE("an empty input is one empty block", "[core][text_block]") {
    for (const std::vector<std::string>& pieces :
         {std::vector<std::string>{}, std::vector<std::string>{""}, std::vector<std::string>{"", "", ""}}) {
        for (auto blocks : {csv_blocks(pieces, {}), lf_blocks(pieces, {})}) {
            REQUIRE(blocks.size() == 1);
            CHECK(blocks[0].bytes.empty());
            CHECK(blocks[0].index == 0);
            CHECK(blocks[0].line == 1);
            CHECK(blocks[0].byte_offset == 0);
        }
    }
    // A non-empty input that ends at a record end has no empty block after it.
    auto blocks = csv_blocks({"a\n", "", "b\n"}, {.block_bytes = 1, .first_block_bytes = 1});
    REQUIRE(blocks.size() == 2);
    CHECK(blocks[0].bytes == "a\n");
    CHECK(blocks[1].bytes == "b\n");
    CHECK(blocks[1].line == 2);
    CHECK(blocks[1].byte_offset == 2);
}

TEST_CASE("record_blocks: a quoted line feed is not a record end", "[core][text_block]") {
    const std::string in = "h1,h2\n\"a\nb\",\"\"\"\"\n\"x\"\"\ny\",2\r\nlast,\"\"";
    // Fed a byte at a time, so the splitter sees the target (1 byte) and grows from there.
    std::vector<std::string> bytes;
    for (char c : in) bytes.emplace_back(1, c);
    auto blocks = csv_blocks(bytes, {.block_bytes = 1, .first_block_bytes = 1});
    REQUIRE(blocks.size() == 4);
    CHECK(blocks[0].bytes == "h1,h2\n");
    CHECK(blocks[1].bytes == "\"a\nb\",\"\"\"\"\n");
    CHECK(blocks[1].line == 2);
    CHECK(blocks[2].bytes == "\"x\"\"\ny\",2\r\n");
    CHECK(blocks[2].line == 4);
    CHECK(blocks[3].bytes == "last,\"\"");
    CHECK(blocks[3].line == 6);
    CHECK(blocks[3].byte_offset == in.size() - 7);
    // Another quote character: '"' is data then.
    auto single = csv_blocks({"'", "a", "\n", "b',\"\n", "c\n"}, {.block_bytes = 1, .first_block_bytes = 1},
                             '\'');
    REQUIRE(single.size() == 2);
    CHECK(single[0].bytes == "'a\nb',\"\n");
    CHECK(single[1].bytes == "c\n");
}

namespace {

/// A record longer than max_record_size: each block either ends at a record end or is a
/// forced cut (longer than target + limit, no record end in it); none grows past target +
/// limit + one upstream piece.
void check_forced(std::string_view in, const std::vector<cut_block>& blocks, char quote,
                  const sluice::block_options& o, std::size_t max_piece, bool expect_forced) {
    const std::vector<bool> end = record_ends(in, quote);
    std::uint64_t offset = 0, line = 1;
    bool forced = false;
    for (std::size_t k = 0; k < blocks.size(); ++k) {
        const cut_block& b = blocks[k];
        INFO("block " << k << " of " << blocks.size() << " at " << offset << ", " << b.bytes.size()
                      << " bytes");
        REQUIRE(b.index == k);
        REQUIRE(b.byte_offset == offset);
        REQUIRE(b.line == line);
        REQUIRE(in.substr(offset, b.bytes.size()) == b.bytes);
        const std::size_t target = k == 0 ? o.first_block_bytes : o.block_bytes;
        REQUIRE(b.bytes.size() <= target + o.max_record_size + std::max(max_piece, target));
        if (k + 1 < blocks.size() && !end[offset + b.bytes.size()]) {
            forced = true;
            REQUIRE(b.bytes.size() > target + o.max_record_size);
            for (std::size_t i = 1; i < b.bytes.size(); ++i) REQUIRE(!end[offset + i]);
        }
        line += static_cast<std::uint64_t>(std::count(b.bytes.begin(), b.bytes.end(), '\n'));
        offset += b.bytes.size();
    }
    REQUIRE(offset == in.size());
    CHECK(forced == expect_forced);
}

}  // namespace

TEST_CASE("a record over max_record_size is cut off, blocks stay bounded", "[core][text_block]") {
    std::mt19937 rng(11);
    for (int round = 0; round < 200; ++round) {
        sluice::block_options o = tiny(rng);
        o.max_record_size = pick(rng, 1, 200);
        const std::size_t long_len = o.max_record_size + o.block_bytes + pick(rng, 2, 5000);
        const std::size_t max_piece = pick(rng, 1, 300);
        std::string in = "a,b\nc,d\n" + std::string(long_len, 'x') + "\ne,f\n";
        // Records after the long one end at record ends again.
        for (int i = 0; i < 20; ++i) in += "g,h\n";
        INFO("round " << round << " block " << o.block_bytes << " limit " << o.max_record_size);
        auto pieces = csv_gen::random_pieces(rng, in, max_piece, true);
        check_forced(in, csv_blocks(pieces, o), '"', o, max_piece, true);
        check_forced(in, lf_blocks(pieces, o), 0, o, max_piece, true);
        // A record just within the limit is not cut.
        std::string fits = "a\n" + std::string(o.max_record_size, 'y') + "\nb\n";
        sluice::block_options f = o;
        f.first_block_bytes = f.block_bytes = 1;
        check_forced(fits, csv_blocks(csv_gen::random_pieces(rng, fits, max_piece, true), f), '"', f, max_piece,
                     false);
    }
}

TEST_CASE("a quoted field over max_record_size: bounded blocks, line feeds inside kept", "[core][text_block]") {
    // One megabyte inside quotes with a line feed every 100 bytes, fed 4 KiB at a time: the
    // boundary sees no record end, the blocks do not grow past the limit.
    std::string in = "h\n\"";
    while (in.size() < (1u << 20)) in += std::string(99, 'q') + "\n";
    in += "\"\n";
    sluice::block_options o{.block_bytes = 1000, .first_block_bytes = 10, .max_record_size = 5000};
    std::vector<std::string> pieces;
    for (std::size_t at = 0; at < in.size(); at += 4096) pieces.push_back(in.substr(at, 4096));
    auto blocks = csv_blocks(pieces, o);
    std::size_t largest = 0, total = 0;
    for (const auto& b : blocks) {
        largest = std::max(largest, b.bytes.size());
        total += b.bytes.size();
    }
    CHECK(total == in.size());
    CHECK(largest <= o.block_bytes + o.max_record_size + 4096);
    CHECK(blocks.size() > 100);
    CHECK(blocks[0].bytes == "h\n");
}

TEST_CASE("count_byte equals std::count", "[core][text_block][count_byte]") {
    std::mt19937 rng(5);
    std::string buf(32 * 255 * 3 + 64, '\0');
    for (char& c : buf) c = static_cast<char>(pick(rng, 0, 3) == 0 ? '\n' : pick(rng, 0, 255));
    for (char needle : {'\n', '"', '\0', '\xFF', '\x80'}) {
        for (std::size_t start = 0; start < 16; ++start)
            for (std::size_t len = 0; len <= 300; ++len) {
                std::string_view v(buf.data() + start, len);
                REQUIRE(sluice::count_byte(v, needle) ==
                        static_cast<std::size_t>(std::count(v.begin(), v.end(), needle)));
            }
        // Long runs: the per-lane sums fold every 255 steps (16 bytes each, 32 with AVX2).
        for (std::size_t len : {16u * 255, 16u * 255 + 1, 16u * 256, 16u * 255 * 3 + 17, 32u * 255,
                                32u * 255 + 1, 32u * 256, 32u * 255 * 3 + 17}) {
            std::string_view v(buf.data() + 3, len);
            REQUIRE(sluice::count_byte(v, needle) ==
                    static_cast<std::size_t>(std::count(v.begin(), v.end(), needle)));
        }
    }
    // Every byte a match, past the fold (each lane at 255 just before it).
    const std::string all(32 * 255 * 2 + 33, 'x');
    for (std::size_t start : {0u, 1u, 15u})
        CHECK(sluice::count_byte(std::string_view(all).substr(start), 'x') == all.size() - start);
    CHECK(sluice::count_byte({}, 'x') == 0);
}
