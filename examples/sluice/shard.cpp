// Sharded exports of the `sluice` tool: parts written by several connections on one
// exported snapshot, their sidecars and the manifest that commits them.
#include "shard.hpp"

#include "database.hpp"

#include <sluice/compress/auto_decompress.hpp>
#include <sluice/core/json_object.hpp>
#include <sluice/postgres/postgres.hpp>
#include <sluice/core/units.hpp>
#include <sluice/s3/s3.hpp>

#include <openssl/evp.h>
#include <poll.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace cli {

namespace {

namespace pg = sluice::pg;
namespace fs = std::filesystem;

[[noreturn]] void usage(const char* stage, std::string msg) {
    throw sluice::error(sluice::errc::usage, stage, std::move(msg));
}

sluice::s3::config s3_settings(const io_options& io) {
    auto cfg = sluice::s3::config::from_env();
    cfg.retry.max_attempts = io.retries < 1 ? 1 : io.retries;
    cfg.retry.base_delay = std::chrono::milliseconds(io.retry_delay_ms);
    return cfg;
}

/// A directory of parts: a local directory or an s3://bucket/prefix/.
class dir_store {
public:
    dir_store(std::string spec, const io_options& io) : io_(io), base_(std::move(spec)) {
        if (base_.empty()) usage("export", "--to is empty");
        if (base_.back() != '/') base_ += '/';
        if (sluice::s3::is_s3_url(base_)) {
            loc_ = sluice::s3::parse_url(base_, false);
            client_ = std::make_unique<sluice::s3::client>(s3_settings(io));
        } else {
            std::error_code ec;
            fs::create_directories(base_, ec);
            if (ec)
                throw sluice::error(sluice::errc::io, "output",
                                    "cannot create " + base_ + ": " + ec.message());
        }
    }
    const std::string& base() const noexcept { return base_; }
    std::string url(const std::string& name) const { return base_ + name; }
    /// A sink that replaces `name` atomically when it finishes (file rename, S3 complete).
    sluice::any_byte_sink open(const std::string& name) const { return open_output(url(name), io_); }

    /// Writes a small object atomically.
    void put(const std::string& name, std::string_view text) const {
        if (client_) {
            client_->put_object(loc_.bucket, loc_.key + name, text, {}, "application/json");
            return;
        }
        auto sink = open(name);
        sink.push(text);
        sink.finish();
    }
    /// A small object's text, or nothing when it does not exist.
    std::optional<std::string> get(const std::string& name) const {
        if (client_) {
            try {
                auto c = client_->call("GetObject", "GET", loc_.bucket, loc_.key + name, {});
                return client_->execute(c).body;
            } catch (const sluice::s3::s3_error& e) {
                if (e.status() == 404) return std::nullopt;
                throw;
            }
        }
        std::ifstream in(url(name), std::ios::binary);
        if (!in) return std::nullopt;
        std::ostringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    /// The size of `name`, or nothing when it does not exist.
    std::optional<std::uint64_t> size(const std::string& name) const {
        if (client_) {
            try {
                auto len = client_->head_object(loc_.bucket, loc_.key + name).header("content-length");
                return len.empty() ? std::nullopt : std::optional<std::uint64_t>(std::stoull(len));
            } catch (const sluice::s3::s3_error& e) {
                if (e.status() == 404) return std::nullopt;
                throw;
            }
        }
        std::error_code ec;
        auto n = fs::file_size(url(name), ec);
        return ec ? std::nullopt : std::optional<std::uint64_t>(n);
    }
    /// Removes `name` (a committed part of a failed run). Never throws.
    void remove(const std::string& name) const noexcept {
        try {
            if (client_)
                client_->delete_object(loc_.bucket, loc_.key + name);
            else
                fs::remove(url(name));
        } catch (...) {  // NOLINT(bugprone-empty-catch): best effort, the run failed anyway
        }
    }

private:
    const io_options& io_;
    std::string base_;
    sluice::s3::location loc_;
    std::unique_ptr<sluice::s3::client> client_;
};

/// A running SHA-256 (OpenSSL EVP) and the count of the bytes it saw.
class sha256_counter {
public:
    sha256_counter() : md_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
        if (!md_ || EVP_DigestInit_ex(md_.get(), EVP_sha256(), nullptr) != 1)
            throw sluice::error(sluice::errc::out_of_memory, "output", "cannot start SHA-256");
    }
    void update(const char* p, std::size_t n) {
        EVP_DigestUpdate(md_.get(), p, n);
        bytes_ += n;
    }
    std::uint64_t bytes() const noexcept { return bytes_; }
    /// The digest in lower-case hex; call once, at the end.
    std::string hex() {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        EVP_DigestFinal_ex(md_.get(), d, &n);
        static const char* digits = "0123456789abcdef";
        std::string out;
        for (unsigned i = 0; i < n; ++i) {
            out += digits[d[i] >> 4];
            out += digits[d[i] & 15];
        }
        return out;
    }

private:
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md_;
    std::uint64_t bytes_ = 0;
};

/// Forwards bytes to a sink and keeps their count and SHA-256.
class hashing_sink : public sluice::sink_base {
public:
    explicit hashing_sink(sluice::any_byte_sink inner) : inner_(std::move(inner)) {}
    bool push(sluice::chunk& c) {
        hash_.update(c.data(), c.size());
        return inner_.push(c);
    }
    std::uint64_t finish() {
        inner_.finish();
        hex_ = hash_.hex();
        return hash_.bytes();
    }
    void abort(const sluice::error& e) noexcept { inner_.abort(e); }
    void bind(sluice::run_context& ctx) { inner_.bind(ctx); }
    const std::string& sha256() const noexcept { return hex_; }

private:
    sluice::any_byte_sink inner_;
    sha256_counter hash_;
    std::string hex_;
};

/// What every part of one export shares.
struct part_spec {
    std::string format;  ///< csv | jsonl
    sluice::compression::format compression = sluice::compression::format::none;
    std::optional<int> level;
    int threads = 1;
    bool crlf = false;
    std::string plan_query;
    std::string extension;  ///< ".csv.gz" ...
};

/// One written part.
struct part_result {
    std::string name;
    std::uint64_t rows = 0, bytes = 0;
    std::string sha256;
};

std::string part_name(const part_spec& ps, std::size_t index) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "part-%05zu", index);
    return buf + ps.extension;
}

/// Rows and bytes (of the text, before compression) one worker has read so far: the
/// worker bumps them, the --progress thread sums every worker's.
struct progress_slot {
    std::atomic<std::uint64_t> rows{0}, bytes{0};
};

/// Runs `src` [| compress] into `sink`, its chunks counted into `slot` (`rows_done` reads
/// the rows the source has produced).
template <class Source, class RowsDone>
void drive_part(Source& src, RowsDone rows_done, const part_spec& ps, hashing_sink& sink,
                part_result& out, const sluice::run_options& ro, progress_slot& slot) {
    sluice::run_options o = ro;
    auto counted = src | sluice::tap([&slot, &rows_done](const sluice::chunk& c) {
                       slot.bytes.fetch_add(c.size(), std::memory_order_relaxed);
                       slot.rows.store(rows_done(), std::memory_order_relaxed);
                   });
    if (ps.compression != sluice::compression::format::none)
        out.bytes = sluice::run(std::move(counted) | sluice::compress(make_output_codec(
                                                         ps.compression, ps.level, ps.threads)),
                                sink, o);
    else
        out.bytes = sluice::run(counted, sink, o);
    out.rows = rows_done();
    slot.rows.store(out.rows, std::memory_order_relaxed);
}

/// Writes the tasks `queue` hands this connection into part `name` of `store`. A drain
/// request (`ro.drain`) ends the part at a row boundary as a complete file and takes no
/// further task.
part_result write_part(pg::connection& c, pg::task_queue& queue, const part_spec& ps,
                       const dir_store& store, const std::string& name,
                       const sluice::run_options& ro, progress_slot& slot) {
    part_result out;
    out.name = name;
    hashing_sink sink(store.open(name));
    if (ps.format == "csv") {
        pg::copy_out_options co;
        co.header = true;
        co.crlf = ps.crlf;
        auto src = pg::copy_tasks(c, queue, ps.plan_query, co);
        drive_part(src, [&src] { return src.rows_done(); }, ps, sink, out, ro, slot);
    } else {
        auto src = pg::json_tasks(c, queue);
        drive_part(src, [&src] { return src.rows_done(); }, ps, sink, out, ro, slot);
    }
    out.sha256 = sink.sha256();
    return out;
}

/// --progress of a sharded export: one display for every worker, redrawn by its own thread
/// from the workers' counters (the workers never wait for it).
class progress_board {
    using clock = std::chrono::steady_clock;

public:
    progress_board(bool enabled, std::size_t workers, std::optional<std::uint64_t> total)
        : display_(enabled), slots_(std::make_unique<progress_slot[]>(workers)), n_(workers),
          total_(total), t0_(clock::now()) {
        if (enabled) thread_ = std::jthread([this](std::stop_token st) { redraw(st); });
    }
    progress_board(const progress_board&) = delete;
    progress_board& operator=(const progress_board&) = delete;
    ~progress_board() { stop(); }

    progress_slot& slot(std::size_t i) noexcept { return slots_[i]; }
    std::uint64_t rows() const noexcept { return sum(&progress_slot::rows); }
    std::uint64_t bytes() const noexcept { return sum(&progress_slot::bytes); }
    double seconds() const { return std::chrono::duration<double>(clock::now() - t0_).count(); }

    /// Stops redrawing and draws the last report: 100% when `complete`, else where the
    /// export stopped (a drain).
    void finish(bool complete) {
        if (!thread_.joinable()) return;
        stop();
        report(true, complete);
    }

private:
    void stop() {
        if (!thread_.joinable()) return;
        thread_.request_stop();
        thread_.join();
    }
    std::uint64_t sum(std::atomic<std::uint64_t> progress_slot::*field) const noexcept {
        std::uint64_t n = 0;
        for (std::size_t i = 0; i < n_; ++i) n += (slots_[i].*field).load(std::memory_order_relaxed);
        return n;
    }
    void redraw(std::stop_token st) {
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lk(m);
        while (!st.stop_requested()) {
            cv.wait_for(lk, st, display_.interval(), [] { return false; });
            if (!st.stop_requested()) report(false, false);
        }
    }
    void report(bool done, bool complete) const {
        sluice::progress_info p;
        p.items = rows();
        p.bytes = bytes();
        p.done = done;
        p.elapsed_seconds = seconds();
        const double el = p.elapsed_seconds > 0 ? p.elapsed_seconds : 1e-9;
        p.items_per_second = static_cast<double>(p.items) / el;
        p.bytes_per_second = static_cast<double>(p.bytes) / el;
        double frac = -1;
        if (total_ && *total_ > 0) frac = static_cast<double>(p.items) / static_cast<double>(*total_);
        if (complete) frac = 1.0;
        if (frac >= 0) {
            frac = std::min(frac, 1.0);
            p.percent = frac * 100.0;
            if (frac > 0 && !done) p.eta_seconds = el * (1.0 - frac) / frac;
        }
        display_(p);
    }

    sluice::progress_display display_;
    std::unique_ptr<progress_slot[]> slots_;
    std::size_t n_;
    std::optional<std::uint64_t> total_;
    clock::time_point t0_;
    std::jthread thread_;
};

/// The rows --progress expects: with --count an exact count of `tasks` inside the snapshot
/// (one count per task, so each is the same TID range or key range scan the export runs),
/// else for a table its planner estimate (`reltuples`) times `share`; nothing when unknown.
std::optional<std::uint64_t> expected_rows(pg::connection& c, const export_options& o,
                                           const std::vector<pg::shard_task>& tasks,
                                           double share) {
    try {
        if (o.count) {
            std::uint64_t n = 0;
            for (const auto& t : tasks)
                n += std::stoull(std::string(
                    c.exec("SELECT count(*) FROM " + pg::subquery(t.query) + " q").value(0, 0)));
            return n;
        }
        if (!o.table.empty()) {
            auto r = c.query("SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass",
                             pg::quote_qualified_name(o.table));
            long long n = std::stoll(std::string(r.value(0, 0)));
            if (n > 0) return static_cast<std::uint64_t>(static_cast<double>(n) * share + 0.5);
        }
    } catch (const sluice::error& e) {
        if (o.count) throw;  // asked for: a failed count is the export's failure
        // An estimate is only for the display; never fail the export for it.
    }
    return std::nullopt;
}

/// "sluice: 1,234 rows, 5.1 MB in, 1.2 MB out, 0.50 s, ..." after a --progress run.
void print_summary(const progress_board& board, std::uint64_t bytes_out) {
    sluice::run_summary sum;
    sum.rows = board.rows();
    sum.bytes_in = static_cast<double>(board.bytes());
    sum.bytes_out = static_cast<double>(bytes_out);
    sum.seconds = board.seconds();
    std::fprintf(stderr, "%s\n", sluice::summary_line(sum).c_str());
}

/// The id `spec` names: the id itself, or the first line of @FILE / @s3://bucket/key.
std::string resolve_snapshot(const std::string& spec, const io_options& io) {
    if (!spec.starts_with("@")) return spec;
    std::string where = spec.substr(1);
    std::string text;
    if (sluice::s3::is_s3_url(where)) {
        auto loc = sluice::s3::parse_url(where);
        sluice::s3::client client(s3_settings(io));
        auto c = client.call("GetObject", "GET", loc.bucket, loc.key, {});
        text = client.execute(c).body;
    } else {
        std::ifstream in(where);
        if (!in)
            throw sluice::error(sluice::errc::io, "snapshot",
                                sluice::errno_message("cannot read", where, errno));
        std::getline(in, text, '\0');
    }
    text = text.substr(0, text.find_first_of("\r\n"));
    if (text.empty()) usage("snapshot", where + " holds no snapshot id");
    return text;
}

pg::connect_options connect_settings(const export_options& o) {
    pg::connect_options co;
    if (!o.timezone.empty()) co.timezone = o.timezone;
    return co;
}

pg::shard_plan make_plan(pg::connection& c, const export_options& o, const shard_options& s,
                         std::size_t workers, std::uint64_t task_blocks) {
    pg::shard_plan_options po;
    po.workers = workers;
    po.task_blocks = task_blocks;
    po.shard_by = s.shard_by;
    return o.table.empty() ? pg::plan_query(c, o.query, po) : pg::plan_table(c, o.table, po);
}

/// What a manifest and every sidecar say about the export as a whole.
struct export_facts {
    std::string snapshot, query, format, compression, method, shard_by;
    std::uint64_t task_blocks = 0;
    friend bool operator==(const export_facts&, const export_facts&) = default;
};

export_facts facts_of(const std::string& snapshot, const pg::shard_plan& plan,
                      const part_spec& ps) {
    export_facts f{snapshot, plan.query, ps.format,
                   std::string(sluice::compression::to_string(ps.compression)),
                   plan.method == pg::shard_method::ctid ? "ctid" : "key", plan.column,
                   plan.task_blocks};
    return f;
}

void describe(sluice::json::object_writer<std::string>& w, const export_facts& f) {
    w.string("snapshot", f.snapshot).string("query", f.query).string("format", f.format);
    w.string("compression", f.compression).string("method", f.method);
    if (f.method == "ctid")
        w.number("task_blocks", f.task_blocks);
    else
        w.string("shard_by", f.shard_by);
}

std::string part_json(const part_result& p) {
    std::string s;
    sluice::json::object_writer<std::string>(s)
        .string("name", p.name)
        .number("rows", p.rows)
        .number("bytes", p.bytes)
        .string("sha256", p.sha256)
        .close();
    return s;
}

/// manifest.json: the export's facts, the total rows and every part, in order.
std::string manifest_json(const export_facts& f, const std::vector<part_result>& parts) {
    std::string s, list = "[";
    std::uint64_t rows = 0;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        list += (i ? ",\n  " : "\n  ") + part_json(parts[i]);
        rows += parts[i].rows;
    }
    list += "\n]";
    sluice::json::object_writer<std::string> w(s);
    describe(w, f);
    w.number("rows", rows).raw("parts", list).close();
    return s + "\n";
}

/// The record format and compression of a sharded export (the directory names none).
part_spec make_part_spec(const export_options& o, const io_options& io) {
    part_spec ps;
    ps.format = o.format.empty() ? "csv" : o.format;
    if (ps.format != "csv" && ps.format != "jsonl")
        usage("export", "a sharded export writes csv or jsonl parts (--format)");
    if (o.crlf && ps.format != "csv") usage("export", "--crlf applies to CSV output");
    ps.compression = output_compression(o.compress, "", "export");
    ps.level = o.level;
    ps.threads = io.threads > 0 ? io.threads : 1;
    ps.crlf = o.crlf;
    ps.extension = "." + ps.format + std::string(sluice::compression::extension(ps.compression));
    return ps;
}

/// The first error of several workers, and the stop that tells the others to give up.
struct failure {
    std::mutex m;
    std::exception_ptr first;
    std::stop_source stop;
    void set(std::exception_ptr e) {
        std::lock_guard lk(m);
        if (!first) first = std::move(e);
        stop.request_stop();
    }
};

/// One worker of `--jobs`: its own connection on the snapshot, tasks from the shared queue.
/// `cut` tells whether a drain may have cut its part short (requested before it ended).
void job_worker(const export_options& o, const std::string& snapshot, pg::task_queue& queue,
                const part_spec& ps, const dir_store& store, part_result& out, failure& f,
                const sluice::run_options& ro, progress_slot& slot, bool& cut) {
    try {
        pg::connection c(o.dsn, connect_settings(o));
        pg::import_snapshot(c, snapshot);
        out = write_part(c, queue, ps, store, out.name, ro, slot);
        cut = ro.drain && ro.drain->load(std::memory_order_relaxed);
        c.exec("COMMIT");
    } catch (...) {
        queue.close();
        f.set(std::current_exception());
    }
}

int run_jobs(const export_options& o, const shard_options& s, const io_options& io,
             const run_control& ctl) {
    const part_spec base = make_part_spec(o, io);
    dir_store store(o.to, io);
    std::optional<pg::snapshot_holder> holder;
    std::string snapshot = resolve_snapshot(s.snapshot, io);
    if (snapshot.empty()) snapshot = holder.emplace(o.dsn, connect_settings(o)).id();
    const std::size_t jobs = s.jobs > 0 ? static_cast<std::size_t>(s.jobs) : 1;
    pg::connection planner(o.dsn, connect_settings(o));
    pg::import_snapshot(planner, snapshot);
    const auto plan = make_plan(planner, o, s, jobs, s.task_blocks);
    std::optional<std::uint64_t> total;
    if (o.progress || o.count) total = expected_rows(planner, o, plan.tasks, 1.0);
    planner.close();
    part_spec ps = base;
    ps.plan_query = plan.query;

    pg::task_queue queue(plan.tasks);
    std::vector<part_result> parts(jobs);
    std::unique_ptr<bool[]> cut(new bool[jobs]());
    failure f;
    std::stop_callback on_signal(ctl.shutdown.token(), [&f] { f.stop.request_stop(); });
    sluice::run_options ro;
    ro.stop = f.stop.get_token();
    ro.drain = ctl.shutdown.drain_flag();  // --drain-on-signal: every part ends at a row
    // --memory: the jobs run at once, so each gets an equal share of the budget.
    if (ctl.memory)
        ro.memory_budget = *ctl.memory / jobs;
    progress_board board(o.progress, jobs, total);
    {
        std::vector<std::jthread> workers;
        for (std::size_t j = 0; j < jobs; ++j) {
            parts[j].name = part_name(ps, j);
            workers.emplace_back([&, j] {
                job_worker(o, snapshot, queue, ps, store, parts[j], f, ro, board.slot(j), cut[j]);
            });
        }
    }
    const bool drained = std::any_of(cut.get(), cut.get() + jobs, [](bool b) { return b; });
    if (f.first) {
        // The manifest is the commit: without it no part may stay behind. An earlier run's
        // manifest in this directory goes too: parts it names may have just been replaced.
        for (const auto& p : parts) store.remove(p.name);
        store.remove("manifest.json");
        // A refusal names one job's share of --memory: say that it is a share.
        if (ctl.memory && jobs > 1) {
            try {
                std::rethrow_exception(f.first);
            } catch (const sluice::error& e) {
                if (e.code() == sluice::errc::limit && e.stage() == "run")
                    std::fprintf(stderr, "sluice: --memory %s is shared by %zu jobs, %s each\n",
                                 sluice::format_bytes(*ctl.memory).c_str(), jobs,
                                 sluice::format_bytes(*ctl.memory / jobs).c_str());
            } catch (...) {
            }
        }
        std::rethrow_exception(f.first);
    }
    board.finish(!drained);
    std::uint64_t bytes_out = 0;
    for (const auto& p : parts) bytes_out += p.bytes;
    if (o.progress) print_summary(board, bytes_out);
    if (drained) {
        // Every part is a complete file (whole rows, CSV with its header), but together they
        // are not the table: no manifest claims them, and one from an earlier run into this
        // directory would describe parts just replaced.
        store.remove("manifest.json");
        std::fprintf(stderr,
                     "sluice: drained: %s rows in %zu complete part files under %s, but the "
                     "export is incomplete: no manifest.json was written (run it again for "
                     "a complete export)\n",
                     sluice::format_count(board.rows()).c_str(), parts.size(),
                     store.base().c_str());
        return exit_cancelled;
    }
    store.put("manifest.json", manifest_json(facts_of(snapshot, plan, ps), parts));
    return exit_ok;
}

/// "I/N" or "auto/N" (I from JOB_COMPLETION_INDEX) -> {I, N}.
std::pair<std::size_t, std::size_t> parse_shard(const std::string& text) {
    auto slash = text.find('/');
    if (slash == std::string::npos) usage("export", "--shard must be I/N or auto/N: '" + text + "'");
    std::string i = text.substr(0, slash), n = text.substr(slash + 1);
    if (i == "auto") {
        const char* env = std::getenv("JOB_COMPLETION_INDEX");
        if (!env || !*env)
            usage("export", "--shard auto/N needs JOB_COMPLETION_INDEX (set by a Kubernetes "
                            "Indexed Job)");
        i = env;
    }
    auto number = [&](const std::string& v) -> std::size_t {
        if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 9)
            usage("export", "--shard must be I/N with whole numbers: '" + text + "'");
        return std::stoul(v);
    };
    std::size_t si = number(i), sn = number(n);
    if (sn == 0 || si >= sn)
        usage("export", "--shard " + std::to_string(si) + "/" + std::to_string(sn) +
                            ": I must be between 0 and N-1");
    return {si, sn};
}

std::string sidecar_json(const export_facts& f, const part_result& p, std::size_t shard,
                         std::size_t shards) {
    std::string s;
    sluice::json::object_writer<std::string> w(s);
    w.string("name", p.name).number("rows", p.rows).number("bytes", p.bytes);
    w.string("sha256", p.sha256).number("shard", shard).number("shards", shards);
    describe(w, f);
    w.close();
    return s + "\n";
}

int run_one_shard(const export_options& o, const shard_options& s, const io_options& io,
                  const run_control& ctl) {
    auto [shard, shards] = parse_shard(s.shard);
    if (s.snapshot.empty())
        usage("export", "--shard needs --snapshot ID|@FILE|@s3://... (from `sluice snapshot`): "
                        "separate processes must read one snapshot");
    if (s.jobs > 1) usage("export", "--shard runs one connection: leave out --jobs");
    if (ctl.drain_on_signal)
        usage("export", "--drain-on-signal does not apply to --shard: a shard's part is only "
                        "of use complete (a cut one could never enter the manifest), so on a "
                        "signal a shard stops at once and leaves its earlier part and sidecar "
                        "untouched; run the shard again");
    part_spec ps = make_part_spec(o, io);
    dir_store store(o.to, io);
    const std::string snapshot = resolve_snapshot(s.snapshot, io);
    pg::connection c(o.dsn, connect_settings(o));
    pg::import_snapshot(c, snapshot);
    // Every shard plans alone; the automatic task size depends on the blocks visible in the
    // snapshot only, so all N compute the same tasks (the sidecars record it, and `sluice
    // manifest` refuses shards that disagree).
    const auto plan = make_plan(c, o, s, shards, s.task_blocks);
    ps.plan_query = plan.query;
    auto tasks = pg::tasks_of_shard(plan, shard, shards);
    std::optional<std::uint64_t> total;
    if (o.progress || o.count)
        total = expected_rows(c, o, tasks,
                              static_cast<double>(tasks.size()) / static_cast<double>(plan.tasks.size()));
    pg::task_queue queue(std::move(tasks));
    sluice::run_options ro = ctl.options();
    progress_board board(o.progress, 1, total);
    part_result p = write_part(c, queue, ps, store, part_name(ps, shard), ro, board.slot(0));
    c.exec("COMMIT");
    store.put(p.name + ".json", sidecar_json(facts_of(snapshot, plan, ps), p, shard, shards));
    board.finish(true);
    if (o.progress) print_summary(board, p.bytes);
    return exit_ok;
}

/// Writes the snapshot id to FILE (atomically) or s3://bucket/key.
void publish_snapshot(const std::string& where, const std::string& id, const io_options& io) {
    if (sluice::s3::is_s3_url(where)) {
        auto loc = sluice::s3::parse_url(where);
        sluice::s3::client(s3_settings(io)).put_object(loc.bucket, loc.key, id + "\n", {},
                                                         "text/plain");
        return;
    }
    auto sink = open_output(where, io);
    sink.push(id + "\n");
    sink.finish();
}

/// Waits until stdin ends (when watched), a signal, or `deadline`; throws if the holding
/// connection dies meanwhile (the snapshot is gone with it).
void hold(pg::snapshot_holder& h, const run_control& ctl, bool watch_stdin,
          std::optional<std::chrono::steady_clock::time_point> deadline) {
    PGconn* conn = h.conn().native();
    while (!ctl.shutdown.token().stop_requested()) {
        if (deadline && std::chrono::steady_clock::now() >= *deadline) return;
        pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        int n = ::poll(fds, watch_stdin ? 2 : 1, 200);
        if (n <= 0) continue;
        if (fds[0].revents && (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK))
            throw sluice::error(sluice::errc::network, "snapshot",
                                "the connection holding snapshot " + h.id() +
                                    " was lost: the snapshot is gone");
        if (watch_stdin && fds[1].revents) {
            char buf[4096];
            if (::read(STDIN_FILENO, buf, sizeof buf) <= 0) return;  // stdin closed
        }
    }
}

int run_snapshot(const shard_commands& sc, const io_options& io, const run_control& ctl) {
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (!sc.hold_for.empty()) deadline = std::chrono::steady_clock::now() + sluice::parse_duration(sc.hold_for, "--hold-for");
    warn_if_password(sc.snapshot_dsn);
    pg::snapshot_holder h(sc.snapshot_dsn);
    // Published first: once the id is on stdout, it is also wherever --publish said.
    if (!sc.publish.empty()) publish_snapshot(sc.publish, h.id(), io);
    std::printf("%s\n", h.id().c_str());
    std::fflush(stdout);
    hold(h, ctl, !deadline, deadline);
    h.release();
    return exit_ok;
}

/// The part extensions a manifest looks for, in the order tried.
constexpr const char* part_extensions[] = {".csv",   ".csv.gz",   ".csv.zst",
                                           ".jsonl", ".jsonl.gz", ".jsonl.zst"};

[[noreturn]] void not_ready(std::string msg) {
    throw sluice::error(sluice::errc::failed, "manifest", std::move(msg));
}

/// One shard's sidecar, read back.
struct sidecar {
    export_facts facts;
    part_result part;
    std::uint64_t shards = 0;
};

sidecar parse_sidecar(const std::string& where, const std::string& text) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(text).get(doc)) not_ready(where + " is not a sidecar (not JSON)");
    auto str = [&](const char* k) -> std::string {
        std::string_view v;
        return doc[k].get(v) ? std::string() : std::string(v);
    };
    auto num = [&](const char* k) -> std::uint64_t {
        std::uint64_t v = 0;
        return doc[k].get(v) ? 0 : v;
    };
    sidecar s;
    s.facts = {str("snapshot"), str("query"), str("format"), str("compression"), str("method"),
               str("shard_by"), num("task_blocks")};
    s.part = {str("name"), num("rows"), num("bytes"), str("sha256")};
    s.shards = num("shards");
    if (s.facts.snapshot.empty() || s.part.name.empty()) not_ready(where + " is not a sidecar");
    return s;
}

/// The extension of shard 0's part (from its sidecar's name).
std::string find_extension(const dir_store& store) {
    for (const char* ext : part_extensions)
        if (store.get(std::string("part-00000") + ext + ".json")) return ext;
    not_ready("no sidecar of shard 0 in " + store.base() + " (part-00000.EXT.json): has shard 0 run?");
}

/// Reads and checks the N sidecars: all there, one snapshot and export, parts in place.
std::vector<sidecar> read_sidecars(const dir_store& store, std::size_t shards) {
    part_spec names;
    names.extension = find_extension(store);
    std::vector<sidecar> out;
    std::string missing;
    for (std::size_t i = 0; i < shards; ++i) {
        std::string name = part_name(names, i);
        auto text = store.get(name + ".json");
        if (!text) {
            missing += (missing.empty() ? "" : ", ") + std::to_string(i);
            continue;
        }
        out.push_back(parse_sidecar(store.url(name + ".json"), *text));
        const auto& s = out.back();
        if (s.shards != shards || s.part.name != name)
            not_ready(store.url(name + ".json") + " belongs to a run of " +
                      std::to_string(s.shards) + " shards, not " + std::to_string(shards));
        if (!(s.facts == out.front().facts))
            not_ready("shard " + std::to_string(i) + " and shard 0 disagree (snapshot " +
                      s.facts.snapshot + " vs " + out.front().facts.snapshot +
                      ", or another query or format): rerun every shard on one snapshot");
        auto size = store.size(name);
        if (!size || *size != s.part.bytes)
            not_ready(store.url(name) + (size ? " does not match its sidecar (rerun shard "
                                              : " is missing (rerun shard ") + std::to_string(i) + ")");
    }
    if (!missing.empty()) not_ready("shards not finished (no sidecar): " + missing);
    return out;
}

/// Counts the records of a part's (decompressed) text: newlines, and for CSV only those
/// outside double quotes (COPY quotes a field holding a newline; `""` toggles twice).
class record_counter {
public:
    explicit record_counter(bool csv) : csv_(csv) {}
    void feed(const char* p, std::size_t n) {
        const char* end = p + n;
        if (!csv_) {
            records_ += static_cast<std::uint64_t>(std::count(p, end, '\n'));
            return;
        }
        for (; p != end; ++p) {
            if (*p == '"')
                quoted_ = !quoted_;
            else if (*p == '\n' && !quoted_)
                ++records_;
        }
    }
    std::uint64_t records() const noexcept { return records_; }

private:
    bool csv_;
    bool quoted_ = false;
    std::uint64_t records_ = 0;
};

/// Reads part `i` back (a file, or an S3 object streamed) and checks it against its sidecar:
/// the bytes and their SHA-256 as stored, the rows after decompression (a CSV part's first
/// record is its header). A part changed, truncated or swapped after its shard wrote it
/// fails here, naming the part.
void verify_part(const dir_store& store, const sidecar& s, std::size_t i, const io_options& io) {
    const std::string url = store.url(s.part.name);
    const std::string rerun = " (rerun shard " + std::to_string(i) + ")";
    sha256_counter hash;
    record_counter records(s.facts.format == "csv");
    try {
        auto in = open_input(url, io, false);
        auto text = std::move(in.bytes)
                    | sluice::tap([&hash](const sluice::chunk& c) { hash.update(c.data(), c.size()); })
                    | sluice::auto_decompress(s.part.name);
        sluice::run(text, sluice::for_each([&records](sluice::chunk& c) { records.feed(c.data(), c.size()); }));
    } catch (const sluice::error& e) {
        not_ready(url + " cannot be read back: " + e.what() + rerun);
    }
    const std::string sha = hash.hex();
    if (hash.bytes() != s.part.bytes || sha != s.part.sha256)
        not_ready(url + " does not match its sidecar: " + std::to_string(hash.bytes()) +
                  " bytes with sha256 " + sha + ", the sidecar says " +
                  std::to_string(s.part.bytes) + " bytes with sha256 " + s.part.sha256 +
                  ": the part changed after its shard wrote it" + rerun);
    std::uint64_t rows = records.records();
    if (s.facts.format == "csv") rows = rows > 0 ? rows - 1 : 0;  // the header
    if (rows != s.part.rows)
        not_ready(url + " holds " + std::to_string(rows) + " rows, its sidecar says " +
                  std::to_string(s.part.rows) + rerun);
}

int run_manifest(const shard_commands& sc, const io_options& io) {
    if (sc.manifest_shards <= 0) usage("manifest", "--shards must be positive");
    dir_store store(sc.manifest_dir, io);
    auto sidecars = read_sidecars(store, static_cast<std::size_t>(sc.manifest_shards));
    // Every part read back before the manifest claims it: the manifest is the commit.
    for (std::size_t i = 0; i < sidecars.size(); ++i) verify_part(store, sidecars[i], i, io);
    std::vector<part_result> parts;
    for (const auto& s : sidecars) parts.push_back(s.part);
    store.put("manifest.json", manifest_json(sidecars.front().facts, parts));
    return exit_ok;
}

}  // namespace

bool is_sharded_export(const export_options& o, const shard_options& s) {
    return s.jobs > 0 || !s.snapshot.empty() || !s.shard.empty() || !s.shard_by.empty() ||
           (!o.to.empty() && o.to.back() == '/' && o.parquet.partition_by.empty());  // DIR/ with --partition-by: Parquet partitions
}

int run_sharded_export(const export_options& o, const shard_options& s, const io_options& io,
                       const run_control& ctl) {
    if (o.query.empty() == o.table.empty()) usage("export", "give exactly one of --query and --table");
    warn_if_password(o.dsn);
    if (o.to == "-" || o.to.empty() || o.to.back() != '/')
        usage("export", "a sharded export writes into a directory: --to DIR/ or s3://bucket/prefix/ "
                        "(ending with /)");
    if (!s.shard.empty()) return run_one_shard(o, s, io, ctl);
    return run_jobs(o, s, io, ctl);
}

}  // namespace cli

namespace cli {

void add_shard_commands(CLI::App& app, CLI::App* exportc, shard_commands& sc) {
    auto& s = sc.exp;
    exportc->add_option("--jobs", s.jobs, "connections reading one snapshot in parallel; --to "
                                          "DIR/ gets part-00000.EXT ... and manifest.json")
        ->check(CLI::PositiveNumber);
    exportc->add_option("--snapshot", s.snapshot,
                        "read this exported snapshot: ID, @FILE or @s3://bucket/key (from "
                        "`sluice snapshot`)");
    exportc->add_option("--shard", s.shard, "export shard I of N (0-based; auto/N takes I from "
                                            "JOB_COMPLETION_INDEX) into DIR/part-0000I.EXT + .json");
    exportc->add_option("--shard-by", s.shard_by,
                        "split on this column's value range (needed for --query and views)");
    exportc->add_option("--task-blocks", s.task_blocks,
                        "blocks per ctid task (default: automatic, the same equal number of "
                        "tasks for every job or shard, at most 2048 blocks each; every shard of a "
                        "run must use the same)");
    sc.snapshot = app.add_subcommand(
        "snapshot", "export a Postgres snapshot, print its id on stdout's first line and hold it "
                    "until stdin closes, a signal arrives or --hold-for passes");
    sc.snapshot->add_option("--dsn", sc.snapshot_dsn, "connection string");
    sc.snapshot->add_option("--publish", sc.publish, "also write the id to FILE or s3://bucket/key");
    sc.snapshot->add_option("--hold-for", sc.hold_for,
                            "hold this long (90s, 15m, 2h) or until a signal; stdin is then not "
                            "watched");
    sc.manifest = app.add_subcommand(
        "manifest", "check that N shards' parts and sidecars agree, then write manifest.json");
    sc.manifest->add_option("--shards", sc.manifest_shards, "the number of shards N")->required();
    sc.manifest->add_option("DIR", sc.manifest_dir, "the directory or s3://bucket/prefix/")->required();
}

int run_shard_command(const shard_commands& sc, const io_options& io, const run_control& ctl) {
    if (sc.snapshot && *sc.snapshot) return run_snapshot(sc, io, ctl);
    if (sc.manifest && *sc.manifest) return run_manifest(sc, io);
    return -1;
}

}  // namespace cli
