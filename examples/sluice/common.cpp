// Inputs, outputs, formats, progress and signals of the `sluice` tool.
#include "common.hpp"

#include <sluice/compress/parallel_gzip.hpp>
#include <sluice/s3/s3.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>

namespace cli {

int exit_status(const sluice::error& e) {
    switch (e.code()) {
        case sluice::errc::bad_input:
        case sluice::errc::usage:
        case sluice::errc::limit: return exit_bad_input;
        case sluice::errc::cancelled: return exit_cancelled;
        // io, network, server (what a database reports), out_of_memory, failed.
        default: return exit_failure;
    }
}

void report_error(const sluice::error& e) { std::fprintf(stderr, "sluice: %s\n", e.what()); }

namespace {

sluice::s3::config s3_config(const io_options& io) {
    auto cfg = sluice::s3::config::from_env();
    cfg.retry.max_attempts = io.retries < 1 ? 1 : io.retries;
    cfg.retry.base_delay = std::chrono::milliseconds(io.retry_delay_ms);
    return cfg;
}

std::string lower_extension(std::string_view path) {
    std::size_t slash = path.find_last_of('/');
    std::size_t dot = path.find_last_of('.');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
        return {};
    std::string e(path.substr(dot + 1));
    for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return e;
}

std::string_view strip_compression(std::string_view path) {
    std::string e = lower_extension(path);
    if (e == "gz" || e == "gzip" || e == "zst" || e == "zstd")
        return path.substr(0, path.find_last_of('.'));
    return path;
}

}  // namespace

input open_input(const std::string& spec, const io_options& io, bool want_size) {
    if (spec == "-") return {sluice::read_stdin(), std::nullopt};
    if (sluice::s3::is_s3_url(spec)) {
        auto loc = sluice::s3::parse_url(spec);
        auto cfg = s3_config(io);
        sluice::s3::client client(cfg);
        std::optional<std::uint64_t> size;
        if (want_size) {
            // One HEAD for the progress percentage; a failure here is not fatal.
            try {
                auto head = client.head_object(loc.bucket, loc.key);
                auto len = head.header("content-length");
                if (!len.empty()) size = std::stoull(len);
            } catch (const sluice::error&) {
            }
        }
        return {sluice::s3::read(client, loc.bucket, loc.key), size};
    }
    auto src = sluice::read_file(spec);
    auto size = src.size_hint();
    return {std::move(src), size};
}

sluice::any_byte_sink open_output(const std::string& spec, const io_options& io) {
    if (spec == "-") return sluice::to_stdout();
    if (sluice::s3::is_s3_url(spec)) {
        auto loc = sluice::s3::parse_url(spec);
        sluice::s3::upload_options o;
        o.part_size = io.part_size;
        o.concurrency = static_cast<std::size_t>(io.s3_concurrency < 1 ? 1 : io.s3_concurrency);
        return sluice::s3::upload(s3_config(io), loc.bucket, loc.key, o);
    }
    // A FIFO or a device (/dev/null, /dev/stdout) cannot be replaced atomically, and must not
    // be replaced at all: it is written through, like `-`. Its descriptor lives as long as
    // the process (one output per run).
    struct stat st{};
    if (::stat(spec.c_str(), &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
        int fd = ::open(spec.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) throw sluice::error(sluice::errc::io, "output", sluice::detail::errno_message("cannot open", spec, errno));
        return sluice::to_fd(fd, spec);
    }
    return sluice::to_file(spec);
}

sluice::any_codec make_output_codec(sluice::compression::format f, std::optional<int> level,
                                    int threads) {
    if (f == sluice::compression::format::zstd && threads == 0) threads = 1;
    return sluice::compression::make_parallel_encoder(f, level, static_cast<unsigned>(threads));
}

std::optional<format> parse_format(std::string_view n) {
    if (n == "csv") return format::csv;
    if (n == "tsv") return format::tsv;
    if (n == "jsonl" || n == "ndjson") return format::jsonl;
    if (n == "json") return format::json;
    return std::nullopt;
}

std::optional<format> format_from_path(std::string_view path) {
    if (sluice::s3::is_s3_url(path)) path = path.substr(path.find('/', 5) == std::string_view::npos ? path.size() : path.find('/', 5));
    std::string e = lower_extension(strip_compression(path));
    if (e.empty()) return std::nullopt;
    if (e == "tab") return format::tsv;
    return parse_format(e);
}

std::string_view to_string(format f) {
    switch (f) {
        case format::csv: return "csv";
        case format::tsv: return "tsv";
        case format::jsonl: return "jsonl";
        case format::json: return "json";
    }
    return "?";
}

std::string compression_from_path(std::string_view path) {
    std::string e = lower_extension(path);
    if (e == "gz" || e == "gzip") return "gzip";
    if (e == "zst" || e == "zstd") return "zstd";
    return "none";
}

std::string format_bytes(double b) {
    char buf[32];
    if (b < 1e3)
        std::snprintf(buf, sizeof buf, "%.0f B", b);
    else if (b < 1e6)
        std::snprintf(buf, sizeof buf, "%.1f kB", b / 1e3);
    else if (b < 1e9)
        std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
    else
        std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
    return buf;
}

namespace {
std::string format_count(std::uint64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
    return s;
}
std::string format_duration(double s) {
    if (!std::isfinite(s) || s < 0) return "?";
    auto t = static_cast<long>(s + 0.5);
    char buf[32];
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
    return buf;
}
}  // namespace

progress_display::progress_display(bool enabled, std::string what)
    : enabled_(enabled), tty_(::isatty(2) == 1), what_(std::move(what)) {}

std::chrono::milliseconds progress_display::interval() const {
    return tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(2000);
}

void progress_display::operator()(const sluice::progress_info& p) {
    if (!enabled_) return;
    std::string line;
    if (p.percent) {
        int width = 24;
        int filled = static_cast<int>(*p.percent / 100.0 * width + 0.5);
        if (tty_) {
            line += '[';
            line += std::string(static_cast<std::size_t>(filled), '#');
            line += std::string(static_cast<std::size_t>(width - filled), ' ');
            line += "] ";
        }
        char pct[16];
        std::snprintf(pct, sizeof pct, "%5.1f%% ", *p.percent);
        line += pct;
    }
    line += format_count(p.items) + " " + what_ + ", " + format_bytes(static_cast<double>(p.bytes)) +
            ", " + format_bytes(p.bytes_per_second) + "/s, " + format_duration(p.elapsed_seconds);
    if (p.eta_seconds && !p.done) line += ", ETA " + format_duration(*p.eta_seconds);
    if (tty_)
        std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), p.done ? "\n" : "");
    else
        std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
}

double peak_rss_mib() {
    struct rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

}  // namespace cli
