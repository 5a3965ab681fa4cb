#pragma once
// Shared by the JSON reader tests: read a text through a real file (so chunk boundaries come
// from read_file's block size) with a given reader stage, or get the error it raises.
#include <catch2/catch.hpp>

#include <sluice/json/record.hpp>
#include <sluice/sluice.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

/// A file holding `content`, removed at scope exit.
struct temp_file {
    std::filesystem::path path;
    explicit temp_file(const std::string& content) {
        static int n = 0;
        path = std::filesystem::temp_directory_path() /
               ("sluice_json_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
        std::ofstream(path, std::ios::binary) << content;
    }
    ~temp_file() { std::filesystem::remove(path); }
};

/// Every record `reader` yields for `content`, read in blocks of `block` bytes.
template <class Reader>
std::vector<sluice::json::json_owned_record> read_with(const std::string& content,
                                                        std::size_t block, Reader reader) {
    temp_file f(content);
    return sluice::read_file(f.path.string(), {.block_size = block}) | std::move(reader) |
           sluice::to_vector();
}

/// The error `reader` raises for `content` (fails the test if there is none).
template <class Reader>
sluice::error error_with(const std::string& content, std::size_t block, Reader reader) {
    try {
        (void)read_with(content, block, std::move(reader));
    } catch (const sluice::error& e) {
        return e;
    }
    FAIL("no error for: " << content);
    return sluice::error(sluice::errc::failed, "", "");
}

}  // namespace
