#pragma once
/// \file
/// Where an object lives on the wire: `s3::target(config, bucket, key)` gives the URL
/// origin, the Host header and the (encoded, canonical) path, in path style
/// ("http://127.0.0.1:9000/bucket/key") or virtual-hosted style
/// ("https://bucket.s3.eu-west-1.amazonaws.com/key"). Buckets whose names contain a dot
/// fall back to path style on AWS, since they would not match the wildcard certificate.

#include <string>
#include <string_view>

#include "../core/error.hpp"
#include "config.hpp"
#include "sigv4.hpp"

namespace sluice::s3 {

/// The addressing of one request.
struct request_target {
    std::string origin;  ///< "scheme://host[:port]"
    std::string host;    ///< the Host header (and the signed `host`): "host[:port]"
    std::string path;    ///< encoded path, each key segment encoded once

    /// origin + path (+ "?" + encoded query when not empty).
    std::string url(std::string_view query = {}) const {
        std::string u = origin + path;
        if (!query.empty()) {
            u += '?';
            u += query;
        }
        return u;
    }
};

/// The addressing of `bucket`/`key` under `c` (key may be empty: the bucket itself).
inline request_target target(const config& c, std::string_view bucket, std::string_view key) {
    std::string ep = c.effective_endpoint();
    auto scheme_end = ep.find("://");
    if (scheme_end == std::string::npos)
        throw error(errc::usage, "s3",
                    "endpoint '" + ep + "' has no scheme (expected http://host:port or https://host)");
    std::string scheme = ep.substr(0, scheme_end);
    std::string rest = ep.substr(scheme_end + 3);
    std::string base_path;
    if (auto slash = rest.find('/'); slash != std::string::npos) {
        base_path = rest.substr(slash);
        rest.resize(slash);
        while (!base_path.empty() && base_path.back() == '/') base_path.pop_back();
    }
    bool path_style = c.uses_path_style() || bucket.find('.') != std::string_view::npos;
    request_target t;
    if (path_style) {
        t.host = rest;
        t.path = base_path + sigv4::object_path(bucket, key);
    } else {
        t.host = std::string(bucket) + "." + rest;
        t.path = base_path + sigv4::object_path("", key);
    }
    t.origin = scheme + "://" + t.host;
    return t;
}

}  // namespace sluice::s3
