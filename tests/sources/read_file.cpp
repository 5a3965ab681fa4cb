#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <cstdio>
#include <fstream>
#include <string>

namespace {
std::string write_temp(const std::string& name, const std::string& content) {
    std::ofstream(name, std::ios::binary) << content;
    return name;
}
}  // namespace

TEST_CASE("read_file yields the file in blocks", "[sources][read_file]") {
    std::string content;
    for (int i = 0; i < 10000; ++i) content += "line " + std::to_string(i) + "\n";
    auto path = write_temp("read_file_blocks.txt", content);
    std::string got;
    std::size_t blocks = 0;
    sluice::read_file(path, {.block_size = 4096}) | sluice::for_each([&](sluice::chunk& c) {
        CHECK(c.size() <= 4096);
        got += c.view();
        ++blocks;
    });
    CHECK(got == content);
    CHECK(blocks == (content.size() + 4095) / 4096);
}

TEST_CASE("read_file on an empty file yields nothing", "[sources][read_file]") {
    auto path = write_temp("read_file_empty.txt", "");
    CHECK((sluice::read_file(path) | sluice::count()) == 0);
}

TEST_CASE("a missing file fails inside the run with an I/O error", "[sources][read_file]") {
    auto src = sluice::read_file("does/not/exist.csv");  // building the pipeline is fine
    auto r = sluice::try_run(src, sluice::count());
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::io);
    CHECK_THAT(r.error().what(), Catch::Contains("does/not/exist.csv"));
}

TEST_CASE("read_file knows its size for progress", "[sources][read_file]") {
    auto path = write_temp("read_file_size.txt", std::string(12345, 'x'));
    auto src = sluice::read_file(path);
    REQUIRE(src.size_hint());
    CHECK(*src.size_hint() == 12345);
}

TEST_CASE("read_fd reads a pipe", "[sources][read_file]") {
    FILE* p = ::popen("printf 'abc\\ndef\\n'", "r");
    REQUIRE(p);
    auto lines = sluice::read_fd(::fileno(p)) | sluice::lines() | sluice::to_vector();
    ::pclose(p);
    CHECK(lines == std::vector<std::string>{"abc", "def"});
}
