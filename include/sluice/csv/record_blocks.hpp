#pragma once
/// \file
/// `csv::record_blocks(options, quote)`: cuts CSV bytes into `text_block`s of whole records
/// (core/text_block.hpp), for reading them on several threads (adaptors/unpack_blocks.hpp):
///
///     read_file("big.csv") | csv::record_blocks()
///         | parallel_map(to_jsonl_block) | unpack_blocks() | to_file("big.jsonl")
///
/// where `to_jsonl_block(text_block& b)` reads the block with `csv::read_block` (below: the
/// block's origin, the header through a shared `header_gate`) and returns an
/// `encoded_block`.
///
/// A record ends at a line feed outside quotes: one after an even number of quote
/// characters since the start of the input, as the strict reader's stage one sees it (a
/// doubled quote inside a quoted field counts twice). So a block's reader starts outside
/// quotes, at a record start, exactly where a reader of the whole input would be.
///
/// The cut agrees with the reader for every input the strict reader accepts up to that
/// point. After a stray quote (`x"y`, an error under the strict rules) the parity and the
/// reader part ways: a strict reader that fails on it never reads past it, so split reading
/// is for runs where a bad record fails (`on_error::fail`) and quotes are not lenient; a
/// reader that skips bad records or accepts stray quotes must read the input in one piece.
/// Without a header (`header = false`) each block's reader takes the field count of its own
/// first record, so a count that changes between blocks is not caught: give the readers the
/// first block's header (`known_header`) or read such input in one piece.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "../core/adaptor.hpp"
#include "../core/block_gate.hpp"
#include "../core/byte_count.hpp"
#include "../core/context.hpp"
#include "../core/range_source.hpp"
#include "../core/stage.hpp"
#include "../core/text_block.hpp"
#include "options.hpp"
#include "read.hpp"
#include "row.hpp"

namespace sluice::csv {

/// Records end after line feeds outside quotes (see the file comment).
class quote_boundary {
public:
    explicit quote_boundary(char quote = '"') noexcept : quote_(quote) {}

    std::size_t last_end(const char* b, std::size_t from, std::size_t to) noexcept {
        // The parity at `to`, then back from there to the last line feed at even parity.
        // The walk back stops at `from`: what lies before was asked about already.
        const std::size_t quotes = count_byte(std::string_view(b + from, to - from), quote_);
        parity_ ^= static_cast<unsigned>(quotes & 1);
        unsigned p = parity_;
        for (std::size_t i = to; i > from; --i) {
            const char c = b[i - 1];
            if (c == '\n' && p == 0) return last_ = i;
            if (c == quote_) p ^= 1;
        }
        return npos;
    }

    /// A block of `n` bytes was taken: at a record end the parity there is even, so the
    /// rest keeps it; a cut elsewhere (the input's end, a record over the limit) starts over.
    void taken(std::size_t n) noexcept {
        if (n != last_) parity_ = 0;
        last_ = npos;
    }

    static constexpr std::size_t npos = lf_boundary::npos;

private:
    char quote_;
    unsigned parity_ = 0;      // quotes seen so far in the buffer, mod 2
    std::size_t last_ = npos;  // the last record end returned
};

/// `bytes | csv::record_blocks(options, quote = '"')` yields `text_block&&`s of whole
/// records.
struct record_blocks_fn : adaptor<record_blocks_fn, block_options> {
    template <class Up, class... O>
    using rules = adaptor_rules<rule<byte_like<reference_t<Up>>,
                                     "sluice::csv::record_blocks: the upstream must yield bytes "
                                     "(chunks or strings)">>;
    template <class Up>
    static auto make(Up up, block_options o = {}, char quote = '"') {
        return sluice::detail::block_splitter<Up, quote_boundary>(std::move(up), std::move(o),
                                                                 quote_boundary(quote));
    }
};
inline constexpr record_blocks_fn record_blocks{};

/// The header the first blocks teach the others (core/block_gate.hpp).
using header_gate = block_gate<std::shared_ptr<const header>>;

/// Reads one block alone as a reader of the whole input would read it at that point: with
/// the block's origin, and the header an earlier block read (`headers.wait`; when every
/// earlier block ended without one, this block reads it and teaches it to the later ones).
/// Calls `each(const row&)` per record; returns the records read (the reader's count, the
/// base of the next blocks' record indices). A failure tells the gate, so that no later
/// block waits for this one, and is rethrown.
template <class F>
std::uint64_t read_block(const text_block& b, read_options o, header_gate& headers, F&& each) {
    const std::optional<std::shared_ptr<const header>> known = headers.wait(b.index);
    std::shared_ptr<const header> learned;
    std::uint64_t records = 0;
    try {
        o.origin = b.origin();
        if (known) o.known_header = *known;
        auto rows = sluice::from_range(std::array<std::string_view, 1>{b.view()}) | read(std::move(o));
        run_context ctx;
        rows.bind(ctx);
        while (auto r = rows.next()) each(*r);
        records = rows.records();
        if (!known) learned = rows.shared_header();
    } catch (...) {
        headers.fail();
        throw;
    }
    headers.done(b.index, learned ? &learned : nullptr);
    return records;
}

}  // namespace sluice::csv
