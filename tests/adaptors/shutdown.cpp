#include <catch2/catch.hpp>

#include "thread_support.hpp"

#include <sluice/adaptors/parallel_map.hpp>
#include <sluice/adaptors/prefetch.hpp>
#include <sluice/core/shutdown.hpp>
#include <sluice/sluice.hpp>

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace {
/// Files in the working directory whose name contains `part` (to_file's temporaries).
int files_containing(const std::string& part) {
    int n = 0;
    if (DIR* d = ::opendir(".")) {
        while (dirent* e = ::readdir(d))
            if (std::string(e->d_name).find(part) != std::string::npos) ++n;
        ::closedir(d);
    }
    return n;
}
std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}
bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

/// An endless source of numbered lines through prefetch and parallel_map (in flight work
/// on three threads), encoded and written atomically.
template <class Hook>
auto endless_lines(Hook hook) {
    return sluice::iota(0) | sluice::drainable() | sluice::prefetch(8) |
           sluice::parallel_map([](int x) { return std::to_string(x); }, {.workers = 2}) |
           sluice::map([hook](std::string& s) {
               hook(s);
               return s;
           }) |
           sluice::encode(sluice::line_encoder{}, {.chunk_size = 1024});
}
}  // namespace

TEST_CASE("drain stops reading, finishes what is in flight and commits",
          "[adaptor][shutdown]") {
    const std::string path = "drained.txt";
    ::unlink(path.c_str());
    const int before = thread_count();
    sluice::shutdown sd;
    auto written = sluice::run(endless_lines([&](const std::string& s) {
                                   if (s == "5000") sd.drain();
                               }),
                               sluice::to_file(path), sd.options());
    CHECK(written > 0);
    REQUIRE(exists(path));
    // Every line from 0 up to where the drain cut, complete and in order: nothing in
    // flight was lost, nothing after the cut was read past the queues' capacity.
    const std::string text = slurp(path);
    CHECK(static_cast<std::uint64_t>(text.size()) == written);
    std::size_t pos = 0;
    int expect = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        REQUIRE(nl != std::string::npos);
        REQUIRE(text.substr(pos, nl - pos) == std::to_string(expect));
        ++expect;
        pos = nl + 1;
    }
    CHECK(expect > 5000);
    CHECK(expect < 5000 + 64);  // the queue and the window, not the rest of the input
    CHECK(sd.drain_requested());
    CHECK_FALSE(sd.drop_requested());
    CHECK(threads_back_to(before));
    CHECK(files_containing(".drained.txt.sluice-") == 0);
    ::unlink(path.c_str());
}

TEST_CASE("drop cancels, aborts the output and leaves no file", "[adaptor][shutdown]") {
    const std::string path = "dropped.txt";
    ::unlink(path.c_str());
    const int before = thread_count();
    sluice::shutdown sd;
    auto r = sluice::try_run(endless_lines([&](const std::string& s) {
                                 if (s == "5000") sd.drop();
                             }),
                             sluice::to_file(path), sd.options());
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::cancelled);
    CHECK_FALSE(exists(path));
    CHECK(files_containing(".dropped.txt.sluice-") == 0);
    CHECK(threads_back_to(before));
}

TEST_CASE("drainable(sd) watches a controller without the run's options",
          "[adaptor][shutdown]") {
    sluice::shutdown sd;
    int n = 0;
    auto count = sluice::iota(0) | sluice::drainable(sd) | sluice::map([&](int x) {
                     if (++n == 100) sd.drain();
                     return x;
                 }) |
                 sluice::count();
    CHECK(count == 100);
}

TEST_CASE("a signal watcher turns SIGTERM into a drain, a second signal into a drop",
          "[adaptor][shutdown]") {
    sluice::shutdown sd;
    {
        sluice::signal_watcher w(sd, sluice::signal_action::drain, {SIGTERM});
        ::kill(::getpid(), SIGTERM);
        for (int i = 0; i < 200 && !sd.drain_requested(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        CHECK(sd.drain_requested());
        CHECK_FALSE(sd.drop_requested());
        CHECK(w.received() == SIGTERM);
        ::kill(::getpid(), SIGTERM);
        for (int i = 0; i < 200 && !sd.drop_requested(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        CHECK(sd.drop_requested());
    }
}
