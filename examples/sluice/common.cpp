// Inputs, outputs and codecs of the `sluice` tool.
#include "common.hpp"

#include <sluice/compress/parallel_gzip.hpp>
#include <sluice/s3/range_input.hpp>
#include <sluice/s3/s3.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

namespace cli {

int exit_status(const sluice::error& e) {
    switch (e.code()) {
        case sluice::errc::bad_input:
        case sluice::errc::usage:
        case sluice::errc::limit:
            return exit_bad_input;
        case sluice::errc::cancelled:
            return exit_cancelled;
        // io, network, server (what a database reports), out_of_memory, failed.
        default:
            return exit_failure;
    }
}

sluice::run_options run_control::options(sluice::metrics* m) const {
    sluice::run_options o = shutdown.options(m);
    o.memory_budget = memory;
    // Without --memory the output of --stats stays as it was (the plan's unconstrained
    // figures are caps, e.g. the longest record a reader accepts, not what it will hold).
    if (stats && memory)
        o.on_memory_plan = [](const sluice::memory_plan& p) {
            std::fprintf(stderr, "sluice: memory plan\n%s\n", p.breakdown().c_str());
        };
    return o;
}

void report_error(const sluice::error& e) {
    std::fprintf(stderr, "sluice: %s\n", e.what());
}

namespace {

sluice::s3::config s3_config(const io_options& io) {
    auto cfg = sluice::s3::config::from_env();
    cfg.retry.max_attempts = io.retries < 1 ? 1 : io.retries;
    cfg.retry.base_delay = std::chrono::milliseconds(io.retry_delay_ms);
    return cfg;
}

}  // namespace

input open_input(const std::string& spec, const io_options& io, bool want_size) {
    if (spec == "-")
        return {sluice::read_stdin(), std::nullopt};
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
                if (!len.empty())
                    size = std::stoull(len);
            } catch (const sluice::error&) {
            }
        }
        return {sluice::s3::read(client, loc.bucket, loc.key), size};
    }
    auto src = sluice::read_file(spec);
    auto size = src.size_hint();
    return {std::move(src), size};
}

std::unique_ptr<sluice::random_access_input> open_random_access(const std::string& spec, const io_options& io) {
    if (spec == "-")
        throw sluice::error(sluice::errc::usage, "input",
                            "Parquet input must be a file or an s3:// URL (it is read with random access, not from stdin)");
    if (sluice::s3::is_s3_url(spec)) {
        auto loc = sluice::s3::parse_url(spec);
        return std::make_unique<sluice::s3::object_range_input>(sluice::s3::client(s3_config(io)), loc.bucket, loc.key);
    }
    return std::make_unique<sluice::pread_file>(spec);
}

sluice::any_byte_sink open_output(const std::string& spec, const io_options& io) {
    if (spec == "-")
        return sluice::to_stdout();
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
    struct stat st {};
    if (::stat(spec.c_str(), &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
        int fd = ::open(spec.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            throw sluice::error(sluice::errc::io, "output",
                                sluice::errno_message("cannot open", spec, errno));
        return sluice::to_fd(fd, spec);
    }
    return sluice::to_file(spec);
}

sluice::any_codec make_output_codec(sluice::compression::format f, std::optional<int> level,
                                    int threads) {
    if (f == sluice::compression::format::zstd && threads == 0)
        threads = 1;
    return sluice::compression::make_parallel_compressor(f, level, static_cast<unsigned>(threads));
}

sluice::compression::format output_compression(const std::string& flag, std::string_view output,
                                               const char* stage) {
    if (flag.empty())
        return sluice::compression::format_from_extension(output);
    auto f = sluice::compression::parse_format(flag);
    if (!f)
        throw sluice::error(sluice::errc::usage, stage,
                            "unknown compression '" + flag + "' (gzip, zstd, none)");
    return *f;
}

}  // namespace cli
