// The `sluice` command-line tool: convert between CSV/TSV/JSONL/JSON (gzip/zstd), export
// Postgres tables and queries, load files into Postgres, presign S3 URLs.
#include <CLI/CLI.hpp>

#include <sluice/core/units.hpp>
#include <sluice/s3/s3.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "common.hpp"
#include "convert.hpp"
#include "database.hpp"
#include "shard.hpp"
#include "resumable.hpp"

namespace {


void add_io_options(CLI::App* cmd, std::string& part_size, cli::io_options& io, bool& stats,
                    bool& drain) {
    cmd->add_flag("--stats", stats,
                  "print every stage's counters as one JSON object on stderr at the end");
    cmd->add_flag("--drain-on-signal", drain,
                  "on SIGINT/SIGTERM stop reading at a record boundary, finish and commit what was "
                  "read, exit 130 (a second signal drops)");
    cmd->add_option("--part-size", part_size,
                    "S3 multipart part size, e.g. 8MiB (grows for long streams)");
    cmd->add_option("--s3-concurrency", io.s3_concurrency, "S3 parts uploading at once")
        ->check(CLI::PositiveNumber);
    cmd->add_option(
           "--retries", io.retries,
           "attempts per S3 request, all made whatever the circuit breaker's threshold (default 5)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--retry-delay", io.retry_delay_ms,
                    "S3 retry backoff base in ms: the sleep before retry n is 1/2 to 1 x base x "
                    "2^n, at most 20 s (default 1000: 5 attempts wait 7.5 to 15 s in all)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--threads", io.threads,
                    "compression threads (default: all cores); convert without compression "
                    "parses and encodes CSV/TSV and JSON Lines input in blocks on this many "
                    "workers, other inputs on one thread between a reading and a writing "
                    "thread; --threads 1 runs everything on one thread")
        ->check(CLI::NonNegativeNumber);
}

/// --memory N: one budget for every buffer of the run (core/memory_budget.hpp).
void add_memory_option(CLI::App* cmd, std::string& memory) {
    cmd->add_option("--memory", memory,
                    "memory budget for the run's buffers, e.g. 24MiB (KiB, MiB, GiB or bytes): "
                    "S3 uploads, gzip threads and Parquet row groups shrink to fit; a run that "
                    "cannot fit is refused before it reads, sends or creates anything (exit 2, "
                    "with the breakdown by stage). Peak RSS stays within the budget plus the "
                    "process's fixed overhead: code and libraries, about 7.5 MiB, 14.5 MiB once "
                    "libpq and libcurl are loaded (docs/design.md); with --stats the plan is printed");
}

/// The options of Parquet output (convert and export).
void add_parquet_options(CLI::App* cmd, cli::parquet_output_options& p, bool with_schema) {
    if (with_schema)
        cmd->add_option("--schema", p.schema,
                        "Parquet output: the columns' types, e.g. \"id:int64!,amount:decimal(12,2),"
                        "at:timestamptz,tags:list<string>\" (CSV default: every column a string; "
                        "JSON input needs it)");
    cmd->add_option("--row-group-size", p.row_group_size,
                    "Parquet output: write a row group once its compressed pages reach this size, "
                    "e.g. 64MiB (KiB, MiB, GiB or bytes; default 16MiB)");
    cmd->add_option("--partition-by", p.partition_by,
                    "Parquet output: Hive-style partitions col=value/part-00000.parquet under the "
                    "output directory or s3:// prefix, by these columns a,b (left out of the files)");
    cmd->add_option("--max-partitions", p.max_partitions,
                    "with --partition-by: more distinct partitions fail the run (default 1000)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--partition-memory", p.partition_memory,
                    "with --partition-by: one memory budget for all open partitions; the largest "
                    "is written as a row group when it is reached (default 64MiB)");
}

/// How a file OUTPUT is written: the rules of sluice::to_file, for --help.
constexpr const char* output_rules =
    "A file OUTPUT is written to a hidden temporary file beside it and renamed into place when\n"
    "complete: on any failure or interruption it is not created and an existing one is left\n"
    "unchanged. An OUTPUT that is a symbolic link is followed (the file it points to is\n"
    "replaced, the link stays; a link to nothing is refused); a read-only file (no write\n"
    "permission) or a directory is refused (exit 1); a FIFO or a device (/dev/null) is written\n"
    "through, without the temporary file. Temporary files left by a killed run (SIGKILL) are\n"
    "removed by the next run writing the same OUTPUT, once the process that made them is gone.";

/// Every option of every command, filled in by CLI11.
struct command_line {
    CLI::App app{"sluice: streaming conversions and exports in constant memory"};
    cli::io_options io;
    std::string part_size;
    std::string memory;  ///< --memory, parsed in run_command
    bool stats = false, drain_on_signal = false;

    cli::convert_options conv;
    std::string columns;
    CLI::App* convert = nullptr;
    cli::export_options exp;
    CLI::App* exportc = nullptr;
    cli::load_options load;
    std::string keys;
    CLI::App* loadc = nullptr;
    std::string presign_url;
    long long expires = 3600;
    CLI::App* presign = nullptr;
    cli::shard_commands shard;
    cli::resume_options resume;
    cli::reap_options reap;
    CLI::App* reapc = nullptr;
};

void add_convert(command_line& cl) {
    auto& conv = cl.conv;
    auto* convert = cl.app.add_subcommand(
        "convert", "convert INPUT to OUTPUT (csv, tsv, jsonl, json; .gz/.zst; parquet)");
    convert->add_option("INPUT", conv.input, "input: a path, - (stdin) or s3://bucket/key")
        ->required();
    convert->add_option("OUTPUT", conv.output, "output: a path, - (stdout) or s3://bucket/key")
        ->required();
    convert->add_option("--from", conv.from,
                        "input format (csv, tsv, jsonl, json); default: from INPUT's name");
    convert->add_option("--to", conv.to, "output format; default: from OUTPUT's name");
    convert->add_option("--compress", conv.compress,
                        "gzip, zstd or none; default: from OUTPUT's name (Parquet: zstd, snappy, "
                        "gzip or none, default zstd)");
    convert->add_option("--level", conv.level, "compression level");
    convert->add_option("--columns", cl.columns,
                        "JSON -> CSV: output columns a,b,c (other keys are ignored)");
    convert->add_flag("--progress", conv.progress, "show progress on stderr");
    convert->add_option("--on-error", conv.on_error, "fail (default) or skip bad records");
    convert->add_option("--dead-letter", conv.dead_letter,
                        "with --on-error skip: write bad records here (JSON lines)");
    convert->add_option("--max-errors", conv.max_errors,
                        "with --on-error skip: fail after this many bad records");
    convert
        ->add_option(
            "--max-columns", conv.max_columns,
            "CSV/TSV input: a record or header with more fields is an error (default 10000)")
        ->check(CLI::PositiveNumber);
    convert->add_flag("--crlf", conv.crlf,
                      "CSV/TSV output: end every line, the header too, with CRLF (default LF)");
    add_parquet_options(convert, conv.parquet, true);
    add_io_options(convert, cl.part_size, cl.io, cl.stats, cl.drain_on_signal);
    add_memory_option(convert, cl.memory);
    convert->footer(std::string(output_rules) +
                    "\nCSV/TSV -> JSON: a header naming a column twice is an error (exit 2), as a JSON\n"
                    "object cannot hold the key twice; CSV/TSV output keeps such headers as they are.");
    cl.convert = convert;
}

void add_export(command_line& cl) {
    auto& exp = cl.exp;
    auto* exportc = cl.app.add_subcommand("export", "export a Postgres table or query");
    exportc->add_option("--dsn", exp.dsn,
                        "connection string (URI or key=value; PG* variables apply)");
    exportc->add_option("--query", exp.query, "SQL query to export");
    exportc->add_option("--table", exp.table, "table to export (schema-qualified allowed)");
    exportc->add_option("--to", exp.to, "output: a path, - or s3://bucket/key")->required();
    exportc->add_option("--format", exp.format,
                        "csv, jsonl, json or parquet; default: from the output name");
    exportc->add_option("--compress", exp.compress,
                        "gzip, zstd or none; default: from the output name (Parquet: zstd, "
                        "snappy, gzip or none, default zstd)");
    exportc->add_option("--level", exp.level, "compression level");
    exportc->add_option("--timezone", exp.timezone, "session TimeZone for timestamptz values");
    exportc->add_flag("--progress", exp.progress, "show progress on stderr");
    exportc->add_flag("--count", exp.count, "count the rows first for an exact percentage");
    exportc->add_flag("--crlf", exp.crlf,
                      "CSV output: end every line, the header too, with CRLF (default LF)");
    add_parquet_options(exportc, exp.parquet, false);
    add_io_options(exportc, cl.part_size, cl.io, cl.stats, cl.drain_on_signal);
    add_memory_option(exportc, cl.memory);
    exportc->footer(std::string(output_rules) +
                    "\nA password in --dsn is visible to other users in the process list (sluice warns):\n"
                    "prefer PGPASSWORD, ~/.pgpass or a service file (PGSERVICE=name).");
    cl.exportc = exportc;
}

void add_load(command_line& cl) {
    auto& load = cl.load;
    auto* loadc =
        cl.app.add_subcommand("load", "load CSV/JSONL/JSON (.gz/.zst) into a Postgres table");
    loadc->add_option("INPUT", load.input, "input: a path, - or s3://bucket/key")->required();
    loadc->add_option("--dsn", load.dsn, "connection string");
    loadc->add_option("--table", load.table, "target table")->required();
    loadc->add_option("--key", cl.keys, "key columns a,b: load idempotently (upsert)");
    loadc->add_option("--from", load.from, "input format; default: from INPUT's name");
    loadc->add_option("--on-error", load.on_error, "fail (default) or skip bad rows");
    loadc->add_option("--dead-letter", load.dead_letter,
                      "with --on-error skip: write rejected rows here");
    loadc->add_option("--max-errors", load.max_errors,
                      "with --on-error skip: fail after this many");
    loadc->add_option("--commit-every", load.commit_every,
                      "commit every N rows (default: all or nothing)");
    loadc
        ->add_option(
            "--max-columns", load.max_columns,
            "CSV/TSV input: a record or header with more fields is an error (default 10000)")
        ->check(CLI::PositiveNumber);
    add_io_options(loadc, cl.part_size, cl.io, cl.stats, cl.drain_on_signal);
    add_memory_option(loadc, cl.memory);
    loadc->footer(
        "A CSV/TSV header naming a column twice is an error (exit 2). A password in --dsn is\n"
        "visible to other users in the process list (sluice warns): prefer PGPASSWORD,\n"
        "~/.pgpass or a service file (PGSERVICE=name).");
    cl.loadc = loadc;
}

void add_presign(command_line& cl) {
    cl.presign = cl.app.add_subcommand("presign", "print a presigned GET URL for s3://bucket/key");
    cl.presign->add_option("URL", cl.presign_url, "s3://bucket/key")->required();
    cl.presign->add_option("--expires", cl.expires, "seconds the URL stays valid (max 604800)");
}

/// `sluice export --resumable KEY [--restart]` (resumable.hpp).
void add_resume_options(command_line& cl) {
    cl.exportc->add_option("--resumable", cl.resume.key,
                           "KEY column (unique, not null): export to s3:// in KEY order, in parts "
                           "that end on whole records (and gzip members / zstd frames), with a "
                           "checkpoint object <key>.sluice-resume after each stored part; the "
                           "same command run again resumes after the last stored part");
    cl.exportc->add_flag("--restart", cl.resume.restart,
                         "with --resumable: abort the upload of an existing checkpoint and start "
                         "over (a checkpoint of other options is otherwise refused, exit 2)");
}

/// `sluice reap s3://bucket/prefix/ --older-than D [--dry-run]`.
void add_reap(command_line& cl) {
    cl.reapc = cl.app.add_subcommand(
        "reap", "abort multipart uploads under s3://bucket/prefix/ older than --older-than");
    cl.reapc->add_option("URL", cl.reap.url, "s3://bucket/prefix/")->required();
    cl.reapc->add_option("--older-than", cl.reap.older_than, "age: 90s, 15m, 24h, 7d")
        ->required();
    cl.reapc->add_flag("--dry-run", cl.reap.dry_run, "list what would be aborted, abort nothing");
    cl.reapc->add_option("--retries", cl.io.retries, "attempts per S3 request (default 5)")
        ->check(CLI::PositiveNumber);
}

/// "a,b,c" -> {"a", "b", "c"}; "" -> {}.
std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size() && !s.empty()) {
        std::size_t comma = s.find(',', start);
        out.push_back(s.substr(start, comma - start));
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    return out;
}

/// Runs the chosen command; returns its exit status.
int run_command(command_line& cl) {
    if (!cl.part_size.empty())
        cl.io.part_size = sluice::parse_size(cl.part_size, "--part-size");
    // No thread exists yet: from here on SIGINT/SIGTERM are taken by one watcher thread
    // and turned into a drop (stop at once, abort outputs) or a drain.
    sluice::shutdown sd;
    sluice::signal_watcher watcher(
        sd, cl.drain_on_signal ? sluice::signal_action::drain : sluice::signal_action::drop);
    cli::run_control ctl{sd, cl.stats, cl.drain_on_signal};
    if (!cl.memory.empty())
        ctl.memory = sluice::parse_size(cl.memory, "--memory");
    if (int rc = cli::run_shard_command(cl.shard, cl.io, ctl); rc >= 0)
        return rc;
    if (*cl.convert) {
        cl.conv.columns = split_commas(cl.columns);
        return cli::run_convert(cl.conv, cl.io, ctl);
    }
    if (*cl.exportc && !cl.resume.key.empty())
        return cli::run_resumable_export(cl.exp, cl.resume, cl.io, ctl);
    if (*cl.exportc && cli::is_sharded_export(cl.exp, cl.shard.exp))
        return cli::run_sharded_export(cl.exp, cl.shard.exp, cl.io, ctl);
    if (*cl.exportc)
        return cli::run_export(cl.exp, cl.io, ctl);
    if (*cl.reapc)
        return cli::run_reap(cl.reap, cl.io, ctl);
    if (*cl.loadc) {
        cl.load.key = split_commas(cl.keys);
        return cli::run_load(cl.load, cl.io, ctl);
    }
    if (*cl.presign) {
        auto loc = sluice::s3::parse_url(cl.presign_url);
        auto url = sluice::s3::presign(sluice::s3::config::from_env(), loc.bucket, loc.key,
                                       std::chrono::seconds(cl.expires));
        std::printf("%s\n", url.c_str());
    }
    return cli::exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
    command_line cl;
    cl.app.require_subcommand(1);
    cl.app.set_version_flag("--version", "sluice 0.1.0");
    add_convert(cl);
    add_export(cl);
    add_load(cl);
    add_presign(cl);
    cli::add_shard_commands(cl.app, cl.exportc, cl.shard);
    add_resume_options(cl);
    add_reap(cl);
    try {
        cl.app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = cl.app.exit(e);
        return rc == 0 ? 0 : cli::exit_bad_input;
    }
    try {
        return run_command(cl);
    } catch (const sluice::error& e) {
        cli::report_error(e);
        return cli::exit_status(e);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sluice: %s\n", e.what());
        return cli::exit_failure;
    }
}
