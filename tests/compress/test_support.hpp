#pragma once
// Shared helpers for the codec tests: deterministic test data, pipelines that run a codec
// over chunked input, and temporary files for checking output with the gzip/zstd CLIs.

#include <sluice/sluice.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace sluice_test {

/// Sizes every round trip covers: empty, one byte, either side of 64 KiB (the default
/// chunk size), 1 MB and 10 MB (several libdeflate blocks).
inline const std::vector<std::size_t> round_trip_sizes{0, 1, 65535, 65536, 1000000, 10000000};

inline std::uint64_t next_random(std::uint64_t& s) {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545f4914f6cdd1dull;
}

/// Incompressible bytes.
inline std::string random_bytes(std::size_t n, std::uint64_t seed = 42) {
    std::string s(n, '\0');
    std::uint64_t st = seed | 1;
    for (auto& c : s)
        c = static_cast<char>(next_random(st) >> 56);
    return s;
}

/// Compressible CSV-like text with some UTF-8.
inline std::string text_bytes(std::size_t n, std::uint64_t seed = 7) {
    static constexpr std::string_view words[] = {"alpha", "beta",
                                                 "gamma", "delta",
                                                 "Zoë",   "\"quoted, text\"",
                                                 "1234",  "2024-01-01T00:00:00Z",
                                                 "naïve", "日本語",
                                                 "\n",    ","};
    std::string s;
    s.reserve(n + 32);
    std::uint64_t st = seed | 1;
    while (s.size() < n) {
        s += words[next_random(st) % std::size(words)];
        s += ' ';
    }
    s.resize(n);
    return s;
}

/// `data` cut into pieces of varying sizes (1 byte to ~100 KiB), as a reader would hand them.
inline std::vector<std::string> split_chunks(std::string_view data, std::uint64_t seed = 3) {
    std::vector<std::string> out;
    std::uint64_t st = seed | 1;
    while (!data.empty()) {
        const std::size_t want = 1 + next_random(st) % 100000;
        const std::size_t n = want < data.size() ? want : data.size();
        out.emplace_back(data.substr(0, n));
        data.remove_prefix(n);
    }
    return out;
}

/// Concatenates what a byte pipeline yields (push path).
template <class P>
std::string collect(P&& pipeline) {
    std::string out;
    std::forward<P>(pipeline) | sluice::for_each([&](auto& c) { out.append(sluice::bytes_of(c)); });
    return out;
}

/// `data` through `compress(enc)` in uneven input pieces.
template <class E>
std::string compress_all(std::string_view data, E enc,
                         std::size_t chunk_size = sluice::default_chunk_size) {
    return collect(sluice::from_range(split_chunks(data))
                   | sluice::compress(std::move(enc), {.chunk_size = chunk_size}));
}

/// `packed` through `decompress(dec)` in uneven input pieces.
template <class D>
std::string decompress_all(std::string_view packed, D dec,
                           std::size_t chunk_size = sluice::default_chunk_size) {
    return collect(sluice::from_range(split_chunks(packed, 11))
                   | sluice::decompress(std::move(dec), {.chunk_size = chunk_size}));
}

/// A file in the test's working directory, removed at scope exit.
class temp_file {
public:
    explicit temp_file(std::string name, std::string_view content = {})
        : path_(std::move(name) + "." + std::to_string(::getpid())) {
        std::ofstream(path_, std::ios::binary)
            .write(content.data(), static_cast<std::streamsize>(content.size()));
    }
    ~temp_file() { std::remove(path_.c_str()); }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    const std::string& path() const { return path_; }
    std::string read() const {
        std::ifstream in(path_, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }

private:
    std::string path_;
};

/// Runs a shell command; its exit status (-1 when it could not be run).
inline int shell(const std::string& cmd) {
    const int rc = std::system((cmd + " 2>/dev/null").c_str());
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

/// A shell command's standard output.
inline std::string shell_output(const std::string& cmd) {
    std::string out;
    if (FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r")) {
        char buf[1 << 16];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
            out.append(buf, n);
        ::pclose(p);
    }
    return out;
}

}  // namespace sluice_test
