#pragma once
/// \file
/// Helpers shared by the fuzz targets: cutting the input into pieces (so the readers see
/// record, quote, CRLF, BOM and UTF-8 sequences split across upstream chunks) and a
/// compact, comparable log of what a reader produced.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/core/error.hpp>

namespace sluice_fuzz {

/// The fuzzer's control bytes, taken from the front of the input.
struct control {
    std::uint8_t flags = 0;   // target-specific option bits
    std::uint32_t seed = 0;   // drives the split points
    std::string_view data;    // the bytes the reader sees
};

/// Takes up to 3 control bytes; shorter inputs get zero controls and whatever remains.
inline control take_control(const std::uint8_t* p, std::size_t n) {
    control c;
    std::size_t k = n < 3 ? n : 3;
    if (k > 0) c.flags = p[0];
    if (k > 1) c.seed = p[1];
    if (k > 2) c.seed |= std::uint32_t{p[2]} << 8;
    c.data = std::string_view(reinterpret_cast<const char*>(p) + k, n - k);
    return c;
}

/// The whole input as one piece (an empty input gives no piece at all).
inline std::vector<std::string_view> one_piece(std::string_view s) {
    if (s.empty()) return {};
    return {s};
}

/// Up to 16 cut points chosen by `seed`; empty pieces are kept on purpose (a source may
/// yield an empty chunk and the readers must cope).
inline std::vector<std::string_view> seeded_pieces(std::string_view s, std::uint32_t seed) {
    std::vector<std::string_view> out;
    std::uint32_t x = seed * 2654435761u + 12345u;
    std::size_t cuts = 1 + (seed & 15u);
    std::size_t at = 0;
    for (std::size_t i = 0; i < cuts && at < s.size(); ++i) {
        x = x * 1103515245u + 12345u;
        std::size_t rest = s.size() - at;
        // Mostly short pieces (boundaries near each other), sometimes a long one.
        std::size_t len = (x >> 16) % ((x & 0x8000u) ? rest + 1 : (rest < 8 ? rest + 1 : 8));
        out.push_back(s.substr(at, len));
        at += len;
    }
    if (at < s.size()) out.push_back(s.substr(at));
    return out;
}

/// Pieces of `width` bytes (1..8): every boundary position gets exercised.
inline std::vector<std::string_view> fixed_pieces(std::string_view s, std::size_t width) {
    std::vector<std::string_view> out;
    for (std::size_t at = 0; at < s.size(); at += width) out.push_back(s.substr(at, width));
    return out;
}

/// Appends a length-prefixed string, so that logs compare unambiguously.
inline void put(std::string& log, std::string_view s) {
    log += std::to_string(s.size());
    log += ':';
    log += s;
}
inline void put(std::string& log, std::uint64_t v) {
    log += std::to_string(v);
    log += ';';
}

/// Logs an error: code, message and position (all must be independent of the splitting).
inline void put_error(std::string& log, const sluice::error& e) {
    log += "E(";
    put(log, static_cast<std::uint64_t>(e.code()));
    put(log, e.message());
    put(log, e.where().to_string());
    log += ")\n";
}

/// Reports a mismatch and traps (a finding for the fuzzer).
[[noreturn]] inline void mismatch(const char* what, const std::string& a, const std::string& b) {
    std::fprintf(stderr, "sluice fuzz: %s\n--- reference ---\n%s\n--- other ---\n%s\n", what, a.c_str(),
                 b.c_str());
    __builtin_trap();
}

}  // namespace sluice_fuzz
