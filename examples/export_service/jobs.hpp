// Background export jobs: kept in a Postgres table the service creates (so they survive a
// restart), run by at most N workers in submission order, uploaded to S3.
#pragma once

#include <sluice/postgres/connection.hpp>
#include <sluice/s3/client.hpp>
#include <sluice/s3/config.hpp>

#include <atomic>
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

/// The job table, the queue and the workers.
class job_manager {
public:
    job_manager(std::string dsn, sluice::s3::config s3cfg, unsigned max_concurrent,
                std::function<void(const std::string&)> log);
    ~job_manager();

    /// Creates the table, fails jobs left `running` by a previous process, queues the
    /// `pending` ones (oldest first) and starts the workers.
    void start();
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
    /// Runs `f(store connection)` under the store mutex.
    template <class F>
    auto with_store(F&& f) {
        std::lock_guard lk(store_m_);
        if (!store_.ok()) store_ = sluice::pg::connection(dsn_);  // reconnect after a loss
        return f(store_);
    }

    std::string dsn_;
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
};

}  // namespace export_service
