#include <catch2/catch.hpp>

#include <sluice/compress/parallel_gzip.hpp>
#include <sluice/adaptors/prefetch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "../adaptors/thread_support.hpp"
#include "test_support.hpp"

using namespace sluice_test;

namespace {
std::string gunzip(std::string_view packed) {
    return decompress_all(packed, sluice::gzip::zlib_decompressor());
}
}  // namespace

TEST_CASE("parallel gzip round-trips every size, on 1-4 threads", "[compress][parallel_gzip]") {
    for (unsigned threads : {1u, 2u, 4u}) {
        for (std::size_t n : round_trip_sizes) {
            INFO("threads " << threads << ", size " << n);
            const std::string data = text_bytes(n);
            // Small blocks so that even 1 MB makes many members in flight at once.
            const std::string packed =
                compress_all(data, sluice::gzip::default_parallel_compressor(6, threads, 64 * 1024));
            REQUIRE(packed.size() >= 20);  // at least one member, even for empty input
            CHECK(gunzip(packed) == data);
        }
    }
}

TEST_CASE("parallel gzip with zlib members round-trips", "[compress][parallel_gzip]") {
    const std::string data = text_bytes(3'000'000);
    using enc = sluice::gzip::basic_parallel_compressor<sluice::gzip::zlib_member>;
    const std::string packed = compress_all(data, enc(6, 3, 256 * 1024));
    CHECK(gunzip(packed) == data);
    // Within 3% of one zlib stream at the same level (the bar).
    const std::string single = compress_all(data, sluice::gzip::zlib_compressor(6));
    CHECK(static_cast<double>(packed.size()) <= 1.03 * static_cast<double>(single.size()));
}

#if defined(SLUICE_HAVE_LIBDEFLATE) && SLUICE_HAVE_LIBDEFLATE
TEST_CASE("parallel gzip output equals the single-threaded libdeflate encoder's",
          "[compress][parallel_gzip]") {
    const std::string data = text_bytes(5'500'000);
    // The same block size on both sides: the parallel default (512 KiB) is not the
    // single-threaded one (1 MiB).
    constexpr std::size_t block = sluice::gzip::default_parallel_compressor::default_block_size;
    const std::string single = compress_all(data, sluice::gzip::libdeflate_block_compressor(6, block));
    const std::string parallel = compress_all(data, sluice::gzip::default_parallel_compressor(6, 2));
    CHECK(parallel == single);  // same members in the same order
    const std::string parallel_1m =
        compress_all(data, sluice::gzip::default_parallel_compressor(6, 2, std::size_t{1} << 20));
    CHECK(parallel_1m == compress_all(data, sluice::gzip::libdeflate_block_compressor(6)));
}
#endif

TEST_CASE("parallel gzip is readable by gzip(1) and Python's gzip module",
          "[compress][parallel_gzip]") {
    const std::string data = text_bytes(2'500'000) + random_bytes(300'000);
    temp_file packed("parallel_gzip_cli.gz",
                     compress_all(data, sluice::gzip::default_parallel_compressor(6, 2, 256 * 1024)));
    temp_file plain("parallel_gzip_cli.txt", data);
    if (shell("command -v gzip >/dev/null") == 0) {
        CHECK(shell("gzip -t " + packed.path()) == 0);
        CHECK(shell("gzip -dc " + packed.path() + " | cmp -s - " + plain.path()) == 0);
    }
    if (shell("command -v python3 >/dev/null") == 0) {
        const std::string py = "python3 -c 'import gzip,sys; a=gzip.open(sys.argv[1]).read(); "
                               "b=open(sys.argv[2],\"rb\").read(); sys.exit(0 if a==b else 1)' ";
        CHECK(shell(py + packed.path() + " " + plain.path()) == 0);
    }
}

TEST_CASE("make_parallel_compressor picks a codec per format and thread count",
          "[compress][parallel_gzip]") {
    using sluice::compression::format;
    const std::string data = text_bytes(1'500'000);
    auto gz = sluice::compression::make_parallel_compressor(format::gzip, 6, 2);
    CHECK(gz.target<sluice::gzip::default_parallel_compressor>() != nullptr);
    CHECK(gunzip(compress_all(data, std::move(gz))) == data);
    auto one = sluice::compression::make_parallel_compressor(format::gzip, 6, 1);
    CHECK(one.target<sluice::gzip::default_compressor>() != nullptr);
    auto zs = sluice::compression::make_parallel_compressor(format::zstd, 3, 2);
    CHECK(decompress_all(compress_all(data, std::move(zs)), sluice::zstd::decompressor()) == data);
}

TEST_CASE("parallel gzip behind prefetch: two threads of pipeline and two of compression",
          "[compress][parallel_gzip]") {
    const std::string data = text_bytes(4'000'000);
    std::string out;
    sluice::from_range(split_chunks(data)) | sluice::prefetch(4) |
        sluice::compress(sluice::gzip::default_parallel_compressor(6, 2, 128 * 1024)) |
        sluice::for_each([&](auto& c) { out.append(sluice::bytes_of(c)); });
    CHECK(gunzip(out) == data);
}

TEST_CASE("a parallel encoder that is dropped unfinished joins its threads",
          "[compress][parallel_gzip]") {
    const std::string data = text_bytes(3'000'000);
    {
        sluice::gzip::default_parallel_compressor enc(6, 2, 64 * 1024);
        sluice::chunk out(64 * 1024);
        std::string_view in = data;
        while (!in.empty() && out.spare() != 0) in.remove_prefix(enc.process(in, out));
        CHECK(enc.members() > 0);
    }  // destroyed mid-stream: must not hang or crash
    SUCCEED();
}

TEST_CASE("a compress stage's parallel encoder is joined when the run ends",
          "[compress][parallel_gzip]") {
    const int before = thread_count();
    const std::string data = text_bytes(2'000'000);
    // An lvalue pipeline outlives the run: its encoder's threads must not.
    auto p = sluice::from_range(split_chunks(data)) |
             sluice::compress(sluice::gzip::default_parallel_compressor(6, 2, 64 * 1024)) |
             sluice::take(1);
    CHECK(sluice::run(p, sluice::count()) == 1);
    CHECK(threads_back_to(before));
    // The same through any_codec, as the CLI builds it.
    auto q = sluice::from_range(split_chunks(data)) |
             sluice::compress(sluice::compression::make_parallel_compressor(
                 sluice::compression::format::gzip, 6, 2)) |
             sluice::take(1);
    CHECK(sluice::run(q, sluice::count()) == 1);
    CHECK(threads_back_to(before));
}

TEST_CASE("cancelling a run stops a parallel encoder waiting for its workers",
          "[compress][parallel_gzip]") {
    const int before = thread_count();
    const std::string data = text_bytes(3'000'000);
    std::stop_source stop;
    sluice::run_options o;
    o.stop = stop.get_token();
    int n = 0;
    auto r = sluice::try_run(sluice::from_range(split_chunks(data)) |
                                 sluice::compress(sluice::gzip::default_parallel_compressor(6, 2, 64 * 1024),
                                                  {.chunk_size = 4096}),
                             sluice::for_each([&](auto&) {
                                 if (++n == 3) stop.request_stop();
                             }),
                             o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::cancelled);
    CHECK(threads_back_to(before));
}

TEST_CASE("parallel gzip reports its blocks and waits in the run's metrics",
          "[compress][parallel_gzip][metrics]") {
    const std::string data = text_bytes(3'000'000);
    sluice::metrics m;
    sluice::run_options o;
    o.metrics = &m;
    std::string out;
    sluice::run(sluice::from_range(split_chunks(data)) |
                    sluice::compress(sluice::gzip::default_parallel_compressor(6, 2, 256 * 1024)),
                sluice::for_each([&](auto& c) { out.append(sluice::bytes_of(c)); }), o);
    CHECK(gunzip(out) == data);
    bool found = false;
    for (const auto& c : m.snapshot()) {
        if (c.name != "compress.threads") continue;
        found = true;
        const std::uint64_t blocks = (data.size() + 256 * 1024 - 1) / (256 * 1024);
        CHECK(c.in == blocks);   // submitted
        CHECK(c.out == blocks);  // written, in order
        CHECK(c.queue_high_water >= 1);
        CHECK(c.queue_high_water <= c.queue_capacity);
        // 12 blocks on 2 threads: the caller waits for the last ones at least.
        CHECK(c.blocked_downstream_ns > 0);
    }
    CHECK(found);
}

namespace {
/// A member compressor slower than any caller: the caller gets ahead of the threads.
struct slow_member {
    static constexpr std::size_t state_bytes = 0;
    explicit slow_member(int) {}
    void operator()(std::string_view in, sluice::chunk& out) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        sluice::gzip::zlib_member(1)(in, out);
    }
};
}  // namespace

TEST_CASE("the caller fills the next block while every thread compresses one",
          "[compress][parallel_gzip][metrics]") {
    const std::string data = text_bytes(8 * 64 * 1024);
    sluice::metrics m;
    sluice::run_options o;
    o.metrics = &m;
    std::string out;
    sluice::run(sluice::from_range(split_chunks(data)) |
                    sluice::compress(sluice::gzip::basic_parallel_compressor<slow_member>(1, 2, 64 * 1024)),
                sluice::for_each([&](auto& c) { out.append(sluice::bytes_of(c)); }), o);
    CHECK(gunzip(out) == data);
    for (const auto& c : m.snapshot()) {
        if (c.name != "compress.threads") continue;
        CHECK(c.in == 8);
        // Two blocks compressing and a third one filled and queued behind them: no thread
        // waits for the caller to read the next block.
        CHECK(c.queue_capacity == 3);
        CHECK(c.queue_high_water == 3);
    }
}
