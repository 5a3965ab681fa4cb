#pragma once
// Helpers shared by the CSV tests: read a string (cut into pieces of a given size, to put
// block boundaries everywhere) into plain vectors.

#include <sluice/csv/read.hpp>
#include <sluice/sluice.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace csv_test {

using table = std::vector<std::vector<std::string>>;

/// `s` cut into pieces of `piece` bytes (0: one piece).
inline std::vector<std::string> pieces(std::string_view s, std::size_t piece = 0) {
    std::vector<std::string> out;
    if (piece == 0) piece = s.size() ? s.size() : 1;
    for (std::size_t i = 0; i < s.size(); i += piece) out.emplace_back(s.substr(i, piece));
    return out;
}

/// Every row of `s` read with `o`, fed `piece` bytes at a time.
inline table read_all(std::string_view s, sluice::csv::read_options o = {}, std::size_t piece = 0) {
    table t;
    auto src = pieces(s, piece);
    for (const sluice::csv::row& r : sluice::from_range(src) | sluice::csv::read(o)) {
        std::vector<std::string> fields;
        for (std::string_view f : r) fields.emplace_back(f);
        t.push_back(std::move(fields));
    }
    return t;
}

/// Options without a header, so every record comes back.
inline sluice::csv::read_options no_header() {
    sluice::csv::read_options o;
    o.header = false;
    return o;
}

/// The error reading `s` throws (fails the test if none).
inline sluice::error read_error(std::string_view s, sluice::csv::read_options o = {},
                                std::size_t piece = 0) {
    try {
        read_all(s, o, piece);
    } catch (const sluice::error& e) {
        return e;
    }
    return sluice::error(sluice::errc::failed, "test", "no error thrown");
}

}  // namespace csv_test
