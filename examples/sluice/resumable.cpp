// `sluice export --resumable KEY --to s3://...` and `sluice reap`: thin layers over
// sluice::pg (keyset rows), sluice::s3::upload_records (record-aligned parts, resume,
// per-part checkpoints) and sluice::s3::reap_uploads.
#include "resumable.hpp"

#include <sluice/compress/codecs.hpp>
#include <sluice/core/json_object.hpp>
#include <sluice/core/units.hpp>
#include <sluice/postgres/postgres.hpp>
#include <sluice/s3/reap.hpp>
#include <sluice/s3/record_parts.hpp>
#include <sluice/s3/s3.hpp>
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace cli {

namespace {

namespace s3 = sluice::s3;
namespace pg = sluice::pg;

[[noreturn]] void usage(std::string msg) {
    throw sluice::error(sluice::errc::usage, "export", std::move(msg));
}

/// What a checkpoint must match for a run to continue it: the options that decide the
/// object's bytes. The query itself is kept as its SHA-256 only.
struct fingerprint {
    std::string query_sha256, key, format, compression, level;
    std::uint64_t part_size = 0;
    std::string timezone;  ///< --timezone (empty: the server's); changes timestamptz text

    std::string hash() const {
        return s3::sigv4::sha256_hex(query_sha256 + '\n' + key + '\n' + format + '\n' +
                                     compression + '\n' + level + '\n' + std::to_string(part_size) +
                                     (timezone.empty() ? "" : '\n' + timezone));
    }
    /// The first option in which `other` (the checkpoint's) differs, as the user names it.
    std::string difference(const fingerprint& other) const {
        if (query_sha256 != other.query_sha256) return "the query (--query/--table)";
        if (key != other.key) return "--resumable (" + other.key + " in the checkpoint, " + key + " now)";
        if (format != other.format) return "the format (" + other.format + " vs " + format + ")";
        if (compression != other.compression)
            return "the compression (" + other.compression + " vs " + compression + ")";
        if (level != other.level) return "--level (" + other.level + " vs " + level + ")";
        if (part_size != other.part_size)
            return "--part-size (" + std::to_string(other.part_size) + " vs " +
                   std::to_string(part_size) + ")";
        if (timezone != other.timezone)
            return "--timezone (" + (other.timezone.empty() ? "none" : other.timezone) + " vs " +
                   (timezone.empty() ? "none" : timezone) + ")";
        return {};
    }
};

/// The `<key>.sluice-resume` object: the upload, its stored parts (tag = last KEY), the
/// fingerprint and its hash.
struct checkpoint {
    std::string upload_id;
    fingerprint fp;
    std::vector<s3::stored_part> parts;

    std::string to_json() const {
        std::string parts_json = "[";
        for (const auto& p : parts) {
            if (parts_json.size() > 1) parts_json += ',';
            sluice::json::object_writer(parts_json)
                .number("number", p.number).string("etag", p.etag).number("size", p.size)
                .string("last_key", p.tag).close();
        }
        parts_json += ']';
        std::string out;
        sluice::json::object_writer(out)
            .string("sluice_resume", "1").string("upload_id", upload_id)
            .string("hash", fp.hash()).string("query_sha256", fp.query_sha256)
            .string("key", fp.key).string("format", fp.format)
            .string("compression", fp.compression).string("level", fp.level)
            .number("part_size", fp.part_size).string("timezone", fp.timezone)
            .raw("parts", parts_json).close();
        return out;
    }
};

std::string text_of(simdjson::dom::element e, const char* name) {
    std::string_view v;
    if (e[name].get(v)) throw sluice::error(sluice::errc::bad_input, "export", std::string("checkpoint: no ") + name);
    return std::string(v);
}

checkpoint parse_checkpoint(const std::string& body, const std::string& where) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(body).get(doc))
        throw sluice::error(sluice::errc::bad_input, "export", where + " is not a sluice checkpoint (not JSON)");
    checkpoint c;
    c.upload_id = text_of(doc, "upload_id");
    c.fp = {text_of(doc, "query_sha256"), text_of(doc, "key"), text_of(doc, "format"),
            text_of(doc, "compression"), text_of(doc, "level"), 0, {}};
    std::uint64_t n = 0;
    if (doc["part_size"].get(n)) throw sluice::error(sluice::errc::bad_input, "export", where + ": no part_size");
    c.fp.part_size = n;
    std::string_view tz;
    if (!doc["timezone"].get(tz)) c.fp.timezone = std::string(tz);  // absent in older checkpoints
    simdjson::dom::array parts;
    if (doc["parts"].get(parts)) throw sluice::error(sluice::errc::bad_input, "export", where + ": no parts");
    for (auto p : parts) {
        std::uint64_t num = 0, size = 0;
        if (p["number"].get(num) || p["size"].get(size))
            throw sluice::error(sluice::errc::bad_input, "export", where + ": a malformed part");
        c.parts.push_back({static_cast<std::uint32_t>(num), text_of(p, "etag"), size, text_of(p, "last_key")});
    }
    return c;
}

/// The checkpoint stored at `key`, if any.
std::optional<checkpoint> load_checkpoint(const s3::client& c, const std::string& bucket,
                                          const std::string& key) {
    try {
        auto r = c.execute(c.call("GetObject", "GET", bucket, key, {}));
        return parse_checkpoint(r.body, s3::client::where(bucket, key));
    } catch (const s3::s3_error& e) {
        if (e.status() == 404) return std::nullopt;
        throw;
    }
}

/// Confirms with ListParts that the upload holds every part of the checkpoint, unchanged.
void confirm_parts(const s3::client& c, const std::string& bucket, const std::string& key,
                   const checkpoint& cp) {
    std::vector<s3::client::listed_part> listed;
    try {
        listed = c.list_parts(bucket, key, cp.upload_id);
    } catch (const s3::s3_error& e) {
        if (e.status() != 404) throw;
        throw sluice::error(sluice::errc::failed, "export",
                            "the checkpoint's upload " + cp.upload_id + " of " +
                                s3::client::where(bucket, key) +
                                " no longer exists (completed, aborted or reaped): use --restart");
    }
    for (const auto& p : cp.parts) {
        bool ok = p.number <= listed.size() && listed[p.number - 1].number == p.number &&
                  listed[p.number - 1].etag == p.etag && listed[p.number - 1].size == p.size;
        if (!ok)
            throw sluice::error(sluice::errc::failed, "export",
                                "ListParts of upload " + cp.upload_id + " does not show part " +
                                    std::to_string(p.number) + " as the checkpoint recorded it: use --restart");
    }
}

/// The export's fingerprint from the command line.
fingerprint fingerprint_of(const export_options& o, const resume_options& r, const std::string& query, const std::string& fmt,
                           sluice::compression::format comp, const io_options& io) {
    return {s3::sigv4::sha256_hex(query), r.key, fmt,
            std::string(sluice::compression::to_string(comp)),
            o.level ? std::to_string(*o.level) : "default", io.part_size, o.timezone};
}

/// Reads the checkpoint and decides: a fresh start (none, or --restart), or a resume.
std::optional<checkpoint> prepare_resume(const s3::client& c, const s3::location& loc,
                                         const std::string& ck_key, const fingerprint& fp,
                                         bool restart) {
    auto cp = load_checkpoint(c, loc.bucket, ck_key);
    if (!cp) return std::nullopt;
    std::string diff = fp.difference(cp->fp);
    if (restart) {
        c.abort_multipart_upload(loc.bucket, loc.key, cp->upload_id);
        c.delete_object(loc.bucket, ck_key);
        std::fprintf(stderr, "sluice: --restart: aborted upload %s, starting over\n", cp->upload_id.c_str());
        return std::nullopt;
    }
    if (!diff.empty())
        usage(s3::client::where(loc.bucket, ck_key) + " was written for another export: " + diff +
              " differs; give --restart to abort that upload and start over");
    confirm_parts(c, loc.bucket, loc.key, *cp);
    return cp;
}

/// The index of the column named `key` in the rows' result.
int key_column(const sluice::pg::row& r, const std::string& key) {
    const auto& cols = *r.shared_columns();
    for (std::size_t i = 0; i < cols.size(); ++i)
        if (cols[i].name == key) return static_cast<int>(i);
    throw sluice::error(sluice::errc::usage, "export", "--resumable " + key + ": the query has no such column");
}

/// The S3 settings of the command line (as every other S3 command takes them).
s3::config s3_config(const io_options& io) {
    auto cfg = s3::config::from_env();
    cfg.retry.max_attempts = io.retries < 1 ? 1 : io.retries;
    cfg.retry.base_delay = std::chrono::milliseconds(io.retry_delay_ms);
    return cfg;
}

/// A CSV export's header line: stored in the first part with the first row, or alone when
/// the result is empty (as COPY ... HEADER prints it); never again in a resumed upload.
class csv_header_sink : public sluice::sink_base {
public:
    csv_header_sink(s3::detail::record_parts_sink& inner, std::string header)
        : inner_(inner), header_(std::move(header)) {}
    void bind(sluice::run_context& ctx) { inner_.bind(ctx); }
    bool push(const s3::keyed_bytes& r) {
        if (!header_.empty()) {
            header_ += r.bytes;  // one record: a part cannot end between the two
            const s3::keyed_bytes first{header_, r.key};
            const bool more = inner_.push(first);
            header_.clear();
            return more;
        }
        return inner_.push(r);
    }
    s3::upload_result finish() {
        if (!header_.empty()) inner_.push(s3::keyed_bytes{header_, ""});
        return inner_.finish();
    }
    void abort(const sluice::error& e) noexcept { inner_.abort(e); }

private:
    s3::detail::record_parts_sink& inner_;
    std::string header_;
};

/// The rows past the checkpoint in KEY order, each encoded as one JSON or CSV line with its
/// key, into the record-aligned upload. `csv_header`: the CSV header line still to store
/// (a fresh CSV export), else empty.
template <class Encoder>
std::uint64_t stream_rows(pg::connection& conn, const std::string& query, const std::string& key,
                          std::optional<std::string> after, Encoder enc,
                          s3::detail::record_parts_sink& sink, std::string csv_header,
                          const run_control& ctl) {
    pg::rows_options ro;
    ro.keyset = pg::keyset_options{key, std::move(after)};
    sluice::chunk line;
    int key_col = -1;
    std::uint64_t rows = 0;
    auto keyed = pg::rows(conn, ro, query) | sluice::map([&](const pg::row& r) {
                     if (key_col < 0) key_col = key_column(r, key);
                     if (r.is_null(key_col)) usage("--resumable " + key + ": a row has a NULL key");
                     line.clear();
                     enc.encode(r, line);
                     ++rows;
                     return s3::keyed_bytes{line.view(), r.value(key_col)};
                 });
    csv_header_sink framed(sink, std::move(csv_header));
    sluice::run(keyed, framed, ctl.options());
    return rows;
}

}  // namespace

int run_resumable_export(const export_options& o, const resume_options& r, const io_options& io,
                         const run_control& ctl) {
    if (!s3::is_s3_url(o.to)) usage("--resumable needs an s3://bucket/key output (--to)");
    if (o.query.empty() == o.table.empty()) usage("give exactly one of --query and --table");
    auto df = sluice::data_format_from_path(o.to);
    const std::string fmt = !o.format.empty() ? o.format
                            : df && *df == sluice::data_format::csv ? "csv"
                            : !df || *df == sluice::data_format::jsonl ? "jsonl" : "";
    if (fmt != "jsonl" && fmt != "csv")
        usage("--resumable writes JSON lines or CSV (.jsonl, .csv, with .gz or .zst)");
    if (o.crlf && fmt != "csv") usage("--crlf applies to CSV output only");
    const auto comp = output_compression(o.compress, o.to, "export");
    const std::string query = o.table.empty() ? o.query : "SELECT * FROM " + pg::quote_qualified_name(o.table);
    const auto loc = s3::parse_url(o.to);
    const std::string ck_key = loc.key + ".sluice-resume";
    s3::client client(s3_config(io));
    checkpoint cp{{}, fingerprint_of(o, r, query, o.crlf ? fmt + "+crlf" : fmt, comp, io), {}};
    pg::connection conn(o.dsn);  // bad DSN: fail before touching the bucket
    if (!o.timezone.empty()) conn.exec("SET TimeZone TO " + pg::quote_literal(o.timezone));
    auto resumed = prepare_resume(client, loc, ck_key, cp.fp, r.restart);
    s3::upload_options uo;
    uo.concurrency = static_cast<unsigned>(io.s3_concurrency < 1 ? 1 : io.s3_concurrency);
    uo.keep_upload_on_abort = true;
    uo.content_encoding = comp == sluice::compression::format::gzip ? "gzip" : "";
    std::optional<std::string> after;
    if (resumed) {
        cp.upload_id = resumed->upload_id;
        cp.parts = resumed->parts;
        uo.resume = s3::resume_point{cp.upload_id, cp.parts};
        if (!cp.parts.empty()) after = cp.parts.back().tag;
        std::fprintf(stderr, "sluice: resuming upload %s of %s after part %zu, %s > %s\n",
                     cp.upload_id.c_str(), o.to.c_str(), cp.parts.size(), r.key.c_str(),
                     after ? after->c_str() : "(start)");
    }
    auto save = [&] { client.put_object(loc.bucket, ck_key, cp.to_json(), {}, "application/json"); };
    uo.on_multipart_created = [&](const std::string& id) { cp.upload_id = id; save(); };
    uo.on_part_stored = [&](const s3::stored_part& p) { cp.parts.push_back(p); save(); };
    s3::record_parts_options po;
    po.part_size = io.part_size;
    if (comp != sluice::compression::format::none)
        po.compressor = [comp, lvl = o.level] { return sluice::compression::make_compressor(comp, lvl); };
    auto sink = s3::upload_records(client, loc.bucket, loc.key, std::move(uo), std::move(po));
    std::uint64_t rows = 0;
    if (fmt == "csv") {
        // The header goes with the first part of a fresh upload (names from a describe, so
        // an empty result still gets it, as from COPY ... HEADER).
        pg::csv_encoder enc(pg::csv_encoder_options{true, o.crlf});
        enc.skip_header();
        std::string header;
        if (!after) {  // a fresh upload, or one resumed before its first part was stored
            pg::csv_encoder names(pg::csv_encoder_options{true, o.crlf});
            sluice::chunk h;
            names.finish_header(pg::describe(conn, query), h);
            header.assign(h.view());
        }
        rows = stream_rows(conn, query, r.key, after, std::move(enc), sink, std::move(header), ctl);
    } else {
        rows = stream_rows(conn, query, r.key, after, pg::json_encoder{}, sink, {}, ctl);
    }
    client.delete_object(loc.bucket, ck_key);
    std::fprintf(stderr, "sluice: exported %llu rows to %s (%zu parts)\n",
                 static_cast<unsigned long long>(rows), o.to.c_str(), cp.parts.size());
    return ctl.shutdown.drain_requested() ? exit_cancelled : exit_ok;
}

int run_reap(const reap_options& o, const io_options& io, const run_control& ctl) {
    if (!s3::is_s3_url(o.url)) usage("reap needs an s3://bucket/prefix/ URL");
    auto loc = s3::parse_url(o.url, false);
    auto limit = sluice::parse_duration(o.older_than, "--older-than");
    s3::client client(s3_config(io));
    auto reaped = s3::reap_uploads(client, loc.bucket, loc.key, limit, o.dry_run, ctl.shutdown.token());
    for (const auto& u : reaped)
        std::printf("%s\t%s\t%s\t%s\n", o.dry_run ? "would abort" : "aborted",
                    s3::client::where(loc.bucket, u.key).c_str(), u.upload_id.c_str(),
                    s3::format_age(u.age).c_str());
    std::fprintf(stderr, "sluice: %s %zu multipart upload(s) under %s older than %s\n",
                 o.dry_run ? "would abort" : "aborted", reaped.size(), o.url.c_str(), o.older_than.c_str());
    return exit_ok;
}

}  // namespace cli
