#pragma once
/// \file
/// `s3://bucket/key` locations: `parse_url`, `is_s3_url`, and the inverse `to_string`.

#include <string>
#include <string_view>

#include "../core/error.hpp"

namespace sluice::s3 {

/// A bucket and an object key (the key may contain '/', and may be empty for "s3://b/").
struct location {
    std::string bucket;
    std::string key;
};

/// True for strings that start with "s3://" (what the CLI treats as an S3 location).
inline bool is_s3_url(std::string_view s) noexcept { return s.starts_with("s3://"); }

/// Splits "s3://bucket/key/with/slashes" into bucket and key. The key is taken verbatim
/// (no percent-decoding: S3 keys are arbitrary UTF-8). Throws `errc::usage` for anything
/// else, or when `require_key` and the key is empty.
inline location parse_url(std::string_view url, bool require_key = true) {
    auto bad = [&](const char* why) {
        return error(errc::usage, "s3", "'" + std::string(url) + "' is not an S3 URL: " + why +
                                            " (expected s3://bucket/key)");
    };
    if (!is_s3_url(url)) throw bad("missing the s3:// scheme");
    std::string_view rest = url.substr(5);
    auto slash = rest.find('/');
    location loc;
    loc.bucket = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) loc.key = std::string(rest.substr(slash + 1));
    if (loc.bucket.empty()) throw bad("no bucket");
    if (loc.bucket.size() < 3 || loc.bucket.size() > 63) throw bad("bucket names have 3 to 63 characters");
    for (char c : loc.bucket) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                  c == '_' || (c >= 'A' && c <= 'Z');
        if (!ok) throw bad("invalid character in the bucket name");
    }
    if (require_key && loc.key.empty()) throw bad("no object key");
    return loc;
}

/// "s3://bucket/key".
inline std::string to_string(const location& l) { return "s3://" + l.bucket + "/" + l.key; }

}  // namespace sluice::s3
