#pragma once
// Shared pieces of the `sluice` command-line tool: exit statuses, inputs and outputs by
// name (path, `-`, s3://bucket/key), the output codec. Record formats by name
// (sluice/formats/data_format.hpp), the progress display and the end-of-run report
// (sluice/report/) are library features.

#include <sluice/compress/any_codec.hpp>
#include <sluice/compress/format.hpp>
#include <sluice/core/random_access.hpp>
#include <sluice/core/shutdown.hpp>
#include <sluice/formats/data_format.hpp>
#include <sluice/report/progress_display.hpp>
#include <sluice/report/run_report.hpp>
#include <sluice/sluice.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

namespace cli {

/// Exit statuses: 0 success, 1 the outside world failed (I/O, network, and everything a
/// database server reports: SQL it rejects, a constraint, an error mid-stream, a timeout),
/// 2 usage or malformed input data that sluice itself detects, 130 stopped by a signal.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_bad_input = 2;
inline constexpr int exit_cancelled = 130;

/// The exit status for a sluice error.
int exit_status(const sluice::error& e);

/// Options that shape how inputs and outputs are opened.
struct io_options {
    std::size_t part_size = 8u << 20;  ///< S3 multipart part size (base, grows)
    int s3_concurrency = 4;            ///< S3 parts in flight
    int retries = 5;                   ///< attempts per S3 request
    int threads = 0;                   ///< compression threads (0: all cores)
    int retry_delay_ms = 1000;         ///< S3 backoff base: doubles per retry, up to 20 s
};

/// An opened input: the raw (possibly compressed) bytes and, when known, their size.
struct input {
    sluice::any_byte_source bytes;
    std::optional<std::uint64_t> size;
};

/// Opens `spec` (a path, `-` for stdin, or s3://bucket/key). Nothing is read yet: a
/// missing file fails at the first pull, inside the run. `want_size` asks S3 for the size.
input open_input(const std::string& spec, const io_options& io, bool want_size);

/// Opens `spec` (a path or s3://bucket/key; not `-`) for random access, as a columnar
/// reader (Parquet) needs: pread for a file, ranged GETs for an S3 object.
std::unique_ptr<sluice::random_access_input> open_random_access(const std::string& spec, const io_options& io);

/// Opens `spec` as a byte sink: a file (temporary + rename), `-` (stdout) or an S3 upload.
sluice::any_byte_sink open_output(const std::string& spec, const io_options& io);

/// The output codec for `--compress`/`--level`/`--threads`. gzip runs on every core by
/// default (independent 1 MiB members, so cancelling waits for at most one block per
/// thread); zstd is single-threaded unless --threads asks for more, because libzstd's
/// workers take whole multi-megabyte jobs that a cancellation has to wait out.
sluice::any_codec make_output_codec(sluice::compression::format f, std::optional<int> level,
                                    int threads);

using sluice::data_format;

/// The output compression: `flag` (--compress) when given, else what the output's name
/// implies (none without a compression extension). An unknown name is a usage error of
/// `stage`.
sluice::compression::format output_compression(const std::string& flag, std::string_view output,
                                               const char* stage);

/// What every command gets from main: the shutdown controller (SIGINT/SIGTERM drop or
/// drain the run) and whether to print the metrics of every stage.
struct run_control {
    const sluice::shutdown& shutdown;
    bool stats = false;
    bool drain_on_signal = false;  ///< the first signal drains (--drain-on-signal)
    /// --memory: the most bytes the run's stages may buffer (none: no limit).
    std::optional<std::size_t> memory{};

    /// A command's run options: the shutdown wiring, `m` as the metrics registry and the
    /// memory budget; with --stats and --memory the settled memory plan is printed on
    /// stderr before the first record.
    sluice::run_options options(sluice::metrics* m = nullptr) const;
};

/// Prints "sluice: <message>" on stderr.
void report_error(const sluice::error& e);

}  // namespace cli
