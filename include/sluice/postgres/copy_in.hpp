#pragma once
/// \file
/// `pg::copy_in(conn, table, columns, options)`: a sink that loads rows with
/// `COPY ... FROM STDIN`, streaming (64 KiB PQputCopyData messages, nothing held per row).
///
/// Modes (combine freely):
///   - transactions: all-or-nothing (default: one transaction, `finish()` commits and
///     `abort()` rolls back) or `commit_every` N rows (earlier commits stay on failure);
///   - idempotent (`key` columns): each batch is COPYed into a temporary staging table and
///     merged with `INSERT ... SELECT DISTINCT ON (key) ... ON CONFLICT (key) DO UPDATE` in
///     the same transaction, so loading the same input twice leaves the same table (within
///     one batch the last row of a key wins, as sequential upserts would);
///   - per-row error isolation (`errors` other than `on_error::fail`, see
///     policy/error_policy.hpp): a batch that fails is rolled back to a savepoint and
///     bisected until the offending rows are found; each is a reject of stage "postgres"
///     (skipped, or a `dead_letter_record` whose `raw` is the row as sent, `code` the
///     SQLSTATE and `error` the server's message at the record's index), the others are
///     loaded. The policy's limits apply (`max_rejects`, a shared `reject_budget`): one
///     reject too many fails the load with `errc::limit`.
///
/// Records: a `pg::row`/`pg::owned_row` (e.g. from another database), a range of fields
/// (each convertible to std::string_view, or a std::optional of one: empty is NULL), or a
/// byte-like record holding one row already in COPY's `format` (text or csv; a missing
/// final newline is added). Field records are sent in COPY's text format.

#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../core/sink.hpp"
#include "../policy/error_policy.hpp"
#include "connection.hpp"
#include "quote.hpp"
#include "row.hpp"

namespace sluice::pg {

/// Options of `pg::copy_in`.
struct copy_in_options {
    /// Commit every N rows (0: one transaction for the whole load).
    std::uint64_t commit_every = 0;
    /// Key columns: load idempotently (staging table + INSERT ... ON CONFLICT (key) DO
    /// UPDATE). The key must have a unique index or constraint on the target.
    std::vector<std::string> key;
    /// What a row the server rejects does: fail the load (the default, one all-or-nothing
    /// COPY), or - any other policy - per-row isolation, the row skipped or dead-lettered.
    /// Rejects count in the counters named "postgres" (or the policy's `counted_as`).
    sluice::any_error_policy errors{};
    /// Rows per batch for the staging merge and for isolation (which keeps one batch of
    /// rows in memory to retry them).
    std::uint64_t batch_rows = 10000;
    /// COPY FORMAT for byte-like records ("text" or "csv"); field records always use text.
    std::string format = "text";
    /// Bytes buffered before a PQputCopyData.
    std::size_t buffer_size = default_chunk_size;
};

/// What a load did, returned by the sink's `finish()`.
struct load_result {
    std::uint64_t rows_sent = 0;      ///< records pushed
    std::uint64_t rows_written = 0;   ///< rows the server reported inserted or updated
    std::uint64_t rows_rejected = 0;  ///< rows sent to the dead letter
    std::uint64_t commits = 0;        ///< transactions committed
};

/// What a loader with options `o` buffers, as it reports to a run's memory plan: its COPY
/// buffer and libpq's output buffer.
inline std::size_t copy_in_buffer_bytes(const copy_in_options& o) noexcept {
    return o.buffer_size + 64 * 1024;
}

namespace detail {

/// Appends `v` in COPY text format (backslash escapes for \, newline, CR, tab).
inline void append_copy_text(std::string& out, std::string_view v) {
    for (char c : v) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default: out += c;
        }
    }
}

template <class T>
concept field_like = std::convertible_to<const T&, std::string_view> ||
                     (is_optional_v<T> &&
                      std::convertible_to<const typename std::remove_cvref_t<T>::value_type&,
                                          std::string_view>);

template <class R>
concept field_range = std::ranges::input_range<const R> &&
                      field_like<std::ranges::range_reference_t<const R>> && !byte_like<R>;

class copy_in_sink : public sink_base {
public:
    copy_in_sink(connection& c, std::string table, std::vector<std::string> columns,
                 copy_in_options o)
        : conn_(&c), table_(std::move(table)), columns_(std::move(columns)), opt_(std::move(o)),
          rej_(opt_.errors, "postgres") {
        if (opt_.batch_rows == 0) opt_.batch_rows = 1;
    }
    // The moved-from sink must not roll back on destruction: its handle goes null.
    copy_in_sink(copy_in_sink&& o) noexcept = default;
    copy_in_sink& operator=(copy_in_sink&&) = delete;
    ~copy_in_sink() { abort_quietly("the loader was destroyed before finish()"); }

    /// Loads one record (see the file comment for the accepted kinds).
    template <class R>
        requires row_like<std::remove_cvref_t<R>> || field_range<std::remove_cvref_t<R>> ||
                 byte_like<R>
    bool push(R&& r) {
        line_.clear();
        using V = std::remove_cvref_t<R>;
        if constexpr (row_like<V>) {
            byte_records_ = false;
            for (int i = 0; i < r.size(); ++i) {
                if (i) line_ += '\t';
                if (r.is_null(i))
                    line_ += "\\N";
                else
                    append_copy_text(line_, r.value(i));
            }
            line_ += '\n';
        } else if constexpr (byte_like<V>) {
            byte_records_ = true;
            line_ = bytes_of(r);
            if (line_.empty() || line_.back() != '\n') line_ += '\n';
        } else {
            byte_records_ = false;
            bool first = true;
            for (auto&& f : r) {
                if (!first) line_ += '\t';
                first = false;
                if constexpr (is_optional_v<decltype(f)>) {
                    if (!f)
                        line_ += "\\N";
                    else
                        append_copy_text(line_, std::string_view(*f));
                } else {
                    append_copy_text(line_, std::string_view(f));
                }
            }
            line_ += '\n';
        }
        add_line();
        return true;
    }

    /// Loads what is buffered, merges, commits. Returns the counts.
    load_result finish() {
        start_once();
        if (isolating())
            load_pending();
        else
            end_batch();
        commit();
        done_ = true;
        return res_;
    }

    /// Rolls back the open transaction (earlier `commit_every` commits stay).
    void abort(const sluice::error& e) noexcept { abort_quietly(e.what()); }

    /// Binds the rejects counter to the run's metrics.
    void bind(run_context& ctx) {
        rej_.bind(ctx);
        ctx.memory.hold("pg.copy_in", copy_in_buffer_bytes(opt_), "COPY buffer and libpq output buffer");
    }
    /// Rows rejected so far.
    std::uint64_t rejects() const noexcept { return rej_.rejects(); }

private:
    bool isolating() const noexcept { return !rej_.fails(); }
    bool keyed() const noexcept { return !opt_.key.empty(); }

    void add_line() {
        start_once();
        ++res_.rows_sent;
        if (isolating()) {
            pending_.push_back(line_);
            if (pending_.size() >= opt_.batch_rows) load_pending();
        } else {
            if (!in_copy_) begin_copy();
            buf_.append(line_);
            if (buf_.size() >= opt_.buffer_size) put_buffer();
            if (++batch_count_ >= opt_.batch_rows && keyed()) end_batch();
        }
        if (opt_.commit_every && ++since_commit_ >= opt_.commit_every) {
            if (isolating())
                load_pending();
            else
                end_batch();
            commit();
            begin_tx();
        }
    }

    /// BEGIN, resolve the column list, and build the SQL the batches use (first push).
    void start_once() {
        if (started_) return;
        conn_->require_open();
        if (conn_->in_transaction())
            throw pg::pg_error(errc::usage, "copy_in needs a connection outside a transaction");
        started_ = true;
        target_ = quote_qualified_name(table_);
        if (columns_.empty()) {
            // Every stored column, in table order (generated and dropped ones excluded).
            auto r = conn_->query(
                "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
                "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
                target_);
            for (int i = 0; i < r.rows(); ++i) columns_.emplace_back(r.value(i, 0));
        }
        std::string cols;
        for (const auto& c : columns_) cols += (cols.empty() ? "" : ", ") + quote_identifier(c);
        cols_sql_ = cols;
        if (keyed()) {
            stage_ = "sluice_stage_" + std::to_string(conn_->backend_pid());
            std::string key;
            for (const auto& k : opt_.key) key += (key.empty() ? "" : ", ") + quote_identifier(k);
            std::string set;
            for (const auto& c : columns_) {
                bool is_key = false;
                for (const auto& k : opt_.key) is_key = is_key || k == c;
                if (!is_key)
                    set += (set.empty() ? "" : ", ") + quote_identifier(c) + " = EXCLUDED." +
                           quote_identifier(c);
            }
            merge_sql_ = "INSERT INTO " + target_ + " (" + cols + ") SELECT DISTINCT ON (" + key +
                         ") " + cols + " FROM pg_temp." + stage_ + " ORDER BY " + key +
                         ", sluice_seq DESC ON CONFLICT (" + key + ") DO " +
                         (set.empty() ? "NOTHING" : "UPDATE SET " + set);
        }
        begin_tx();
    }

    void begin_tx() {
        conn_->exec("BEGIN");
        tx_open_ = true;
        since_commit_ = 0;
        if (keyed())
            conn_->exec("CREATE TEMP TABLE " + stage_ + " ON COMMIT DROP AS SELECT " +
                        cols_sql_ + " FROM " + target_ + " WITH NO DATA; ALTER TABLE " + stage_ +
                        " ADD COLUMN sluice_seq bigint GENERATED ALWAYS AS IDENTITY");
    }

    void commit() {
        if (!tx_open_) return;
        conn_->exec("COMMIT");
        tx_open_ = false;
        ++res_.commits;
    }

    void begin_copy() {
        std::string sql = "COPY " + (keyed() ? "pg_temp." + stage_ : target_) + " (" +
                          cols_sql_ + ") FROM STDIN WITH (FORMAT " +
                          quote_identifier(byte_records_ ? opt_.format : "text") + ")";
        result_ptr r(PQexec(conn_->native(), sql.c_str()));
        if (!r || PQresultStatus(r.get()) != PGRES_COPY_IN)
            throw conn_->error_from(r.get(), "COPY FROM STDIN failed");
        in_copy_ = true;
        batch_count_ = 0;
    }

    void put_buffer() {
        if (buf_.empty()) return;
        if (PQputCopyData(conn_->native(), buf_.data(), static_cast<int>(buf_.size())) != 1)
            throw conn_->error_from(nullptr, "COPY FROM STDIN failed", res_.rows_sent);
        buf_.clear();
    }

    /// Ends the COPY in progress (if any) and merges the staging table (keyed mode).
    void end_batch() {
        if (in_copy_) {
            put_buffer();
            in_copy_ = false;
            if (PQputCopyEnd(conn_->native(), nullptr) != 1)
                throw conn_->error_from(nullptr, "COPY FROM STDIN failed", res_.rows_sent);
            result_ptr r(PQgetResult(conn_->native()));
            while (PGresult* extra = PQgetResult(conn_->native())) PQclear(extra);
            conn_->check(r.get(), "COPY FROM STDIN failed");
            if (!keyed()) res_.rows_written += result(std::move(r)).affected();
        }
        if (keyed() && batch_count_ > 0) merge();
        batch_count_ = 0;
    }

    void merge() {
        res_.rows_written += conn_->exec(merge_sql_).affected();
        conn_->exec("TRUNCATE pg_temp." + stage_);
    }

    /// Isolation: loads pending_ [first, last) under a savepoint; on failure bisects.
    void load_pending() {
        if (pending_.empty()) return;
        load_range(0, pending_.size());
        first_index_ += pending_.size();
        pending_.clear();
    }

    void load_range(std::size_t first, std::size_t last) {
        conn_->exec("SAVEPOINT sluice_batch");
        try {
            begin_copy();
            for (std::size_t i = first; i < last; ++i) {
                buf_.append(pending_[i]);
                if (buf_.size() >= opt_.buffer_size) put_buffer();
            }
            batch_count_ = last - first;
            end_batch();
            conn_->exec("RELEASE SAVEPOINT sluice_batch");
        } catch (const pg::pg_error& e) {
            // Only errors about the data (SQLSTATE classes 22, 23) are isolated; bad SQL, a
            // missing table or a lost connection ends the load.
            if (!conn_->ok() || !is_data_sqlstate(e.sqlstate())) throw;
            buf_.clear();
            in_copy_ = false;
            conn_->drain();
            conn_->exec("ROLLBACK TO SAVEPOINT sluice_batch; RELEASE SAVEPOINT sluice_batch");
            if (last - first == 1) {
                reject(first, e);
                return;
            }
            std::size_t mid = first + (last - first) / 2;
            load_range(first, mid);
            load_range(mid, last);
        }
    }

    void reject(std::size_t i, const pg::pg_error& e) {
        position where;
        where.record = first_index_ + i;
        // The dead letter's raw text is the row as sent (a COPY line, line end included).
        rej_.reject(pending_[i],
                    sluice::error(e.code(), "postgres", e.message(), e.where()).with_position(where),
                    std::string(e.sqlstate()));
        res_.rows_rejected = rej_.rejects();
    }

    void abort_quietly(const char* why) noexcept {
        if (done_ || !started_ || !conn_ || !conn_->native()) return;
        done_ = true;
        if (PQstatus(conn_->native()) != CONNECTION_OK) return;
        if (in_copy_) {
            PQputCopyEnd(conn_->native(), why);
            conn_->drain();
            in_copy_ = false;
        }
        if (tx_open_) {
            result_ptr r(PQexec(conn_->native(), "ROLLBACK"));
            tx_open_ = false;
        }
    }

    /// A connection pointer that a move leaves null.
    struct handle {
        connection* p;
        handle(connection* c) noexcept : p(c) {}
        handle(handle&& o) noexcept : p(std::exchange(o.p, nullptr)) {}
        handle& operator=(handle&&) = delete;
        connection* operator->() const noexcept { return p; }
        explicit operator bool() const noexcept { return p != nullptr; }
    };

    handle conn_;
    std::string table_;
    std::vector<std::string> columns_;
    copy_in_options opt_;
    sluice::detail::text_rejecter rej_;
    std::string target_, cols_sql_, stage_, merge_sql_;
    std::string line_;
    chunk buf_;
    std::vector<std::string> pending_;
    load_result res_;
    std::uint64_t first_index_ = 0;  // record index of pending_[0]
    std::uint64_t batch_count_ = 0;
    std::uint64_t since_commit_ = 0;
    bool byte_records_ = false;
    bool started_ = false, tx_open_ = false, in_copy_ = false, done_ = false;
};

}  // namespace detail

/// `pg::copy_in(conn, table, columns, options)`: the loader sink. `table` may be
/// schema-qualified (`public.events`, `"My Schema"."T"`; quoted with
/// `quote_qualified_name`); `columns` names the target columns in record order (empty:
/// all of the table's columns, in order). `conn` must outlive the sink and be outside a
/// transaction. `finish()` returns a `load_result`.
struct copy_in_fn {
    detail::copy_in_sink operator()(connection& c, std::string table,
                                    std::vector<std::string> columns = {},
                                    copy_in_options o = {}) const {
        return detail::copy_in_sink(c, std::move(table), std::move(columns), std::move(o));
    }
};
inline constexpr copy_in_fn copy_in{};

}  // namespace sluice::pg
