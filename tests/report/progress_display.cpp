#include <catch2/catch.hpp>

#include <sluice/report/progress_display.hpp>
#include <sluice/sluice.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace {

/// Everything written to a temporary FILE* (not a terminal: one line per report).
std::string written(std::FILE* f) {
    std::fflush(f);
    std::rewind(f);
    std::string s;
    char buf[256];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, f))
        s.append(buf, n);
    return s;
}

}  // namespace

TEST_CASE("progress_display: a plain line per report off a terminal",
          "[report][progress_display]") {
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    sluice::progress_display show(true, "rows", f);
    CHECK(show.interval() == std::chrono::milliseconds(2000));
    sluice::progress_info p;
    p.items = 1234;
    p.bytes = 5'100'000;
    p.bytes_per_second = 2'000'000;
    p.elapsed_seconds = 3;
    p.percent = 42.0;
    p.eta_seconds = 4;
    show(p);
    p.done = true;
    show(p);
    CHECK(written(f) ==
          " 42.0% 1,234 rows, 5.1 MB, 2.0 MB/s, 0:03, ETA 0:04\n"
          " 42.0% 1,234 rows, 5.1 MB, 2.0 MB/s, 0:03\n");
    std::fclose(f);
}

TEST_CASE("progress_display: disabled draws nothing", "[report][progress_display]") {
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    sluice::progress_display show(false, "rows", f);
    sluice::progress_options o;
    o.interval = std::chrono::milliseconds(0);
    sluice::iota(0, 1000) | sluice::progress(std::ref(show), o) | sluice::count();
    CHECK(written(f).empty());
    std::fclose(f);
}

TEST_CASE("progress_display: as the callback of the progress stage", "[report][progress_display]") {
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    sluice::progress_display show(true, "records", f);
    sluice::progress_options o;
    o.interval = std::chrono::hours(1);
    o.total_items = 1000;
    sluice::iota(0, 1000) | sluice::progress(std::ref(show), o) | sluice::count();
    const std::string out = written(f);
    CHECK(out.rfind("100.0% 1,000 records, 0 B, ", 0) == 0);
    CHECK(out.find("ETA") == std::string::npos);  // the last report has none
    std::fclose(f);
}
