#pragma once
/// \file
/// AWS Signature Version 4 for S3, on OpenSSL's EVP API: header authentication
/// (`sign_headers`), presigned query authentication (`presign_query`), session tokens.
///
/// S3's canonical form differs from other services in two ways that matter here: the
/// canonical URI is the path exactly as sent, each segment URI-encoded once (never
/// encoded twice, slashes kept), and the payload hash is the `x-amz-content-sha256` header
/// (a hex SHA-256, or UNSIGNED-PAYLOAD for presigned URLs). sluice always sends plain
/// payloads with their SHA-256, never aws-chunked bodies.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/ascii.hpp"
#include "../core/error.hpp"
#include "../net/http.hpp"

namespace sluice::s3 {

/// An access key pair and an optional session token (temporary credentials). Never
/// printed by sluice: error messages name the key id's owner only through the S3 answer.
struct credentials {
    std::string access_key_id;
    std::string secret_access_key;
    /// From STS (AWS_SESSION_TOKEN); sent as x-amz-security-token when not empty.
    std::string session_token;

    bool empty() const noexcept { return access_key_id.empty() || secret_access_key.empty(); }
};

/// Name/value pairs, in order (HTTP headers, query parameters): the requests' own type.
using net::field_list;

/// SHA-256 of an empty payload, hex.
inline constexpr std::string_view empty_payload_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// The payload hash of presigned URLs: the body is not part of the signature.
inline constexpr std::string_view unsigned_payload = "UNSIGNED-PAYLOAD";

namespace sigv4 {

using digest = std::array<unsigned char, 32>;

/// Lowercase hex of `n` bytes.
inline std::string hex(const unsigned char* p, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s(n * 2, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    return s;
}

/// SHA-256 of `data`.
inline digest sha256(std::string_view data) {
    digest d{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr) != 1)
        throw error(errc::failed, "s3.sigv4", "OpenSSL SHA-256 failed");
    return d;
}

/// Lowercase hex SHA-256 of `data` (the form x-amz-content-sha256 and the string to sign use).
inline std::string sha256_hex(std::string_view data) {
    digest d = sha256(data);
    return hex(d.data(), d.size());
}

/// HMAC-SHA256 of `msg` under `key`.
inline digest hmac_sha256(std::string_view key, std::string_view msg) {
    digest d{};
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), d.data(), &len))
        throw error(errc::failed, "s3.sigv4", "OpenSSL HMAC-SHA256 failed");
    return d;
}

inline std::string_view as_view(const digest& d) noexcept {
    return {reinterpret_cast<const char*>(d.data()), d.size()};
}

/// AWS URI encoding: unreserved characters (A-Z a-z 0-9 - . _ ~) as they are, every other
/// byte as %XY (uppercase hex). `keep_slash` keeps '/' for object key paths.
inline std::string uri_encode(std::string_view s, bool keep_slash = false) {
    return net::percent_encode(s, keep_slash);
}

/// The canonical (and the sent) path of an object: "/" + the key with each segment encoded
/// once; with `bucket` non-empty (path style), "/bucket/key".
inline std::string object_path(std::string_view bucket, std::string_view key) {
    std::string p = "/";
    if (!bucket.empty()) {
        p += uri_encode(bucket);
        if (!key.empty()) p += '/';
    }
    p += uri_encode(key, true);
    return p;
}

/// The canonical query string: names and values encoded, sorted by name then value,
/// joined with '&' (a parameter without value appears as "name=").
inline std::string canonical_query(const field_list& query) {
    std::vector<std::pair<std::string, std::string>> enc;
    enc.reserve(query.size());
    for (const auto& [k, v] : query) enc.emplace_back(uri_encode(k), uri_encode(v));
    std::sort(enc.begin(), enc.end());
    std::string s;
    for (const auto& [k, v] : enc) {
        if (!s.empty()) s += '&';
        s += k;
        s += '=';
        s += v;
    }
    return s;
}

/// "20130524T000000Z" for `t` (UTC).
inline std::string amz_date(std::chrono::system_clock::time_point t) {
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[20];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

/// What a signature covers. `path` is the canonical URI as sent (see `object_path`);
/// `headers` must hold `host`; every header listed is signed.
struct request_parts {
    std::string method;
    std::string path;
    field_list query;
    field_list headers;
    std::string payload_hash;
};

/// The intermediate products of signing, exposed for tests and debugging. They hold no
/// secret (the signature is derived from one, so do not log it either).
struct signature_details {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signed_headers;
    std::string signature;
};

/// Trims and collapses runs of spaces, as the canonical header form requires.
inline std::string canonical_header_value(std::string_view v) {
    std::string out;
    bool space = false;
    for (char c : v) {
        if (c == ' ' || c == '\t') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

/// Computes the SigV4 signature of `r` at `date` (amz_date form) for `region`/`service`.
inline signature_details compute(const request_parts& r, const credentials& c,
                                 std::string_view region, std::string_view date,
                                 std::string_view service = "s3") {
    // Canonical headers: lowercase names, sorted, duplicates joined with ','.
    std::vector<std::pair<std::string, std::string>> hs;
    for (const auto& [k, v] : r.headers) {
        hs.emplace_back(ascii::lowered(k), canonical_header_value(v));
    }
    std::stable_sort(hs.begin(), hs.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string canon_headers, signed_headers;
    for (std::size_t i = 0; i < hs.size(); ++i) {
        if (i > 0 && hs[i].first == hs[i - 1].first) {
            canon_headers.back() = ',';
            canon_headers += hs[i].second + '\n';
            continue;
        }
        canon_headers += hs[i].first + ':' + hs[i].second + '\n';
        if (!signed_headers.empty()) signed_headers += ';';
        signed_headers += hs[i].first;
    }

    signature_details d;
    d.signed_headers = signed_headers;
    d.canonical_request = r.method + '\n' + r.path + '\n' + canonical_query(r.query) + '\n' +
                          canon_headers + '\n' + signed_headers + '\n' + r.payload_hash;
    std::string day(date.substr(0, 8));
    std::string scope = day + '/' + std::string(region) + '/' + std::string(service) +
                        "/aws4_request";
    d.string_to_sign = "AWS4-HMAC-SHA256\n" + std::string(date) + '\n' + scope + '\n' +
                       sha256_hex(d.canonical_request);
    // The signing key chain; the secret only ever enters the first HMAC.
    digest k = hmac_sha256("AWS4" + c.secret_access_key, day);
    k = hmac_sha256(as_view(k), region);
    k = hmac_sha256(as_view(k), service);
    k = hmac_sha256(as_view(k), "aws4_request");
    digest sig = hmac_sha256(as_view(k), d.string_to_sign);
    d.signature = hex(sig.data(), sig.size());
    return d;
}

/// The credential scope "AKID/20130524/us-east-1/s3/aws4_request".
inline std::string credential(const credentials& c, std::string_view region,
                              std::string_view date, std::string_view service = "s3") {
    return c.access_key_id + '/' + std::string(date.substr(0, 8)) + '/' + std::string(region) +
           '/' + std::string(service) + "/aws4_request";
}

}  // namespace sigv4

/// Header authentication: adds x-amz-date, x-amz-content-sha256 (from `r.payload_hash`),
/// x-amz-security-token (with a session token) to `r.headers`, signs every header in it
/// and returns the Authorization header value.
inline std::string sign_headers(sigv4::request_parts& r, const credentials& c,
                                std::string_view region,
                                std::chrono::system_clock::time_point now) {
    std::string date = sigv4::amz_date(now);
    auto has = [&](std::string_view name) {
        for (const auto& h : r.headers)
            if (ascii::iequals(h.first, name)) return true;
        return false;
    };
    if (!has("x-amz-date")) r.headers.emplace_back("x-amz-date", date);
    if (!has("x-amz-content-sha256")) r.headers.emplace_back("x-amz-content-sha256", r.payload_hash);
    if (!c.session_token.empty() && !has("x-amz-security-token"))
        r.headers.emplace_back("x-amz-security-token", c.session_token);
    auto d = sigv4::compute(r, c, region, date);
    return "AWS4-HMAC-SHA256 Credential=" + sigv4::credential(c, region, date) +
           ",SignedHeaders=" + d.signed_headers + ",Signature=" + d.signature;
}

/// Query authentication (a presigned URL): returns the full encoded query string for
/// `r` (its own query parameters plus the X-Amz-* ones and the signature), valid for
/// `expires_seconds` from `now`. Only `host` (and whatever else is in r.headers) is signed;
/// the payload is UNSIGNED-PAYLOAD.
inline std::string presign_query(sigv4::request_parts r, const credentials& c,
                                 std::string_view region,
                                 std::chrono::system_clock::time_point now,
                                 std::int64_t expires_seconds) {
    std::string date = sigv4::amz_date(now);
    std::string signed_headers;
    {
        std::vector<std::string> names;
        for (const auto& h : r.headers) names.push_back(ascii::lowered(h.first));
        std::sort(names.begin(), names.end());
        names.erase(std::unique(names.begin(), names.end()), names.end());
        for (const auto& n : names) signed_headers += (signed_headers.empty() ? "" : ";") + n;
    }
    r.query.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
    r.query.emplace_back("X-Amz-Credential", sigv4::credential(c, region, date));
    r.query.emplace_back("X-Amz-Date", date);
    r.query.emplace_back("X-Amz-Expires", std::to_string(expires_seconds));
    if (!c.session_token.empty()) r.query.emplace_back("X-Amz-Security-Token", c.session_token);
    r.query.emplace_back("X-Amz-SignedHeaders", signed_headers);
    r.payload_hash = std::string(unsigned_payload);
    auto d = sigv4::compute(r, c, region, date);
    return sigv4::canonical_query(r.query) + "&X-Amz-Signature=" + d.signature;
}

}  // namespace sluice::s3
