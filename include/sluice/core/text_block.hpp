#pragma once
/// \file
/// Blocks of whole records, for parsing on several threads: `text_block` (a piece of an
/// input that holds whole records, and where it starts in the input) and `block_splitter`,
/// the stage that cuts a byte stream into
/// text blocks for `line_blocks` (adaptors/line_blocks.hpp) and `csv::record_blocks`
/// (csv/record_blocks.hpp). A reader given a block alone with its origin (`input_origin`)
/// names the same lines and byte offsets in its errors as one reading the whole input.
///
/// A block ends just after a record end: the last one within `block_bytes`, or the first
/// past it when a record is longer. The first block is smaller (`first_block_bytes`), so that what it teaches the
/// others (a CSV header, the columns of the first JSON record: core/block_gate.hpp) is known
/// early. The last block takes whatever is left, record end or not; an empty input is one
/// empty block (so a job that writes a header given in advance still runs once).
///
/// A `Boundary` says where records may end: `lf_boundary` after any line feed (JSON Lines,
/// where a line feed cannot occur inside a value), `csv::quote_boundary` only after line
/// feeds outside quotes. It is asked about new bytes only, once each, so finding the cuts is
/// linear in the input whatever the record length.
///
/// Memory: a block, plus the record that runs past its target. A record longer than
/// `max_record_size` is not looked for to its end: once that many bytes past the target
/// hold no boundary, they go on as one block that does not end at a record boundary, and
/// the reader of that block fails with its own "record too long" error (the readers' limit
/// is the same option). So the buffer never grows past block + limit.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "byte_count.hpp"
#include "chunk.hpp"
#include "context.hpp"
#include "error.hpp"
#include "owned.hpp"
#include "stage.hpp"

namespace sluice {

/// A piece of an input that holds whole records, and where it starts in the input.
struct text_block {
    /// Moved, never copied, from stage to stage and across threads (core/owned.hpp).
    using moves_across = void;

    chunk bytes;
    std::uint64_t index = 0;        ///< 0-based, in input order
    std::uint64_t line = 1;         ///< 1-based line of its first byte
    std::uint64_t byte_offset = 0;  ///< bytes of the input before it

    std::string_view view() const noexcept { return bytes.view(); }
    /// Where it starts, for a reader given the block alone (`read_options::origin`).
    input_origin origin() const noexcept { return {line, byte_offset}; }
};


/// Options of `line_blocks` and `csv::record_blocks`.
struct block_options {
    /// A block's target size: it ends at the last record end within this many bytes, or,
    /// when they hold none, at the first found past them.
    std::size_t block_bytes = 256 * 1024;
    /// The first block's target (see the file comment).
    std::size_t first_block_bytes = 64 * 1024;
    /// How far past the target a record end is looked for (the readers' `max_record_size`).
    std::size_t max_record_size = std::size_t{64} << 20;
    /// The counters' name in the run's metrics (also the memory plan's).
    std::string name = "blocks";
};

/// Records end after any line feed.
struct lf_boundary {
    /// Bytes [from, to) of `b` are new (earlier ones were asked about already): the offset
    /// just past the last record end among them, or `npos`.
    std::size_t last_end(const char* b, std::size_t from, std::size_t to) noexcept {
        for (std::size_t i = to; i > from; --i)
            if (b[i - 1] == '\n') return i;
        return npos;
    }
    /// The first `n` bytes went into a block (and `n` is a record end).
    void taken(std::size_t n) noexcept { (void)n; }

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
};

namespace detail {

template <class Up, class Boundary>
class block_splitter : public stage_base<block_splitter<Up, Boundary>, Up> {
    using base = stage_base<block_splitter<Up, Boundary>, Up>;

public:
    using reference = text_block&&;

    block_splitter(Up up, block_options o, Boundary b = {})
        : base(std::move(up)), opt_(std::move(o)), bound_(std::move(b)) {
        opt_.block_bytes = std::max<std::size_t>(opt_.block_bytes, 1);
        opt_.first_block_bytes = std::max<std::size_t>(opt_.first_block_bytes, 1);
    }

    void bind(run_context& ctx) {
        this->up_.bind(ctx);
        // The block being filled and the one handed on (its taker owns it from then on).
        ctx.memory.hold(opt_.name, 2 * (opt_.block_bytes + opt_.block_bytes / 4),
                        "blocks of whole records");
    }

    maybe<text_block&&> next() {
        for (;;) {
            const std::size_t target = index_ == 0 ? opt_.first_block_bytes : opt_.block_bytes;
            if (buf_.size() >= target) {
                // Bytes the boundary has not seen yet; the last record end among them ends
                // the block (the first round sees the whole target, so it ends near it).
                std::size_t end = looked_ < buf_.size()
                                      ? bound_.last_end(buf_.data(), looked_, buf_.size())
                                      : Boundary::npos;
                looked_ = buf_.size();
                if (end != Boundary::npos) return cut(end);
                if (buf_.size() - target > opt_.max_record_size) return cut(buf_.size());
            }
            if (cur_.empty()) {
                if (up_done_) {
                    // An empty input is one empty block, so the jobs still run once (a
                    // header given in advance is written even for no records).
                    if (buf_.empty() && index_ > 0) return {};
                    return cut(buf_.size());
                }
                auto r = this->up_.next();
                if (!r) {
                    up_done_ = true;
                    continue;
                }
                cur_ = bytes_of(*r);
                continue;
            }
            // Fill up to the target first; past it, take a little at a time (a record's
            // rest is usually short), so what stays after the cut is small.
            std::size_t want = buf_.size() < target ? target - buf_.size() : step_bytes;
            std::size_t take = std::min(want, cur_.size());
            buf_.reserve_spare(take);
            buf_.append(cur_.substr(0, take));
            cur_.remove_prefix(take);
        }
    }

    /// Blocks handed on so far.
    std::uint64_t blocks() const noexcept { return index_; }

private:
    /// Past the target, bytes are added in steps of this size while no record end is found.
    static constexpr std::size_t step_bytes = 4096;

    /// Hands on the first `n` bytes as the next block; the rest starts the following one.
    text_block& cut(std::size_t n) {
        out_.index = index_++;
        out_.line = line_;
        out_.byte_offset = offset_;
        const std::string_view all = buf_.view();
        line_ += count_byte(all.substr(0, n), '\n');
        offset_ += n;
        bound_.taken(n);
        chunk rest(std::max(all.size() - n, opt_.block_bytes) + opt_.block_bytes / 4);
        rest.append(all.substr(n));
        looked_ = looked_ > n ? looked_ - n : 0;
        out_.bytes = std::move(buf_);
        out_.bytes.resize(n);
        buf_ = std::move(rest);
        return out_;
    }

    block_options opt_;
    Boundary bound_;
    chunk buf_;
    std::size_t looked_ = 0;  // bytes of buf_ the boundary has seen
    std::string_view cur_;    // what is left of the upstream's last piece
    bool up_done_ = false;
    std::uint64_t index_ = 0, line_ = 1, offset_ = 0;
    text_block out_;
};

}  // namespace detail

}  // namespace sluice
