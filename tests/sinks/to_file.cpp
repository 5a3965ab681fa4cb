// Atomic file output: a failing or cancelled pipeline leaves no file, no temporary file, and
// an existing destination unchanged.
#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

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

// --- what to_file finds at the destination (issue 16) ------------------------------------

namespace {
/// The pid of a process that has exited (forked and reaped).
pid_t dead_pid() {
    pid_t p = ::fork();
    if (p == 0) ::_exit(0);
    int status = 0;
    ::waitpid(p, &status, 0);
    return p;
}
std::string host_tag() {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    std::uint32_t h = 2166136261u;
    for (const char* p = host; *p; ++p) h = (h ^ static_cast<unsigned char>(*p)) * 16777619u;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(h));
    return buf;
}
}  // namespace

TEST_CASE("a symbolic link is followed: its target is replaced and the link kept", "[sinks][to_file]") {
    auto d = fresh_dir("to_file_symlink");
    fs::create_directories(d / "real");
    std::ofstream(d / "real" / "data.txt") << "old";
    fs::create_symlink("real/data.txt", d / "link.txt");
    numbers(2) | sluice::to_file((d / "link.txt").string());
    CHECK(fs::is_symlink(d / "link.txt"));
    CHECK(slurp(d / "real" / "data.txt") == "0\n1\n");
    CHECK(entries(d / "real") == 1);  // no temporary left beside the target
    CHECK(entries(d) == 2);
    // A link to nothing is refused, and nothing is created.
    fs::create_symlink("real/missing/x.txt", d / "dangling.txt");
    auto r = sluice::try_run(numbers(2), sluice::to_file((d / "dangling.txt").string()));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::io);
    CHECK_THAT(r.error().what(), Catch::Contains("symbolic link"));
    CHECK(entries(d / "real") == 1);
}

TEST_CASE("a read-only or non-regular destination is refused and left unchanged", "[sinks][to_file]") {
    auto d = fresh_dir("to_file_readonly");
    std::ofstream(d / "ro.txt") << "keep me";
    ::chmod((d / "ro.txt").c_str(), 0444);
    auto r = sluice::try_run(numbers(2), sluice::to_file((d / "ro.txt").string()));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::io);
    CHECK_THAT(r.error().what(), Catch::Contains("read-only"));
    CHECK(slurp(d / "ro.txt") == "keep me");
    fs::create_directories(d / "dir.txt");
    r = sluice::try_run(numbers(2), sluice::to_file((d / "dir.txt").string()));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().what(), Catch::Contains("not a regular file"));
    CHECK(entries(d) == 2);
}

TEST_CASE("stale temporary files of dead runs are removed, live ones kept", "[sinks][to_file]") {
    auto d = fresh_dir("to_file_stale");
    const std::string host = host_tag();
    const fs::path dead = d / (".out.txt.sluice-" + host + "-" + std::to_string(dead_pid()) + "-12345-AbCdEf");
    const fs::path reused = d / (".out.txt.sluice-" + host + "-" + std::to_string(::getppid()) + "-1-QwErTy");
    const fs::path live = d / (".out.txt.sluice-" + host + "-" + std::to_string(::getppid()) + "-" +
                               std::to_string(sluice::detail::process_start_time(::getppid())) + "-ZxCvBn");
    const fs::path other_host = d / (".out.txt.sluice-0badc0de-" + std::to_string(dead_pid()) + "-7-AaBbCc");
    const fs::path other_target = d / (".other.txt.sluice-" + host + "-" + std::to_string(dead_pid()) + "-7-DdEeFf");
    const fs::path old_style = d / ".out.txt.sluice-GgHhIi";
    for (const auto& p : {dead, reused, live, other_host, other_target, old_style}) std::ofstream(p) << "x";
    numbers(1) | sluice::to_file((d / "out.txt").string());
    CHECK_FALSE(fs::exists(dead));    // its process is gone
    CHECK_FALSE(fs::exists(reused));  // its pid now belongs to a process started later
    CHECK(fs::exists(live));          // a run still in progress (our parent)
    CHECK(fs::exists(other_host));    // another machine's, in a shared directory
    CHECK(fs::exists(other_target));  // another destination's (its own run cleans it)
    CHECK(fs::exists(old_style));     // no owner recorded: left alone
    CHECK(slurp(d / "out.txt") == "0\n");
}

TEST_CASE("temporary files carry their owner", "[sinks][to_file]") {
    auto d = fresh_dir("to_file_owner");
    auto sink = sluice::to_file((d / "out.txt").string());
    sink.push(std::string("partial"));
    REQUIRE(entries(d) == 1);
    std::string name = fs::directory_iterator(d)->path().filename().string();
    std::string want = ".out.txt.sluice-" + host_tag() + "-" + std::to_string(::getpid()) + "-" +
                       std::to_string(sluice::detail::process_start_time(::getpid())) + "-";
    CHECK(name.substr(0, want.size()) == want);
    CHECK(name.size() == want.size() + 6);
}

TEST_CASE("write-back starts while a durable file grows; the file stays atomic",
          "[sinks][to_file][writeback]") {
    auto d = fresh_dir("to_file_writeback");
    std::ofstream(d / "out.txt") << "old";
    sluice::write_options o;
    o.writeback_bytes = 64 * 1024;
    const std::string block(10'000, 'x');
    {
        // Aborted after 1 MB: write-back of the temporary file has started, yet the
        // destination is untouched and the temporary file goes.
        auto sink = sluice::to_file((d / "out.txt").string(), o);
        for (int i = 0; i < 100; ++i) sink.push(block);
        CHECK(sink.writeback_offset() >= 1'000'000 - o.writeback_bytes);
        CHECK(sink.writeback_offset() % 10'000 == 0);  // whole pushes, never past the end
        sink.abort(sluice::error(sluice::errc::failed, "test", "stop"));
    }
    CHECK(slurp(d / "out.txt") == "old");
    CHECK(entries(d) == 1);
    {
        auto sink = sluice::to_file((d / "out.txt").string(), o);
        for (int i = 0; i < 100; ++i) sink.push(block);
        CHECK(sink.finish() == 1'000'000);
    }
    CHECK(slurp(d / "out.txt") == std::string(1'000'000, 'x'));
    CHECK(entries(d) == 1);
    // Not durable, or write-back off: nothing is started early.
    for (bool durable : {false, true}) {
        sluice::write_options off;
        off.durable = durable;
        off.writeback_bytes = durable ? 0 : 64 * 1024;
        auto sink = sluice::to_file((d / "off.txt").string(), off);
        for (int i = 0; i < 20; ++i) sink.push(block);
        CHECK(sink.writeback_offset() == 0);
        sink.finish();
    }
}
