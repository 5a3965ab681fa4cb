#pragma once
/// \file
/// One memory budget for a whole run: `sluice::run(pipeline, sink, {.memory_budget = N})`.
///
/// - Every stage says what it will hold when it is bound, before the first record: a fixed
///   buffer with `plan.hold(stage, bytes, what)` (a read block, a chunk, a codec window, a
///   queue), or, when it can work with less, a request with `plan.request(stage, what,
///   minimum, preferred, apply)` (an upload's parts in flight, a compressor's threads, a
///   Parquet row group). The reports are collected with or without a budget, so a program
///   can show them (`run_options::on_memory_plan`).
/// - After every stage is bound, `run` resolves the plan. Without a budget every request gets
///   what it prefers and `apply` is not called: stages keep their own defaults exactly.
///   With a budget, fixed buffers plus every request's minimum above the budget refuse the
///   run with an `errc::limit` error whose message is the breakdown by stage: nothing has
///   been read, sent or created yet (stages open files, connections and uploads lazily).
///   Otherwise the rest of the budget is shared out among the requests, equal shares
///   capped at what each prefers, unused shares passed on ("water filling"); each stage's
///   `apply(granted)` adapts (fewer threads, smaller parts) and returns what it will hold.
/// - What the plan counts is buffering: bytes a stage keeps across records. The records
///   themselves, the allocator's slack and the process's own footprint (code, libraries,
///   TLS contexts) are not in it: a process's peak RSS is the plan plus a fixed overhead
///   (docs/design.md, "Memory budget", gives the figure for the `sluice` CLI).
/// - Stages whose buffering is fixed at compile time say so with a
///   `static constexpr std::size_t buffer_bound`; `buffer_bound_v<Pipeline>` sums them over
///   the stage chain, or is `unbounded_buffer` when any stage's buffering is only known at
///   run time, so `static_assert(sluice::buffer_bound_v<P> <= N)` cannot pass by omission.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "error.hpp"

namespace sluice {

/// One line of a memory plan: a stage, what it holds, and how many bytes.
struct memory_item {
    std::string stage;          ///< the stage's name, e.g. "s3.upload"
    std::string what;           ///< the buffer, e.g. "parts in flight (4 x 8 MiB + 1 filling)"
    std::size_t bytes = 0;      ///< held: fixed size, or (once resolved) what was granted
    std::size_t minimum = 0;    ///< the least the stage can run with (fixed: `bytes`)
    std::size_t preferred = 0;  ///< what it holds with no budget (fixed: `bytes`)
    bool adaptive = false;      ///< a request the stage adapts to (see `memory_plan::request`)
    bool headroom = false;      ///< a request for room it may never use (see `memory_use`)
};

/// What a request's bytes buy, which orders the sharing out of a budget.
enum class memory_use : unsigned char {
    /// Speed: threads, parts in flight, larger row groups. Served first.
    throughput,
    /// Room for what the data might need and usually does not: the longest record a reader
    /// accepts, a decoder's largest window. Served from what the throughput requests left.
    headroom,
};

/// "24.0 MiB", "512 KiB", "100 B": sizes as the breakdown prints them.
inline std::string format_bytes(std::size_t n) {
    char buf[48];
    if (n >= (std::size_t{1} << 30))
        std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(n) / (1u << 30));
    else if (n >= (std::size_t{1} << 20))
        std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1u << 20));
    else if (n >= 1024)
        std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024);
    else
        std::snprintf(buf, sizeof buf, "%zu B", n);
    return buf;
}

/// What the stages of one run will hold, and the budget they must fit (see the file comment).
/// A run owns one (in its `run_context`); stages add to it in `bind`, `run` resolves it.
class memory_plan {
public:
    /// `apply(granted, what)` adapts a stage to `granted` bytes (minimum <= granted <=
    /// preferred) and returns the bytes it will then hold (at most `granted`); it may
    /// rewrite `what` to say what it chose ("gzip threads: 2 of 8").
    using apply_fn = std::function<std::size_t(std::size_t granted, std::string& what)>;

    memory_plan() = default;
    explicit memory_plan(std::optional<std::size_t> budget) : budget_(budget) {}

    /// The budget, if the run has one.
    std::optional<std::size_t> budget() const noexcept { return budget_; }

    /// Reports a buffer of `bytes` that `stage` holds whatever the budget. Zero is not listed.
    void hold(std::string_view stage, std::size_t bytes, std::string_view what) {
        if (bytes == 0)
            return;
        items_.push_back({std::string(stage), std::string(what), bytes, bytes, bytes, false});
        applies_.emplace_back();
    }

    /// Reports buffering that `stage` can shrink: it needs `minimum` bytes, would hold
    /// `preferred`, and adapts to what it is granted through `apply` (called by `resolve`
    /// only when the run has a budget).
    void request(std::string_view stage, std::string_view what, std::size_t minimum,
                 std::size_t preferred, apply_fn apply, memory_use use = memory_use::throughput) {
        preferred = std::max(preferred, minimum);
        items_.push_back({std::string(stage), std::string(what), preferred, minimum, preferred,
                          true, use == memory_use::headroom});
        applies_.push_back(std::move(apply));
    }

    /// Every report so far, in the order the stages were bound (upstream first, sink last).
    const std::vector<memory_item>& items() const noexcept { return items_; }

    /// The bytes the plan holds: fixed buffers plus every request's grant (before `resolve`,
    /// its preferred size).
    std::size_t total() const noexcept {
        std::size_t t = 0;
        for (const auto& i : items_)
            t = sat_add(t, i.bytes);
        return t;
    }
    /// The least the run can start with: fixed buffers plus every request's minimum.
    std::size_t minimum() const noexcept {
        std::size_t t = 0;
        for (const auto& i : items_)
            t = sat_add(t, i.minimum);
        return t;
    }
    /// True once `resolve` ran.
    bool resolved() const noexcept { return resolved_; }

    /// Settles the plan before the first record (`run` calls it after binding every stage).
    /// With a budget: throws `errc::limit` with the breakdown when even the minimum does not
    /// fit, else grants the requests and lets each stage adapt.
    void resolve() {
        if (resolved_)
            return;
        resolved_ = true;
        if (!budget_)
            return;  // no budget: every stage keeps its defaults, apply is not called
        const std::size_t need = minimum();
        if (need > *budget_)
            throw error(errc::limit, "run",
                        "memory budget of " + format_bytes(*budget_)
                            + " exceeded: the stages need at least " + format_bytes(need)
                            + " before the first record\n" + breakdown());
        // Water filling, throughput requests first, then headroom from what they left (and
        // what they were granted but did not take).
        std::size_t left = *budget_ - need;
        for (const bool headroom : {false, true}) {
            std::vector<std::size_t> order;
            for (std::size_t i = 0; i < items_.size(); ++i)
                if (items_[i].adaptive && items_[i].headroom == headroom)
                    order.push_back(i);
            std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
                return extra(items_[a]) < extra(items_[b]);
            });
            std::vector<std::size_t> grant(items_.size(), 0);
            for (std::size_t k = 0; k < order.size(); ++k) {
                const std::size_t share = left / (order.size() - k);
                const std::size_t give = std::min(extra(items_[order[k]]), share);
                grant[order[k]] = items_[order[k]].minimum + give;
                left -= give;
            }
            for (std::size_t i : order) {
                std::size_t held = applies_[i] ? applies_[i](grant[i], items_[i].what) : grant[i];
                items_[i].bytes = std::clamp(held, items_[i].minimum, grant[i]);
                left += grant[i] - items_[i].bytes;
            }
        }
    }

    /// The plan as text: one line per buffer ("  s3.upload  15.0 MiB  parts in flight ..."),
    /// then the total against the budget. A settled plan shows what each stage holds; an
    /// unsettled or refused one, what each needs at least.
    std::string breakdown() const {
        const bool settled = resolved_ && (!budget_ || minimum() <= *budget_);
        std::size_t w = 5;
        for (const auto& i : items_)
            w = std::max(w, i.stage.size());
        auto line = [&](const std::string& name, std::size_t n) {
            const std::string amount = format_bytes(n);
            return "  " + name + std::string(w - name.size() + 2, ' ')
                   + std::string(amount.size() < 10 ? 10 - amount.size() : 0, ' ') + amount;
        };
        std::string out;
        for (const auto& i : items_) {
            out += line(i.stage, settled || !i.adaptive ? i.bytes : i.minimum) + "  " + i.what;
            if (i.adaptive) {
                if (!settled)
                    out += " (at least; " + format_bytes(i.preferred) + " unconstrained)";
                else if (budget_)
                    out += " (adapted; wants " + format_bytes(i.preferred) + ")";
                else
                    out += " (adapts to a budget; at least " + format_bytes(i.minimum) + ")";
            }
            out += '\n';
        }
        out += line(settled ? "total" : "least", settled ? total() : minimum());
        if (budget_)
            out += " of a budget of " + format_bytes(*budget_);
        return out;
    }

private:
    static std::size_t extra(const memory_item& i) noexcept { return i.preferred - i.minimum; }
    static std::size_t sat_add(std::size_t a, std::size_t b) noexcept {
        return b > std::numeric_limits<std::size_t>::max() - a
                   ? std::numeric_limits<std::size_t>::max()
                   : a + b;
    }

    std::optional<std::size_t> budget_;
    std::vector<memory_item> items_;
    std::vector<apply_fn> applies_;  // parallel to items_; empty for fixed buffers
    bool resolved_ = false;
};

/// Reports a reader that keeps each record whole in its buffer: `working` bytes always,
/// plus `per_byte` bytes for each byte of the longest record it accepts (`limit`, e.g.
/// `max_record_size`). A budget lowers `limit` (not below `least`), so a longer record
/// fails as too long instead of growing past the budget. `limit` must outlive the run.
inline void request_record_room(memory_plan& plan, std::string_view stage, std::size_t working,
                                std::size_t per_byte, std::size_t least, std::size_t& limit) {
    least = std::min(least, limit);
    auto text = [](std::size_t n) { return "buffer, records up to " + format_bytes(n); };
    plan.request(
        stage, text(limit), working + per_byte * least, working + per_byte * limit,
        [&limit, working, per_byte, text](std::size_t granted, std::string& what) {
            limit = std::min(limit, (granted - working) / per_byte);
            what = text(limit);
            return working + per_byte * limit;
        },
        memory_use::headroom);
}

/// `buffer_bound_v<P>` when some stage of `P` has buffering known only at run time.
inline constexpr std::size_t unbounded_buffer = std::numeric_limits<std::size_t>::max();

namespace detail {

template <class S>
constexpr std::size_t buffer_bound_of() {
    if constexpr (!requires {
                      { S::buffer_bound } -> std::convertible_to<std::size_t>;
                  }) {
        return unbounded_buffer;
    } else {
        constexpr std::size_t own = S::buffer_bound;
        if constexpr (!requires { typename S::upstream_type; }) {
            return own;  // a root source
        } else {
            constexpr std::size_t up = buffer_bound_of<typename S::upstream_type>();
            if constexpr (up == unbounded_buffer || own > unbounded_buffer - 1 - up)
                return unbounded_buffer;
            else
                return own + up;
        }
    }
}

}  // namespace detail

/// The bytes pipeline `P`'s stages buffer, summed over its stage chain from the stages'
/// compile-time `buffer_bound` constants; `unbounded_buffer` when any stage has none (its
/// buffering depends on run-time options or data), so a `static_assert` on it holds only
/// when every stage is accounted for.
template <class P>
inline constexpr std::size_t buffer_bound_v = detail::buffer_bound_of<std::remove_cvref_t<P>>();

/// A pipeline whose every stage's buffering is fixed at compile time.
template <class P>
concept bounded_buffering = buffer_bound_v<P>
!= unbounded_buffer;

}  // namespace sluice
