#pragma once
/// \file
/// `pg::connection`: an RAII handle on a libpq connection, and the error model of the
/// Postgres adaptor. Errors are `sluice::error`s (as `pg::pg_error`, which also keeps the
/// server's SQLSTATE, detail and hint). No message ever contains the password: every text
/// that comes from libpq or the server is scrubbed of it (and of the DSN) first.

#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "../core/error.hpp"
#include "params.hpp"
#include "quote.hpp"

namespace sluice::pg {

/// What the server said about a failed statement (empty fields were not sent).
struct server_error {
    std::string severity;  ///< "ERROR", "FATAL", ...
    std::string sqlstate;  ///< the five-character SQLSTATE, e.g. "23505"
    std::string message;   ///< the primary message
    std::string detail;    ///< optional detail ("Key (id)=(1) already exists.")
    std::string hint;      ///< optional hint
    std::string context;   ///< optional context (e.g. "COPY t, line 3")
};

/// A `sluice::error` raised by the Postgres adaptor, with the server's fields kept apart.
/// (Named `pg_error`, as `s3::s3_error`, so that it never shadows `sluice::error` inside
/// namespace pg.)
/// Its `message()` already folds them in ("... [SQLSTATE 23505]; detail: ...; hint: ..."),
/// so a copy sliced to `sluice::error` (as `try_run` returns) still reads completely and
/// `pg::sqlstate()` can still recover the code.
class pg_error : public sluice::error {
public:
    pg_error(errc code, std::string message, server_error info = {})
        : sluice::error(code, "postgres", std::move(message)), info_(std::move(info)) {}
    /// The server's fields (empty when the failure was client-side or a lost connection).
    const server_error& server() const noexcept { return info_; }
    /// The SQLSTATE, or empty.
    const std::string& sqlstate() const noexcept { return info_.sqlstate; }

private:
    server_error info_;
};

/// The SQLSTATE of an error raised by this adaptor, also from a sliced copy (it is parsed
/// from the message's "[SQLSTATE 22P02]"-style suffix); empty for other errors.
inline std::string sqlstate(const sluice::error& e) {
    if (auto* p = dynamic_cast<const pg::pg_error*>(&e)) return p->sqlstate();
    const std::string& m = e.message();
    auto at = m.find("[SQLSTATE ");
    if (at == std::string::npos || at + 15 > m.size()) return {};
    return m.substr(at + 10, 5);
}

/// The error class for a SQLSTATE the server sent: connection trouble and a terminated
/// session (class 08, 57P01..) are `network`; everything else is `server` - the database is
/// the outside world, whether it rejected the SQL (class 42), the privileges (42501), the data
/// (classes 22 and 23) or gave up (57014: a statement_timeout or another session's cancel; a
/// cancel sluice asked for is reported as `cancelled` by the stage that asked). The SQLSTATE
/// itself stays available (`pg::sqlstate`), and `is_data_sqlstate` tells data errors apart.
inline errc errc_for_sqlstate(std::string_view s) noexcept {
    if (s.size() != 5) return errc::failed;
    if (s.starts_with("08") || s.starts_with("57P")) return errc::network;
    return errc::server;
}

/// True for the SQLSTATEs that blame a value rather than the statement: data exceptions
/// (class 22: a bad number or date, division by zero) and integrity constraints (class 23:
/// unique, not null, check, foreign key). `pg::copy_in` isolates rows only for these.
inline bool is_data_sqlstate(std::string_view s) noexcept {
    return s.size() == 5 && (s.starts_with("22") || s.starts_with("23"));
}

namespace detail {

/// Percent-decodes a URI component (returns the input unchanged where it is not valid).
inline std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

/// The secrets a DSN carries, found without libpq (whose parse errors may echo the DSN):
/// the password of a URI's userinfo, `password=` in query parameters or key=value pairs.
inline std::vector<std::string> dsn_secrets(std::string_view dsn) {
    std::vector<std::string> out;
    auto add = [&](std::string_view v) {
        if (v.empty()) return;
        out.emplace_back(v);
        std::string d = percent_decode(v);
        if (d != v) out.push_back(std::move(d));
    };
    bool uri = dsn.starts_with("postgresql://") || dsn.starts_with("postgres://");
    if (uri) {
        std::string_view rest = dsn.substr(dsn.find("//") + 2);
        auto at = rest.rfind('@', rest.find_first_of("/?"));
        if (at != std::string_view::npos) {
            std::string_view userinfo = rest.substr(0, at);
            auto colon = userinfo.find(':');
            if (colon != std::string_view::npos) add(userinfo.substr(colon + 1));
        }
    }
    // password=... in key=value form (possibly quoted) or as a URI query parameter.
    for (std::size_t at = dsn.find("password"); at != std::string_view::npos;
         at = dsn.find("password", at + 8)) {
        std::size_t i = at + 8;
        while (i < dsn.size() && dsn[i] == ' ') ++i;
        if (i >= dsn.size() || dsn[i] != '=') continue;
        ++i;
        while (i < dsn.size() && dsn[i] == ' ') ++i;
        std::string value;
        if (i < dsn.size() && dsn[i] == '\'') {
            std::size_t open = i + 1;
            for (++i; i < dsn.size() && dsn[i] != '\''; ++i) {
                if (dsn[i] == '\\' && i + 1 < dsn.size()) ++i;
                value += dsn[i];
            }
            add(dsn.substr(open, i - open));  // as written, escapes included
        } else {
            std::size_t end = dsn.find_first_of(uri ? "&# " : " ", i);
            value = std::string(dsn.substr(i, end == std::string_view::npos ? dsn.npos : end - i));
        }
        add(value);
    }
    return out;
}

/// Replaces every occurrence of `needle` in `s` with "***".
inline void redact_in(std::string& s, std::string_view needle) {
    if (needle.empty()) return;
    for (auto at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 3))
        s.replace(at, needle.size(), "***");
}

/// Trims libpq's trailing newlines (its messages end with "\n").
inline std::string trim_message(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

/// True when libpq's default `gssencmode=prefer` cannot find a Kerberos credential, so
/// passing `gssencmode=disable` changes nothing but the cost: the probe for one loads and
/// initialises the Kerberos libraries (0.6 MiB of resident memory, read configuration files)
/// on every connection. Linux only, and only when nothing points Kerberos elsewhere:
/// PGGSSENCMODE, KRB5CCNAME and KRB5_CONFIG are unset, there is no /etc/krb5.conf (which
/// could name a KEYRING or KCM cache) and no default cache file /tmp/krb5cc_<uid>.
/// libpq before 12 knows no gssencmode and gets nothing.
inline bool gss_probe_is_useless() {
#if defined(__linux__)
    if (PQlibVersion() < 120000) return false;
    for (const char* v : {"PGGSSENCMODE", "KRB5CCNAME", "KRB5_CONFIG"})
        if (std::getenv(v) != nullptr) return false;
    struct stat st;
    if (::stat("/etc/krb5.conf", &st) == 0) return false;
    std::string cache = "/tmp/krb5cc_" + std::to_string(::getuid());
    return ::stat(cache.c_str(), &st) != 0;
#else
    return false;
#endif
}

/// Frees a PGresult.
struct result_deleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};

}  // namespace detail

/// An owned PGresult (freed with PQclear).
using result_ptr = std::unique_ptr<PGresult, detail::result_deleter>;

/// A DSN fit for logs: the password (URI userinfo, `password=`) replaced by "***".
inline std::string redact_dsn(std::string_view dsn) {
    std::string s(dsn);
    for (const auto& secret : detail::dsn_secrets(dsn)) detail::redact_in(s, secret);
    return s;
}

/// Options applied when connecting.
struct connect_options {
    /// Reported in pg_stat_activity.application_name (unless the DSN sets one).
    std::string application_name = "sluice";
    /// `SET TimeZone` after connecting (empty: the server's or PGTZ's). Decides how
    /// timestamptz values print, in CSV and JSON alike.
    std::string timezone;
    /// `SET DateStyle = ISO` (keeping the day/month order): the text form that
    /// `pg::json_encoder` turns into to_json's ISO 8601 (and what psql shows by default).
    bool iso_datestyle = true;
    /// Seconds to wait for the connection (0: libpq's default, or PGCONNECT_TIMEOUT).
    int connect_timeout = 0;
};

/// A materialised query result, for small statements (catalogue look-ups, tests). Large
/// results should stream through `pg::rows` instead.
class result {
public:
    result() = default;
    explicit result(result_ptr r) : r_(std::move(r)) {}
    /// Number of rows.
    int rows() const noexcept { return r_ ? PQntuples(r_.get()) : 0; }
    /// Number of columns.
    int columns() const noexcept { return r_ ? PQnfields(r_.get()) : 0; }
    /// True when the field is SQL NULL.
    bool is_null(int row, int col) const noexcept { return PQgetisnull(r_.get(), row, col); }
    /// The field's text ("" for NULL); valid as long as this result.
    std::string_view value(int row, int col) const noexcept {
        return {PQgetvalue(r_.get(), row, col),
                static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
    }
    /// Rows affected by a command (INSERT, UPDATE, COPY ...), 0 when not applicable.
    std::uint64_t affected() const {
        const char* s = r_ ? PQcmdTuples(r_.get()) : "";
        return *s ? std::strtoull(s, nullptr, 10) : 0;
    }
    PGresult* native() const noexcept { return r_.get(); }

private:
    result_ptr r_;
};

/// A connection to a Postgres server. Move-only; closes on destruction. Not thread-safe
/// (one statement at a time), except `cancel()`, which may be called from any thread.
class connection {
public:
    connection() = default;

    /// Connects to `dsn`, a URI (`postgresql://user@host:port/db?sslmode=...`) or key=value
    /// string (`host=... dbname=...`); what it leaves out comes from the PG* environment
    /// variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGPASSFILE ...), as
    /// libpq resolves them. An empty DSN means "the environment only".
    /// Throws `pg::pg_error(errc::network)` when the server cannot be reached or refuses us.
    explicit connection(std::string_view dsn, const connect_options& opts = {}) {
        secrets_ = detail::dsn_secrets(dsn);
        if (const char* env = std::getenv("PGPASSWORD"); env && *env) secrets_.emplace_back(env);
        dsn_redacted_ = redact_dsn(dsn);
        std::string dsn_s(dsn);
        std::string timeout = std::to_string(opts.connect_timeout);
        // expand_dbname=1: `dbname` is the DSN, so both forms (and URIs) are accepted and
        // anything it sets overrides these defaults.
        std::vector<const char*> keys{"fallback_application_name", "dbname"};
        std::vector<const char*> values{opts.application_name.c_str(), dsn_s.c_str()};
        if (opts.connect_timeout > 0) {
            keys.insert(keys.begin(), "connect_timeout");
            values.insert(values.begin(), timeout.c_str());
        }
        if (detail::gss_probe_is_useless()) {
            keys.insert(keys.begin(), "gssencmode");
            values.insert(values.begin(), "disable");
        }
        keys.push_back(nullptr);
        values.push_back(nullptr);
        conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
        if (!conn_) throw pg::pg_error(errc::out_of_memory, "cannot allocate a connection");
        if (PQstatus(conn_) != CONNECTION_OK) {
            std::string m = "cannot connect";
            if (!dsn_redacted_.empty()) m += " to " + dsn_redacted_;
            m += ": " + scrub(detail::trim_message(PQerrorMessage(conn_)));
            close();
            throw pg::pg_error(errc::network, std::move(m));
        }
        // Notices (NOTICE, WARNING) would go to stderr; a library keeps quiet.
        PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
        // Our own secrets: whatever libpq used (a password from PGPASSFILE, say).
        if (const char* pw = PQpass(conn_); pw && *pw) secrets_.emplace_back(pw);
        std::string setup = "SET client_encoding = 'UTF8'";
        if (opts.iso_datestyle) setup += "; SET DateStyle = 'ISO'";
        if (!opts.timezone.empty()) setup += "; SET TimeZone = " + quote_literal(opts.timezone);
        exec(setup);
    }

    connection(connection&& o) noexcept
        : conn_(std::exchange(o.conn_, nullptr)), secrets_(std::move(o.secrets_)),
          dsn_redacted_(std::move(o.dsn_redacted_)) {}
    connection& operator=(connection&& o) noexcept {
        if (this != &o) {
            close();
            conn_ = std::exchange(o.conn_, nullptr);
            secrets_ = std::move(o.secrets_);
            dsn_redacted_ = std::move(o.dsn_redacted_);
        }
        return *this;
    }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection() { close(); }

    /// The libpq handle, for what this class does not wrap.
    PGconn* native() const noexcept { return conn_; }
    /// True while connected (and not known to be broken).
    bool ok() const noexcept { return conn_ && PQstatus(conn_) == CONNECTION_OK; }
    explicit operator bool() const noexcept { return ok(); }
    /// The DSN with its password replaced by "***", for logs.
    const std::string& dsn_redacted() const noexcept { return dsn_redacted_; }
    /// The server's process id for this session (for pg_stat_activity, pg_cancel_backend).
    int backend_pid() const noexcept { return conn_ ? PQbackendPID(conn_) : 0; }
    /// The server's version as an integer, e.g. 150018.
    int server_version() const noexcept { return conn_ ? PQserverVersion(conn_) : 0; }
    /// True inside a transaction block (BEGIN without COMMIT yet, or a failed one).
    bool in_transaction() const noexcept {
        if (!conn_) return false;
        auto s = PQtransactionStatus(conn_);
        return s == PQTRANS_INTRANS || s == PQTRANS_INERROR;
    }
    /// A session parameter the server reported (TimeZone, DateStyle, server_version ...).
    std::string_view parameter(const char* name) const noexcept {
        const char* v = conn_ ? PQparameterStatus(conn_, name) : nullptr;
        return v ? std::string_view(v) : std::string_view();
    }

    /// Runs one or more SQL commands without parameters (simple protocol) and returns the
    /// last result. Throws `pg::pg_error` on failure.
    result exec(std::string_view sql) {
        require_open();
        std::string s(sql);
        result_ptr r(PQexec(conn_, s.c_str()));
        check(r.get());
        return result(std::move(r));
    }

    /// Runs one statement with parameters bound as text ($1, $2 ...; never spliced into the
    /// SQL). Parameters: strings, numbers, bools, std::optional / std::nullopt for NULL.
    template <class... P>
    result query(std::string_view sql, const P&... params) {
        param_list pl;
        (pl.add(params), ...);
        return query_list(sql, pl);
    }

    /// `query` with a parameter list built at run time.
    result query_list(std::string_view sql, const param_list& pl) {
        require_open();
        std::string s(sql);
        result_ptr r(PQexecParams(conn_, s.c_str(), pl.size(), nullptr, pl.values(), nullptr,
                                  nullptr, 0));
        check(r.get());
        return result(std::move(r));
    }

    /// Asks the server to cancel the statement in progress (PQcancel on a separate
    /// connection). Safe from any thread and harmless when nothing runs. Returns false if
    /// the request could not be sent.
    bool cancel() noexcept {
        if (!conn_) return false;
        PGcancel* c = PQgetCancel(conn_);
        if (!c) return false;
        char buf[256];
        bool sent = PQcancel(c, buf, sizeof buf) == 1;
        PQfreeCancel(c);
        return sent;
    }

    /// Reads and discards what remains of the statement in progress (after `cancel()`),
    /// leaving the connection ready for the next one. Never throws.
    void drain() noexcept {
        if (!conn_) return;
        // Results until the null that ends the statement; a COPY in progress has to be read
        // to its end (or to the cancel's error) or ended before the next result comes.
        for (;;) {
            if (PQstatus(conn_) == CONNECTION_BAD) return;
            PGresult* r = PQgetResult(conn_);
            if (!r) return;
            ExecStatusType st = PQresultStatus(r);
            PQclear(r);
            if (st == PGRES_COPY_OUT) {
                char* buf = nullptr;
                while (PQgetCopyData(conn_, &buf, 0) > 0) PQfreemem(buf);
            } else if (st == PGRES_COPY_IN) {
                PQputCopyEnd(conn_, "cancelled by sluice");
            } else if (st == PGRES_COPY_BOTH) {
                return;
            }
        }
    }

    /// Closes the connection (also done by the destructor).
    void close() noexcept {
        if (conn_) PQfinish(std::exchange(conn_, nullptr));
    }

    /// `text` with the password and DSN secrets replaced by "***": apply to anything that
    /// may echo connection parameters before it goes into an error message.
    std::string scrub(std::string text) const {
        for (const auto& s : secrets_) detail::redact_in(text, s);
        return text;
    }

    /// The error for a failed result (`r` may be null: then the connection's message).
    /// `what` prefixes the message, `rows_done` (if not unknown) is appended for failures
    /// in the middle of a stream.
    pg::pg_error error_from(const PGresult* r, std::string_view what = {},
                         std::uint64_t rows_done = position::unknown) const {
        server_error info;
        auto field = [&](int code) -> std::string {
            const char* v = r ? PQresultErrorField(r, code) : nullptr;
            return v ? scrub(v) : std::string();
        };
        info.severity = field(PG_DIAG_SEVERITY);
        info.sqlstate = field(PG_DIAG_SQLSTATE);
        info.message = field(PG_DIAG_MESSAGE_PRIMARY);
        info.detail = field(PG_DIAG_MESSAGE_DETAIL);
        info.hint = field(PG_DIAG_MESSAGE_HINT);
        info.context = field(PG_DIAG_CONTEXT);
        bool lost = !conn_ || PQstatus(conn_) == CONNECTION_BAD;
        if (info.message.empty()) {
            const char* m = r ? PQresultErrorMessage(r) : "";
            if (!*m && conn_) m = PQerrorMessage(conn_);
            info.message = scrub(detail::trim_message(m));
            if (info.message.empty()) info.message = lost ? "connection lost" : "unknown error";
        }
        std::string m;
        if (!what.empty()) {
            m += what;
            m += ": ";
        }
        if (lost && info.sqlstate.empty()) m += "connection lost: ";
        m += info.message;
        if (!info.sqlstate.empty()) m += " [SQLSTATE " + info.sqlstate + "]";
        if (!info.detail.empty()) m += "; detail: " + info.detail;
        if (!info.hint.empty()) m += "; hint: " + info.hint;
        // COPY's context names the line and column ("COPY t, line 3, column n: ...").
        if (info.context.starts_with("COPY "))
            m += "; context: " + info.context.substr(0, info.context.find('\n')).substr(0, 300);
        if (rows_done != position::unknown) m += " (after " + std::to_string(rows_done) + " rows)";
        errc code = info.sqlstate.empty() ? (lost ? errc::network : errc::failed)
                                          : errc_for_sqlstate(info.sqlstate);
        if (lost && code == errc::failed) code = errc::network;
        return pg::pg_error(code, std::move(m), std::move(info));
    }

    /// Throws unless `r` is a success (command OK, tuples, or a COPY starting).
    void check(const PGresult* r, std::string_view what = {}) const {
        auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_OUT ||
            st == PGRES_COPY_IN || st == PGRES_SINGLE_TUPLE || st == PGRES_EMPTY_QUERY)
            return;
        throw error_from(r, what);
    }

    /// Throws `usage` when not connected (a moved-from or closed connection).
    void require_open() const {
        if (!conn_) throw pg::pg_error(errc::usage, "the connection is closed");
    }

private:
    PGconn* conn_ = nullptr;
    std::vector<std::string> secrets_;
    std::string dsn_redacted_;
};

}  // namespace sluice::pg
