/// \file
/// libFuzzer target for block-parallel CSV reading: `csv::record_blocks` cuts the input
/// into blocks of whole records, each block is read alone by `csv::read` given the block's
/// origin and the header of the first block that had one (as the CLI's workers do, here on
/// one thread), and the result must be that of one `csv::read` over the whole input.
///
/// The first input byte picks the dialect (delimiter, quote, header, unique header), the
/// next two the block sizes (1..64 bytes, the first block 1..16) and the upstream split;
/// the rest is CSV. Findings:
///   - a crash, sanitizer report, or an exception that is not `sluice::error`;
///   - a row (fields, line, byte offset, record index counted over the whole input) or a
///     header that differs from the one-piece reader's;
///   - a first error whose what() (record index made absolute, as unpack_blocks does)
///     differs from the one-piece reader's;
///   - blocks that do not put the input back together, or that do not start where they
///     say (line, byte offset, index).
///
/// The readers' max_record_size stays at its default: below it, when a reader notices a
/// record over the limit depends on how its input arrives (only at a refill), for one
/// reader too, so that comparison would not be about blocks.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sluice/core/range_source.hpp>
#include <sluice/csv/read.hpp>
#include <sluice/csv/record_blocks.hpp>

#include "split.hpp"

namespace {

using namespace sluice_fuzz;
namespace csv = sluice::csv;

/// Logs one row with its position; `index` counts over the whole input.
void put_row(std::string& log, const csv::row& row, std::uint64_t index) {
    log += "R ";
    put(log, row.line());
    put(log, row.byte_offset());
    put(log, index);
    put(log, static_cast<std::uint64_t>(row.size()));
    for (std::string_view f : row) put(log, f);
    log += '\n';
}

void put_header(std::string& log, const csv::header* h) {
    log += "H ";
    if (h)
        for (const std::string& name : *h) put(log, name);
    log += "\nEND\n";
}

/// One reader over the whole input (in one piece).
std::string read_whole(std::string_view data, const csv::read_options& o) {
    std::string log;
    try {
        auto reader = sluice::from_range(one_piece(data)) | csv::read(o);
        while (auto r = reader.next()) put_row(log, *r, r->index());
        put_header(log, &reader.header());
    } catch (const sluice::error& e) {
        if (e.code() != sluice::errc::bad_input) __builtin_trap();
        log += "E ";
        log += e.what();
        log += '\n';
    }
    return log;
}

/// The blocks of `pieces`, each read alone.
std::string read_blocks(std::string_view data, std::vector<std::string_view> pieces,
                        const sluice::block_options& bo, const csv::read_options& o) {
    std::string log;
    auto blocks = sluice::from_range(std::move(pieces)) | csv::record_blocks(bo, o.quote);
    sluice::run_context split_ctx;
    blocks.bind(split_ctx);
    std::shared_ptr<const csv::header> known;
    std::uint64_t records = 0, offset = 0, line = 1, index = 0;
    while (auto b = blocks.next()) {
        sluice::text_block& block = *b;
        const std::string_view bytes = block.view();
        // The blocks rebuild the input and say where they start.
        if (block.index != index++ || block.byte_offset != offset || block.line != line ||
            data.substr(offset, bytes.size()) != bytes)
            __builtin_trap();
        offset += bytes.size();
        for (char c : bytes) line += c == '\n';
        // Each block but the last is not empty (an empty input is one empty block).
        if (bytes.empty() && data.size() != 0) __builtin_trap();

        csv::read_options bo_read = o;
        bo_read.origin = block.origin();
        bo_read.known_header = known;
        auto reader = sluice::from_range(std::array<std::string_view, 1>{bytes}) | csv::read(bo_read);
        sluice::run_context ctx;
        reader.bind(ctx);
        try {
            while (auto r = reader.next()) put_row(log, *r, records + r->index());
        } catch (const sluice::error& e) {
            if (e.code() != sluice::errc::bad_input) __builtin_trap();
            sluice::position p = e.where();
            if (p.has_record()) p.record += records;
            log += "E ";
            log += sluice::error(e.code(), e.stage(), e.message(), p).what();
            log += '\n';
            return log;
        }
        records += reader.records();
        if (!known) known = reader.shared_header();
    }
    if (offset != data.size()) __builtin_trap();
    put_header(log, o.header ? known.get() : nullptr);
    return log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* p, std::size_t n) {
    control c = take_control(p, n);
    static constexpr char delimiters[] = {',', '\t', ';', '|'};
    csv::read_options o;
    o.delimiter = delimiters[c.flags & 3];
    o.header = (c.flags & 4) == 0;  // mostly with a header, as the CLI reads
    o.quote = (c.flags & 8) ? '\'' : '"';
    o.unique_header = (c.flags & 16) != 0;
    sluice::block_options bo;
    bo.block_bytes = 1 + (c.seed & 63);
    bo.first_block_bytes = 1 + ((c.seed >> 6) & 15);

    const std::string whole = read_whole(c.data, o);
    // Without a header each block takes its first record's field count, so a count that
    // differs between blocks is not found: compare valid inputs only (the CLI reads a header).
    if (!o.header && !whole.ends_with("END\n")) return 0;
    const std::string split = read_blocks(c.data, seeded_pieces(c.data, c.seed >> 10), bo, o);
    if (split != whole) mismatch("csv_blocks: blocks read alone differ from one reader", whole, split);
    // Upstream pieces of one size: every position gets to be a piece boundary.
    if (c.data.size() <= 512) {
        const std::string fixed = read_blocks(c.data, fixed_pieces(c.data, 1 + ((c.flags >> 5) & 7)), bo, o);
        if (fixed != whole) mismatch("csv_blocks: blocks (fixed pieces) differ from one reader", whole, fixed);
    }
    return 0;
}
