#pragma once
/// \file
/// `pg::copy_tasks` and `pg::json_tasks`: one byte stream made of several read tasks
/// (postgres/shard_plan.hpp) run one after the other on one connection, each task taken
/// from a `pg::task_queue` when the previous one ends. Several workers, each with its own
/// connection on one imported snapshot (postgres/snapshot.hpp), share one queue, so a slow
/// task (TOAST-heavy pages, say) does not leave one worker with most of the work, and each
/// worker's stream is one complete file: CSV with one header line at the top (also when the
/// worker got no task), JSON lines. A drain request (`run_options::drain`, see
/// core/shutdown.hpp) ends the stream at the next record boundary as a complete file and
/// takes no further task.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/context.hpp"
#include "../core/stage.hpp"
#include "connection.hpp"
#include "copy_out.hpp"
#include "json_lines.hpp"
#include "shard_plan.hpp"
#include "subquery.hpp"

namespace sluice::pg {

namespace detail {

/// The source behind copy_tasks/json_tasks. `Open(conn, query, first)` starts one task's
/// source (a chunk source); `RowsOf(source)` is the data rows it produced.
template <class Open, class RowsOf>
class task_stream_source : public root_source<task_stream_source<Open, RowsOf>> {
    using inner_t = decltype(std::declval<Open&>()(std::declval<connection&>(),
                                                   std::declval<const std::string&>(), true));

public:
    using reference = chunk&;

    task_stream_source(connection& c, task_queue& q, std::string empty_query, Open open,
                       RowsOf rows_of)
        : conn_(&c), queue_(&q), empty_query_(std::move(empty_query)), open_(std::move(open)),
          rows_of_(std::move(rows_of)) {}

    void bind(run_context& ctx) {
        root_source<task_stream_source>::bind(ctx);
        ctx_ = &ctx;
        // One task's source at a time, opened later: its chunk and libpq's buffer, reported
        // now so that a memory budget counts them before the first record (each task's own
        // report comes after the plan is settled and changes nothing).
        ctx.memory.hold("pg.tasks", default_chunk_size + default_chunk_size / 4 + 64 * 1024,
                        "one task at a time: output chunk and libpq buffer");
    }

    /// The next chunk of the current task (valid until the next pull), or nothing once the
    /// queue is empty and the last task ended, or a drain was requested (see open_next).
    maybe<chunk&> next() {
        for (;;) {
            // A drain ends the stream between two chunks, which both task sources end at a
            // record: COPY's messages are whole rows, the JSON encoder appends whole lines.
            // At least one chunk first, so a CSV stream still has its header.
            if (chunks_ > 0 && draining()) [[unlikely]] {
                end_task();
                return {};
            }
            if (!cur_ && !open_next()) return {};
            if (auto c = cur_->next()) {
                ++chunks_;
                return c;
            }
            end_task();
        }
    }

    /// Data rows of the tasks finished so far plus the one in progress.
    std::uint64_t rows_done() { return rows_ + (cur_ ? rows_of_(*cur_) : 0); }
    /// Tasks started so far (the empty-file query, when it ran, is not one).
    std::uint64_t tasks_done() const noexcept { return tasks_; }

private:
    bool draining() const noexcept { return ctx_ && ctx_->drain_requested(); }

    /// Ends the current task (a COPY or query still running is cancelled by its source).
    void end_task() {
        if (!cur_) return;
        rows_ += rows_of_(*cur_);
        cur_.reset();
    }

    /// Starts the next task; at the end of the queue, the empty-file query when this stream
    /// ran no task (so a CSV part still gets its header). False when nothing is left. Once a
    /// drain was requested (run_options::drain) no task is taken from the queue any more.
    bool open_next() {
        this->check_stop("postgres");
        const shard_task* t = draining() ? nullptr : queue_->pop();
        if (t) {
            cur_.emplace(open_(*conn_, t->query, tasks_ == 0));
            ++tasks_;
        } else if (tasks_ == 0 && !empty_done_ && !empty_query_.empty()) {
            empty_done_ = true;
            cur_.emplace(open_(*conn_, empty_query_, true));
        } else {
            return false;
        }
        if (ctx_) cur_->bind(*ctx_);
        return true;
    }

    connection* conn_;
    task_queue* queue_;
    std::string empty_query_;
    Open open_;
    RowsOf rows_of_;
    run_context* ctx_ = nullptr;
    std::optional<inner_t> cur_;
    std::uint64_t rows_ = 0, tasks_ = 0, chunks_ = 0;
    bool empty_done_ = false;
};

/// `SELECT * FROM (query) q LIMIT 0`: the columns and no row.
inline std::string no_rows_query(const std::string& query) {
    return "SELECT * FROM " + subquery(query) + " q LIMIT 0";
}

}  // namespace detail

/// `pg::copy_tasks(conn, queue, plan_query, options)` yields, as `chunk&`, the COPY output
/// of every task it takes from `queue` (`COPY (task) TO STDOUT WITH (...)`), one after the
/// other. With `options.header` only the first task prints the header, and a stream that
/// gets no task runs `plan_query` with LIMIT 0 so that it still is a complete CSV file.
/// `format` must be csv or text (binary COPY output cannot be concatenated).
struct copy_tasks_fn {
    auto operator()(connection& c, task_queue& q, const std::string& plan_query,
                    copy_out_options o = {}) const {
        if (o.format != "csv" && o.format != "text")
            throw sluice::error(errc::usage, "postgres",
                                "copy_tasks: COPY FORMAT " + o.format +
                                    " output cannot be concatenated (csv or text only)");
        auto open = [o](connection& conn, const std::string& query, bool first) {
            copy_out_options oo = o;
            oo.header = o.header && first;
            return copy_out(conn, query, oo);
        };
        auto rows_of = [](const detail::copy_out_source& s) { return s.rows_done(); };
        return detail::task_stream_source<decltype(open), decltype(rows_of)>(
            c, q, o.header ? detail::no_rows_query(plan_query) : std::string(), std::move(open),
            std::move(rows_of));
    }
};
inline constexpr copy_tasks_fn copy_tasks{};

/// `pg::json_tasks(conn, queue, options)` yields the JSON lines (`pg::json_lines`, one
/// object per row) of every task it takes from `queue`. Only lines framing: a stream of
/// tasks is one file however many tasks it ran.
struct json_tasks_fn {
    auto operator()(connection& c, task_queue& q, json_lines_options o = {}) const {
        if (o.framing != json_framing::lines)
            throw sluice::error(errc::usage, "postgres",
                                "json_tasks writes JSON lines (framing::lines) only");
        auto open = [o](connection& conn, const std::string& query, bool) {
            return json_lines(conn, o, query);
        };
        auto rows_of = [](json_lines_source& s) { return s.upstream().rows_done(); };
        return detail::task_stream_source<decltype(open), decltype(rows_of)>(
            c, q, std::string(), std::move(open), std::move(rows_of));
    }
};
inline constexpr json_tasks_fn json_tasks{};

}  // namespace sluice::pg
