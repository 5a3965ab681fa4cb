#pragma once
/// \file
/// Sizes and durations as people write them in flags and settings, the one copy:
/// `parse_size("24MiB")`, `parse_duration("15m")`. Both throw `errc::usage` naming the
/// setting (`what`, e.g. "--memory") and the text, so a CLI can pass the error straight on.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "error.hpp"

namespace sluice {

namespace detail {
/// Reads the leading unsigned decimal number of `text` ("1.5" allowed when `fraction`);
/// returns the number of characters used (0: none).
inline std::size_t leading_number(std::string_view text, bool fraction, long double& value) {
    std::size_t i = 0;
    long double v = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') v = v * 10 + (text[i++] - '0');
    const std::size_t whole = i;
    if (fraction && i < text.size() && text[i] == '.') {
        long double scale = 0.1L;
        std::size_t j = i + 1;
        while (j < text.size() && text[j] >= '0' && text[j] <= '9') {
            v += (text[j++] - '0') * scale;
            scale /= 10;
        }
        if (j > i + 1) i = j;
    }
    if (whole == 0 && i == 0) return 0;
    value = v;
    return i;
}
}  // namespace detail

/// "24MiB", "512KiB", "1.5GiB", "5242880", "64KB" -> bytes. Binary units KiB/MiB/GiB/TiB
/// (also K/M/G/T), decimal kB/KB/MB/GB/TB, or B/none for bytes. Zero, negative, fractional
/// bytes and unknown units are errors: a typo must not become a budget of 0 or of 24 bytes.
inline std::size_t parse_size(std::string_view text, std::string_view what = "size") {
    auto fail = [&](const char* why) -> std::size_t {
        throw error(errc::usage, std::string(what),
                    std::string(why) + ": '" + std::string(text) + "' (e.g. 24MiB, 512KiB, 1048576)");
    };
    long double v = 0;
    const std::size_t used = detail::leading_number(text, true, v);
    if (used == 0) return fail("not a size");
    const std::string_view unit = text.substr(used);
    long double mult = 0;
    if (unit.empty() || unit == "B") mult = 1;
    else if (unit == "KiB" || unit == "K" || unit == "k") mult = 1024.0L;
    else if (unit == "MiB" || unit == "M") mult = 1024.0L * 1024;
    else if (unit == "GiB" || unit == "G") mult = 1024.0L * 1024 * 1024;
    else if (unit == "TiB" || unit == "T") mult = 1024.0L * 1024 * 1024 * 1024;
    else if (unit == "kB" || unit == "KB") mult = 1e3L;
    else if (unit == "MB") mult = 1e6L;
    else if (unit == "GB") mult = 1e9L;
    else if (unit == "TB") mult = 1e12L;
    else return fail("unknown size unit");
    const long double bytes = v * mult;
    if (bytes < 1) return fail("a size must be at least one byte");
    if (bytes > static_cast<long double>(std::numeric_limits<std::size_t>::max() / 2))
        return fail("size too large");
    return static_cast<std::size_t>(bytes);
}

/// "90s", "15m", "24h", "7d", or a plain number of seconds -> seconds (0s is allowed: "older
/// than 0s" means every one).
inline std::chrono::seconds parse_duration(std::string_view text, std::string_view what = "duration") {
    auto fail = [&](const char* why) -> std::chrono::seconds {
        throw error(errc::usage, std::string(what),
                    std::string(why) + ": '" + std::string(text) + "' (e.g. 90s, 15m, 24h, 7d)");
    };
    long double v = 0;
    const std::size_t used = detail::leading_number(text, false, v);
    if (used == 0 || used > 12) return fail("not a duration");
    const std::string_view unit = text.substr(used);
    std::int64_t mult = 0;
    if (unit.empty() || unit == "s") mult = 1;
    else if (unit == "m") mult = 60;
    else if (unit == "h") mult = 3600;
    else if (unit == "d") mult = 86400;
    else return fail("unknown duration unit (s, m, h or d)");
    const auto n = static_cast<std::int64_t>(v);
    return std::chrono::seconds(n * mult);
}

}  // namespace sluice
