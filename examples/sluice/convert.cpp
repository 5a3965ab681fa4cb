// `sluice convert`: reads INPUT (path, -, s3://), decompresses by magic bytes, parses the
// input format, encodes the output format, compresses and writes OUTPUT atomically.
#include "convert.hpp"

#include <sluice/compress/codecs.hpp>
#include <sluice/compress/parallel_gzip.hpp>
#include <sluice/csv/csv.hpp>
#include <sluice/csv/record_blocks.hpp>
#include <sluice/json/json.hpp>
#include <sluice/parquet/reader.hpp>
#include <sluice/parquet/row_encoders.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <cstdio>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <sluice/adaptors/line_blocks.hpp>
#include <sluice/adaptors/prefetch.hpp>
#include <sluice/adaptors/unpack_blocks.hpp>
#include <sluice/adaptors/try_map.hpp>

#include "dead_letters.hpp"
#include "json_rows.hpp"
#include "parquet_out.hpp"

namespace cli {

namespace {

/// Everything a conversion run shares, whatever the formats.
struct run_env {
    const convert_options& opt;
    sluice::any_byte_sink& sink;
    sluice::any_codec codec;  ///< empty: no compression
    sluice::run_options run;
    sluice::progress_options progress;
    sluice::progress_display display;
    std::uint64_t rows = 0;
    /// Two or more cores (and --threads not 1): reading, parsing and encoding, and writing
    /// run on three threads joined by bounded chunk queues (see `pipelined`).
    bool pipeline = false;
    /// --threads: the block workers of a block-parallel conversion (0: one per core).
    int threads = 0;
};

/// Chunks each pipeline queue holds: enough to ride out a stall of either side; with the
/// 64 KiB chunks (encode's grow to 80 KiB) under 1 MiB in flight per queue, reported to
/// the memory plan (--memory).
constexpr std::size_t pipeline_queue_chunks = 4;
constexpr std::size_t pipeline_chunk_bytes = sluice::default_chunk_size + sluice::default_chunk_size / 4;

sluice::prefetch_options pipeline_queue(const char* name) {
    return {.capacity = pipeline_queue_chunks, .name = name, .item_bytes = pipeline_chunk_bytes};
}

/// Whether a conversion splits into threads: `--threads 1` keeps everything on one
/// thread; otherwise two or more cores do (the default, `--threads` 0, takes all cores).
bool pipelined(int threads) {
    if (threads == 1)
        return false;
    return threads >= 2 || std::thread::hardware_concurrency() >= 2;
}

/// Writes CSV rows given as field lists, with a header from the JSON column mapping.
struct fields_csv_encoder {
    sluice::csv::encoder csv;
    const json_to_fields* mapping;
    bool header_written = false;

    void begin(sluice::chunk& out) {
        // With explicit columns the header is known before any record (and an empty input
        // still gets one).
        if (!mapping->columns().empty())
            write_header(out);
    }
    void encode(const std::vector<std::string_view>& fields, sluice::chunk& out) {
        if (!header_written)
            write_header(out);
        csv.encode(fields, out);
    }
    void write_header(sluice::chunk& out) {
        header_written = true;
        csv.encode(mapping->columns(), out);
    }
};

/// records | progress | encode | [compress] -> sink: the tail every conversion shares.
template <class Records, class Encoder>
std::uint64_t drive(Records&& records, Encoder enc, run_env& env) {
    // drainable: on a drain request (SIGINT/SIGTERM with --drain-on-signal) reading stops at
    // a record boundary and what was read is written and committed.
    auto counted = std::forward<Records>(records) | sluice::drainable() | sluice::meter("records")
                   | sluice::progress(
                       [&env](const sluice::progress_info& p) {
                           env.rows = p.items;
                           env.display(p);
                       },
                       env.progress);
    auto encoded = std::move(counted) | sluice::encode(std::move(enc)) | sluice::meter("encode");
    if (env.codec)
        return sluice::run(
            std::move(encoded) | sluice::compress(std::move(env.codec)) | sluice::meter("compress"),
            env.sink, env.run);
    // Uncompressed output on two cores: parsing and encoding run on a thread of their own
    // (the chunk queue "write.queue" between them), the sink's writes and fsync on this one.
    if (env.pipeline)
        return sluice::run(
            std::move(encoded)
                | sluice::prefetch(pipeline_queue("write.queue")),
            env.sink, env.run);
    return sluice::run(encoded, env.sink, env.run);
}

/// How CSV/TSV input is read for output `out`.
sluice::csv::read_options csv_input_options(data_format in, data_format out,
                                            const sluice::any_error_policy& errors,
                                            const run_env& env) {
    sluice::csv::read_options ro = sluice::csv::read_options::for_path(env.opt.input);
    ro.max_columns = env.opt.max_columns;
    // A name twice in the header would make a JSON object with a duplicate key.
    ro.unique_header = out == data_format::jsonl || out == data_format::json;
    if (in == data_format::tsv)
        ro.delimiter = '\t';
    if (in == data_format::csv && !env.opt.from.empty())
        ro.delimiter = ',';
    ro.errors = errors;
    return ro;
}

/// How CSV/TSV output is written.
sluice::csv::write_options csv_output_options(data_format out, const run_env& env) {
    sluice::csv::write_options wo;
    wo.delimiter = out == data_format::tsv ? '\t' : ',';
    wo.crlf = env.opt.crlf;
    return wo;
}

template <class Bytes>
std::uint64_t from_csv(Bytes&& bytes, data_format in, data_format out,
                       const sluice::any_error_policy& errors, run_env& env) {
    auto rows = std::forward<Bytes>(bytes) | sluice::csv::read(csv_input_options(in, out, errors, env));
    switch (out) {
        case data_format::csv:
        case data_format::tsv:
            return drive(std::move(rows), sluice::csv::encoder(csv_output_options(out, env)), env);
        case data_format::jsonl:
            return drive(std::move(rows), sluice::json::jsonl_encoder{}, env);
        case data_format::json:
            return drive(std::move(rows), sluice::json::array_encoder{}, env);
        case data_format::parquet:
            break;  // run_convert_to_parquet
    }
    return 0;
}

/// JSON records to the output format; a record the mapping rejects is a reject of `policy`
/// (the readers' own bad records already were).
template <class Records, class Policy>
std::uint64_t from_json_records(Records&& recs, data_format out, const Policy& policy,
                                run_env& env) {
    switch (out) {
        case data_format::csv:
        case data_format::tsv: {
            json_to_fields mapping(env.opt.columns);
            sluice::csv::write_options wo = csv_output_options(out, env);
            wo.write_header = false;
            auto rows = std::forward<Records>(recs) | sluice::try_map(std::ref(mapping), policy);
            return drive(std::move(rows), fields_csv_encoder{sluice::csv::encoder(wo), &mapping},
                         env);
        }
        case data_format::jsonl:
        case data_format::json: {
            auto same = [](const sluice::json::json_record& r) -> const sluice::json::json_record& {
                return r;
            };
            auto rows = std::forward<Records>(recs) | sluice::try_map(same, policy);
            if (out == data_format::jsonl)
                return drive(std::move(rows), sluice::json::jsonl_encoder{}, env);
            return drive(std::move(rows), sluice::json::array_encoder{}, env);
        }
        case data_format::parquet:
            break;  // run_convert_to_parquet
    }
    return 0;
}

[[noreturn]] void usage(std::string msg) {
    throw sluice::error(sluice::errc::usage, "convert", std::move(msg));
}

bool is_delimited(data_format f) {
    return f == data_format::csv || f == data_format::tsv;
}

/// The formats of a conversion: flags first, then the names; every usage error before any
/// input is opened.
struct conversion {
    data_format in;
    data_format out;
    sluice::compression::format compression;
};

conversion resolve(const convert_options& o) {
    auto in =
        o.from.empty() ? sluice::data_format_from_path(o.input) : sluice::parse_data_format(o.from);
    auto out =
        o.to.empty() ? sluice::data_format_from_path(o.output) : sluice::parse_data_format(o.to);
    if (!o.from.empty() && !in)
        usage("unknown input format '" + o.from + "' (csv, tsv, jsonl, json)");
    if (!o.to.empty() && !out)
        usage("unknown output format '" + o.to + "' (csv, tsv, jsonl, json)");
    if (!in)
        usage("cannot tell the format of '" + o.input + "' from its name: use --from");
    if (!out)
        usage("cannot tell the format of '" + o.output + "' from its name: use --to");
    auto compression = output_compression(o.compress, o.output, "convert");
    if (o.on_error != "fail" && o.on_error != "skip")
        usage("--on-error must be fail or skip");
    if (!o.dead_letter.empty() && o.on_error != "skip")
        usage("--dead-letter needs --on-error skip");
    if (!o.columns.empty() && !is_delimited(*out))
        usage("--columns applies to CSV/TSV output");
    if (!o.columns.empty() && is_delimited(*in))
        usage("--columns applies to JSON input");
    if (o.level && compression == sluice::compression::format::none)
        usage("--level needs compression");
    if (o.crlf && !is_delimited(*out))
        usage("--crlf applies to CSV/TSV output");
    if (*in == data_format::parquet && o.on_error != "fail")
        usage("--on-error skip does not apply to Parquet input (a corrupt file fails)");
    if (*in == data_format::parquet && !o.columns.empty())
        usage("--columns applies to JSON input");
    return {*in, *out, compression};
}

// ---- data-parallel conversion ----------------------------------------------------------
//
// On two or more cores, CSV/TSV and JSON Lines input is cut into blocks of whole records
// (csv::record_blocks, line_blocks) and each block is parsed and encoded on a worker of an
// ordered parallel_map; unpack_blocks hands the blocks' output on: it is written in input order, so the bytes are
// those of the one-thread conversion, and so are the errors (line, byte offset and record
// in the whole input), and so are the dead letters of --on-error skip (the blocks collect
// their rejects, unpack_blocks hands them to the run's policy in order). CSV is split only
// when a bad record fails the run: after a stray quote that --on-error skip passes over,
// where a record ends depends on everything read before it.

/// Whether this conversion runs block-parallel (see above).
bool block_parallel(const conversion& c, const convert_options& o, const run_env& env) {
    if (!env.pipeline)
        return false;
    // JSON Lines records are lines, whatever a bad one holds: skipping keeps the cuts.
    if (o.on_error != "fail" && c.in != data_format::jsonl)
        return false;
    const bool in = is_delimited(c.in) || c.in == data_format::jsonl;
    const bool out = is_delimited(c.out) || c.out == data_format::jsonl;
    return in && out;
}

/// The blocks' size, and what their output takes (for the memory plan): JSON Lines from
/// CSV is about 1.5x its input.
constexpr std::size_t block_bytes_in = sluice::block_options{}.block_bytes;
constexpr std::size_t block_bytes_out = 2 * block_bytes_in;

/// A block's output: one chunk with room for the usual growth.
sluice::chunk block_output(const sluice::text_block& b) {
    const std::size_t n = b.bytes.size();
    return sluice::chunk(n + n / 2 + 4096);
}

/// A one-piece source over a block's bytes, for a reader.
inline auto block_bytes(const sluice::text_block& b) {
    return sluice::from_range(std::array<std::string_view, 1>{b.view()});
}

/// CSV/TSV blocks: the header comes from the first block that has one (the gate). Blocks
/// write no header line: CSV output gets it before the first record, in order (the
/// `on_block` hook in convert_blocks).
template <class MakeEncoder>
struct csv_block_job {
    sluice::csv::read_options ro;
    MakeEncoder make;  ///< make() -> the record encoder for one block
    std::shared_ptr<sluice::csv::header_gate> gate = std::make_shared<sluice::csv::header_gate>();

    sluice::encoded_block operator()(sluice::text_block& b) {
        sluice::encoded_block out;
        out.index = b.index;
        auto enc = make();
        sluice::chunk c = block_output(b);
        out.records = sluice::csv::read_block(b, ro, *gate,
                                              [&](const sluice::csv::row& r) { enc.encode(r, c); });
        out.chunks.push_back(std::move(c));
        return out;
    }
};

/// With --on-error skip a block's stages collect their rejects in the block's result;
/// unpack_blocks hands them to the run's policy in input order (dead letters, --max-errors).
inline auto collect_rejects(sluice::encoded_block& out) {
    return sluice::on_error::dead_letter(
        [v = &out.rejects](sluice::dead_letter_record&& r) { v->push_back(std::move(r)); });
}

/// JSON Lines blocks to CSV/TSV: the columns are --columns, or the first record's keys
/// (learned by the first block that has a record, through the gate); the block that
/// starts the output writes the header.
struct jsonl_to_csv_block_job {
    using columns = std::vector<std::string>;
    sluice::json::jsonl_options jo;
    sluice::csv::write_options wo;  ///< write_header false: fields_csv_encoder writes it
    columns given;
    bool collect = false;  ///< --on-error skip: rejects go to the block's result
    std::shared_ptr<sluice::block_gate<columns>> gate = std::make_shared<sluice::block_gate<columns>>();

    sluice::encoded_block operator()(sluice::text_block& b) {
        sluice::encoded_block out;
        out.index = b.index;
        std::optional<columns> known;
        if (given.empty())
            known = gate->wait(b.index);
        columns learned;
        try {
            json_to_fields mapping = known ? json_to_fields(*known, false) : json_to_fields(given);
            fields_csv_encoder enc{sluice::csv::encoder(wo), &mapping};
            sluice::chunk c = block_output(b);
            // The header: at the start with --columns (even for no records), else before
            // the first record; only the block that starts the output writes it.
            const bool first = given.empty() ? !known : b.index == 0;
            enc.header_written = !first;
            if (first)
                enc.begin(c);
            sluice::json::jsonl_options o = jo;
            o.origin = b.origin();
            auto encode_all = [&](auto policy) {
                o.errors = policy;
                auto rows = block_bytes(b) | sluice::json::read_jsonl(std::move(o))
                            | sluice::try_map(std::ref(mapping), policy);
                sluice::run_context ctx;
                rows.bind(ctx);
                while (auto r = rows.next()) {
                    enc.encode(*r, c);
                    ++out.records;
                }
                // The records the reader yielded, rejected by the mapping or not, are what
                // the next blocks' record indices count from.
                out.read = out.records + rows.rejects();
            };
            if (collect)
                encode_all(collect_rejects(out));
            else
                encode_all(sluice::on_error::fail);
            out.chunks.push_back(std::move(c));
            if (given.empty() && !known)
                learned = mapping.columns();
        } catch (...) {
            gate->fail();
            throw;
        }
        if (given.empty())
            gate->done(b.index, learned.empty() ? nullptr : &learned);
        return out;
    }
};

/// JSON Lines blocks to JSON Lines: every line on its own.
struct jsonl_block_job {
    sluice::json::jsonl_options jo;
    bool collect = false;  ///< --on-error skip: rejects go to the block's result

    sluice::encoded_block operator()(sluice::text_block& b) const {
        sluice::encoded_block out;
        out.index = b.index;
        sluice::json::jsonl_options o = jo;
        o.origin = b.origin();
        if (collect)
            o.errors = collect_rejects(out);
        auto recs = block_bytes(b) | sluice::json::read_jsonl(std::move(o));
        sluice::run_context ctx;
        recs.bind(ctx);
        sluice::json::jsonl_encoder enc;
        sluice::chunk c = block_output(b);
        while (auto r = recs.next())
            enc.encode(*r, c);
        out.chunks.push_back(std::move(c));
        out.records = recs.record_count();
        return out;
    }
};

/// blocks | parallel_map(job) | unpack_blocks | encode meter | progress -> sink.
template <class Blocks, class Job>
std::uint64_t drive_blocks(Blocks&& blocks, Job job, run_env& env,
                           const sluice::any_error_policy& errors,
                           std::function<void(sluice::encoded_block&, std::uint64_t)> on_block = {}) {
    std::uint64_t rows = 0;
    // The pool is part of the records stage in --stats (records.workers: blocks in and
    // out, the writer's wait for them); "records" counts the rows as the one-thread
    // pipeline's meter does. Three blocks in flight per worker ride out uneven blocks; a
    // --memory budget may allow fewer.
    const unsigned workers =
        env.threads > 0 ? static_cast<unsigned>(env.threads) : std::max(1u, std::thread::hardware_concurrency());
    sluice::parallel_options pool{.workers = workers,
                                  .window = 3 * std::size_t{workers},
                                  .name = "records.workers",
                                  .record_bytes = block_bytes_in + block_bytes_out};
    sluice::unpack_blocks_options unpack;
    unpack.records_name = "records";
    unpack.on_records = [&rows](std::uint64_t n) { rows += n; };
    unpack.on_block = std::move(on_block);
    unpack.errors = errors;
    sluice::progress_options prog = env.progress;
    prog.items_probe = [&rows] { return rows; };
    // drainable: a drain request stops the cutting at a block boundary; the blocks taken
    // are written and committed.
    auto out = std::forward<Blocks>(blocks) | sluice::drainable()
               | sluice::parallel_map(std::move(job), std::move(pool))
               | sluice::unpack_blocks(std::move(unpack)) | sluice::meter("encode")
               | sluice::progress(
                   [&env](const sluice::progress_info& p) {
                       env.rows = p.items;
                       env.display(p);
                   },
                   std::move(prog));
    const std::uint64_t written = sluice::run(out, env.sink, env.run);
    env.rows = rows;
    return written;
}

/// Every block allocates buffers of a few hundred KiB (the block, the reader's copy, the
/// output) on one thread and frees them on another. With glibc's arena per thread the
/// freed ones pile up in the arena that made them while the others fault in fresh pages:
/// 75-90 thousand page faults per GB, and a peak that crept up by 10-15 % between a 20 MB
/// and a 2 GB input (cli_peak_rss). One arena for the process lets every thread reuse
/// what the others freed: 16-29 thousand faults, the peak within a few percent
/// (docs/benchmarks.md); the allocations are a few per block, so one lock costs nothing.
/// Buffers of 4 MiB or more (a record longer than a block, grown step by step in the
/// splitter, the reader and the output) are mapped and unmapped: left to glibc's sliding
/// threshold, the freed growth steps stayed in the heap and a 30 MiB JSON line peaked at
/// 143 MiB instead of the one-thread 96 MiB (cli_hardening).
/// Fixing the mmap threshold also fixes glibc's trim threshold at its 128 KiB default, and
/// the top of the heap, where the blocks come and go, was handed back and faulted in again
/// all run long: ~30 thousand page faults per 450 MB of CSV. Trimming only above 8 MiB:
/// ~2.3 thousand, 7 % less wall time, the same peak (a 2.5 MiB pipeline's freed blocks are
/// reused long before 8 MiB of them is free).
void share_one_heap() {
#if defined(__GLIBC__)
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 8 << 20);
#endif
}

/// The blocks are cut on the reading thread, ahead of the workers ("read.queue": blocks).
sluice::prefetch_options block_queue(const sluice::block_options& bo) {
    return {.capacity = 2, .name = "read.queue", .item_bytes = bo.block_bytes + bo.block_bytes / 4};
}

/// The block-parallel conversion of `bytes` (block_parallel() said yes): reading,
/// decompressing and cutting on one thread, parsing and encoding on the workers, writing
/// on this one.
template <class Bytes>
std::uint64_t convert_blocks(Bytes&& bytes, const conversion& c, run_env& env,
                             const sluice::any_error_policy& errors) {
    share_one_heap();
    const bool collect = !errors.fails();
    sluice::block_options bo;
    if (is_delimited(c.in)) {
        sluice::csv::read_options ro = csv_input_options(c.in, c.out, {}, env);
        bo.max_record_size = ro.max_record_size;
        auto blocks = std::forward<Bytes>(bytes) | sluice::csv::record_blocks(bo, ro.quote)
                      | sluice::prefetch(block_queue(bo));
        if (c.out == data_format::jsonl) {
            auto make = [] { return sluice::json::jsonl_encoder{}; };
            return drive_blocks(std::move(blocks), csv_block_job<decltype(make)>{ro, make}, env,
                                errors);
        }
        sluice::csv::write_options wo = csv_output_options(c.out, env);
        auto make = [wo] {
            sluice::csv::write_options w = wo;
            w.write_header = false;
            return sluice::csv::encoder(w);
        };
        csv_block_job<decltype(make)> job{ro, make};
        // The header line goes before the first record, wherever it was parsed: the block
        // that read the header may hold no record (a header wider than the first block).
        auto header = [gate = job.gate, enc = sluice::csv::encoder(wo),
                       done = false](sluice::encoded_block& b, std::uint64_t) mutable {
            if (done || b.records == 0)
                return;
            done = true;
            const auto h = gate->learned();
            if (!h || !*h)
                return;
            sluice::chunk line;
            enc.encode((*h)->names(), line);
            b.chunks.insert(b.chunks.begin(), std::move(line));
        };
        return drive_blocks(std::move(blocks), std::move(job), env, errors, std::move(header));
    }
    sluice::json::jsonl_options jo;
    bo.max_record_size = jo.max_record_size;
    auto blocks = std::forward<Bytes>(bytes) | sluice::line_blocks(bo) | sluice::prefetch(block_queue(bo));
    if (c.out == data_format::jsonl)
        return drive_blocks(std::move(blocks), jsonl_block_job{jo, collect}, env, errors);
    sluice::csv::write_options wo = csv_output_options(c.out, env);
    wo.write_header = false;
    return drive_blocks(std::move(blocks), jsonl_to_csv_block_job{jo, wo, env.opt.columns, collect},
                        env, errors);
}

/// Parses the decompressed bytes in the input format and writes the output format; every
/// stage that can reject a record takes `policy`.
template <class Bytes, class Policy>
std::uint64_t convert_bytes(Bytes&& bytes, const conversion& c, const Policy& policy,
                            run_env& env) {
    switch (c.in) {
        case data_format::parquet:
            break;  // run_convert_parquet
        case data_format::csv:
        case data_format::tsv:
            return from_csv(std::forward<Bytes>(bytes), c.in, c.out, policy, env);
        case data_format::jsonl: {
            sluice::json::jsonl_options jo;
            jo.errors = policy;
            return from_json_records(std::forward<Bytes>(bytes) | sluice::json::read_jsonl(jo),
                                     c.out, policy, env);
        }
        case data_format::json: {
            sluice::json::array_options ao;
            ao.errors = policy;
            return from_json_records(std::forward<Bytes>(bytes) | sluice::json::read_array(ao),
                                     c.out, policy, env);
        }
    }
    return 0;
}

/// Parquet input: read with random access (a file: pread; an S3 object: ranged GETs), a
/// row group at a time, typed values to the output format.
std::uint64_t convert_parquet(const conversion& c, const io_options& io, run_env& env) {
    auto rows = sluice::parquet::read(open_random_access(env.opt.input, io));
    switch (c.out) {
        case data_format::csv:
        case data_format::tsv: {
            sluice::csv::write_options wo;
            wo.delimiter = c.out == data_format::tsv ? '\t' : ',';
            wo.crlf = env.opt.crlf;
            sluice::parquet::csv_encoder enc(rows.columns(), wo);
            return drive(std::move(rows), std::move(enc), env);
        }
        case data_format::jsonl:
            return drive(std::move(rows), sluice::parquet::jsonl_encoder{}, env);
        case data_format::json:
            return drive(std::move(rows), sluice::parquet::json_array_encoder{}, env);
        case data_format::parquet:
            break;
    }
    usage("Parquet to Parquet is not a conversion sluice makes");
}

/// --progress: the bar, then a summary line and the stage table; --stats: the JSON of every
/// stage's counters, last. Skipped records are always worth a summary line.
void report(const convert_options& o, const run_control& ctl, const run_env& env, const input& src,
            std::uint64_t written, const dead_letters* bad, const sluice::metrics& metrics,
            std::chrono::steady_clock::time_point t0) {
    sluice::run_summary sum;
    sum.rows = env.rows;
    sum.bytes_in = static_cast<double>(src.bytes.bytes());
    sum.bytes_out = static_cast<double>(written);
    sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (bad)
        sum.extra = ", " + std::to_string(bad->count()) + " bad records skipped"
                    + (bad->path().empty() ? "" : ", written to " + bad->path());
    sluice::print_run_report({o.progress || (bad && bad->count()), o.progress, ctl.stats}, sum,
                             metrics);
}

}  // namespace

/// `sluice convert in.parquet out.jsonl`: no byte stream in (the reader seeks), no rejects.
int run_convert_parquet(const convert_options& o, const conversion& c, const io_options& io,
                        const run_control& ctl, std::chrono::steady_clock::time_point t0) {
    sluice::any_byte_sink sink = open_output(o.output, io);
    run_env env{o, sink, {}, {}, {}, sluice::progress_display(o.progress), 0};
    if (c.compression != sluice::compression::format::none)
        env.codec = make_output_codec(c.compression, o.level, io.threads);
    sluice::metrics metrics;
    env.run = ctl.options(ctl.stats || o.progress ? &metrics : nullptr);
    env.progress.interval = env.display.interval();
    const std::uint64_t written = convert_parquet(c, io, env);
    sluice::run_summary sum;
    sum.rows = env.rows;
    sum.bytes_out = static_cast<double>(written);
    sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sluice::print_run_report({o.progress, o.progress, ctl.stats}, sum, metrics);
    return ctl.shutdown.drain_requested() ? exit_cancelled : exit_ok;
}

int run_convert(const convert_options& o, const io_options& io, const run_control& ctl) {
    if (converts_to_parquet(o))
        return run_convert_to_parquet(o, io, ctl);
    auto t0 = std::chrono::steady_clock::now();
    const conversion c = resolve(o);
    if (c.in == data_format::parquet)
        return run_convert_parquet(o, c, io, ctl, t0);
    input src = open_input(o.input, io, o.progress);
    sluice::any_byte_sink sink = open_output(o.output, io);
    std::optional<dead_letters> bad;
    if (o.on_error == "skip")
        bad.emplace(o.dead_letter, o.max_errors);

    run_env env{o, sink, {}, {}, {}, sluice::progress_display(o.progress), 0};
    if (c.compression != sluice::compression::format::none)
        env.codec = make_output_codec(c.compression, o.level, io.threads);
    else
        env.pipeline = pipelined(io.threads);
    env.threads = io.threads;
    // The counters feed the stage table of --progress and the JSON of --stats.
    sluice::metrics metrics;
    env.run = ctl.options(ctl.stats || o.progress ? &metrics : nullptr);
    env.progress.interval = env.display.interval();
    env.progress.total_bytes = src.size;
    const sluice::any_byte_source& counter = src.bytes;
    env.progress.bytes_probe = [&counter] { return counter.bytes(); };

    std::uint64_t written = 0;
    try {
        // The input's name is a claim: data.csv.gz must hold gzip (magic bytes decide only
        // when the name says nothing: `-`, data.csv).
        // Plain input goes on in the reader's 256 KiB chunks (no copy) where the block
        // splitter takes it at once; a pipeline queue holds chunks of the codec's 64 KiB.
        const bool blocks = block_parallel(c, o, env);
        auto decoded = src.bytes | sluice::meter("read")
                       | sluice::auto_decompress(o.input, {.pass_through = blocks})
                       | sluice::meter("decompress");
        if (blocks) {
            written = convert_blocks(sluice::any_byte_source(std::move(decoded)), c, env,
                                     bad ? sluice::any_error_policy(bad->policy())
                                         : sluice::any_error_policy());
        } else {
            // Pipelined: reading and decompressing run ahead on their own thread (the chunk
            // queue "read.queue"). Either way the bytes are one erased source type, so the
            // formats' code is compiled once.
            sluice::any_byte_source bytes =
                env.pipeline ? sluice::any_byte_source(
                                   std::move(decoded)
                                   | sluice::prefetch(pipeline_queue("read.queue")))
                             : sluice::any_byte_source(std::move(decoded));
            written = bad ? convert_bytes(std::move(bytes), c, bad->policy(), env)
                          : convert_bytes(std::move(bytes), c, sluice::on_error::fail, env);
        }
        if (bad)
            bad->commit();
    } catch (...) {
        if (bad)
            bad->abort(sluice::current_error());
        throw;
    }
    report(o, ctl, env, src, written, bad ? &*bad : nullptr, metrics, t0);
    // A drained run committed what it read, but it was cut short: say so in the status.
    return ctl.shutdown.drain_requested() ? exit_cancelled : exit_ok;
}

}  // namespace cli
