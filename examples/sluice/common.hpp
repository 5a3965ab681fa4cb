#pragma once
// Shared pieces of the `sluice` command-line tool: exit statuses, inputs and outputs by
// name (path, `-`, s3://bucket/key), data formats, the progress display, signals.

#include <sluice/compress/any_codec.hpp>
#include <sluice/compress/format.hpp>
#include <sluice/core/shutdown.hpp>
#include <sluice/sluice.hpp>

#include <cstdint>
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

/// Opens `spec` as a byte sink: a file (temporary + rename), `-` (stdout) or an S3 upload.
sluice::any_byte_sink open_output(const std::string& spec, const io_options& io);

/// The output codec for `--compress`/`--level`/`--threads`. gzip runs on every core by
/// default (independent 1 MiB members, so cancelling waits for at most one block per
/// thread); zstd is single-threaded unless --threads asks for more, because libzstd's
/// workers take whole multi-megabyte jobs that a cancellation has to wait out.
sluice::any_codec make_output_codec(sluice::compression::format f, std::optional<int> level,
                                    int threads);

/// Data formats of `convert`.
enum class format { csv, tsv, jsonl, json };
std::optional<format> parse_format(std::string_view name);
/// The format an input or output name implies (a trailing .gz/.zst is looked through).
std::optional<format> format_from_path(std::string_view path);
std::string_view to_string(format f);

/// The compression an output name implies (.gz -> gzip, .zst -> zstd, else none).
std::string compression_from_path(std::string_view path);

/// Renders progress on stderr: a live bar on a terminal, a line per report otherwise.
class progress_display {
public:
    explicit progress_display(bool enabled, std::string what = "rows");
    void operator()(const sluice::progress_info& p);
    /// The report interval suited to where stderr goes.
    std::chrono::milliseconds interval() const;

private:
    bool enabled_;
    bool tty_;
    std::string what_;
};

/// Peak resident set size of this process so far, in MiB.
double peak_rss_mib();

/// Human-readable byte count: "453.1 MB".
std::string format_bytes(double bytes);

/// What every command gets from main: the shutdown controller (SIGINT/SIGTERM drop or
/// drain the run) and whether to print the metrics of every stage.
struct run_control {
    const sluice::shutdown& shutdown;
    bool stats = false;
};

/// Prints "sluice: <message>" on stderr.
void report_error(const sluice::error& e);

}  // namespace cli
