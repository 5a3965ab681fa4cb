// The one pipeline behind both the streamed downloads and the background jobs:
// table -> COPY CSV or JSONL -> progress -> [gzip] -> any byte sink.
#pragma once

#include <sluice/compress/codecs.hpp>
#include <sluice/postgres/postgres.hpp>
#include <sluice/sluice.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace export_service {

/// What to export: a table from the allow-list, a format and a compression.
struct export_spec {
    std::string table;   // as the client named it (checked against the allow-list)
    std::string format;  // "csv" or "jsonl"
    bool gzip = false;

    /// "events.csv.gz"
    std::string file_name() const { return table + "." + format + (gzip ? ".gz" : ""); }
    std::string content_type() const {
        if (gzip) return "application/gzip";
        return format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson";
    }
};

/// Whether `table` is on the allow-list (exact match, as configured: no case folding, no
/// quoting tricks: the name is compared before it is ever quoted).
inline bool allowed(const std::vector<std::string>& allow, const std::string& table) {
    return std::find(allow.begin(), allow.end(), table) != allow.end();
}

/// The row estimate of pg_class (reltuples; -1 or 0 when never analysed -> unknown).
inline std::optional<std::uint64_t> estimate_rows(sluice::pg::connection& conn, const std::string& table) {
    try {
        auto r = conn.query("SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass",
                            sluice::pg::quote_qualified_name(table));
        if (r.rows() == 1) {
            long long n = std::stoll(std::string(r.value(0, 0)));
            if (n > 0) return static_cast<std::uint64_t>(n);
        }
    } catch (const std::exception&) {
        // Only for the progress display: never fail an export for it.
    }
    return std::nullopt;
}

/// Runs the export of `spec` into `sink` (cancelled by `stop`); `on_rows(rows)` is called
/// at most every `interval` and once at the end. Returns what the sink's finish() returns.
template <class Sink>
auto run_export(sluice::pg::connection& conn, const export_spec& spec, Sink& sink,
                std::stop_token stop, std::function<void(std::uint64_t)> on_rows = {},
                std::chrono::milliseconds interval = std::chrono::milliseconds(500)) {
    namespace pg = sluice::pg;
    // Named as an identifier and quoted, never spliced: the allow-list is checked first.
    const std::string query = "SELECT * FROM " + pg::quote_qualified_name(spec.table);
    sluice::run_options ro;
    ro.stop = stop;
    auto report = [on_rows](const sluice::progress_info& p) {
        if (on_rows) on_rows(p.items);
    };
    auto drive = [&](auto& src, auto rows_done) {
        sluice::progress_options po;
        po.interval = interval;
        po.items_probe = rows_done;
        auto shown = src | sluice::progress(report, po);
        if (spec.gzip)
            return sluice::run(std::move(shown) | sluice::compress(sluice::compression::make_compressor(
                                                      sluice::compression::format::gzip)),
                               sink, ro);
        return sluice::run(shown, sink, ro);
    };
    if (spec.format == "csv") {
        pg::copy_out_options co;
        co.header = true;
        auto src = pg::copy_out(conn, query, co);
        return drive(src, [&src] { return src.rows_done(); });
    }
    auto src = pg::json_lines(conn, query);
    return drive(src, [&src] { return src.upstream().rows_done(); });
}

}  // namespace export_service
