// Parquet output of the `sluice` tool: thin wiring of parquet::encode (one file) and
// parquet::to_partitions (Hive-style partitions) to the CLI's inputs, outputs and reports.
#include "parquet_out.hpp"

#include <sluice/compress/auto_decompress.hpp>
#include <sluice/csv/csv.hpp>
#include <sluice/json/json.hpp>
#include <sluice/parquet/encode.hpp>
#include <sluice/parquet/partition.hpp>
#include <sluice/postgres/parquet.hpp>
#include <sluice/postgres/postgres.hpp>
#include <sluice/core/units.hpp>
#include <sluice/s3/s3.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "json_rows.hpp"

namespace cli {

namespace {

namespace pq = sluice::parquet;

[[noreturn]] void usage(const char* stage, std::string msg) {
    throw sluice::error(sluice::errc::usage, stage, std::move(msg));
}


/// "a,b" -> {"a", "b"}.
std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    for (std::size_t at = 0; at <= s.size();) {
        const std::size_t comma = std::min(s.find(',', at), s.size());
        out.push_back(s.substr(at, comma - at));
        at = comma + 1;
    }
    return out;
}

/// --compress for Parquet (page compression): zstd (default), snappy, gzip or none.
pq::write_options write_options_of(const std::string& compress, std::optional<int> level,
                                   const parquet_output_options& p, const char* stage) {
    pq::write_options wo;
    if (compress.empty() || compress == "zstd") wo.codec = pq::compression_codec::zstd;
    else if (compress == "snappy") wo.codec = pq::compression_codec::snappy;
    else if (compress == "gzip") wo.codec = pq::compression_codec::gzip;
    else if (compress == "none") wo.codec = pq::compression_codec::uncompressed;
    else usage(stage, "--compress for Parquet output must be zstd, snappy, gzip or none, not '" + compress + "'");
    if (level && (wo.codec == pq::compression_codec::uncompressed || wo.codec == pq::compression_codec::snappy))
        usage(stage, "--level applies to zstd and gzip");
    wo.level = level;
    if (!p.row_group_size.empty()) wo.row_group_bytes = sluice::parse_size(p.row_group_size, "--row-group-size");
    return wo;
}

/// Parquet flags with another output format are a mistake worth saying.
void refuse_parquet_flags(const parquet_output_options& p, const char* stage) {
    if (!p.row_group_size.empty()) usage(stage, "--row-group-size applies to Parquet output");
    if (!p.partition_memory.empty()) usage(stage, "--partition-memory applies to --partition-by");
    if (!p.schema.empty()) usage(stage, "--schema applies to Parquet output");
}

/// Where the rows go: one file, or partitions under a directory / S3 prefix.
struct parquet_target {
    std::string to;
    pq::write_options write;
    std::optional<pq::partition_options> partitions;
};

/// Partition files under an s3:// prefix: each an upload, removed again if a later one fails.
pq::partition_target s3_partitions(const std::string& prefix, const io_options& io) {
    const std::string base = prefix.back() == '/' ? prefix : prefix + "/";
    pq::partition_target t;
    t.open = [base, io](const std::string& path) { return open_output(base + path, io); };
    t.remove = [base](const std::string& path) {
        try {
            const auto loc = sluice::s3::parse_url(base + path);
            sluice::s3::client(sluice::s3::config::from_env()).delete_object(loc.bucket, loc.key);
        } catch (const sluice::error& e) {
            std::fprintf(stderr, "sluice: could not remove %s%s after the failure: %s\n", base.c_str(),
                         path.c_str(), e.what());
        }
    };
    return t;
}

parquet_target target_of(const std::string& to, const std::string& compress, std::optional<int> level,
                         const parquet_output_options& p, const char* stage) {
    parquet_target t{to, write_options_of(compress, level, p, stage), std::nullopt};
    if (p.partition_by.empty()) {
        if (!p.partition_memory.empty()) usage(stage, "--partition-memory applies to --partition-by");
        return t;
    }
    if (to == "-") usage(stage, "--partition-by writes a directory or an s3:// prefix, not stdout");
    pq::partition_options po;
    po.columns = split_commas(p.partition_by);
    po.max_partitions = p.max_partitions;
    if (!p.partition_memory.empty()) po.memory_bytes = sluice::parse_size(p.partition_memory, "--partition-memory");
    po.write = t.write;
    t.partitions = std::move(po);
    return t;
}

/// What a Parquet run reports at the end.
struct parquet_run {
    const io_options& io;
    sluice::metrics metrics;
    sluice::progress_display display;
    sluice::run_options run;
    std::uint64_t rows = 0;
    std::uint64_t files = 1;
};

std::optional<pq::schema> as_optional(const pq::schema& s) { return s; }
template <class F>
std::optional<pq::schema> as_optional(const pq::from_first_row<F>&) {
    return std::nullopt;  // the partition sink takes the CSV header itself
}

/// rows | meter | progress, then parquet::encode into one output, or the partition sink.
/// Returns the bytes written.
template <class Rows, class Schema>
std::uint64_t write_parquet(Rows&& rows, Schema schema, parquet_target& t, parquet_run& env) {
    sluice::progress_options po;
    po.interval = env.display.interval();
    auto shown = std::forward<Rows>(rows) | sluice::meter("rows")
                 | sluice::progress(
                     [&env](const sluice::progress_info& i) {
                         env.rows = i.items;
                         env.display(i);
                     },
                     po);
    if (t.partitions) {
        pq::partition_target where =
            sluice::s3::is_s3_url(t.to) ? s3_partitions(t.to, env.io) : pq::directory_target(t.to);
        auto sink = pq::to_partitions(as_optional(schema), std::move(*t.partitions), std::move(where));
        const pq::partition_result r = sluice::run(shown, sink, env.run);
        env.files = r.files;
        return r.bytes;
    }
    sluice::any_byte_sink out = open_output(t.to, env.io);
    auto bytes = std::move(shown) | pq::encode(std::move(schema), t.write) | sluice::meter("encode");
    return sluice::run(bytes, out, env.run);
}

void report(bool progress, const run_control& ctl, const parquet_run& env, std::uint64_t written,
            std::chrono::steady_clock::time_point t0) {
    sluice::run_summary sum;
    sum.rows = env.rows;
    sum.bytes_out = static_cast<double>(written);
    sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (env.files != 1) sum.extra = ", " + std::to_string(env.files) + " files";
    sluice::print_run_report({progress, progress, ctl.stats}, sum, env.metrics);
}

}  // namespace

bool exports_parquet(const export_options& o) {
    const bool yes = o.format == "parquet" ||
                     (o.format.empty() && (sluice::data_format_from_path(o.to) == sluice::data_format::parquet ||
                                           !o.parquet.partition_by.empty()));
    if (!yes) {
        refuse_parquet_flags(o.parquet, "export");
        if (!o.parquet.partition_by.empty()) usage("export", "--partition-by writes Parquet (--format parquet)");
    }
    return yes;
}

int run_export_parquet(const export_options& o, const io_options& io, const run_control& ctl) {
    namespace pg = sluice::pg;
    const auto t0 = std::chrono::steady_clock::now();
    if (o.crlf) usage("export", "--crlf applies to CSV output");
    if (!o.parquet.schema.empty()) usage("export", "--schema applies to convert: an export's schema is the query's");
    parquet_target target = target_of(o.to, o.compress, o.level, o.parquet, "export");
    const std::string query = o.table.empty() ? o.query : "SELECT * FROM " + pg::quote_qualified_name(o.table);
    pg::connect_options co;
    if (!o.timezone.empty()) co.timezone = o.timezone;
    pg::connection conn(o.dsn, co);
    // The schema comes from the query's description (types and typmods), before any row.
    const pq::schema schema = pg::parquet_schema(pg::describe(conn, query));
    parquet_run env{io, {}, sluice::progress_display(o.progress), {}};
    env.run = ctl.options(ctl.stats || o.progress ? &env.metrics : nullptr);
    // pg::rows ends at a drain request between two rows; the file is then completed.
    const std::uint64_t written = write_parquet(pg::rows(conn, query), schema, target, env);
    report(o.progress, ctl, env, written, t0);
    return ctl.shutdown.drain_requested() ? exit_cancelled : exit_ok;
}

bool converts_to_parquet(const convert_options& o) {
    const bool yes = o.to == "parquet" ||
                     (o.to.empty() && (sluice::data_format_from_path(o.output) == sluice::data_format::parquet ||
                                       !o.parquet.partition_by.empty()));
    if (!yes) {
        refuse_parquet_flags(o.parquet, "convert");
        if (!o.parquet.partition_by.empty()) usage("convert", "--partition-by writes Parquet (--to parquet)");
    }
    return yes;
}

namespace {

/// A JSON record's values as text rows for the writer: null and missing keys are NULL.
struct json_text_row {
    const std::vector<std::string_view>* fields;
    const std::vector<const sluice::json::json_value*>* values;
    std::size_t size() const noexcept { return fields->size(); }
    bool is_null(int i) const {
        const auto* v = (*values)[static_cast<std::size_t>(i)];
        return !v || v->is_null();
    }
    std::string_view value(int i) const { return (*fields)[static_cast<std::size_t>(i)]; }
};

template <class Bytes>
std::uint64_t csv_to_parquet(Bytes&& bytes, sluice::data_format in, const convert_options& o,
                             parquet_target& t, parquet_run& env) {
    sluice::csv::read_options ro = sluice::csv::read_options::for_path(o.input);
    ro.max_columns = o.max_columns;
    ro.unique_header = true;  // a Parquet schema cannot name a column twice
    if (in == sluice::data_format::tsv) ro.delimiter = '\t';
    if (in == sluice::data_format::csv && !o.from.empty()) ro.delimiter = ',';
    // drainable: --drain-on-signal stops between two records and completes the file.
    auto rows = std::forward<Bytes>(bytes) | sluice::csv::read(ro) | sluice::drainable();
    if (o.parquet.schema.empty()) return write_parquet(std::move(rows), pq::schema_from_header, t, env);
    return write_parquet(std::move(rows), pq::parse_schema(o.parquet.schema), t, env);
}

template <class Records>
std::uint64_t json_to_parquet(Records&& records, const pq::schema& schema, parquet_target& t,
                              parquet_run& env) {
    std::vector<std::string> names;
    for (const auto& c : schema.columns) names.push_back(c.name);
    json_to_fields mapping(names);  // keys that are not columns are left out
    auto rows = std::forward<Records>(records) | sluice::drainable()
                | sluice::map([&mapping](const sluice::json::json_record& r) {
                      const auto& f = mapping(r);
                      return json_text_row{&f, &mapping.values()};
                  });
    return write_parquet(std::move(rows), schema, t, env);
}

template <class Bytes>
std::uint64_t records_to_parquet(Bytes&& bytes, sluice::data_format in, const convert_options& o,
                                 parquet_target& t, parquet_run& env) {
    if (in == sluice::data_format::csv || in == sluice::data_format::tsv)
        return csv_to_parquet(std::forward<Bytes>(bytes), in, o, t, env);
    if (o.parquet.schema.empty())
        usage("convert", "JSON to Parquet needs --schema \"name:type,...\" (JSON values do not say "
                         "their Parquet type; CSV input without --schema makes every column a string)");
    const pq::schema schema = pq::parse_schema(o.parquet.schema);
    if (in == sluice::data_format::jsonl)
        return json_to_parquet(std::forward<Bytes>(bytes) | sluice::json::read_jsonl(), schema, t, env);
    return json_to_parquet(std::forward<Bytes>(bytes) | sluice::json::read_array(), schema, t, env);
}

}  // namespace

int run_convert_to_parquet(const convert_options& o, const io_options& io, const run_control& ctl) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto in = o.from.empty() ? sluice::data_format_from_path(o.input) : sluice::parse_data_format(o.from);
    if (!in) usage("convert", "cannot tell the format of '" + o.input + "' from its name: use --from");
    if (*in == sluice::data_format::parquet) usage("convert", "Parquet to Parquet is not a conversion sluice makes");
    if (o.on_error != "fail") usage("convert", "--on-error skip does not apply to Parquet output yet");
    if (!o.columns.empty()) usage("convert", "--columns applies to CSV/TSV output");
    if (o.crlf) usage("convert", "--crlf applies to CSV/TSV output");
    parquet_target target = target_of(o.output, o.compress, o.level, o.parquet, "convert");
    input src = open_input(o.input, io, false);
    parquet_run env{io, {}, sluice::progress_display(o.progress), {}};
    env.run = ctl.options(ctl.stats || o.progress ? &env.metrics : nullptr);
    // The input's name is a claim: data.csv.gz must hold gzip.
    auto bytes = src.bytes | sluice::meter("read") | sluice::auto_decompress(o.input) | sluice::meter("decompress");
    const std::uint64_t written = records_to_parquet(std::move(bytes), *in, o, target, env);
    report(o.progress, ctl, env, written, t0);
    return ctl.shutdown.drain_requested() ? exit_cancelled : exit_ok;
}

}  // namespace cli
