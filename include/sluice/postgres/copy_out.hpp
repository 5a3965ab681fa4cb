#pragma once
/// \file
/// `pg::copy_out(conn, query, options)`: `COPY (query) TO STDOUT` as a byte source. The
/// server's bytes (CSV by default) arrive one message per row; they are coalesced into
/// 64 KiB chunks and yielded as `chunk&`, so they can go straight to compression or a file.
/// This is the fast path for CSV export: the output is byte for byte what
/// `COPY (query) TO STDOUT WITH (FORMAT csv ...)` prints (psql's `\copy`).

#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../core/stage.hpp"
#include "connection.hpp"
#include "quote.hpp"
#include "subquery.hpp"

namespace sluice::pg {

/// Options of `pg::copy_out`: the COPY options, and the size of the chunks handed on.
struct copy_out_options {
    /// COPY's FORMAT: "csv", "text" or "binary".
    std::string format = "csv";
    /// HEADER: a first line with the column names (csv and text only).
    bool header = false;
    /// DELIMITER, QUOTE, NULL and ESCAPE when set (COPY's defaults otherwise).
    std::optional<std::string> delimiter, quote, null_string, escape;
    /// Bytes per chunk handed downstream (a chunk is handed on once it holds this many).
    std::size_t chunk_size = default_chunk_size;
    /// Messages (rows) between two looks at the stop token.
    std::uint32_t stop_check_rows = 1024;
    /// End every line, the header's too, with CRLF instead of COPY's LF (csv and text
    /// only). COPY sends one row per message, so only a message's last LF ends a line:
    /// line breaks inside a quoted field are kept as the server wrote them.
    bool crlf = false;
};

/// The `COPY (query) TO STDOUT WITH (...)` statement `copy_out` runs.
inline std::string copy_out_sql(std::string_view query, const copy_out_options& o) {
    // A trailing `;` or `-- comment` in the query must not end the statement early.
    std::string s = "COPY ";
    s += subquery(query);
    s += " TO STDOUT WITH (FORMAT ";
    s += quote_identifier(o.format);
    if (o.header) s += ", HEADER";
    if (o.delimiter) s += ", DELIMITER " + quote_literal(*o.delimiter);
    if (o.quote) s += ", QUOTE " + quote_literal(*o.quote);
    if (o.null_string) s += ", NULL " + quote_literal(*o.null_string);
    if (o.escape) s += ", ESCAPE " + quote_literal(*o.escape);
    s += ")";
    return s;
}

namespace detail {

/// The source behind `pg::copy_out`: runs a COPY ... TO STDOUT statement.
class copy_out_source : public root_source<copy_out_source> {
public:
    using reference = chunk&;

    copy_out_source(connection& c, std::string copy_sql, copy_out_options o)
        : conn_(&c), sql_(std::move(copy_sql)), opt_(std::move(o)) {}
    copy_out_source(copy_out_source&& o) noexcept
        : root_source<copy_out_source>(std::move(o)), conn_(std::exchange(o.conn_, nullptr)),
          sql_(std::move(o.sql_)), opt_(std::move(o.opt_)), buf_(std::move(o.buf_)),
          state_(std::exchange(o.state_, done)), messages_(o.messages_), bytes_(o.bytes_) {}
    copy_out_source& operator=(copy_out_source&&) = delete;
    ~copy_out_source() { abandon(); }

    /// Reports the chunk it fills and libpq's input buffer (which holds one COPY message,
    /// a row, at a time) to the run's memory plan. Nothing is sent to the server here.
    void bind(run_context& ctx) {
        root_source<copy_out_source>::bind(ctx);
        ctx.memory.hold("pg.copy_out", opt_.chunk_size + opt_.chunk_size / 4, "output chunk");
        ctx.memory.hold("pg.copy_out", libpq_buffer_bytes, "libpq input buffer (a row)");
    }
    /// What libpq's input buffer typically grows to: one message (a row) plus its read-ahead.
    static constexpr std::size_t libpq_buffer_bytes = 64 * 1024;

    /// The next chunk of COPY output (valid until the next pull), or nothing at the end.
    maybe<chunk&> next() {
        if (state_ == done) return {};
        try {
            if (state_ == idle) start();
            fill();
        } catch (...) {
            abandon();
            throw;
        }
        if (buf_.empty()) return {};
        return buf_;
    }

    template <class F>
    bool for_each_while(F&& f) {
        while (auto c = next()) {
            bool more;
            try {
                more = f(*c);
            } catch (...) {
                abandon();
                throw;
            }
            if (!more) {
                abandon();
                return false;
            }
        }
        return true;
    }

    /// Data rows received so far (COPY sends one message per row; the header is not one).
    std::uint64_t rows_done() const noexcept {
        std::uint64_t header = opt_.header && messages_ > 0 ? 1 : 0;
        return messages_ - header;
    }
    /// Bytes received so far.
    std::uint64_t bytes_done() const noexcept { return bytes_; }
    /// The rows the server reported at the end (COPY's count), once exhausted.
    std::uint64_t rows_reported() const noexcept { return reported_; }

private:
    enum state_t : std::uint8_t { idle, streaming, done };

    void start() {
        conn_->require_open();
        this->check_stop("postgres");
        if (!PQsendQuery(conn_->native(), sql_.c_str()))
            throw conn_->error_from(nullptr, "COPY failed");
        state_ = streaming;
        result_ptr r(PQgetResult(conn_->native()));
        if (!r || PQresultStatus(r.get()) != PGRES_COPY_OUT)
            throw conn_->error_from(r.get(), "COPY failed");
        until_check_ = opt_.stop_check_rows ? opt_.stop_check_rows : 1;
    }

    /// Fills buf_ up to chunk_size (less at the end).
    void fill() {
        buf_.clear();
        buf_.reserve(opt_.chunk_size + opt_.chunk_size / 4);
        PGconn* c = conn_->native();
        while (buf_.size() < opt_.chunk_size) {
            char* data = nullptr;
            int n = PQgetCopyData(c, &data, 0);
            if (n > 0) {
                // One row per message; a row longer than the spare room grows the chunk.
                if (opt_.crlf && data[n - 1] == '\n') {
                    buf_.append(std::string_view(data, static_cast<std::size_t>(n - 1)));
                    buf_.append("\r\n");
                } else {
                    buf_.append(std::string_view(data, static_cast<std::size_t>(n)));
                }
                PQfreemem(data);
                ++messages_;
                bytes_ += static_cast<std::uint64_t>(n);
                if (--until_check_ == 0) [[unlikely]] {
                    until_check_ = opt_.stop_check_rows ? opt_.stop_check_rows : 1;
                    if (this->stop_.stop_requested()) throw cancelled_error("postgres");
                }
                continue;
            }
            if (n == -1) {
                // The end of the COPY data: the statement's own result says how it ended.
                result_ptr r(PQgetResult(c));
                if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK)
                    throw conn_->error_from(r.get(), "COPY failed", rows_done());
                reported_ = result(std::move(r)).affected();
                while (PGresult* extra = PQgetResult(c)) PQclear(extra);
                state_ = done;
                return;
            }
            // -2: the connection failed (or n == 0, which async=0 never returns).
            result_ptr r(PQgetResult(c));
            throw conn_->error_from(r.get(), "COPY failed", rows_done());
        }
    }

    /// Ends a COPY in progress: cancel, then drain to the cancel's error. Never throws.
    void abandon() noexcept {
        if (state_ != streaming) {
            state_ = done;
            return;
        }
        state_ = done;
        if (!conn_ || !conn_->native()) return;
        conn_->cancel();
        PGconn* c = conn_->native();
        char* data = nullptr;
        while (PQstatus(c) == CONNECTION_OK && PQgetCopyData(c, &data, 0) > 0) PQfreemem(data);
        conn_->drain();
    }

    connection* conn_;
    std::string sql_;
    copy_out_options opt_;
    chunk buf_;
    state_t state_ = idle;
    std::uint64_t messages_ = 0;
    std::uint64_t bytes_ = 0;
    std::uint64_t reported_ = 0;
    std::uint32_t until_check_ = 1;
};

}  // namespace detail

/// `pg::copy_out(conn, query, options)` yields the output of
/// `COPY (query) TO STDOUT WITH (FORMAT csv ...)` as `chunk&` (valid until the next pull).
/// `query` is a SELECT, VALUES or TABLE query (COPY takes no $n parameters: bind values
/// with `pg::rows` instead, or quote them with `pg::quote_literal`). For a whole table
/// pass `"SELECT * FROM " + pg::quote_qualified_name(name)`. `conn` must outlive it.
struct copy_out_fn {
    detail::copy_out_source operator()(connection& c, std::string_view query,
                                       copy_out_options o = {}) const {
        if (o.crlf && o.format != "csv" && o.format != "text")
            throw sluice::error(errc::usage, "postgres", "crlf needs COPY FORMAT csv or text");
        std::string sql = copy_out_sql(query, o);
        return detail::copy_out_source(c, std::move(sql), std::move(o));
    }
};
inline constexpr copy_out_fn copy_out{};

/// `pg::copy_out_raw(conn, "COPY ... TO STDOUT ...")` runs a complete COPY statement of
/// the caller's (e.g. `COPY t (a, b) TO STDOUT`).
struct copy_out_raw_fn {
    detail::copy_out_source operator()(connection& c, std::string copy_sql,
                                       copy_out_options o = {}) const {
        return detail::copy_out_source(c, std::move(copy_sql), std::move(o));
    }
};
inline constexpr copy_out_raw_fn copy_out_raw{};

}  // namespace sluice::pg
