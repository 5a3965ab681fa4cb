#pragma once
/// \file
/// `pg::rows(conn, sql, params...)`: a source of `pg::row` views that streams a query's
/// result without materialising it. Two strategies (`rows_options::fetch_size`):
///   - 0 (default): libpq's single-row mode - one PGresult per row, the server streams at
///     its own pace and the socket provides back-pressure;
///   - N > 0: a cursor (`DECLARE ... NO SCROLL CURSOR`) read with `FETCH N`, inside the
///     caller's transaction or one of its own. The next batch is requested before the
///     current one is handed out, so the server works while we consume.
/// See docs/postgres.md for the measurements behind the default.
///
/// Cancellation (the run's stop token) and failures downstream send a cancel request to
/// the server and drain the connection, so the query is gone when the error surfaces and
/// the connection is usable again. A connection lost mid-stream raises
/// `errc::network` "... (after N rows)".
///
/// A drain request (`run_options::drain`, see core/shutdown.hpp) ends the rows at the next
/// row boundary as if the result were complete: the query is cancelled the same way, and
/// everything downstream (an encoder's closing `]`, the sink's commit) finishes normally.
/// A row is a whole record, so no `drainable()` stage is needed after this source.

#include <libpq-fe.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "../core/error.hpp"
#include "../core/stage.hpp"
#include "connection.hpp"
#include "params.hpp"
#include "quote.hpp"
#include "row.hpp"
#include "subquery.hpp"

namespace sluice::pg {

/// Keyset reading (`rows_options::keyset`): the query's rows in key order, only those past
/// the last key already read: `SELECT * FROM (sql) WHERE key > $n ORDER BY key`, never
/// OFFSET, so a resumed read costs what the remaining rows cost. The key column must be
/// unique and not null for "past the last key" to mean "not read yet".
struct keyset_options {
    /// The key column, as the query's result names it (quoted as an identifier).
    std::string column;
    /// The last key already read, as text (the server casts it to the column's type);
    /// none: from the first row.
    std::optional<std::string> after{};
};

/// Options of `pg::rows`.
struct rows_options {
    /// 0: single-row mode. N > 0: a cursor fetched N rows at a time (the SQL must then be a
    /// query that DECLARE CURSOR accepts: SELECT, VALUES, TABLE).
    int fetch_size = 0;
    /// Rows between two looks at the stop token.
    std::uint32_t stop_check_rows = 256;
    /// Read in key order, after a key (see `keyset_options`); none: the query as written.
    std::optional<keyset_options> keyset{};
};

namespace detail {

/// The source behind `pg::rows`. Holds a pointer to the connection, which must outlive it.
class rows_source : public root_source<rows_source> {
public:
    using reference = row;

    rows_source(connection& c, std::string sql, param_list params, rows_options o)
        : conn_(&c), sql_(std::move(sql)), params_(std::move(params)), opt_(std::move(o)) {
        if (opt_.keyset) apply_keyset(*opt_.keyset);
    }
    rows_source(rows_source&& o) noexcept
        : root_source<rows_source>(std::move(o)), conn_(std::exchange(o.conn_, nullptr)),
          sql_(std::move(o.sql_)),
          params_(std::move(o.params_)), opt_(o.opt_), cols_(std::move(o.cols_)),
          res_(std::move(o.res_)), pending_(std::exchange(o.pending_, false)),
          cursor_(std::move(o.cursor_)), own_tx_(std::exchange(o.own_tx_, false)), state_(std::exchange(o.state_, done)),
          r_(o.r_), n_(o.n_), rows_(o.rows_), until_check_(o.until_check_), drain_(o.drain_) {}

    void bind(run_context& ctx) {
        root_source<rows_source>::bind(ctx);
        drain_ = ctx.drain;
        // Reported before the query is sent, so by estimate: single-row mode holds one row
        // (a result and libpq's input buffer); a cursor a batch of `fetch_size` rows, taken
        // at 1 KiB a row. Wider rows hold more (known only once the query runs).
        if (opt_.fetch_size > 0)
            ctx.memory.hold("pg.rows", 64 * 1024 + static_cast<std::size_t>(opt_.fetch_size) * 1024,
                            "libpq buffer and a fetched batch (estimate: 1 KiB a row)");
        else
            ctx.memory.hold("pg.rows", 64 * 1024, "libpq buffer and one row (single-row mode)");
    }
    rows_source& operator=(rows_source&&) = delete;
    ~rows_source() { abandon(); }

    /// The next row, or nothing at the end. The row is valid until the next call.
    maybe<row> next() {
        if (state_ == done) return {};
        if (draining()) [[unlikely]] {
            abandon();
            return {};
        }
        if (state_ == idle) start();
        if (r_ + 1 >= n_ && !refill()) return {};
        ++r_;
        if (--until_check_ == 0) [[unlikely]]
            poll_stop();
        return row(res_.get(), r_, &cols_, rows_++);
    }

    /// The push path: one loop over the rows; a failure downstream cancels the query.
    template <class F>
    bool for_each_while(F&& f) {
        if (state_ == done) return true;
        try {
            if (state_ == idle) start();
            for (;;) {
                if (r_ + 1 >= n_ && !refill()) return true;
                for (++r_; r_ < n_; ++r_) {
                    if (--until_check_ == 0) [[unlikely]]
                        poll_stop();
                    if (draining()) [[unlikely]] {
                        abandon();  // an orderly end: the rows handed out stand
                        return true;
                    }
                    if (!f(row(res_.get(), r_, &cols_, rows_++))) {
                        // Stopped early by the consumer (e.g. take): end the query now.
                        abandon();
                        return false;
                    }
                }
                --r_;
            }
        } catch (...) {
            abandon();
            throw;
        }
    }

    /// Rows handed out so far.
    std::uint64_t rows_done() const noexcept { return rows_; }
    /// The result's columns (empty before the first pull).
    const std::shared_ptr<const column_list>& columns() const noexcept { return cols_; }

private:
    enum state_t : std::uint8_t { idle, streaming, done };

    /// Wraps the query for keyset reading; the last key becomes the next `$n`.
    void apply_keyset(const keyset_options& k) {
        const std::string col = quote_identifier(k.column);
        std::string sql = "SELECT * FROM " + subquery(sql_) + " AS sluice_keyset";
        if (k.after) {
            params_.add(*k.after);
            sql += " WHERE " + col + " > $" + std::to_string(params_.size());
        }
        sql_ = sql + " ORDER BY " + col;
    }

    void start() {
        conn_->require_open();
        until_check_ = opt_.stop_check_rows ? opt_.stop_check_rows : 1;
        check_stop("postgres");
        state_ = streaming;
        if (opt_.fetch_size > 0) {
            if (!conn_->in_transaction()) {
                conn_->exec("BEGIN");
                own_tx_ = true;
            }
            static std::atomic<std::uint64_t> counter{0};  // distinct names per source
            cursor_ = "sluice_cursor_" + std::to_string(++counter);
            conn_->query_list("DECLARE " + cursor_ + " NO SCROLL CURSOR FOR " + sql_, params_);
            send_fetch();
        } else {
            if (!PQsendQueryParams(conn_->native(), sql_.c_str(), params_.size(), nullptr,
                                   params_.values(), nullptr, nullptr, 0))
                fail(nullptr);
            pending_ = true;
            PQsetSingleRowMode(conn_->native());
        }
    }

    void send_fetch() {
        std::string f = "FETCH FORWARD " + std::to_string(opt_.fetch_size) + " FROM " + cursor_;
        if (!PQsendQuery(conn_->native(), f.c_str())) fail(nullptr);
        pending_ = true;
    }

    /// Takes the next batch (one row in single-row mode); false at the end.
    bool refill() {
        PGconn* c = conn_->native();
        if (opt_.fetch_size > 0) {
            if (!pending_) {
                finish_cursor();
                return false;
            }
            result_ptr r(PQgetResult(c));
            if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) fail(r.get());
            while (PGresult* extra = PQgetResult(c)) PQclear(extra);
            pending_ = false;
            take(std::move(r));
            if (n_ < opt_.fetch_size) {
                // A short batch is the last one.
                if (n_ == 0) {
                    finish_cursor();
                    return false;
                }
            } else {
                send_fetch();  // the server prepares the next batch while we consume this one
            }
            return true;
        }
        result_ptr r(PQgetResult(c));
        if (!r) {
            pending_ = false;
            state_ = done;
            return false;
        }
        ExecStatusType st = PQresultStatus(r.get());
        if (st == PGRES_SINGLE_TUPLE) {
            take(std::move(r));
            return true;
        }
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            // The end of the rows (a zero-row result still describes the columns).
            take(std::move(r));
            n_ = 0;
            if (PGresult* tail = PQgetResult(c)) {
                result_ptr t(tail);
                fail(t.get());
            }
            pending_ = false;
            state_ = done;
            return false;
        }
        fail(r.get());
    }

    void take(result_ptr r) {
        res_ = std::move(r);
        n_ = PQntuples(res_.get());
        r_ = -1;
        if (!cols_) {
            auto cols = std::make_shared<column_list>();
            int nf = PQnfields(res_.get());
            cols->reserve(static_cast<std::size_t>(nf));
            for (int i = 0; i < nf; ++i)
                cols->push_back(column{PQfname(res_.get(), i), PQftype(res_.get(), i),
                                       PQfmod(res_.get(), i)});
            cols_ = std::move(cols);
        }
    }

    void finish_cursor() {
        state_ = done;
        res_.reset();
        n_ = 0;
        if (own_tx_) {
            own_tx_ = false;
            conn_->exec("COMMIT");
        } else {
            conn_->exec("CLOSE " + cursor_);
        }
    }

    bool draining() const noexcept { return drain_ && drain_->load(std::memory_order_relaxed); }

    void poll_stop() {
        until_check_ = opt_.stop_check_rows ? opt_.stop_check_rows : 1;
        if (this->stop_.stop_requested()) [[unlikely]] {
            abandon();
            throw cancelled_error("postgres");
        }
    }

    /// Throws the error for `r` (or the connection's), after making the connection idle.
    [[noreturn]] void fail(const PGresult* r) {
        pg::pg_error e = conn_->error_from(r, "query failed", rows_);
        abandon();
        throw e;
    }

    /// Ends the statement in progress, if any: cancel, drain, and roll back our own
    /// transaction (or close the cursor in the caller's). Never throws.
    void abandon() noexcept {
        if (state_ == done && !pending_ && !own_tx_) return;
        state_ = done;
        res_.reset();
        n_ = 0;
        r_ = -1;
        if (!conn_ || !conn_->native()) return;
        if (pending_) {
            conn_->cancel();
            conn_->drain();
            pending_ = false;
        }
        if (PQstatus(conn_->native()) != CONNECTION_OK) return;
        try {
            if (own_tx_) {
                own_tx_ = false;
                conn_->exec("ROLLBACK");
            } else if (!cursor_.empty() && conn_->in_transaction()) {
                // In the caller's transaction: a cancelled FETCH failed it, which the caller
                // has to roll back anyway; otherwise free the cursor.
                if (PQtransactionStatus(conn_->native()) == PQTRANS_INTRANS)
                    conn_->exec("CLOSE " + cursor_);
            }
        } catch (...) {
        }
    }

    connection* conn_;
    std::string sql_;
    param_list params_;
    rows_options opt_;
    std::shared_ptr<const column_list> cols_;
    result_ptr res_;
    bool pending_ = false;  // a statement's results are still to be read
    std::string cursor_;
    bool own_tx_ = false;
    state_t state_ = idle;
    int r_ = -1;  // current row in res_
    int n_ = 0;   // rows in res_
    std::uint64_t rows_ = 0;
    std::uint32_t until_check_ = 1;
    const std::atomic<bool>* drain_ = nullptr;  // the run's drain flag (null: none)
};

}  // namespace detail

/// The columns `sql` would return (names, type OIDs), without running it: the unnamed
/// prepared statement is described (one round trip). Throws `pg::pg_error` for bad SQL.
inline column_list describe(connection& c, std::string_view sql) {
    c.require_open();
    std::string s(sql);
    result_ptr p(PQprepare(c.native(), "", s.c_str(), 0, nullptr));
    c.check(p.get(), "cannot prepare the query");
    result_ptr d(PQdescribePrepared(c.native(), ""));
    c.check(d.get(), "cannot describe the query");
    column_list cols;
    for (int i = 0; i < PQnfields(d.get()); ++i)
        cols.push_back(column{PQfname(d.get(), i), PQftype(d.get(), i), PQfmod(d.get(), i)});
    return cols;
}

/// `pg::rows(conn, sql, params...)` yields one `pg::row` per result row (a view valid until
/// the next pull). Parameters bind to $1, $2 ... as text (see `param_list`). The query
/// starts at the first pull. `conn` must outlive the source and run nothing else meanwhile.
/// `pg::rows(conn, rows_options{...}, sql, params...)` chooses the strategy.
struct rows_fn {
    template <class... P>
    detail::rows_source operator()(connection& c, std::string sql, const P&... params) const {
        return detail::rows_source(c, std::move(sql), make_params(params...), rows_options{});
    }
    template <class... P>
    detail::rows_source operator()(connection& c, const rows_options& o, std::string sql,
                                   const P&... params) const {
        return detail::rows_source(c, std::move(sql), make_params(params...), o);
    }
};
inline constexpr rows_fn rows{};

}  // namespace sluice::pg
