// Postgres commands of the `sluice` tool, thin layers over sluice::pg.
#include "database.hpp"

#include <sluice/compress/codecs.hpp>
#include <sluice/compress/parallel_gzip.hpp>
#include <sluice/csv/csv.hpp>
#include <sluice/json/json.hpp>
#include <sluice/postgres/postgres.hpp>

#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <limits>
#include <string_view>

#include "dead_letters.hpp"
#include "report.hpp"
#include "json_rows.hpp"
#include "pg_values.hpp"

namespace cli {

namespace {

[[noreturn]] void usage(const char* stage, std::string msg) {
    throw sluice::error(sluice::errc::usage, stage, std::move(msg));
}

/// A password written in --dsn is in the process list for every user of the machine: say
/// so once, on stderr, without repeating it. libpq parses the DSN as it will (URI or
/// key=value); a DSN it cannot parse is left for the connection to report.
void warn_if_password(const std::string& dsn) {
    if (dsn.empty()) return;
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
    if (err) PQfreemem(err);
    if (!opts) return;
    bool has_password = false;
    for (PQconninfoOption* o = opts; o->keyword; ++o)
        if (std::string_view(o->keyword) == "password" && o->val && *o->val) has_password = true;
    PQconninfoFree(opts);
    if (has_password)
        std::fprintf(stderr,
                     "sluice: warning: the password given in --dsn can be read by other users of this "
                     "machine (process list); use PGPASSWORD, a ~/.pgpass file or a service file "
                     "(PGSERVICE) instead\n");
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
            if (n > 0) return static_cast<std::uint64_t>(n);
        }
    } catch (const sluice::error&) {
        // An estimate is only for the progress display; never fail the export for it.
    }
    return std::nullopt;
}

/// source | progress | [compress] -> sink.
template <class Source, class Probe>
std::uint64_t drive_export(Source& src, Probe rows_done, sluice::any_codec codec,
                           sluice::any_byte_sink& sink, progress_display& display,
                           std::optional<std::uint64_t> total, const sluice::run_options& run_opts,
                           std::uint64_t& rows) {
    sluice::progress_options po;
    po.interval = display.interval();
    po.total_items = total;
    po.items_probe = rows_done;
    auto shown = src | sluice::meter("source") | sluice::progress(
                           [&](const sluice::progress_info& p) {
                               rows = p.items;
                               display(p);
                           },
                           po);
    sluice::run_options ro = run_opts;
    if (codec)
        return sluice::run(std::move(shown) | sluice::compress(std::move(codec)) | sluice::meter("compress"), sink, ro);
    return sluice::run(shown, sink, ro);
}

}  // namespace

int run_export(const export_options& o, const io_options& io, const run_control& ctl) {
    // The counters feed the stage table of --progress and the JSON of --stats.
    sluice::metrics metrics;
    const sluice::run_options run_opts =
        ctl.shutdown.options(ctl.stats || o.progress ? &metrics : nullptr);
    namespace pg = sluice::pg;
    auto t0 = std::chrono::steady_clock::now();
    warn_if_password(o.dsn);
    if (o.query.empty() == o.table.empty()) usage("export", "give exactly one of --query and --table");
    std::string fmt = o.format;
    if (fmt.empty()) {
        auto f = format_from_path(o.to);
        if (!f) usage("export", "cannot tell the format of '" + o.to + "' from its name: use --format");
        fmt = std::string(to_string(*f));
    }
    if (fmt != "csv" && fmt != "jsonl" && fmt != "json")
        usage("export", "--format must be csv, jsonl or json");
    if (o.crlf && fmt != "csv") usage("export", "--crlf applies to CSV output");
    std::string compression = o.compress.empty() ? compression_from_path(o.to) : o.compress;
    auto cformat = sluice::compression::parse_format(compression);
    if (!cformat) usage("export", "unknown compression '" + compression + "' (gzip, zstd, none)");

    // A malformed --table is a usage error found before the server is contacted (exit 2);
    // whatever the server reports from here on is the outside world (exit 1).
    std::string query = o.table.empty() ? o.query : "SELECT * FROM " + pg::quote_qualified_name(o.table);
    pg::connect_options co;
    if (!o.timezone.empty()) co.timezone = o.timezone;
    pg::connection conn(o.dsn, co);
    std::optional<std::uint64_t> total;
    if (o.progress) total = expected_rows(conn, o, query);

    sluice::any_byte_sink sink = open_output(o.to, io);
    sluice::any_codec codec;
    if (*cformat != sluice::compression::format::none)
        codec = make_output_codec(*cformat, o.level, io.threads);
    progress_display display(o.progress);
    std::uint64_t rows = 0, written = 0;
    // --drain-on-signal: drainable() cuts the input at a record boundary and everything after
    // it finishes as at a normal end, so the file is complete (a JSON array gets its `]`).
    if (fmt == "csv") {
        pg::copy_out_options co_opts;
        co_opts.header = true;
        co_opts.crlf = o.crlf;
        // COPY hands over one message per row and copy_out fills chunks with whole
        // messages, so a cut between chunks is a cut between rows.
        auto copy = pg::copy_out(conn, query, co_opts);
        auto src = std::move(copy) | sluice::drainable();
        auto& rows_src = src.upstream();
        written = drive_export(src, [&rows_src] { return rows_src.rows_done(); }, std::move(codec), sink,
                               display, total, run_opts, rows);
    } else {
        // pg::rows (inside json_lines) ends at a drain request between two rows, before the
        // encoder, which then closes a JSON array.
        pg::json_lines_options jo;
        if (fmt == "json") jo.framing = pg::json_framing::array;
        auto src = pg::json_lines(conn, jo, query);
        written = drive_export(src, [&src] { return src.upstream().rows_done(); }, std::move(codec),
                               sink, display, total, run_opts, rows);
    }
    run_summary sum;
    sum.rows = rows;
    // "in": the bytes the database's rows came to (the source stage's payload), when counted.
    for (const auto& st : metrics.snapshot())
        if (st.name == "source" && st.bytes) sum.bytes_in = static_cast<double>(st.bytes);
    sum.bytes_out = static_cast<double>(written);
    sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    print_report(o.progress, o.progress, ctl.stats, sum, metrics);
    // A drained export committed the rows it read, but it was cut short: say so.
    return ctl.shutdown.drain_requested() ? exit_cancelled : exit_ok;
}

namespace {

/// Loads field records: the first one is pulled here so the column names are known
/// before the COPY starts; the rest stream through the run.
template <class Rows, class Columns>
sluice::pg::load_result load_rows(Rows& rows, Columns columns_of, sluice::pg::connection& conn,
                                  const load_options& o, sluice::pg::copy_in_options lo,
                                  const sluice::run_options& run_opts) {
    auto first = rows.next();
    if (!first) return {};
    std::vector<std::string> columns = columns_of(*first);
    auto sink = sluice::pg::copy_in(conn, o.table, columns, lo);
    try {
        sink.push(*first);
    } catch (...) {
        sink.abort(sluice::current_error());
        throw;
    }
    sluice::run_options ro = run_opts;
    return sluice::run(rows, sink, ro);
}

}  // namespace

int run_load(const load_options& o, const io_options& io, const run_control& ctl) {
    const sluice::run_options run_opts = ctl.shutdown.options();
    namespace pg = sluice::pg;
    auto t0 = std::chrono::steady_clock::now();
    warn_if_password(o.dsn);
    std::optional<format> in = o.from.empty() ? format_from_path(o.input) : parse_format(o.from);
    if (!in) usage("load", "cannot tell the format of '" + o.input + "': use --from");
    if (o.on_error != "fail" && o.on_error != "skip") usage("load", "--on-error must be fail or skip");

    pg::connection conn(o.dsn);
    pg::copy_in_options lo;
    lo.key = o.key;
    lo.commit_every = o.commit_every;
    std::optional<dead_letters> bad;
    if (o.on_error == "skip") {
        bad.emplace(o.dead_letter, o.max_errors);
        // --max-errors 0 means no limit; copy_in's max_rejects 0 would reject the first one.
        lo.max_rejects = o.max_errors ? o.max_errors : std::numeric_limits<std::uint64_t>::max();
        lo.dead_letter = [&bad](const pg::rejected_row& r) {
            sluice::position p = r.error.where();
            p.record = r.index;
            bad->add(sluice::error(sluice::errc::bad_input, "postgres", r.error.message(), p), r.data);
        };
    }
    input src = open_input(o.input, io, false);
    auto bytes = src.bytes | sluice::auto_decompress(o.input);  // data.csv.gz must hold gzip
    pg::load_result res;
    try {
        if (*in == format::csv || *in == format::tsv) {
            sluice::csv::read_options ro = sluice::csv::read_options::for_path(o.input);
            ro.max_columns = o.max_columns;
            ro.unique_header = true;  // a column named twice cannot be loaded
            if (*in == format::tsv) ro.delimiter = '\t';
            if (bad)
                ro.errors = sluice::on_error::dead_letter(
                    [&bad](sluice::dead_letter_record&& d) { bad->add(d.error, d.raw); });
            std::vector<std::optional<std::string_view>> fields;
            // An empty CSV field is NULL, as in Postgres's own CSV COPY.
            // drainable: --drain-on-signal stops reading between two records.
            auto rows = std::move(bytes) | sluice::csv::read(ro) | sluice::drainable() |
                        sluice::map([&fields](const sluice::csv::row& r) -> const auto& {
                            fields.clear();
                            for (std::size_t i = 0; i < r.size(); ++i)
                                fields.push_back(r[i].empty() ? std::nullopt
                                                              : std::optional<std::string_view>(r[i]));
                            return fields;
                        });
            // The header is known once the first row is read.
            auto& reader = rows.upstream().upstream();
            res = load_rows(
                rows,
                [&reader](const auto&) {
                    std::vector<std::string> cols;
                    for (auto n : reader.header().names()) cols.emplace_back(n);
                    return cols;
                },
                conn, o, lo, run_opts);
        } else {
            json_to_fields mapping({});
            std::vector<std::optional<std::string_view>> fields;
            std::vector<std::string> scratch;
            std::vector<pg_column_kind> kinds;
            bad_record_handler on_bad;
            if (bad) on_bad = [&bad](const sluice::error& e, std::string_view raw) { bad->add(e, raw); };
            // The target's column types decide the input text (arrays, json): looked up once,
            // when the first record has named the columns.
            auto kinds_for = [&conn, &o](const std::vector<std::string>& cols) {
                std::vector<pg_column_kind> k(cols.size(), pg_column_kind::plain);
                auto r = conn.query(
                    "SELECT a.attname, t.typcategory, t.typname FROM pg_attribute a "
                    "JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = $1::regclass "
                    "AND a.attnum > 0 AND NOT a.attisdropped",
                    sluice::pg::quote_qualified_name(o.table));
                for (int row = 0; row < r.rows(); ++row)
                    for (std::size_t i = 0; i < cols.size(); ++i)
                        if (cols[i] == r.value(row, 0)) {
                            if (r.value(row, 1) == "A") k[i] = pg_column_kind::array;
                            else if (r.value(row, 2) == "json" || r.value(row, 2) == "jsonb")
                                k[i] = pg_column_kind::json;
                        }
                return k;
            };
            auto to_fields = [&](const sluice::json::json_record& r) -> const auto& {
                const auto& f = mapping(r);
                const auto& values = mapping.values();
                if (kinds.size() != f.size()) {
                    kinds = kinds_for(mapping.columns());
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
            auto run_json = [&](auto&& records) {
                auto rows = guard(std::forward<decltype(records)>(records), to_fields, on_bad) |
                            sluice::drainable();
                return load_rows(
                    rows, [&mapping](const auto&) { return mapping.columns(); }, conn, o, lo, run_opts);
            };
            if (*in == format::json)
                res = run_json(std::move(bytes) | sluice::json::read_array());
            else
                res = run_json(std::move(bytes) | sluice::json::read_jsonl());
        }
        if (bad) bad->commit();
    } catch (...) {
        if (bad) bad->abort(sluice::current_error());
        throw;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
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
    // A drained load committed every row it read (the earlier --commit-every batches and
    // the last, partial one), but it was cut short: say so.
    return ctl.shutdown.drain_requested() ? exit_cancelled : exit_ok;
}

}  // namespace cli
