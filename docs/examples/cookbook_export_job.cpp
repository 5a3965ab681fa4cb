// Cookbook pattern 2: a background export job with progress and a presigned link
// (docs/cookbook.md). Needs Postgres (SLUICE_TEST_PG_DSN) and S3 (SLUICE_TEST_S3_ENDPOINT
// and the AWS_* variables); without them it says so and exits 0.
//
// The job runs on its own thread: table -> COPY CSV -> progress -> gzip -> S3 multipart
// upload. The caller watches "45% - 45000 of 100000 rows", can cancel (the upload is aborted,
// no object appears), and gets a URL valid for 7 days when it completes.
#include <sluice/compress/codecs.hpp>
#include <sluice/postgres/postgres.hpp>
#include <sluice/s3/s3.hpp>
#include <sluice/sluice.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

namespace pg = sluice::pg;
namespace s3 = sluice::s3;

/// What a status endpoint reads while the job runs (any thread).
struct job_progress {
    std::atomic<std::uint64_t> rows{0};
    std::optional<std::uint64_t> total;  // estimate from pg_class, set before the run
    std::atomic<int> state{0};           // 0 running, 1 completed, 2 failed, 3 cancelled
    std::string error;                   // set before state changes
};

/// The job itself: run on a worker thread; `stop` cancels it.
void export_job(const std::string& dsn, const s3::config& cfg, const std::string& table,
                const std::string& bucket, const std::string& key, job_progress& p,
                std::stop_token stop) {
    try {
        pg::connection conn(dsn);
        // A cheap estimate for the percentage (exact once the job has counted every row).
        auto est = conn.query("SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass",
                              pg::quote_qualified_name(table));
        if (est.rows() == 1 && std::stoll(std::string(est.value(0, 0))) > 0)
            p.total = std::stoull(std::string(est.value(0, 0)));

        pg::copy_out_options co;
        co.header = true;
        auto rows = pg::copy_out(conn, "SELECT * FROM " + pg::quote_qualified_name(table), co);
        sluice::progress_options po;
        po.interval = std::chrono::milliseconds(200);
        po.items_probe = [&rows] { return rows.rows_done(); };  // rows, not chunks
        auto upload = s3::upload(cfg, bucket, key, {.content_type = "application/gzip"});
        sluice::run(rows | sluice::progress([&p](const sluice::progress_info& i) { p.rows = i.items; }, po) |
                        sluice::compress(sluice::compression::make_compressor(sluice::compression::format::gzip)),
                    upload, {.stop = stop});
        p.state = 1;
    } catch (const sluice::error& e) {
        p.error = e.what();
        p.state = e.code() == sluice::errc::cancelled ? 3 : 2;  // the upload was aborted either way
    }
}

int main() {
    const char* dsn = std::getenv("SLUICE_TEST_PG_DSN");
    const char* endpoint = std::getenv("SLUICE_TEST_S3_ENDPOINT");
    if (!dsn || !*dsn || !endpoint || !*endpoint) {
        std::printf("skipped: set SLUICE_TEST_PG_DSN and SLUICE_TEST_S3_ENDPOINT (+ AWS_*) to run\n");
        return 0;
    }
    const char* b = std::getenv("SLUICE_TEST_S3_BUCKET");
    std::string bucket = b && *b ? b : "sluice-test";
    std::string table = "cookbook_job_" + std::to_string(::getpid());
    {
        pg::connection setup(dsn);
        setup.exec("CREATE TABLE " + pg::quote_identifier(table) +
                   " AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 300000) g; ANALYZE " +
                   pg::quote_identifier(table));
    }
    s3::config cfg = s3::config::from_env();
    std::string key = "cookbook/" + table + ".csv.gz";

    job_progress p;
    std::stop_source cancel;  // DELETE /exports/ID would call cancel.request_stop()
    std::jthread worker([&] { export_job(dsn, cfg, table, bucket, key, p, cancel.get_token()); });
    while (p.state == 0) {
        std::uint64_t rows = p.rows;
        if (p.total)
            std::printf("%.0f%% - %llu of %llu rows\n",
                        std::min(99.9, 100.0 * static_cast<double>(rows) / static_cast<double>(*p.total)),
                        static_cast<unsigned long long>(rows), static_cast<unsigned long long>(*p.total));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    worker.join();
    pg::connection(dsn).exec("DROP TABLE " + pg::quote_identifier(table));
    if (p.state != 1) {
        std::fprintf(stderr, "export failed: %s\n", p.error.c_str());
        return 1;
    }
    std::printf("completed: %llu rows\n", static_cast<unsigned long long>(p.rows.load()));
    // The link a status endpoint hands out: anyone holding it can GET the object for 7 days.
    std::string url = s3::presign(cfg, bucket, key, s3::max_presign_expiry);
    std::printf("download: %s...\n", url.substr(0, url.find('?')).c_str());
    return 0;
}
