#pragma once
/// \file
/// Shard planning: one table or query split into many small read tasks that together
/// return every row exactly once, read in one snapshot (postgres/snapshot.hpp) by several
/// connections.
///
/// - A table (Postgres >= 14) is split into half-open ranges of heap blocks read with TID
///   Range Scans (`WHERE ctid >= '(a,0)' AND ctid < '(b,0)'`). The block count is the
///   relation's size on disk (`pg_relation_size / block_size`), not `pg_class.relpages`,
///   which is an estimate (0 until the first VACUUM or ANALYZE), cut back to the last block
///   that holds a row visible in the planner's snapshot (`visible_blocks`): that number is a
///   property of the snapshot, so separate processes planning in one snapshot compute the
///   same blocks, the same automatic task size and the same tasks, however much the table
///   grew between their starts. The last range has no upper bound, so rows in pages added
///   after planning are never lost.
/// - Partitioned tables, views, queries and older servers are split on a column's values
///   (`shard_by`, for a table its primary key's first column by default): integer columns
///   into equal spans of [min, max], other types at quantiles; the first range also takes
///   NULLs and the first and last are open-ended.
///
/// Task `k` of a plan belongs to shard `k mod N` (`tasks_of_shard`), so separate processes
/// that plan independently agree on who reads what: a ctid plan depends only on the visible
/// block count and the task size, and a key plan only on values read in the shared snapshot.
/// The automatic task size (`auto_task_blocks`) gives every one of N workers the same number
/// of equal tasks (at least `tasks_per_worker`, each at most `max_task_blocks`), so a small
/// table is spread over all N shards too and a large one is balanced to within one task.
/// Within one process, `task_queue` hands the tasks to whichever worker is free.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "connection.hpp"
#include "quote.hpp"
#include "subquery.hpp"

namespace sluice::pg {

/// Heap blocks `[first, last)`; no `last`: to the end of the relation, however long.
struct block_range {
    std::uint64_t first = 0;
    std::optional<std::uint64_t> last;
    friend bool operator==(const block_range&, const block_range&) = default;
};

/// One read task: a complete query (the source restricted to one range).
struct shard_task {
    std::size_t index = 0;  ///< position in the plan (task k belongs to shard k mod N)
    std::string query;      ///< `SELECT * FROM t WHERE ...`
    std::string range;      ///< the predicate alone, for logs ("" when the task is everything)
};

/// How a source was split.
enum class shard_method : std::uint8_t {
    ctid,  ///< heap block ranges (TID Range Scans)
    key,   ///< value ranges of one column
};

/// The tasks for one source, in order.
struct shard_plan {
    shard_method method = shard_method::ctid;
    std::string query;              ///< the unsplit query the tasks restrict
    std::string column;             ///< key plans: the column split on
    std::uint64_t blocks = 0;       ///< ctid plans: blocks up to the last visible row
    std::uint64_t task_blocks = 0;  ///< ctid plans: blocks per task
    std::vector<shard_task> tasks;
};

/// What to plan for.
struct shard_plan_options {
    /// The workers (threads or shards) that will share the tasks.
    std::size_t workers = 1;
    /// ctid plans: blocks per task (0: automatic, `auto_task_blocks(visible blocks, workers,
    /// tasks_per_worker, max_task_blocks)`). Separate processes planning alone must all pass
    /// the same value (the automatic one is the same for all: it depends on the snapshot).
    std::uint64_t task_blocks = 0;
    /// ctid plans, automatic size: the fewest tasks per worker. More tasks even out skew
    /// (TOAST-heavy pages) and let a shared queue balance the workers; each task costs one
    /// COPY statement and a TID Range Scan start.
    std::size_t tasks_per_worker = 4;
    /// ctid plans, automatic size: the largest task (2048 blocks: 16 MiB of 8 KiB pages).
    std::uint64_t max_task_blocks = 2048;
    /// Key plans: number of value ranges (0: 8 x workers).
    std::size_t key_ranges = 0;
    /// Split on this column's values instead of ctid (required for a query or a view).
    std::string shard_by;
    /// Use ctid ranges when the server and relation allow it (false: always key ranges).
    bool allow_ctid = true;
};

/// Half-open ranges of `task_blocks` blocks covering `[0, blocks)`, the last without an
/// upper bound (one open range when `blocks` is 0). `task_blocks` 0 counts as 1.
inline std::vector<block_range> block_ranges(std::uint64_t blocks, std::uint64_t task_blocks) {
    if (task_blocks == 0) task_blocks = 1;
    std::vector<block_range> out;
    for (std::uint64_t at = 0; at + task_blocks < blocks; at += task_blocks)
        out.push_back({at, at + task_blocks});
    out.push_back({out.empty() ? 0 : *out.back().last, std::nullopt});
    return out;
}

/// The automatic blocks per task for `blocks` blocks shared by `workers`: every worker gets
/// the same number of tasks, at least `tasks_per_worker` and as many more as keep a task
/// within `max_task_blocks`; the task size is the blocks divided evenly over all tasks
/// (at least 1). With N shards taking tasks k mod N, each shard then reads a balanced share
/// of a table of any size, a small one included.
inline std::uint64_t auto_task_blocks(std::uint64_t blocks, std::size_t workers,
                                      std::size_t tasks_per_worker = 4,
                                      std::uint64_t max_task_blocks = 2048) {
    const std::uint64_t w = std::max<std::size_t>(workers, 1);
    const std::uint64_t cap = std::max<std::uint64_t>(max_task_blocks, 1);
    const auto ceil_div = [](std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0); };
    const std::uint64_t per_worker =
        std::max<std::uint64_t>(std::max<std::size_t>(tasks_per_worker, 1), ceil_div(blocks, w * cap));
    return std::max<std::uint64_t>(1, ceil_div(blocks, w * per_worker));
}

/// `ctid >= '(a,0)' AND ctid < '(b,0)'`, the form a TID Range Scan serves.
inline std::string ctid_predicate(const block_range& r) {
    std::string s = "ctid >= '(" + std::to_string(r.first) + ",0)'";
    if (r.last) s += " AND ctid < '(" + std::to_string(*r.last) + ",0)'";
    return s;
}

/// The tasks of shard `shard` (0-based) of `shards`: tasks k with k mod shards == shard.
inline std::vector<shard_task> tasks_of_shard(const shard_plan& plan, std::size_t shard,
                                              std::size_t shards) {
    if (shards == 0 || shard >= shards)
        throw sluice::error(errc::usage, "postgres",
                            "shard " + std::to_string(shard) + " of " + std::to_string(shards) +
                                " does not exist (shards are numbered 0 to N-1)");
    std::vector<shard_task> out;
    for (const auto& t : plan.tasks)
        if (t.index % shards == shard) out.push_back(t);
    return out;
}

/// Hands tasks out to workers, each exactly once, in plan order. Thread-safe.
class task_queue {
public:
    explicit task_queue(std::vector<shard_task> tasks) : tasks_(std::move(tasks)) {}
    /// The next task, or null when all are taken (or `close()` was called).
    const shard_task* pop() noexcept {
        std::size_t i = next_.fetch_add(1, std::memory_order_relaxed);
        return i < tasks_.size() ? &tasks_[i] : nullptr;
    }
    /// No more tasks for anyone (after a failure).
    void close() noexcept { next_.store(tasks_.size(), std::memory_order_relaxed); }
    std::size_t size() const noexcept { return tasks_.size(); }

private:
    std::vector<shard_task> tasks_;
    std::atomic<std::size_t> next_{0};
};

namespace detail {

/// What planning needs to know about a table.
struct relation_facts {
    char relkind = 'r';
    std::uint64_t blocks = 0;
    std::string primary_key;  ///< first primary-key column, or ""
};

inline relation_facts relation_facts_of(connection& c, const std::string& quoted_table) {
    auto r = c.query(
        "SELECT c.relkind, pg_relation_size(c.oid) / current_setting('block_size')::bigint, "
        "(SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = i.indkey[0] WHERE i.indrelid = c.oid AND i.indisprimary) "
        "FROM pg_class c WHERE c.oid = $1::regclass",
        quoted_table);
    relation_facts f;
    f.relkind = r.value(0, 0).empty() ? 'r' : r.value(0, 0)[0];
    f.blocks = std::stoull(std::string(r.value(0, 1)));
    if (!r.is_null(0, 2)) f.primary_key = std::string(r.value(0, 2));
    return f;
}

/// The blocks up to and including the last one that holds a row visible in the current
/// snapshot (0 when no row is visible), found by TID range probes backwards from
/// `relation_blocks` over disjoint windows of 64, 128, 256, ... blocks, so the pages read
/// are about the invisible tail and one window. Unlike the relation's size, which grows
/// with every concurrent insert, this depends on the snapshot alone: rows it sees never
/// move while it is held (VACUUM keeps them, and only an exclusive-lock rewrite could).
inline std::uint64_t visible_blocks(connection& c, const std::string& quoted_table,
                                    std::uint64_t relation_blocks) {
    std::uint64_t hi = relation_blocks, window = 64;
    while (hi > 0) {
        const std::uint64_t lo = hi > window ? hi - window : 0;
        auto r = c.exec("SELECT (max(ctid)::text::point)[0]::bigint FROM " + quoted_table +
                        " WHERE " + ctid_predicate({lo, hi}));
        if (!r.is_null(0, 0)) return std::stoull(std::string(r.value(0, 0))) + 1;
        hi = lo;
        window *= 2;
    }
    return 0;
}

/// `lo + (hi - lo) * i / n` without overflow (for any int64 bounds), for integer keys.
inline long long split_point(long long lo, long long hi, std::size_t i, std::size_t n) {
    const auto span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
    const std::uint64_t q = span / n, r = span % n;
    const std::uint64_t off = q * i + r * i / n;  // r * i < n * n: small
    return static_cast<long long>(static_cast<std::uint64_t>(lo) + off);
}

/// Boundaries (as text, ascending, distinct) that cut `col`'s values into `n` ranges:
/// equal integer spans of [min, max], or quantiles for other types. Empty for no rows.
inline std::vector<std::string> key_boundaries(connection& c, const std::string& source,
                                               const std::string& col, std::size_t n) {
    auto mm = c.exec("SELECT min(q." + col + ")::text, max(q." + col + ")::text, pg_typeof(min(q." +
                     col + "))::text FROM " + source + " q");
    if (mm.is_null(0, 0) || n < 2) return {};
    std::string type(mm.value(0, 2));
    std::vector<std::string> out;
    if (type == "smallint" || type == "integer" || type == "bigint") {
        long long lo = std::stoll(std::string(mm.value(0, 0)));
        long long hi = std::stoll(std::string(mm.value(0, 1)));
        for (std::size_t i = 1; i < n; ++i) {
            std::string b = std::to_string(split_point(lo, hi, i, n));
            if (out.empty() || out.back() != b) out.push_back(std::move(b));
        }
        return out;
    }
    std::string fractions;
    for (std::size_t i = 1; i < n; ++i)
        fractions += (i > 1 ? "," : "") + std::to_string(static_cast<double>(i) / n);
    // GROUP BY orders and deduplicates in the column type's own order (and collation).
    auto r = c.exec("SELECT b::text FROM unnest((SELECT percentile_disc(ARRAY[" + fractions +
                    "]::float8[]) WITHIN GROUP (ORDER BY q." + col + ") FROM " + source +
                    " q)) AS b GROUP BY b ORDER BY b");
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.value(i, 0));
    return out;
}

/// The predicates of a key plan: (< b1 or NULL), [b1, b2), ..., [bk, +inf).
inline std::vector<std::string> key_predicates(const std::string& col,
                                               const std::vector<std::string>& bounds) {
    if (bounds.empty()) return {""};
    std::vector<std::string> out;
    out.push_back("(" + col + " < " + quote_literal(bounds.front()) + " OR " + col + " IS NULL)");
    for (std::size_t i = 0; i + 1 < bounds.size(); ++i)
        out.push_back(col + " >= " + quote_literal(bounds[i]) + " AND " + col + " < " +
                      quote_literal(bounds[i + 1]));
    out.push_back(col + " >= " + quote_literal(bounds.back()));
    return out;
}

/// Appends one task per predicate: `<select> WHERE <predicate>`.
inline void add_tasks(shard_plan& plan, const std::string& select,
                      const std::vector<std::string>& predicates) {
    for (const auto& p : predicates)
        plan.tasks.push_back({plan.tasks.size(), p.empty() ? select : select + " WHERE " + p, p});
}

}  // namespace detail

/// Plans key ranges over `query`'s column `column` (an unquoted name). The boundaries are
/// read on `c`, so run this inside the snapshot the tasks will read.
inline shard_plan plan_query(connection& c, std::string_view query,
                             const shard_plan_options& o = {}) {
    if (o.shard_by.empty())
        throw sluice::error(errc::usage, "postgres",
                            "a query is split on a column's values: name the column (shard_by; "
                            "--shard-by in the sluice CLI)");
    shard_plan plan;
    plan.method = shard_method::key;
    plan.query = std::string(statement_body(query));
    plan.column = o.shard_by;
    std::string col = "q." + quote_identifier(o.shard_by);
    std::size_t n = o.key_ranges ? o.key_ranges : 8 * std::max<std::size_t>(o.workers, 1);
    auto bounds = detail::key_boundaries(c, subquery(query), quote_identifier(o.shard_by), n);
    detail::add_tasks(plan, "SELECT q.* FROM " + subquery(query) + " q",
                      detail::key_predicates(col, bounds));
    return plan;
}

/// Plans a table (`table` as written on a command line, schema-qualified or quoted parts
/// allowed): ctid block ranges when the server (>= 14) and the relation (a plain table or
/// materialized view) allow it and no `shard_by` is given, key ranges otherwise (on
/// `shard_by`, or the primary key's first column). Run it inside the snapshot the tasks
/// will read: the key boundaries must be the ones those tasks see.
inline shard_plan plan_table(connection& c, std::string_view table,
                             const shard_plan_options& o = {}) {
    const std::string name = quote_qualified_name(table);
    const auto facts = detail::relation_facts_of(c, name);
    const std::string select = "SELECT * FROM " + name;
    bool heap = facts.relkind == 'r' || facts.relkind == 'm' || facts.relkind == 't';
    if (o.allow_ctid && o.shard_by.empty() && heap && c.server_version() >= 140000) {
        shard_plan plan;
        plan.query = select;
        plan.blocks = detail::visible_blocks(c, name, facts.blocks);
        std::uint64_t per = o.task_blocks;
        if (per == 0)
            per = auto_task_blocks(plan.blocks, o.workers, o.tasks_per_worker, o.max_task_blocks);
        plan.task_blocks = per;
        std::vector<std::string> preds;
        for (const auto& r : block_ranges(plan.blocks, per)) preds.push_back(ctid_predicate(r));
        detail::add_tasks(plan, select, preds);
        return plan;
    }
    shard_plan_options ko = o;
    if (ko.shard_by.empty()) ko.shard_by = facts.primary_key;
    if (ko.shard_by.empty())
        throw sluice::error(errc::usage, "postgres",
                            "cannot split " + std::string(table) +
                                " by ctid (a partitioned table, a view or a server before 14) and "
                                "it has no primary key: name a column to split on (shard_by; "
                                "--shard-by in the sluice CLI)");
    shard_plan plan = plan_query(c, select, ko);
    return plan;
}

}  // namespace sluice::pg
