#pragma once
/// \file
/// `net::http_request`, `net::http_response` and `net::http_error`: the HTTP values every
/// client of sluice (S3, the paginated API source) speaks through a `net::transport`. No
/// dependency: the libcurl transport is net/curl_transport.hpp.

#include <cstddef>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/ascii.hpp"
#include "../core/error.hpp"

namespace sluice::net {

/// Header or query fields in order, names as given (duplicates allowed).
using field_list = std::vector<std::pair<std::string, std::string>>;

/// `s` percent-encoded as RFC 3986 wants a query value or a path segment: the unreserved
/// characters (ASCII letters, digits, `-._~`) kept, every other byte `%XX` in upper case;
/// `keep_slash` keeps `/` too (a path). This is also SigV4's URI encoding.
inline std::string percent_encode(std::string_view s, bool keep_slash = false) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() + s.size() / 2);
    for (unsigned char c : s) {
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                          c == '~' || (keep_slash && c == '/');
        if (unreserved) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(digits[c >> 4]);
            out.push_back(digits[c & 15]);
        }
    }
    return out;
}

struct http_response;

/// One HTTP request. `body` must stay valid until the transport's `request` returns.
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
    /// Aborts the transfer (the request throws `cancelled`) when triggered.
    std::stop_token stop{};
    /// A collected body (an error answer's, or any answer's without `on_body`) longer than
    /// this ends the transfer with an `errc::limit` error; 0: no limit.
    std::size_t max_body = 0;
    /// The stage that errors about this request name ("s3", "http.api").
    std::string stage = "net";
    /// How messages name this request; empty: the method and the URL without its query
    /// string (see `request_label`). Callers whose path is secret-ish set their own.
    std::string label{};
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
            if (ascii::iequals(k, name)) return v;
        return {};
    }
    /// The values of every header called `name` (any case), joined with ", " as HTTP
    /// allows for list-valued headers (`Link`), or "".
    std::string header_list(std::string_view name) const {
        std::string out;
        for (const auto& [k, v] : headers) {
            if (!ascii::iequals(k, name)) continue;
            if (!out.empty()) out += ", ";
            out += v;
        }
        return out;
    }
    bool ok() const noexcept { return status >= 200 && status < 300; }
};

/// How messages name `r`: its `label`, else "GET http://host/path" - never the query string,
/// which in a presigned URL holds the signature and in an API URL may hold keys or cursors.
inline std::string request_label(const http_request& r) {
    if (!r.label.empty()) return r.label;
    return r.method + " " + r.url.substr(0, r.url.find_first_of("?#"));
}

/// An HTTP answer that is a failure: its status, and whether another attempt may succeed
/// (see net/transient.hpp). Always `errc::network`.
class http_error : public error {
public:
    http_error(std::string stage, std::string message, long status, bool transient)
        : error(errc::network, std::move(stage), std::move(message)), status_(status),
          transient_(transient) {}

    /// The HTTP status (200 for a failure reported inside a 200 answer, as S3 does).
    long status() const noexcept { return status_; }
    /// Whether another attempt may succeed (5xx, 429, 408, ...).
    bool transient() const noexcept { return transient_; }

private:
    long status_;
    bool transient_;
};

}  // namespace sluice::net
