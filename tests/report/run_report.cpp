#include <catch2/catch.hpp>

#include <sluice/report/run_report.hpp>

#include <string>
#include <vector>

TEST_CASE("summary_line: rows, bytes, time, rate of the input, peak memory",
          "[report][run_report]") {
    sluice::run_summary s;
    s.rows = 5000;
    s.bytes_in = 1.2e6;
    s.bytes_out = 310.4e3;
    s.seconds = 0.05;
    s.extra = ", 4 bad records skipped";
    const std::string line = sluice::summary_line(s);
    CHECK(line.rfind("sluice: 5,000 rows, 1.2 MB in, 310.4 kB out, 0.05 s, 24.0 MB/s, peak memory ",
                     0)
          == 0);
    CHECK(line.size() > std::string(", 4 bad records skipped").size());
    CHECK(line.substr(line.size() - 23) == ", 4 bad records skipped");
    CHECK(sluice::peak_rss_mib() > 0);
}

TEST_CASE("summary_line: the output's rate without an input size", "[report][run_report]") {
    sluice::run_summary s;
    s.rows = 1;
    s.bytes_out = 2e6;
    s.seconds = 1;
    CHECK(sluice::summary_line(s).rfind("sluice: 1 rows, 2.0 MB out, 1.00 s, 2.0 MB/s, ", 0) == 0);
}

TEST_CASE("stage_table: aligned, rejects and errors only when some stage has any",
          "[report][run_report]") {
    std::vector<sluice::counters_snapshot> stages(2);
    stages[0].name = "read";
    stages[0].in = 10;
    stages[0].out = 10;
    stages[0].bytes = 2000;
    stages[1].name = "records";
    stages[1].in = 1500;
    stages[1].out = 1500;
    CHECK(sluice::stage_table(stages) ==
          "  stage       in    out  bytes out\n"
          "  read        10     10     2.0 kB\n"
          "  records  1,500  1,500          -\n");
    stages[1].rejects = 3;
    CHECK(sluice::stage_table(stages) ==
          "  stage       in    out  bytes out  rejects\n"
          "  read        10     10     2.0 kB        0\n"
          "  records  1,500  1,500          -        3\n");
    CHECK(sluice::stage_table({}).empty());
}
