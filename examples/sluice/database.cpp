// Postgres commands of the `sluice` tool, thin layers over sluice::pg.
#include "database.hpp"

#include <sluice/adaptors/try_map.hpp>

#include <sluice/compress/codecs.hpp>
#include <sluice/compress/parallel_gzip.hpp>
#include <sluice/csv/csv.hpp>
#include <sluice/json/json.hpp>
#include <sluice/parquet/reader.hpp>
#include <sluice/parquet/row_encoders.hpp>
#include <sluice/postgres/postgres.hpp>

#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <limits>
#include <string_view>

#include "dead_letters.hpp"
#include "json_rows.hpp"
#include "parquet_out.hpp"
#include "pg_values.hpp"

namespace cli {

namespace {

[[noreturn]] void usage(const char* stage, std::string msg) {
    throw sluice::error(sluice::errc::usage, stage, std::move(msg));
}

std::optional<std::uint64_t> expected_rows(sluice::pg::connection& conn, const export_options& o,
                                           const std::string& query) {
    try {
        if (o.count) {
            auto r = conn.exec("SELECT count(*) FROM " + sluice::pg::subquery(query) + " q");
            return std::stoull(std::string(r.value(0, 0)));
        }
        if (!o.table.empty()) {
            auto r = conn.query("SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass",
                                sluice::pg::quote_qualified_name(o.table));
            long long n = std::stoll(std::string(r.value(0, 0)));
            if (n > 0)
                return static_cast<std::uint64_t>(n);
        }
    } catch (const sluice::error&) {
        // An estimate is only for the progress display; never fail the export for it.
    }
    return std::nullopt;
}

/// Everything an export run shares, whatever the format.
struct export_env {
    sluice::any_byte_sink& sink;
    sluice::any_codec codec;  ///< empty: no compression
    sluice::progress_display display;
    std::optional<std::uint64_t> total;  ///< rows expected, for the percentage
    sluice::run_options run;
    std::uint64_t rows = 0;
};

/// source | progress | [compress] -> sink.
template <class Source, class Probe>
std::uint64_t drive_export(Source& src, Probe rows_done, export_env& env) {
    sluice::progress_options po;
    po.interval = env.display.interval();
    po.total_items = env.total;
    po.items_probe = rows_done;
    auto shown = src | sluice::meter("source")
                 | sluice::progress(
                     [&env](const sluice::progress_info& p) {
                         env.rows = p.items;
                         env.display(p);
                     },
                     po);
    sluice::run_options ro = env.run;
    if (env.codec)
        return sluice::run(
            std::move(shown) | sluice::compress(std::move(env.codec)) | sluice::meter("compress"),
            env.sink, ro);
    return sluice::run(shown, env.sink, ro);
}

/// The export's record format: --format, else the output's name; checked against --crlf.
std::string export_format(const export_options& o) {
    std::string fmt = o.format;
    if (fmt.empty()) {
        auto f = sluice::data_format_from_path(o.to);
        if (!f)
            usage("export", "cannot tell the format of '" + o.to + "' from its name: use --format");
        fmt = std::string(sluice::to_string(*f));
    }
    if (fmt != "csv" && fmt != "jsonl" && fmt != "json")
        usage("export", "--format must be csv, jsonl or json");
    if (o.crlf && fmt != "csv")
        usage("export", "--crlf applies to CSV output");
    return fmt;
}

// --drain-on-signal: drainable() cuts the input at a record boundary and everything after it
// finishes as at a normal end, so the file is complete (a JSON array gets its `]`).

/// CSV through COPY TO STDOUT. COPY hands over one message per row and copy_out fills
/// chunks with whole messages, so a cut between chunks is a cut between rows.
std::uint64_t export_csv(sluice::pg::connection& conn, const std::string& query, bool crlf,
                         export_env& env) {
    sluice::pg::copy_out_options co_opts;
    co_opts.header = true;
    co_opts.crlf = crlf;
    auto src = sluice::pg::copy_out(conn, query, co_opts) | sluice::drainable();
    auto& rows_src = src.upstream();
    return drive_export(
        src, [&rows_src] { return rows_src.rows_done(); }, env);
}

/// JSON lines or a JSON array of row objects. pg::rows (inside json_lines) ends at a drain
/// request between two rows, before the encoder, which then closes a JSON array.
std::uint64_t export_json(sluice::pg::connection& conn, const std::string& query, bool array,
                          export_env& env) {
    sluice::pg::json_lines_options jo;
    if (array)
        jo.framing = sluice::pg::json_framing::array;
    auto src = sluice::pg::json_lines(conn, jo, query);
    return drive_export(
        src, [&src] { return src.upstream().rows_done(); }, env);
}

}  // namespace

/// A password written in --dsn is in the process list for every user of the machine: say
/// so once, on stderr, without repeating it. libpq parses the DSN as it will (URI or
/// key=value); a DSN it cannot parse is left for the connection to report.
void warn_if_password(const std::string& dsn) {
    if (dsn.empty())
        return;
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
    if (err)
        PQfreemem(err);
    if (!opts)
        return;
    bool has_password = false;
    for (PQconninfoOption* o = opts; o->keyword; ++o)
        if (std::string_view(o->keyword) == "password" && o->val && *o->val)
            has_password = true;
    PQconninfoFree(opts);
    if (has_password)
        std::fprintf(
            stderr,
            "sluice: warning: the password given in --dsn can be read by other users of this "
            "machine (process list); use PGPASSWORD, a ~/.pgpass file or a service file "
            "(PGSERVICE) instead\n");
}

int run_export(const export_options& o, const io_options& io, const run_control& ctl) {
    namespace pg = sluice::pg;
    auto t0 = std::chrono::steady_clock::now();
    warn_if_password(o.dsn);
    if (o.query.empty() == o.table.empty())
        usage("export", "give exactly one of --query and --table");
    if (exports_parquet(o))
        return run_export_parquet(o, io, ctl);
    const std::string fmt = export_format(o);
    const auto compression = output_compression(o.compress, o.to, "export");

    // A malformed --table is a usage error found before the server is contacted (exit 2);
    // whatever the server reports from here on is the outside world (exit 1).
    std::string query =
        o.table.empty() ? o.query : "SELECT * FROM " + pg::quote_qualified_name(o.table);
    pg::connect_options co;
    if (!o.timezone.empty())
        co.timezone = o.timezone;
    pg::connection conn(o.dsn, co);
    std::optional<std::uint64_t> total;
    if (o.progress)
        total = expected_rows(conn, o, query);

    sluice::any_byte_sink sink = open_output(o.to, io);
    // The counters feed the stage table of --progress and the JSON of --stats.
    sluice::metrics metrics;
    export_env env{sink,
                   {},
                   sluice::progress_display(o.progress),
                   total,
                   ctl.options(ctl.stats || o.progress ? &metrics : nullptr)};
    if (compression != sluice::compression::format::none)
        env.codec = make_output_codec(compression, o.level, io.threads);
    const std::uint64_t written = fmt == "csv" ? export_csv(conn, query, o.crlf, env)
                                               : export_json(conn, query, fmt == "json", env);

    sluice::run_summary sum;
    sum.rows = env.rows;
    // "in": the bytes the database's rows came to (the source stage's payload), when counted.
    for (const auto& st : metrics.snapshot())
        if (st.name == "source" && st.bytes)
            sum.bytes_in = static_cast<double>(st.bytes);
    sum.bytes_out = static_cast<double>(written);
    sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sluice::print_run_report({o.progress, o.progress, ctl.stats}, sum, metrics);
    // A drained export committed the rows it read, but it was cut short: say so.
    return ctl.shutdown.drain_requested() ? exit_cancelled : exit_ok;
}

namespace {

/// What every load shares: the connection, the COPY options, the dead letters.
struct load_env {
    const load_options& opt;
    sluice::pg::connection& conn;
    sluice::pg::copy_in_options copy;
    std::optional<dead_letters>& bad;
    sluice::run_options run;
};

/// The COPY sink of a load, made at the first record (its columns come from the header or
/// the first record's keys). It reports the loader's buffers when bound, so a memory budget
/// is checked before anything is read or sent; an empty input starts no COPY.
template <class Columns>
class deferred_copy_in : public sluice::sink_base {
public:
    deferred_copy_in(load_env& env, Columns columns_of) : env_(env), columns_of_(std::move(columns_of)) {}

    void bind(sluice::run_context& ctx) {
        ctx_ = &ctx;
        ctx.memory.hold("pg.copy_in", sluice::pg::copy_in_buffer_bytes(env_.copy),
                        "COPY buffer and libpq output buffer");
    }
    template <class R>
    bool push(const R& r) {
        if (!sink_) {
            sink_.emplace(sluice::pg::copy_in(env_.conn, env_.opt.table, columns_of_(r), env_.copy));
            // Binds its counters (its buffers, settled already, are listed again unused).
            if (ctx_)
                sink_->bind(*ctx_);
        }
        return sink_->push(r);
    }
    sluice::pg::load_result finish() { return sink_ ? sink_->finish() : sluice::pg::load_result{}; }
    void abort(const sluice::error& e) noexcept {
        if (sink_) sink_->abort(e);
    }

private:
    load_env& env_;
    Columns columns_of_;
    sluice::run_context* ctx_ = nullptr;
    using copy_sink = decltype(sluice::pg::copy_in(std::declval<sluice::pg::connection&>(), std::string(),
                                                   std::vector<std::string>(), sluice::pg::copy_in_options()));
    std::optional<copy_sink> sink_;
};

/// Loads field records into the table through `run`, so the memory budget is checked before
/// the first record; the COPY starts at the first record, whose columns `columns_of` names.
template <class Rows, class Columns>
sluice::pg::load_result load_rows(Rows& rows, Columns columns_of, load_env& env) {
    deferred_copy_in<Columns> sink(env, std::move(columns_of));
    sluice::run_options ro = env.run;
    return sluice::run(rows, sink, ro);
}

/// CSV/TSV records into the table, columns named by the header.
template <class Bytes>
sluice::pg::load_result load_csv(Bytes&& bytes, data_format in, load_env& env) {
    sluice::csv::read_options ro = sluice::csv::read_options::for_path(env.opt.input);
    ro.max_columns = env.opt.max_columns;
    ro.unique_header = true;  // a column named twice cannot be loaded
    if (in == data_format::tsv)
        ro.delimiter = '\t';
    ro.errors =
        env.copy.errors;  // the policy of the whole load (the reader's and the loader's rejects)
    std::vector<std::optional<std::string_view>> fields;
    // An empty CSV field is NULL, as in Postgres's own CSV COPY.
    // drainable: --drain-on-signal stops reading between two records.
    auto rows = std::forward<Bytes>(bytes) | sluice::csv::read(ro) | sluice::drainable()
                | sluice::map([&fields](const sluice::csv::row& r) -> const auto& {
                      fields.clear();
                      for (std::size_t i = 0; i < r.size(); ++i)
                          fields.push_back(r[i].empty() ? std::nullopt
                                                        : std::optional<std::string_view>(r[i]));
                      return fields;
                  });
    // The header is known once the first row is read.
    auto& reader = rows.upstream().upstream();
    auto header = [&reader](const auto&) {
        std::vector<std::string> cols;
        for (auto n : reader.header().names())
            cols.emplace_back(n);
        return cols;
    };
    return load_rows(rows, header, env);
}

/// The target's column types that decide the input text of a JSON value (arrays, json).
std::vector<pg_column_kind> column_kinds(sluice::pg::connection& conn, const std::string& table,
                                         const std::vector<std::string>& cols) {
    std::vector<pg_column_kind> k(cols.size(), pg_column_kind::plain);
    auto r = conn.query(
        "SELECT a.attname, t.typcategory, t.typname FROM pg_attribute a "
        "JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = $1::regclass "
        "AND a.attnum > 0 AND NOT a.attisdropped",
        sluice::pg::quote_qualified_name(table));
    for (int row = 0; row < r.rows(); ++row)
        for (std::size_t i = 0; i < cols.size(); ++i)
            if (cols[i] == r.value(row, 0)) {
                if (r.value(row, 1) == "A")
                    k[i] = pg_column_kind::array;
                else if (r.value(row, 2) == "json" || r.value(row, 2) == "jsonb")
                    k[i] = pg_column_kind::json;
            }
    return k;
}

/// JSON records into the table, columns named by the first record's keys; `policy` (the
/// load's) takes the records the mapping rejects.
template <class Records, class Policy>
sluice::pg::load_result load_json(Records&& records, const Policy& policy, load_env& env) {
    json_to_fields mapping({});
    std::vector<std::optional<std::string_view>> fields;
    std::vector<std::string> scratch;
    std::vector<pg_column_kind> kinds;
    auto to_fields = [&](const sluice::json::json_record& r) -> const auto& {
        const auto& f = mapping(r);
        const auto& values = mapping.values();
        // The column types are looked up once, when the first record has named the columns.
        if (kinds.size() != f.size()) {
            kinds = column_kinds(env.conn, env.opt.table, mapping.columns());
            scratch.resize(f.size());
        }
        fields.clear();
        // null and missing keys are NULL; everything else the text its type needs.
        for (std::size_t i = 0; i < f.size(); ++i) {
            const auto* v = values[i];
            if (!v || v->is_null())
                fields.push_back(std::nullopt);
            else
                fields.push_back(pg_input_text(*v, kinds[i], f[i], scratch[i]));
        }
        return fields;
    };
    auto rows =
        std::forward<Records>(records) | sluice::try_map(to_fields, policy) | sluice::drainable();
    return load_rows(
        rows, [&mapping](const auto&) { return mapping.columns(); }, env);
}

/// JSON or JSONL input into the table; the reader and the mapping reject under `policy`.
template <class Bytes, class Policy>
sluice::pg::load_result load_json_input(Bytes&& bytes, data_format in, const Policy& policy,
                                        load_env& env) {
    if (in == data_format::json) {
        sluice::json::array_options ao;
        ao.errors = policy;
        return load_json(std::forward<Bytes>(bytes) | sluice::json::read_array(ao), policy, env);
    }
    sluice::json::jsonl_options jo;
    jo.errors = policy;
    return load_json(std::forward<Bytes>(bytes) | sluice::json::read_jsonl(jo), policy, env);
}

/// Parquet rows into the table, columns named by the file's schema, values as text (a LIST
/// as an array literal for an array column, as a JSON array otherwise).
sluice::pg::load_result load_parquet(const io_options& io, load_env& env) {
    auto rows = sluice::parquet::read(open_random_access(env.opt.input, io));
    std::vector<std::string> names;
    for (const auto& c : rows.columns())
        names.push_back(c.name);
    const std::vector<pg_column_kind> kinds = column_kinds(env.conn, env.opt.table, names);
    sluice::parquet::row_texts texts;
    texts.set_bytes_hex(true);  // bytea input: every byte in hex
    for (std::size_t i = 0; i < kinds.size(); ++i)
        if (kinds[i] == pg_column_kind::array)
            texts.set_list_style(i, sluice::parquet::list_text::postgres_array);
    auto fields =
        std::move(rows) | sluice::drainable()
        | sluice::map([&texts](const sluice::parquet::row& r) -> const auto& { return texts(r); });
    return load_rows(
        fields, [&names](const auto&) { return names; }, env);
}

/// The COPY options of a load; with --on-error skip, rows the server rejects become dead
/// letters too.
sluice::pg::copy_in_options copy_options(const load_options& o, std::optional<dead_letters>& bad) {
    sluice::pg::copy_in_options lo;
    lo.key = o.key;
    lo.commit_every = o.commit_every;
    if (bad)
        lo.errors = bad->policy();
    return lo;
}

/// "sluice: loaded N rows into T (W written, R rejected), S s[, B bad records skipped...]".
void print_load_summary(const sluice::pg::load_result& res, const load_options& o,
                        const std::optional<dead_letters>& bad, double secs) {
    std::fprintf(stderr, "sluice: loaded %llu rows into %s (%llu written, %llu rejected), %.2f s",
                 static_cast<unsigned long long>(res.rows_sent), o.table.c_str(),
                 static_cast<unsigned long long>(res.rows_written),
                 static_cast<unsigned long long>(res.rows_rejected), secs);
    // Records the reader could not parse never reach the server's count: the dead letters
    // hold both kinds.
    if (bad)
        std::fprintf(stderr, ", %llu bad records skipped%s%s",
                     static_cast<unsigned long long>(bad->count()),
                     bad->path().empty() ? "" : ", written to ", bad->path().c_str());
    std::fprintf(stderr, "\n");
}

}  // namespace

int run_load(const load_options& o, const io_options& io, const run_control& ctl) {
    auto t0 = std::chrono::steady_clock::now();
    warn_if_password(o.dsn);
    auto in =
        o.from.empty() ? sluice::data_format_from_path(o.input) : sluice::parse_data_format(o.from);
    if (!in)
        usage("load", "cannot tell the format of '" + o.input + "': use --from");
    if (o.on_error != "fail" && o.on_error != "skip")
        usage("load", "--on-error must be fail or skip");

    if (*in == data_format::parquet && o.on_error != "fail")
        usage("load", "--on-error skip does not apply to Parquet input (a corrupt file fails)");
    sluice::pg::connection conn(o.dsn);
    std::optional<dead_letters> bad;
    if (o.on_error == "skip")
        bad.emplace(o.dead_letter, o.max_errors);
    load_env env{o, conn, copy_options(o, bad), bad, ctl.options()};
    if (*in == data_format::parquet) {
        const sluice::pg::load_result res = load_parquet(io, env);
        print_load_summary(
            res, o, bad,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        return ctl.shutdown.drain_requested() ? exit_cancelled : exit_ok;
    }
    input src = open_input(o.input, io, false);
    auto bytes = src.bytes | sluice::auto_decompress(o.input);  // data.csv.gz must hold gzip
    sluice::pg::load_result res;
    try {
        if (*in == data_format::csv || *in == data_format::tsv)
            res = load_csv(std::move(bytes), *in, env);
        else if (bad)
            res = load_json_input(std::move(bytes), *in, bad->policy(), env);
        else
            res = load_json_input(std::move(bytes), *in, sluice::on_error::fail, env);
        if (bad)
            bad->commit();
    } catch (...) {
        if (bad)
            bad->abort(sluice::current_error());
        throw;
    }
    print_load_summary(
        res, o, bad, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    // A drained load committed every row it read (the earlier --commit-every batches and
    // the last, partial one), but it was cut short: say so.
    return ctl.shutdown.drain_requested() ? exit_cancelled : exit_ok;
}

}  // namespace cli
