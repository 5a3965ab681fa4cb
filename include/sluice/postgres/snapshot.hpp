#pragma once
/// \file
/// Exported snapshots: one consistent view of the database shared by several connections,
/// threads, processes or machines. `pg::snapshot_holder` opens a REPEATABLE READ READ ONLY
/// transaction and exports its snapshot (`pg_export_snapshot()`); the id stays importable
/// exactly as long as that transaction is open, so the holder must outlive every reader.
/// `pg::import_snapshot` starts a REPEATABLE READ transaction on another connection whose
/// first statement is `SET TRANSACTION SNAPSHOT`, so it sees what the holder sees.

#include <string>
#include <string_view>
#include <utility>

#include "../core/error.hpp"
#include "connection.hpp"
#include "quote.hpp"

namespace sluice::pg {

/// True when `id` has the shape of an exported snapshot id: hex digits and dashes, such as
/// `00000003-0000001B-1` (what `pg_export_snapshot()` returns on Postgres 10 and later).
/// The id is spliced into `SET TRANSACTION SNAPSHOT`, which takes no parameter, so
/// anything else is refused before it reaches the server.
inline bool is_snapshot_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id) {
        bool hex = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
        if (!hex && c != '-') return false;
    }
    return true;
}

/// Holds an exported snapshot: a connection in an open `REPEATABLE READ READ ONLY`
/// transaction that ran `pg_export_snapshot()`. Move-only; `release()` (or the destructor)
/// ends the transaction, after which importing the id fails ("snapshot ... is gone").
/// Holding a snapshot holds back VACUUM's cleanup of rows it may see: keep it no longer
/// than the readers need it.
class snapshot_holder {
public:
    /// Connects with `dsn` and exports a snapshot. Throws `pg::pg_error` on failure
    /// (a standby refuses `pg_export_snapshot()` unless hot_standby allows it, for one).
    explicit snapshot_holder(std::string_view dsn, const connect_options& opts = {})
        : snapshot_holder(connection(dsn, opts)) {}

    /// Takes over `conn` (not in a transaction) and exports a snapshot on it.
    explicit snapshot_holder(connection conn) : conn_(std::move(conn)) {
        if (conn_.in_transaction())
            throw sluice::error(errc::usage, "postgres",
                                "a snapshot holder needs a connection outside a transaction");
        conn_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        id_ = std::string(conn_.exec("SELECT pg_export_snapshot()").value(0, 0));
    }

    /// The snapshot id to pass to `import_snapshot` (e.g. `00000003-0000001B-1`).
    const std::string& id() const noexcept { return id_; }
    /// True while the snapshot is held (the transaction open and the connection alive).
    bool held() const noexcept { return conn_.ok() && conn_.in_transaction(); }
    /// The holding connection (for catalogue queries inside the same snapshot).
    connection& conn() noexcept { return conn_; }

    /// Ends the transaction (the id stops being importable) and closes the connection.
    /// Never throws: a holder whose connection was lost has nothing left to release.
    void release() noexcept {
        if (conn_.ok() && conn_.in_transaction()) {
            try {
                conn_.exec("COMMIT");
            } catch (...) {  // NOLINT(bugprone-empty-catch): the session ends anyway
            }
        }
        conn_.close();
    }

    snapshot_holder(snapshot_holder&&) noexcept = default;
    snapshot_holder& operator=(snapshot_holder&& o) noexcept {
        if (this != &o) {
            release();
            conn_ = std::move(o.conn_);
            id_ = std::move(o.id_);
        }
        return *this;
    }
    snapshot_holder(const snapshot_holder&) = delete;
    snapshot_holder& operator=(const snapshot_holder&) = delete;
    ~snapshot_holder() { release(); }

private:
    connection conn_;
    std::string id_;
};

/// Starts `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` on `conn` and makes snapshot
/// `id` its snapshot (`SET TRANSACTION SNAPSHOT`, the transaction's first statement): every
/// query until COMMIT sees exactly what the holder sees. An id of the wrong shape is a
/// `usage` error; an id whose holder has ended (or that never existed on this server) is a
/// `pg::pg_error` of class `server` saying "snapshot <id> is gone", with the server's own
/// message folded in. On failure the transaction is rolled back.
inline void import_snapshot(connection& conn, std::string_view id) {
    if (!is_snapshot_id(id))
        throw sluice::error(errc::usage, "postgres",
                            "not a snapshot id: '" + std::string(id.substr(0, 80)) +
                                "' (expected what pg_export_snapshot() prints, e.g. "
                                "00000003-0000001B-1)");
    conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
        conn.exec("SET TRANSACTION SNAPSHOT " + quote_literal(id));
    } catch (const pg_error& e) {
        try {
            conn.exec("ROLLBACK");
        } catch (...) {  // NOLINT(bugprone-empty-catch): the first error is the one to report
        }
        // 22023 invalid_parameter_value: "invalid snapshot identifier" (its holder's
        // transaction ended, or the id is from another server). Anything else (a lost
        // connection) is reported as it is.
        if (e.sqlstate() != "22023") throw;
        throw pg_error(errc::server,
                       "snapshot " + std::string(id) +
                           " is gone: the transaction that exported it has ended (keep `sluice "
                           "snapshot` or the snapshot holder running until every shard is done); " +
                           e.message(),
                       e.server());
    }
}

}  // namespace sluice::pg
