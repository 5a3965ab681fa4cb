#pragma once
/// \file
/// `s3::reap_uploads(client, bucket, prefix, older_than, dry_run)`: aborts the multipart
/// uploads under `prefix` that were created more than `older_than` ago - the uploads a
/// killed process left open, which S3 bills until they are aborted. Uploads under other
/// prefixes and younger ones are left alone. ListMultipartUploads is read to the end (every
/// page); an upload that is already gone when it is aborted counts as aborted.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"
#include "client.hpp"

namespace sluice::s3 {

/// One upload the reaper acted on (or would, with `dry_run`).
struct reaped_upload {
    std::string key;
    std::string upload_id;
    std::chrono::seconds age{0};
};

namespace detail {

/// Seconds since the epoch of S3's "2026-01-02T03:04:05.000Z" (UTC); none when malformed.
inline std::optional<std::int64_t> parse_s3_time(std::string_view t) {
    std::tm tm{};
    unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    std::string text(t);
    if (std::sscanf(text.c_str(), "%4u-%2u-%2uT%2u:%2u:%2u", &y, &mo, &d, &h, &mi, &s) != 6)
        return std::nullopt;
    tm.tm_year = static_cast<int>(y) - 1900;
    tm.tm_mon = static_cast<int>(mo) - 1;
    tm.tm_mday = static_cast<int>(d);
    tm.tm_hour = static_cast<int>(h);
    tm.tm_min = static_cast<int>(mi);
    tm.tm_sec = static_cast<int>(s);
    return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace detail

/// "1d02h03m04s"-style text of an age, the largest units first ("45s", "3h05m", "7d00h").
inline std::string format_age(std::chrono::seconds age) {
    std::int64_t s = age.count() < 0 ? 0 : age.count();
    auto two = [](std::int64_t v) { return (v < 10 ? "0" : "") + std::to_string(v); };
    if (s >= 86400) return std::to_string(s / 86400) + "d" + two(s % 86400 / 3600) + "h";
    if (s >= 3600) return std::to_string(s / 3600) + "h" + two(s % 3600 / 60) + "m";
    if (s >= 60) return std::to_string(s / 60) + "m" + two(s % 60) + "s";
    return std::to_string(s) + "s";
}

/// Lists the open uploads under `prefix` and aborts those older than `older_than` (none
/// with `dry_run`); returns them in listing order. `now` is the reference time (the
/// system clock by default).
inline std::vector<reaped_upload> reap_uploads(
    const client& c, std::string_view bucket, std::string_view prefix,
    std::chrono::seconds older_than, bool dry_run = false, std::stop_token stop = {},
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
    const std::int64_t now_s =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    std::vector<reaped_upload> out;
    for (const auto& u : c.list_multipart_uploads(bucket, prefix, stop)) {
        auto created = detail::parse_s3_time(u.initiated);
        if (!created)
            throw error(errc::network, "s3.reap",
                        "ListMultipartUploads gave no readable Initiated time for " +
                            client::where(bucket, u.key) + " (UploadId " + u.upload_id + ")");
        std::chrono::seconds age(now_s - *created);
        if (age <= older_than) continue;
        if (!dry_run) c.abort_multipart_upload(bucket, u.key, u.upload_id);
        out.push_back({u.key, u.upload_id, age});
    }
    return out;
}

}  // namespace sluice::s3
