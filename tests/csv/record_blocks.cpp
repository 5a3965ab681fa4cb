// csv::record_blocks + csv::read with origin and known_header, the equivalence the CLI's
// block-parallel conversion relies on: reading each block alone (origin = the block's,
// the header from the first block that had one, record indices plus the records of the
// blocks before) gives exactly the rows of one reader over the whole input, and for a bad
// input the same first error, word for word.
#include <catch2/catch.hpp>

#include <sluice/csv/read.hpp>
#include <sluice/csv/record_blocks.hpp>
#include <sluice/sluice.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "random_csv.hpp"

namespace csv = sluice::csv;
using csv_gen::pick;

namespace {

/// What a reader produced: every row with its position, the header, and the error (its
/// what(), record index made absolute) if it stopped on one.
struct result {
    std::vector<std::string> rows;  // one line per row: line, byte, index, fields
    std::vector<std::string> header;
    std::string error;

    bool operator==(const result&) const = default;
};

std::string describe(const csv::row& r, std::uint64_t index) {
    std::string s = std::to_string(r.line()) + " @" + std::to_string(r.byte_offset()) + " #" +
                    std::to_string(index);
    for (std::string_view f : r) {
        s += " [";
        s.append(f);
        s += ']';
    }
    return s;
}

result read_whole(const std::vector<std::string>& pieces, const csv::read_options& o) {
    result out;
    auto reader = sluice::from_range(pieces) | csv::read(o);
    try {
        while (auto r = reader.next()) out.rows.push_back(describe(*r, r->index()));
    } catch (const sluice::error& e) {
        out.error = e.what();
    }
    for (const std::string& h : reader.header()) out.header.push_back(h);
    return out;
}

/// Blocks read one by one as the CLI's job does (csv_block_job in examples/sluice/convert.cpp),
/// on this thread; `blocks` counts them.
result read_blocks(const std::vector<std::string>& pieces, const sluice::block_options& bo,
                   const csv::read_options& ro, std::size_t* blocks = nullptr) {
    result out;
    auto split = sluice::from_range(pieces) | csv::record_blocks(bo, ro.quote);
    sluice::run_context split_ctx;
    split.bind(split_ctx);
    std::shared_ptr<const csv::header> known;
    std::uint64_t before = 0;  // records of the blocks read so far
    while (auto b = split.next()) {
        sluice::text_block& block = *b;
        if (blocks) ++*blocks;
        csv::read_options o = ro;
        o.origin = block.origin();
        o.known_header = known;
        auto reader = sluice::from_range(std::array<std::string_view, 1>{block.view()}) | csv::read(o);
        sluice::run_context ctx;
        reader.bind(ctx);
        try {
            while (auto r = reader.next()) out.rows.push_back(describe(*r, before + r->index()));
        } catch (const sluice::error& e) {
            // As unpack_blocks does: the record index counts from the input's start.
            sluice::position p = e.where();
            if (p.has_record()) p.record += before;
            out.error = sluice::error(e.code(), e.stage(), e.message(), p).what();
            if (!known) known = reader.shared_header();
            break;
        }
        before += reader.records();
        if (!known) known = reader.shared_header();
    }
    if (known)
        for (const std::string& h : *known) out.header.push_back(h);
    return out;
}

csv::read_options random_options(std::mt19937& rng, csv_gen::shape& s) {
    static const char delimiters[] = {',', ';', '\t', '|'};
    s.delimiter = delimiters[pick(rng, 0, 3)];
    s.quote = pick(rng, 0, 4) == 0 ? '\'' : '"';
    csv::read_options o;
    o.delimiter = s.delimiter;
    o.quote = s.quote;
    o.header = s.header;
    o.unique_header = pick(rng, 0, 1) == 1;
    return o;
}

sluice::block_options tiny_blocks(std::mt19937& rng) {
    sluice::block_options bo;
    bo.block_bytes = pick(rng, 1, 64);
    bo.first_block_bytes = pick(rng, 1, 16);
    return bo;
}

csv_gen::shape random_shape(std::mt19937& rng) {
    csv_gen::shape s;
    s.records = pick(rng, 0, 40);
    s.columns = pick(rng, 1, 5);
    s.bom = pick(rng, 0, 3) == 0;
    s.blank_percent = static_cast<unsigned>(pick(rng, 0, 30));
    s.long_percent = static_cast<unsigned>(pick(rng, 0, 8));
    s.final_line_end = pick(rng, 0, 3) != 0;
    return s;
}

}  // namespace

TEST_CASE("record_blocks: blocks read alone give the rows of one reader", "[csv][record_blocks]") {
    std::mt19937 rng(4242);
    std::size_t total_blocks = 0, total_rows = 0;
    for (int round = 0; round < 4000; ++round) {
        csv_gen::shape s = random_shape(rng);
        s.header = pick(rng, 0, 5) != 0;
        const csv::read_options ro = random_options(rng, s);
        // Unique names only where the header is made so.
        csv::read_options o = ro;
        o.unique_header = false;
        const std::string in = csv_gen::make(rng, s);
        const sluice::block_options bo = tiny_blocks(rng);
        INFO("round " << round << " block " << bo.block_bytes << " first " << bo.first_block_bytes
                      << "\ninput:\n" << in);
        const result whole = read_whole(csv_gen::random_pieces(rng, in, 50), o);
        REQUIRE(whole.error.empty());
        std::size_t blocks = 0;
        const result split = read_blocks(csv_gen::random_pieces(rng, in, pick(rng, 1, 80)), bo, o, &blocks);
        REQUIRE(split.error == whole.error);
        REQUIRE(split.rows == whole.rows);
        REQUIRE(split.header == whole.header);
        total_blocks += blocks;
        total_rows += whole.rows.size();
    }
    // Tiny blocks (past the target a block grows by upstream pieces): many blocks.
    CHECK(total_blocks > total_rows / 5);
}

TEST_CASE("record_blocks: the first error is the one-piece reader's", "[csv][record_blocks]") {
    std::mt19937 rng(77);
    using csv_gen::defect;
    const defect defects[] = {defect::ragged, defect::stray_quote, defect::bad_utf8,
                              defect::unterminated_quote, defect::text_after_quote};
    for (int round = 0; round < 3000; ++round) {
        csv_gen::shape s = random_shape(rng);
        s.header = true;
        const csv::read_options o = random_options(rng, s);
        const defect d = defects[pick(rng, 0, std::size(defects) - 1)];
        const std::string in = csv_gen::make_bad(rng, s, d);
        const sluice::block_options bo = tiny_blocks(rng);
        INFO("round " << round << " defect " << static_cast<int>(d) << " block " << bo.block_bytes
                      << " first " << bo.first_block_bytes << "\ninput:\n" << in);
        const result whole = read_whole(csv_gen::random_pieces(rng, in, 50), o);
        // Two names alike in a unique header fail there, before the defect: an error too.
        REQUIRE(!whole.error.empty());
        const result split = read_blocks(csv_gen::random_pieces(rng, in, pick(rng, 1, 80)), bo, o);
        REQUIRE(split.error == whole.error);
        REQUIRE(split.rows == whole.rows);
    }
}

TEST_CASE("record_blocks: the header in a later block, blank lines and a BOM first",
          "[csv][record_blocks]") {
    const std::string in = "\xEF\xBB\xBF\n\r\n\nid,name\r\n1,\"a\nb\"\n\n2,\"x\"\"y\"\r\n3,z";
    for (std::size_t first = 1; first <= 8; ++first)
        for (std::size_t block = 1; block <= 8; ++block) {
            std::vector<std::string> bytes;
            for (char c : in) bytes.emplace_back(1, c);
            const result whole = read_whole({in}, {});
            const result split = read_blocks(bytes, {.block_bytes = block, .first_block_bytes = first}, {});
            REQUIRE(split == whole);
            REQUIRE(whole.rows.size() == 3);
            CHECK(whole.header == std::vector<std::string>{"id", "name"});
            CHECK(whole.rows[0] == "5 @16 #0 [1] [a\nb]");
            CHECK(whole.rows[2] == "9 @35 #2 [3] [z]");
        }
    // A ragged record in a later block is measured against the header of the first one.
    const std::string bad = "a,b\n1,2\n3,4\n5\n";
    std::vector<std::string> bytes;
    for (char c : bad) bytes.emplace_back(1, c);
    const result whole = read_whole({bad}, {});
    const result split = read_blocks(bytes, {.block_bytes = 1, .first_block_bytes = 1}, {});
    CHECK(split == whole);
    CHECK_THAT(whole.error, Catch::Contains("line 4") && Catch::Contains("record 2"));
}

TEST_CASE("record_blocks: header only, blank only and empty inputs", "[csv][record_blocks]") {
    for (const char* in : {"", "\n", "\r\n\r\n", "a,b", "a,b\n", "\n\na,b\r\n\n", "\xEF\xBB\xBF"}) {
        const result whole = read_whole({in}, {});
        std::size_t blocks = 0;
        const result split = read_blocks({in}, {.block_bytes = 1, .first_block_bytes = 1}, {}, &blocks);
        CHECK(split == whole);
        CHECK(blocks >= 1);
    }
}

TEST_CASE("record_blocks: a record over max_record_size fails as in one piece",
          "[csv][record_blocks]") {
    // A 20 kB record, a limit of 1000 bytes: the one-piece reader fed 100 bytes at a time
    // fails on it; so must the reader of the block that record_blocks cut off at the limit
    // (it used to read the cut-off part as a record: a ragged-record error, or with the
    // right field count a wrong row and more rows from the record's rest).
    for (const std::string& long_record :
         {std::string(20000, 'x') + ",3", "7," + std::string(20000, 'x'),
          "\"" + std::string(20000, 'q') + "\",3", "7,\"" + std::string(5000, 'q') + "\n" + std::string(15000, 'q') + "\""}) {
        const std::string in = "a,b\n1,2\n" + long_record + "\n4,5\n";
        csv::read_options o;
        o.max_record_size = 1000;
        sluice::block_options bo{.block_bytes = 64, .first_block_bytes = 8, .max_record_size = o.max_record_size};
        std::vector<std::string> pieces;
        for (std::size_t at = 0; at < in.size(); at += 100) pieces.push_back(in.substr(at, 100));
        const result whole = read_whole(pieces, o);
        REQUIRE_THAT(whole.error, Catch::StartsWith("csv: line 3, byte 8, record 1: record longer than max_record_size (1000 bytes)"));
        const result split = read_blocks(pieces, bo, o);
        CHECK_THAT(split.error, Catch::StartsWith("csv: line 3, byte 8, record 1: record longer than max_record_size (1000 bytes)"));
        CHECK(split.rows == whole.rows);
    }
    // The limit at the input's end alone: a last record over it, in one piece.
    csv::read_options o;
    o.max_record_size = 100;
    const result one = read_whole({"a\n" + std::string(500, 'x')}, o);
    CHECK_THAT(one.error, Catch::Contains("record longer than max_record_size (100 bytes)"));
    // Within it, in one piece or many: read.
    CHECK(read_whole({"a\n" + std::string(90, 'x')}, o).rows.size() == 1);
}
