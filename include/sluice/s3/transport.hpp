#pragma once
/// \file
/// `s3::transport`: the small HTTP interface the S3 client speaks through. One request at
/// a time per transport object; the client keeps a pool of them (one per thread in flight).
/// The libcurl implementation is in curl_transport.hpp; tests and embedders may supply
/// their own.
///
/// Failure contract of `request`: an HTTP answer of any status is returned, never thrown.
/// A failure to get an answer throws: `sluice::transient_error` (errc::network) for faults
/// that may pass (refused or reset connection, timeout, stall), `sluice::error` for those
/// that will not (bad URL, certificate rejected), `cancelled` when `stop` was triggered or
/// `on_body` returned false. Messages never contain header values (they hold signatures).

#include <cctype>
#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>

#include "sigv4.hpp"

namespace sluice::s3 {

namespace detail {
/// ASCII case-insensitive equality (HTTP header names).
inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}
}  // namespace detail

struct http_response;

/// One HTTP request. `body` must stay valid until `request` returns.
struct http_request {
    std::string method = "GET";
    std::string url;
    field_list headers;
    std::string_view body{};
    /// When set, the body of a 2xx answer is handed here piece by piece instead of being
    /// collected into `http_response::body` (error bodies are always collected). Return
    /// false to abandon the transfer (the request then throws `cancelled`).
    std::function<bool(std::string_view)> on_body{};
    /// With `on_body`: called once with the status and headers of a 2xx answer before its
    /// first body byte (the ETag of a GET is needed before a possible drop, for resuming).
    std::function<void(const http_response&)> on_headers{};
    /// Aborts the transfer (request throws `cancelled`) when triggered.
    std::stop_token stop{};
};

/// An HTTP answer.
struct http_response {
    long status = 0;
    /// Header names as received (compare with `header()`, which ignores case).
    field_list headers;
    std::string body;

    /// The value of the first header called `name` (any case), or "".
    std::string header(std::string_view name) const {
        for (const auto& [k, v] : headers)
            if (detail::iequals(k, name)) return v;
        return {};
    }
    bool ok() const noexcept { return status >= 200 && status < 300; }
};

/// The transport interface (see the file comment for its failure contract).
class transport {
public:
    virtual ~transport() = default;
    /// Sends `r` and waits for the whole answer (or streams its body into `r.on_body`).
    virtual http_response request(const http_request& r) = 0;

    /// Convenience form: `request(method, url, headers, body)`.
    http_response request(std::string method, std::string url, field_list headers,
                          std::string_view body = {}) {
        http_request r;
        r.method = std::move(method);
        r.url = std::move(url);
        r.headers = std::move(headers);
        r.body = body;
        return request(r);
    }
};

/// Connection settings a transport factory receives.
struct transport_options {
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds stall_timeout{30'000};
    bool verify_tls = true;
    std::string ca_file;
};

}  // namespace sluice::s3
