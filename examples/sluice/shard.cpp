// Sharded exports of the `sluice` tool: parts written by several connections on one
// exported snapshot, their sidecars and the manifest that commits them.
#include "shard.hpp"

#include "database.hpp"

#include <sluice/core/json_object.hpp>
#include <sluice/postgres/postgres.hpp>
#include <sluice/core/units.hpp>
#include <sluice/s3/s3.hpp>

#include <openssl/evp.h>
#include <poll.h>
#include <simdjson.h>
#include <unistd.h>

#include <chrono>
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

/// Forwards bytes to a sink and keeps their count and SHA-256.
class hashing_sink : public sluice::sink_base {
public:
    explicit hashing_sink(sluice::any_byte_sink inner)
        : inner_(std::move(inner)), md_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
        if (!md_ || EVP_DigestInit_ex(md_.get(), EVP_sha256(), nullptr) != 1)
            throw sluice::error(sluice::errc::out_of_memory, "output", "cannot start SHA-256");
    }
    bool push(sluice::chunk& c) {
        EVP_DigestUpdate(md_.get(), c.data(), c.size());
        bytes_ += c.size();
        return inner_.push(c);
    }
    std::uint64_t finish() {
        inner_.finish();
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        EVP_DigestFinal_ex(md_.get(), d, &n);
        static const char* hex = "0123456789abcdef";
        for (unsigned i = 0; i < n; ++i) {
            hex_ += hex[d[i] >> 4];
            hex_ += hex[d[i] & 15];
        }
        return bytes_;
    }
    void abort(const sluice::error& e) noexcept { inner_.abort(e); }
    void bind(sluice::run_context& ctx) { inner_.bind(ctx); }
    const std::string& sha256() const noexcept { return hex_; }

private:
    sluice::any_byte_sink inner_;
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md_;
    std::uint64_t bytes_ = 0;
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

/// Runs `src` (its rows counted by `rows`) [| compress] into `sink`.
template <class Source>
void drive_part(Source& src, const part_spec& ps, hashing_sink& sink, part_result& out,
                const sluice::run_options& ro) {
    sluice::run_options o = ro;
    if (ps.compression != sluice::compression::format::none)
        out.bytes = sluice::run(src | sluice::compress(make_output_codec(ps.compression, ps.level,
                                                                         ps.threads)),
                                sink, o);
    else
        out.bytes = sluice::run(src, sink, o);
    out.rows = src.rows_done();
}

/// Writes the tasks `queue` hands this connection into part `name` of `store`.
part_result write_part(pg::connection& c, pg::task_queue& queue, const part_spec& ps,
                       const dir_store& store, const std::string& name,
                       const sluice::run_options& ro) {
    part_result out;
    out.name = name;
    hashing_sink sink(store.open(name));
    if (ps.format == "csv") {
        pg::copy_out_options co;
        co.header = true;
        co.crlf = ps.crlf;
        auto src = pg::copy_tasks(c, queue, ps.plan_query, co);
        drive_part(src, ps, sink, out, ro);
    } else {
        auto src = pg::json_tasks(c, queue);
        drive_part(src, ps, sink, out, ro);
    }
    out.sha256 = sink.sha256();
    return out;
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
void job_worker(const export_options& o, const std::string& snapshot, pg::task_queue& queue,
                const part_spec& ps, const dir_store& store, part_result& out, failure& f,
                const sluice::run_options& ro) {
    try {
        pg::connection c(o.dsn, connect_settings(o));
        pg::import_snapshot(c, snapshot);
        out = write_part(c, queue, ps, store, out.name, ro);
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
    planner.close();
    part_spec ps = base;
    ps.plan_query = plan.query;

    pg::task_queue queue(plan.tasks);
    std::vector<part_result> parts(jobs);
    failure f;
    std::stop_callback on_signal(ctl.shutdown.token(), [&f] { f.stop.request_stop(); });
    sluice::run_options ro;
    ro.stop = f.stop.get_token();
    {
        std::vector<std::jthread> workers;
        for (std::size_t j = 0; j < jobs; ++j) {
            parts[j].name = part_name(ps, j);
            workers.emplace_back([&, j] { job_worker(o, snapshot, queue, ps, store, parts[j], f, ro); });
        }
    }
    if (f.first) {
        // The manifest is the commit: without it no part may stay behind.
        for (const auto& p : parts) store.remove(p.name);
        std::rethrow_exception(f.first);
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

/// Separate processes cannot share a block count, so a ctid plan of one shard uses a fixed
/// task size that every shard computes alike.
constexpr std::uint64_t default_shard_task_blocks = 2048;  // 16 MiB of 8 KiB pages

int run_one_shard(const export_options& o, const shard_options& s, const io_options& io,
                  const run_control& ctl) {
    auto [shard, shards] = parse_shard(s.shard);
    if (s.snapshot.empty())
        usage("export", "--shard needs --snapshot ID|@FILE|@s3://... (from `sluice snapshot`): "
                        "separate processes must read one snapshot");
    if (s.jobs > 1) usage("export", "--shard runs one connection: leave out --jobs");
    part_spec ps = make_part_spec(o, io);
    dir_store store(o.to, io);
    const std::string snapshot = resolve_snapshot(s.snapshot, io);
    pg::connection c(o.dsn, connect_settings(o));
    pg::import_snapshot(c, snapshot);
    const auto plan = make_plan(c, o, s, shards, s.task_blocks ? s.task_blocks : default_shard_task_blocks);
    ps.plan_query = plan.query;
    pg::task_queue queue(pg::tasks_of_shard(plan, shard, shards));
    sluice::run_options ro = ctl.shutdown.options();
    part_result p = write_part(c, queue, ps, store, part_name(ps, shard), ro);
    c.exec("COMMIT");
    store.put(p.name + ".json", sidecar_json(facts_of(snapshot, plan, ps), p, shard, shards));
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

int run_manifest(const shard_commands& sc, const io_options& io) {
    if (sc.manifest_shards <= 0) usage("manifest", "--shards must be positive");
    dir_store store(sc.manifest_dir, io);
    auto sidecars = read_sidecars(store, static_cast<std::size_t>(sc.manifest_shards));
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
    if (o.progress || o.count) usage("export", "--progress and --count are not available with "
                                               "sharded exports");
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
                        "blocks per ctid task (default: automatic with --jobs, 2048 with --shard; "
                        "every shard of a run must use the same)");
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
