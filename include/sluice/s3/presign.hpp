#pragma once
/// \file
/// `s3::presign(config, bucket, key, expires)`: a presigned GET URL (query authentication)
/// that anyone holding it can fetch until it expires, e.g. with curl. Needs no network.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "../core/error.hpp"
#include "addressing.hpp"
#include "config.hpp"
#include "sigv4.hpp"

namespace sluice::s3 {

/// The longest validity SigV4 allows a presigned URL: 7 days.
inline constexpr std::chrono::seconds max_presign_expiry{7 * 24 * 3600};

/// A presigned GET URL for `bucket`/`key`, valid for `expires` (default one hour, at most
/// 7 days) from `now`. Throws `errc::usage` for an expiry out of range or missing
/// credentials. The URL contains a signature: treat it as a bearer secret.
inline std::string presign(const config& c, std::string_view bucket, std::string_view key,
                           std::chrono::seconds expires = std::chrono::seconds(3600),
                           std::chrono::system_clock::time_point now =
                               std::chrono::system_clock::now()) {
    if (expires.count() < 1 || expires > max_presign_expiry)
        throw error(errc::usage, "s3.presign",
                    "expiry must be between 1 and 604800 seconds (7 days), got " +
                        std::to_string(expires.count()));
    if (c.credentials.empty())
        throw error(errc::usage, "s3.presign",
                    "no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a "
                    "profile in the shared credentials file)");
    request_target t = target(c, bucket, key);
    sigv4::request_parts r{"GET", t.path, {}, {{"host", t.host}}, ""};
    return t.url(presign_query(std::move(r), c.credentials, c.region, now, expires.count()));
}

}  // namespace sluice::s3
