// Background export jobs: kept in a Postgres table the service creates (so they survive a
// restart), run by at most N workers in submission order, uploaded to S3.
//
// Several instances may share the table (issue 16). A running job names its owner (the
// instance id) and carries the owner's heartbeat; an instance fails a running job only
// when its owner's heartbeat is stale (the owner is gone), aborting the job's multipart
// upload. A job's state never moves out of completed/failed/cancelled: every final update
// is conditional on the job still running under this instance.
#pragma once

#include <sluice/postgres/connection.hpp>
#include <sluice/s3/client.hpp>
#include <sluice/s3/config.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "export_pipeline.hpp"

namespace export_service {

/// A job as POST /exports describes it.
struct job_request {
    export_spec spec;
    std::string bucket;
    std::string key;  // the object key (prefix + generated name)
};

/// How often an instance proves it is alive, and when a silent owner counts as gone.
struct heartbeat_options {
    std::chrono::milliseconds interval{5'000};
    std::chrono::milliseconds stale_after{30'000};
};

/// The job table, the queue and the workers.
class job_manager {
public:
    job_manager(std::string dsn, sluice::s3::config s3cfg, unsigned max_concurrent,
                std::function<void(const std::string&)> log, heartbeat_options hb = {});
    ~job_manager();

    /// Creates (or upgrades) the table, fails the running jobs whose owner is gone, queues
    /// the `pending` ones (oldest first), starts the workers and the heartbeat.
    void start();
    /// This instance's id (the `owner` of the jobs it runs).
    const std::string& instance_id() const noexcept { return instance_; }
    /// Records a pending job and queues it; returns its id.
    std::string submit(const job_request& r);
    /// The job as JSON, or nothing for an unknown id.
    std::optional<std::string> status_json(const std::string& id);
    enum class cancel_result { not_found, cancelled, already_finished };
    /// Cancels a pending or running job (a running upload is aborted).
    cancel_result cancel(const std::string& id);
    /// Cancels the running jobs (marked `cancelled`: the service shut down) and joins the
    /// workers; pending jobs stay pending for the next start. Idempotent.
    void shutdown();

private:
    struct live_job {
        std::stop_source stop;
        std::atomic<std::uint64_t> rows{0}, bytes{0};
        std::atomic<bool> by_user{false};
    };

    void worker();
    void run_job(const std::string& id, live_job& live);
    void export_job(const std::string& id, live_job& live, const export_spec& spec,
                    const std::string& bucket, const std::string& key);
    /// Marks a job this instance runs as finished; false when it was no longer running
    /// under this instance (another instance failed it meanwhile): its state stays.
    bool finish_as(const std::string& id, const live_job& live, const std::string& status,
                   const std::optional<std::string>& err, bool exact);
    /// Fails the running jobs whose owner's heartbeat is stale and aborts their uploads.
    void recover_orphans();
    void abort_orphan_upload(const std::string& id, const std::string& bucket,
                             const std::string& key, const std::string& upload_id);
    void heartbeat_loop(std::stop_token stop);

    /// Runs `f(store connection)` under the store mutex. A connection found lost (the
    /// server restarted, the backend was terminated) is re-opened, and `f` is run once
    /// more when the loss shows only as `f` fails, so callers do not see the first failure.
    template <class F>
    auto with_store(F&& f) {
        std::lock_guard lk(store_m_);
        if (!store_.ok()) store_ = sluice::pg::connection(dsn_);
        try {
            return f(store_);
        } catch (const sluice::error&) {
            if (store_.ok()) throw;
        }
        log_("the job store connection was lost; reconnecting");
        store_ = sluice::pg::connection(dsn_);
        return f(store_);
    }

    std::string dsn_;
    std::string instance_;
    heartbeat_options hb_;
    sluice::s3::config s3cfg_;
    sluice::s3::client s3_;
    unsigned max_concurrent_;
    std::function<void(const std::string&)> log_;

    std::mutex store_m_;
    sluice::pg::connection store_;

    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::string> queue_;
    std::map<std::string, std::shared_ptr<live_job>> running_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
    std::jthread heartbeat_;  // last: stopped and joined first
};

}  // namespace export_service
