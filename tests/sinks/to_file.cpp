// Atomic file output: a failing or cancelled pipeline leaves no file, no temporary file, and
// an existing destination unchanged.
#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <stop_token>
#include <string>

namespace fs = std::filesystem;

namespace {
std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
fs::path fresh_dir(const std::string& name) {
    fs::path d = fs::current_path() / name;
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}
std::size_t entries(const fs::path& d) {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(d), fs::directory_iterator()));
}
auto numbers(int n) { return sluice::iota(0, n) | sluice::encode(sluice::line_encoder{}); }
}  // namespace

TEST_CASE("to_file writes the output and returns the byte count", "[sinks][to_file]") {
    auto d = fresh_dir("to_file_ok");
    auto n = numbers(1000) | sluice::to_file((d / "out.txt").string());
    auto content = slurp(d / "out.txt");
    CHECK(n == content.size());
    CHECK(content.substr(0, 6) == "0\n1\n2\n");
    CHECK(entries(d) == 1);  // no temporary file left beside it
}

TEST_CASE("a failing pipeline leaves no file and no temporary file", "[sinks][to_file]") {
    auto d = fresh_dir("to_file_fail");
    auto failing = sluice::iota(0, 100000) | sluice::map([](int x) {
                       if (x == 50000) throw std::runtime_error("bad record");
                       return x;
                   }) |
                   sluice::encode(sluice::line_encoder{});
    CHECK_THROWS_WITH(failing | sluice::to_file((d / "out.txt").string()), "bad record");
    CHECK_FALSE(fs::exists(d / "out.txt"));
    CHECK(entries(d) == 0);
}

TEST_CASE("a failing pipeline leaves an existing destination unchanged", "[sinks][to_file]") {
    auto d = fresh_dir("to_file_keep");
    std::ofstream(d / "out.txt") << "precious";
    auto failing = sluice::iota(0, 100000) | sluice::map([](int x) {
                       if (x == 90000) throw std::runtime_error("late failure");
                       return x;
                   }) |
                   sluice::encode(sluice::line_encoder{});
    auto r = sluice::try_run(failing, sluice::to_file((d / "out.txt").string()));
    REQUIRE_FALSE(r);
    CHECK(slurp(d / "out.txt") == "precious");
    CHECK(entries(d) == 1);
}

TEST_CASE("a cancelled run removes its temporary file", "[sinks][to_file][cancel]") {
    auto d = fresh_dir("to_file_cancel");
    std::ofstream(d / "out.txt") << "old";
    std::stop_source stop;
    sluice::run_options o;
    o.stop = stop.get_token();
    auto p = sluice::iota(0, 10'000'000) | sluice::tap([&](int x) {
                 if (x == 200000) stop.request_stop();
             }) |
             sluice::encode(sluice::line_encoder{});
    auto r = sluice::try_run(p, sluice::to_file((d / "out.txt").string()), o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::cancelled);
    CHECK(slurp(d / "out.txt") == "old");
    CHECK(entries(d) == 1);
}

TEST_CASE("a successful run replaces an existing file and keeps its mode", "[sinks][to_file]") {
    auto d = fresh_dir("to_file_replace");
    std::ofstream(d / "out.txt") << "old content that is longer";
    ::chmod((d / "out.txt").c_str(), 0640);
    numbers(3) | sluice::to_file((d / "out.txt").string());
    CHECK(slurp(d / "out.txt") == "0\n1\n2\n");
    struct stat st {};
    REQUIRE(::stat((d / "out.txt").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
}

TEST_CASE("an empty stream creates an empty file", "[sinks][to_file]") {
    auto d = fresh_dir("to_file_empty");
    CHECK((numbers(0) | sluice::to_file((d / "out.txt").string())) == 0);
    CHECK(fs::exists(d / "out.txt"));
    CHECK(fs::file_size(d / "out.txt") == 0);
}

TEST_CASE("an unwritable destination is an I/O error", "[sinks][to_file]") {
    auto r = sluice::try_run(numbers(3), sluice::to_file("/nonexistent-dir/out.txt"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::io);
    CHECK_THAT(r.error().what(), Catch::Contains("/nonexistent-dir/out.txt"));
}

TEST_CASE("a sink that is never run leaves nothing behind", "[sinks][to_file]") {
    auto d = fresh_dir("to_file_unused");
    {
        auto sink = sluice::to_file((d / "out.txt").string());
        sink.push(std::string("partial"));
    }
    CHECK(entries(d) == 0);
}

TEST_CASE("read_file to to_file copies a file", "[sinks][to_file]") {
    auto d = fresh_dir("to_file_copy");
    std::string content;
    for (int i = 0; i < 100000; ++i) content += "row " + std::to_string(i) + "\n";
    std::ofstream(d / "in.txt", std::ios::binary) << content;
    sluice::read_file((d / "in.txt").string()) | sluice::to_file((d / "copy.txt").string());
    CHECK(slurp(d / "copy.txt") == content);
}
