#pragma once
/// \file
/// `line_blocks(options)`: cuts a byte stream into `text_block`s of whole lines
/// (core/text_block.hpp), for parsing line-based records (JSON Lines) on several threads:
///
///     read_file("events.jsonl") | line_blocks()
///         | parallel_map(parse_and_encode_block) | unpack_blocks() | to_file("out.csv")
///
/// Each block ends just after a line feed (the last one: at the input's end) and knows its
/// first line number and byte offset, for the reader given it (`jsonl_options::origin`).

#include <utility>

#include "../core/adaptor.hpp"
#include "../core/stage.hpp"
#include "../core/text_block.hpp"

namespace sluice {

/// `bytes | line_blocks(options)` yields `text_block&&`s of whole lines.
struct line_blocks_fn : adaptor<line_blocks_fn, block_options> {
    template <class Up, class... O>
    using rules = adaptor_rules<rule<byte_like<reference_t<Up>>,
                                     "sluice::line_blocks: the upstream must yield bytes (chunks "
                                     "or strings)">>;
    template <class Up>
    static auto make(Up up, block_options o = {}) {
        return detail::block_splitter<Up, lf_boundary>(std::move(up), std::move(o));
    }
};
inline constexpr line_blocks_fn line_blocks{};

}  // namespace sluice
