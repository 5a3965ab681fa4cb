#pragma once
/// \file
/// `unpack_blocks(options)`: the hand-over at the end of data-parallel parsing. Over the
/// `encoded_block`s of an ordered `parallel_map` (core/text_block.hpp: each worker parsed
/// and encoded one block of whole records), it yields their output bytes as `chunk&`, in
/// input order, so
///
///     read_file("in.jsonl") | line_blocks()
///         | parallel_map(to_csv_block, {.window = 6}) | unpack_blocks() | to_file("out.csv")
///
/// writes exactly what the one-thread pipeline writes, with parsing and encoding on every
/// core (`to_csv_block(text_block&) -> encoded_block`: a reader given the block's origin,
/// then an encoder).
///
/// - Errors: an ordered `parallel_map` raises a block's failure in the block's turn, after
///   every earlier block was handed on, so the first error in the input is the one
///   reported. Here a `sluice::error` with a record index gets the records of the earlier
///   blocks added: a block's reader counts from 0; the error then names the record in the
///   whole input (its line and byte offset are right already, from the reader's origin).
/// - Rejects: a job whose stages collect their rejects (`encoded_block::rejects`) leaves
///   them to this stage, which hands them to `options.errors` in input order with absolute
///   record indices: dead letters, counts and the reject limits come out as in one thread.
/// - Counters: with `records_name`, the blocks' records count (in and out) there, as a
///   `meter` over the records of the one-thread pipeline would; `on_records` is told each
///   block's record count, in order, on the consumer's thread (progress, totals).
/// - Order: `on_block` sees each block in its turn, before its bytes go on (a header line
///   written before the first record, wherever that record's block was parsed).
/// - Memory: what the blocks in flight hold is the pool's to report (`parallel_options::
///   record_bytes`: a block and its output); this stage holds one block's output.

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/adaptor.hpp"
#include "../core/chunk.hpp"
#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/metrics.hpp"
#include "../core/stage.hpp"
#include "../core/text_block.hpp"
#include "../policy/error_policy.hpp"

namespace sluice {

/// What a worker made of one `text_block`.
struct encoded_block {
    using moves_across = void;

    std::uint64_t index = 0;    ///< the text block's
    std::vector<chunk> chunks;  ///< the output bytes, in order
    std::uint64_t records = 0;  ///< records handed on (encoded)
    /// Records the block's reader yielded, when a later stage rejected some (the base of
    /// the record indices of the next blocks); 0: `records`.
    std::uint64_t read = 0;
    /// Records rejected in the block, in order, as a policy that collects them made them
    /// (`on_error::dead_letter` into this vector): record indices count from the block's
    /// start. `unpack_blocks` hands them to its `errors` policy in input order.
    std::vector<dead_letter_record> rejects{};
};

/// Options of `unpack_blocks`.
struct unpack_blocks_options {
    /// When not empty, the counters that count the blocks' records.
    std::string records_name{};
    /// Told each block's record count, in input order, on the consumer's thread.
    std::function<void(std::uint64_t)> on_records{};
    /// Called with each block, in input order, on the consumer's thread, before its bytes
    /// are handed on, with the records of the blocks before it: what only the order knows,
    /// such as a header line put before the first block that has a record (the block's
    /// `chunks` may be changed).
    std::function<void(encoded_block&, std::uint64_t)> on_block{};
    /// The run's policy for the records the blocks rejected (`encoded_block::rejects`): they
    /// are counted, limited and dead-lettered here, in input order, with absolute record
    /// indices, as the stages of a one-thread pipeline would under this policy.
    any_error_policy errors{};
};

namespace detail {

template <class Up>
class unpack_blocks_stage : public stage_base<unpack_blocks_stage<Up>, Up> {
    using base = stage_base<unpack_blocks_stage<Up>, Up>;

public:
    using reference = chunk&;

    unpack_blocks_stage(Up up, unpack_blocks_options o) : base(std::move(up)), opt_(std::move(o)) {}

    void bind(run_context& ctx) {
        this->up_.bind(ctx);
        ctx_ = &ctx;
        if (ctx.metrics && !opt_.records_name.empty())
            counters_ = ctx.metrics->counters(opt_.records_name);
    }

    maybe<chunk&> next() {
        for (;;) {
            if (cur_ && pos_ < cur_->chunks.size()) return cur_->chunks[pos_++];
            auto r = pull();
            if (!r) return {};
            cur_.emplace(std::move(*r));
            pos_ = 0;
            if (!cur_->rejects.empty()) replay(cur_->rejects);
            if (opt_.on_block) opt_.on_block(*cur_, records_);
            read_ += std::max(cur_->read, cur_->records);
            records_ += cur_->records;
            if (counters_) {
                counters_->add_in(cur_->records);
                counters_->add_out(cur_->records);
            }
            if (opt_.on_records) opt_.on_records(cur_->records);
        }
    }

    /// Records of the blocks handed on so far.
    std::uint64_t records() const noexcept { return records_; }

private:
    /// The next block; its failure with the record index made absolute.
    auto pull() {
        try {
            return this->up_.next();
        } catch (const error& e) {
            if (!e.where().has_record() || read_ == 0) throw;
            throw absolute(e);
        }
    }

    /// `e` with the records of the earlier blocks added to its record index.
    error absolute(const error& e) const {
        if (!e.where().has_record()) return e;
        position p = e.where();
        p.record += read_;
        return error(e.code(), e.stage(), e.message(), p);
    }

    /// Hands a block's rejects to the run's policy, a rejecter per stage (each counts as
    /// that stage's would).
    void replay(std::vector<dead_letter_record>& rejects) {
        for (auto& r : rejects) {
            auto it = std::find_if(rejecters_.begin(), rejecters_.end(),
                                   [&](const auto& x) { return x.stage() == r.stage; });
            if (it == rejecters_.end()) {
                rejecters_.emplace_back(opt_.errors, r.stage);
                if (ctx_) rejecters_.back().bind(*ctx_);
                it = std::prev(rejecters_.end());
            }
            it->reject(r.raw, absolute(r.error), std::move(r.code));
        }
        rejects.clear();
    }

    unpack_blocks_options opt_;
    run_context* ctx_ = nullptr;
    std::shared_ptr<stage_counters> counters_;
    std::vector<sluice::detail::text_rejecter> rejecters_;
    std::optional<encoded_block> cur_;
    std::size_t pos_ = 0;
    std::uint64_t records_ = 0;  // records handed on
    std::uint64_t read_ = 0;     // records the blocks' readers yielded: the index base
};

}  // namespace detail

/// `parallel_map(job) | unpack_blocks(options)`: the output bytes of ordered
/// `encoded_block`s (see the file comment).
struct unpack_blocks_fn : adaptor<unpack_blocks_fn, unpack_blocks_options> {
    template <class Up, class... O>
    using rules = adaptor_rules<
        rule<std::is_same_v<std::remove_cvref_t<reference_t<Up>>, encoded_block>,
             "sluice::unpack_blocks: the upstream must yield encoded_block (an ordered "
             "parallel_map of a block job)">>;
    template <class Up>
    static auto make(Up up, unpack_blocks_options o = {}) {
        return detail::unpack_blocks_stage<Up>(std::move(up), std::move(o));
    }
};
inline constexpr unpack_blocks_fn unpack_blocks{};

}  // namespace sluice
