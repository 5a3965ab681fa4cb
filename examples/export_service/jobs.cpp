// Background export jobs (see jobs.hpp).
#include "jobs.hpp"

#include <sluice/s3/presign.hpp>
#include <sluice/s3/upload.hpp>

#include <condition_variable>
#include <cstdio>
#include <random>

#include "json_util.hpp"

namespace export_service {

namespace pg = sluice::pg;

namespace {

constexpr const char* table_ddl = R"(
CREATE TABLE IF NOT EXISTS sluice_export_jobs (
    id          text PRIMARY KEY,
    seq         bigserial,
    table_name  text NOT NULL,
    format      text NOT NULL,
    gzip        boolean NOT NULL,
    bucket      text NOT NULL,
    object_key  text NOT NULL,
    status      text NOT NULL CHECK (status IN ('pending','running','completed','failed','cancelled')),
    rows_done   bigint NOT NULL DEFAULT 0,
    rows_total  bigint,
    total_exact boolean NOT NULL DEFAULT false,
    bytes       bigint NOT NULL DEFAULT 0,
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz
);
ALTER TABLE sluice_export_jobs ADD COLUMN IF NOT EXISTS owner text;
ALTER TABLE sluice_export_jobs ADD COLUMN IF NOT EXISTS heartbeat_at timestamptz;
ALTER TABLE sluice_export_jobs ADD COLUMN IF NOT EXISTS upload_id text;
)";

/// Two instances starting at once both run the DDL: serialise it (CREATE TABLE IF NOT
/// EXISTS is not safe against a concurrent CREATE).
constexpr const char* ddl_lock = "SELECT pg_advisory_xact_lock(7163316716)";

std::string new_id() {
    std::random_device rd;
    std::string id;
    char buf[9];
    for (int i = 0; i < 4; ++i) {
        std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
        id += buf;
    }
    return id;
}

/// A sink wrapper counting the bytes that reach the upload (the compressed size).
template <class K>
struct counting_sink : sluice::sink_base {
    K& inner;
    std::atomic<std::uint64_t>& bytes;
    counting_sink(K& k, std::atomic<std::uint64_t>& b) : inner(k), bytes(b) {}
    bool push(sluice::chunk& c) {
        bytes.fetch_add(c.size(), std::memory_order_relaxed);
        return inner.push(c);
    }
    auto finish() { return inner.finish(); }
    void abort(const sluice::error& e) noexcept { inner.abort(e); }
    void bind(sluice::run_context& ctx) {
        if constexpr (requires { inner.bind(ctx); })
            inner.bind(ctx);
    }
};

}  // namespace

job_manager::job_manager(std::string dsn, sluice::s3::config s3cfg, unsigned max_concurrent,
                         std::function<void(const std::string&)> log, heartbeat_options hb)
    : dsn_(std::move(dsn)),
      instance_(new_id()),
      hb_(hb),
      s3cfg_(s3cfg),
      s3_(std::move(s3cfg)),
      max_concurrent_(max_concurrent ? max_concurrent : 1),
      log_(std::move(log)) {}

job_manager::~job_manager() {
    shutdown();
}

void job_manager::start() {
    std::vector<std::string> pending;
    with_store([&](pg::connection& c) {
        c.exec(std::string("BEGIN; ") + ddl_lock + "; " + table_ddl + "; COMMIT");
        return 0;
    });
    recover_orphans();
    with_store([&](pg::connection& c) {
        auto p = c.exec("SELECT id FROM sluice_export_jobs WHERE status = 'pending' ORDER BY seq");
        for (int i = 0; i < p.rows(); ++i)
            pending.emplace_back(p.value(i, 0));
        return 0;
    });
    std::lock_guard lk(m_);
    for (auto& id : pending)
        queue_.push_back(std::move(id));
    for (unsigned i = 0; i < max_concurrent_; ++i)
        workers_.emplace_back([this] { worker(); });
    heartbeat_ = std::jthread([this](std::stop_token st) { heartbeat_loop(st); });
}

void job_manager::heartbeat_loop(std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any cv;
    for (;;) {
        {
            std::unique_lock lk(m);
            (void)cv.wait_for(lk, stop, hb_.interval, [] { return false; });
        }
        if (stop.stop_requested())
            return;
        try {
            with_store([&](pg::connection& c) {
                return c.query(
                    "UPDATE sluice_export_jobs SET heartbeat_at = now() "
                    "WHERE owner = $1 AND status = 'running'",
                    instance_);
            });
            recover_orphans();
        } catch (const std::exception& e) {
            log_(std::string("heartbeat: ") + e.what());
        }
    }
}

void job_manager::recover_orphans() {
    // Another instance's job is orphaned once its owner stopped beating; a job without an
    // owner was left by a version that did not record one.
    auto r = with_store([&](pg::connection& c) {
        return c.query(
            "UPDATE sluice_export_jobs SET status = 'failed', finished_at = now(), error = "
            "'the service running this export stopped (crash or restart); start it again' "
            "WHERE status = 'running' AND owner IS DISTINCT FROM $1 AND (owner IS NULL OR "
            "heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $2)) "
            "RETURNING id, bucket, object_key, upload_id",
            instance_, static_cast<double>(hb_.stale_after.count()) / 1000.0);
    });
    for (int i = 0; i < r.rows(); ++i) {
        std::string id(r.value(i, 0));
        log_("job " + id + ": its service instance is gone; marked failed");
        abort_orphan_upload(id, std::string(r.value(i, 1)), std::string(r.value(i, 2)),
                            r.is_null(i, 3) ? std::string() : std::string(r.value(i, 3)));
    }
}

void job_manager::abort_orphan_upload(const std::string& id, const std::string& bucket,
                                      const std::string& key, const std::string& upload_id) {
    try {
        std::vector<std::string> ids;
        if (!upload_id.empty()) {
            ids.push_back(upload_id);
        } else {
            // Crashed before the id was recorded (or by an older version): find it by key.
            for (auto& u : s3_.list_multipart_uploads(bucket, key))
                if (u.key == key)
                    ids.push_back(u.upload_id);
        }
        for (const auto& u : ids) {
            s3_.abort_multipart_upload(bucket, key, u);
            log_("job " + id + ": aborted its multipart upload " + u);
        }
    } catch (const std::exception& e) {
        log_("job " + id + ": could not abort its upload: " + e.what());
    }
}

std::string job_manager::submit(const job_request& r) {
    std::string id = new_id();
    // r.key is the prefix ("exports/" or ""): the id keeps object names unique.
    std::string key =
        r.key + r.spec.table + "-" + id + "." + r.spec.format + (r.spec.gzip ? ".gz" : "");
    with_store([&](pg::connection& c) {
        return c.query(
            "INSERT INTO sluice_export_jobs (id, table_name, format, gzip, bucket, object_key, "
            "status) "
            "VALUES ($1, $2, $3, $4, $5, $6, 'pending')",
            id, r.spec.table, r.spec.format, r.spec.gzip ? "true" : "false", r.bucket, key);
    });
    {
        std::lock_guard lk(m_);
        queue_.push_back(id);
    }
    cv_.notify_one();
    return id;
}

namespace {

/// The "percent" of a job status: "100" once completed, else rows of the total to one
/// decimal (at most 99.9: an estimate may be low, never claim 100% before the end);
/// nullopt without a total.
std::optional<std::string> percent_text(const std::string& status, std::uint64_t rows,
                                        std::optional<std::uint64_t> total) {
    if (status == "completed")
        return "100";
    if (!total || *total == 0)
        return std::nullopt;
    double p = std::min(99.9, 100.0 * static_cast<double>(rows) / static_cast<double>(*total));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", p);
    return buf;
}

/// A completed job's presigned download link, or why there is none.
void add_download_url(json_object& o, const sluice::s3::config& cfg, const std::string& bucket,
                      const std::string& key) {
    try {
        o.str("url", sluice::s3::presign(cfg, bucket, key, sluice::s3::max_presign_expiry));
        o.num("url_expires_in", static_cast<std::uint64_t>(sluice::s3::max_presign_expiry.count()));
    } catch (const sluice::error& e) {
        o.str("url_error", e.what());
    }
}

/// One job as GET /exports/ID reports it.
struct job_status {
    std::string id, table, format;
    bool gzip = false;
    std::string bucket, key, status;
    std::uint64_t rows = 0;
    std::optional<std::uint64_t> total;
    bool total_exact = false;
    std::uint64_t bytes = 0;
    std::optional<std::string> error;
    std::string created_at;
    std::optional<std::string> started_at, finished_at;
};

/// The status JSON of a job (a completed one with its presigned download link).
std::string render_status(const job_status& j, const sluice::s3::config& cfg) {
    json_object o;
    auto str_or_null = [&o](const char* key, const std::optional<std::string>& v) {
        if (v)
            o.str(key, *v);
        else
            o.null(key);
    };
    o.str("id", j.id);
    o.str("table", j.table);
    o.str("format", j.format);
    o.str("compress", j.gzip ? "gzip" : "none");
    o.str("to", "s3://" + j.bucket + "/" + j.key);
    o.str("status", j.status);
    o.num("rows_done", j.rows);
    if (j.total)
        o.num("rows_total", *j.total);
    else
        o.null("rows_total");
    o.boolean("total_exact", j.total_exact);
    if (auto p = percent_text(j.status, j.rows, j.total))
        o.raw("percent", *p);
    else
        o.null("percent");
    o.num("bytes", j.bytes);
    str_or_null("error", j.error);
    o.str("created_at", j.created_at);
    str_or_null("started_at", j.started_at);
    str_or_null("finished_at", j.finished_at);
    if (j.status == "completed")
        add_download_url(o, cfg, j.bucket, j.key);
    return o.done();
}

}  // namespace

std::optional<std::string> job_manager::status_json(const std::string& id) {
    auto r = with_store([&](pg::connection& c) {
        return c.query(
            "SELECT table_name, format, gzip, bucket, object_key, status, rows_done, rows_total, "
            "total_exact, bytes, error, created_at, started_at, finished_at "
            "FROM sluice_export_jobs WHERE id = $1",
            id);
    });
    if (r.rows() != 1)
        return std::nullopt;
    auto text = [&](int col) { return std::string(r.value(0, col)); };
    auto maybe_text = [&](int col) -> std::optional<std::string> {
        if (r.is_null(0, col))
            return std::nullopt;
        return text(col);
    };
    auto num = [&](int col) -> std::optional<std::uint64_t> {
        if (r.is_null(0, col))
            return std::nullopt;
        return std::stoull(text(col));
    };
    job_status j{id,      text(0),        text(1),  text(2) == "t", text(3),
                 text(4), text(5),        *num(6),  num(7),         text(8) == "t",
                 *num(9), maybe_text(10), text(11), maybe_text(12), maybe_text(13)};
    {
        // A running job's counters live in memory; the table has them only every few seconds.
        std::lock_guard lk(m_);
        if (auto it = running_.find(id); it != running_.end() && j.status == "running") {
            j.rows = std::max(j.rows, it->second->rows.load());
            j.bytes = std::max(j.bytes, it->second->bytes.load());
        }
    }
    return render_status(j, s3cfg_);
}

job_manager::cancel_result job_manager::cancel(const std::string& id) {
    {
        std::lock_guard lk(m_);
        if (auto it = running_.find(id); it != running_.end()) {
            it->second->by_user = true;
            it->second->stop.request_stop();
            return cancel_result::cancelled;  // the worker marks it when the run has unwound
        }
        for (auto q = queue_.begin(); q != queue_.end(); ++q)
            if (*q == id) {
                queue_.erase(q);
                break;
            }
    }
    auto r = with_store([&](pg::connection& c) {
        return c.query(
            "UPDATE sluice_export_jobs SET status = 'cancelled', finished_at = now(), "
            "error = 'cancelled by request' WHERE id = $1 AND status = 'pending'",
            id);
    });
    if (r.affected())
        return cancel_result::cancelled;
    auto s = with_store([&](pg::connection& c) {
        return c.query("SELECT status FROM sluice_export_jobs WHERE id = $1", id);
    });
    if (s.rows() == 0)
        return cancel_result::not_found;
    // It may have just started: look again now that it may be registered as running.
    {
        std::lock_guard lk(m_);
        if (auto it = running_.find(id); it != running_.end()) {
            it->second->by_user = true;
            it->second->stop.request_stop();
            return cancel_result::cancelled;
        }
    }
    return cancel_result::already_finished;
}

void job_manager::shutdown() {
    {
        std::lock_guard lk(m_);
        if (stopping_ && workers_.empty())
            return;
        stopping_ = true;
        for (auto& [id, live] : running_)
            live->stop.request_stop();
    }
    cv_.notify_all();
    if (heartbeat_.joinable()) {
        heartbeat_.request_stop();
        heartbeat_.join();
    }
    for (auto& t : workers_)
        if (t.joinable())
            t.join();
    workers_.clear();
}

void job_manager::worker() {
    for (;;) {
        std::string id;
        std::shared_ptr<live_job> live;
        {
            std::unique_lock lk(m_);
            cv_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_)
                return;
            id = std::move(queue_.front());
            queue_.pop_front();
            live = std::make_shared<live_job>();
            running_[id] = live;
        }
        try {
            run_job(id, *live);
        } catch (const std::exception& e) {
            log_("job " + id + ": " + e.what());
        }
        std::lock_guard lk(m_);
        running_.erase(id);
    }
}

void job_manager::run_job(const std::string& id, live_job& live) {
    // Claim it: a DELETE (or another instance) may have taken it between the queue and here.
    auto claim = with_store([&](pg::connection& c) {
        return c.query(
            "UPDATE sluice_export_jobs SET status = 'running', started_at = now(), owner = $2, "
            "heartbeat_at = now() WHERE id = $1 AND status = 'pending' "
            "RETURNING table_name, format, gzip, bucket, object_key",
            id, instance_);
    });
    if (claim.rows() != 1)
        return;
    export_spec spec{std::string(claim.value(0, 0)), std::string(claim.value(0, 1)),
                     claim.value(0, 2) == "t"};
    std::string bucket(claim.value(0, 3)), key(claim.value(0, 4));
    log_("job " + id + ": exporting " + spec.table + " to s3://" + bucket + "/" + key);
    try {
        export_job(id, live, spec, bucket, key);
        finish_as(id, live, "completed", std::nullopt, true);
    } catch (const sluice::error& e) {
        if (e.code() == sluice::errc::cancelled || live.stop.stop_requested())
            finish_as(id, live, "cancelled",
                      live.by_user ? "cancelled by request" : "cancelled: the service shut down",
                      false);
        else
            finish_as(id, live, "failed", std::string(e.what()), false);
    } catch (const std::exception& e) {
        finish_as(id, live, "failed", std::string(e.what()), false);
    }
}

bool job_manager::finish_as(const std::string& id, const live_job& live, const std::string& status,
                            const std::optional<std::string>& err, bool exact) {
    auto r = with_store([&](pg::connection& c) {
        return c.query(
            "UPDATE sluice_export_jobs SET status = $2, finished_at = now(), rows_done = $3, "
            "bytes = $4, error = $5, total_exact = $6, "
            "rows_total = CASE WHEN $6 THEN $3 ELSE rows_total END "
            "WHERE id = $1 AND status = 'running' AND owner = $7",
            id, status, live.rows.load(), live.bytes.load(), err, exact ? "true" : "false",
            instance_);
    });
    if (r.affected() == 0) {
        log_("job " + id + ": finished as " + status
             + " but was no longer running here; its state stays");
        return false;
    }
    log_("job " + id + ": " + status + (err ? ": " + *err : ""));
    return true;
}

void job_manager::export_job(const std::string& id, live_job& live, const export_spec& spec,
                             const std::string& bucket, const std::string& key) {
    pg::connection conn(dsn_);
    if (auto total = estimate_rows(conn, spec.table))
        with_store([&](pg::connection& c) {
            return c.query("UPDATE sluice_export_jobs SET rows_total = $2 WHERE id = $1", id,
                           *total);
        });
    sluice::s3::upload_options uo;
    uo.content_type = spec.content_type();
    // Recorded at once, so that a restart can abort exactly this upload if we crash.
    uo.on_multipart_created = [&](const std::string& upload_id) {
        with_store([&](pg::connection& c) {
            return c.query("UPDATE sluice_export_jobs SET upload_id = $2 WHERE id = $1", id,
                           upload_id);
        });
    };
    auto upload = sluice::s3::upload(s3_, bucket, key, uo);
    counting_sink<decltype(upload)> sink(upload, live.bytes);
    auto last_saved = std::chrono::steady_clock::now();
    run_export(conn, spec, sink, live.stop.get_token(), [&](std::uint64_t rows) {
        live.rows = rows;
        // Persist progress now and then, so a status read by another replica (or after a
        // crash) is not far behind.
        auto now = std::chrono::steady_clock::now();
        if (now - last_saved < std::chrono::seconds(2))
            return;
        last_saved = now;
        try {
            with_store([&](pg::connection& c) {
                return c.query(
                    "UPDATE sluice_export_jobs SET rows_done = $2, bytes = $3 WHERE id = $1", id,
                    rows, live.bytes.load());
            });
        } catch (const std::exception&) {
            // Progress is best effort; the final update reports the outcome.
        }
    });
}

}  // namespace export_service
