#pragma once
/// \file
/// Numbers as a person reads them in a report: `format_bytes` ("453.1 MB"), `format_count`
/// ("1,234,567") and `format_duration` ("1:02:03"). Standard library only.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace sluice {

/// A byte count in decimal units: "512 B", "12.3 kB", "453.1 MB", "1.25 GB".
inline std::string format_bytes(double bytes) {
    char buf[32];
    if (bytes < 1e3)
        std::snprintf(buf, sizeof buf, "%.0f B", bytes);
    else if (bytes < 1e6)
        std::snprintf(buf, sizeof buf, "%.1f kB", bytes / 1e3);
    else if (bytes < 1e9)
        std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
    else
        std::snprintf(buf, sizeof buf, "%.2f GB", bytes / 1e9);
    return buf;
}

/// A count with thousands separators: "1,234,567".
inline std::string format_count(std::uint64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
        s.insert(static_cast<std::size_t>(i), ",");
    return s;
}

/// Seconds as "m:ss", or "h:mm:ss" from an hour; "?" for a negative or non-finite value
/// (an ETA that cannot be told yet).
inline std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0)
        return "?";
    auto t = static_cast<long>(seconds + 0.5);
    char buf[32];
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
    return buf;
}

}  // namespace sluice
