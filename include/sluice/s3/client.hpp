#pragma once
/// \file
/// `s3::client`: the S3 operations sluice needs (PutObject, the multipart calls, GET, HEAD,
/// DELETE), each request signed when it is sent (so a long upload never goes stale and
/// hits RequestTimeTooSkewed), and sent with `net::call`: retried on transient faults, and
/// guarded by the endpoint's breakers (`endpoint_breakers`: one for connection failures,
/// one for server errors, shared by all copies and threads). A call counts toward a breaker
/// once, when it gives up, so one object's failures cannot open it for unrelated calls nor
/// cut a call's own retries short; client errors (4xx, a key S3 would refuse) never count.
/// What is S3's own here: signing, the XML answers and S3's transient error codes.
///
/// A client is a cheap, copyable handle to shared state (config, breaker, a pool of
/// `net::transport`s with live connections); copies may be used from several threads at once.
///
/// Errors are `s3::s3_error` (an HTTP answer: status, S3 error code, request id) or the
/// transport's errors. Messages name the operation, the object, the status, the S3 code
/// and message and the request id - never a credential, signature or session token.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../net/curl_transport.hpp"
#include "../net/http.hpp"
#include "../net/send.hpp"
#include "../net/transient.hpp"
#include "../net/transport.hpp"
#include "../policy/circuit_breaker.hpp"
#include "../policy/endpoint_breakers.hpp"
#include "../policy/retry.hpp"
#include "addressing.hpp"
#include "config.hpp"
#include "sigv4.hpp"

namespace sluice::s3 {

/// An error answer from S3 (or an <Error> inside a 200 answer): a `net::http_error` (the
/// status; `transient()` for 5xx, 429, 408, SlowDown, RequestTimeout...) with S3's code and
/// request id.
class s3_error : public net::http_error {
public:
    s3_error(std::string message, long status, std::string code, std::string request_id,
             bool transient)
        : net::http_error("s3", std::move(message), status, transient), code_(std::move(code)),
          request_id_(std::move(request_id)) {}

    /// S3's error code ("NoSuchKey", "SlowDown"), or "" when the body had none.
    const std::string& s3_code() const noexcept { return code_; }
    /// x-amz-request-id (or the body's RequestId), for AWS support.
    const std::string& request_id() const noexcept { return request_id_; }

private:
    std::string code_;
    std::string request_id_;
};

/// One uploaded part, as CompleteMultipartUpload wants it.
struct completed_part {
    std::uint32_t number = 0;
    std::string etag;
};

namespace detail {

/// The text of the first <tag>...</tag> in `xml`, entities decoded; "" when absent. S3's
/// answers are small and flat, so this is all the XML sluice needs.
inline std::string xml_text(std::string_view xml, std::string_view tag) {
    std::string open = "<" + std::string(tag) + ">";
    std::string close = "</" + std::string(tag) + ">";
    auto b = xml.find(open);
    if (b == std::string_view::npos) return {};
    b += open.size();
    auto e = xml.find(close, b);
    if (e == std::string_view::npos) return {};
    std::string_view raw = xml.substr(b, e - b);
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '&') {
            out += raw[i];
            continue;
        }
        static constexpr std::pair<std::string_view, char> entities[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        bool done = false;
        for (auto [name, ch] : entities) {
            if (raw.substr(i, name.size()) == name) {
                out += ch;
                i += name.size() - 1;
                done = true;
                break;
            }
        }
        if (!done) out += '&';
    }
    return out;
}

/// The bodies of every top-level <tag>...</tag> in `xml` (views into it), in order.
inline std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
    const std::string open = "<" + std::string(tag) + ">";
    const std::string close = "</" + std::string(tag) + ">";
    std::vector<std::string_view> out;
    for (std::size_t at = xml.find(open); at != std::string_view::npos;) {
        std::size_t b = at + open.size();
        std::size_t e = xml.find(close, b);
        if (e == std::string_view::npos) break;
        out.push_back(xml.substr(b, e - b));
        at = xml.find(open, e + close.size());
    }
    return out;
}

inline std::string xml_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

/// Statuses (net/transient.hpp) and S3 error codes worth another attempt.
inline bool s3_transient(long status, std::string_view code) noexcept {
    if (net::status_is_transient(status)) return true;
    return code == "RequestTimeout" || code == "SlowDown" || code == "InternalError" ||
           code == "ServiceUnavailable" || code == "RequestTimeTooSkewed" ||
           code == "OperationAborted";
}

/// S3's longest object key, in bytes of UTF-8.
inline constexpr std::size_t max_key_bytes = 1024;

}  // namespace detail

/// One request as the client sends it (see `client::execute`).
struct s3_call {
    std::string operation;  ///< "UploadPart": used in messages
    std::string method = "GET";
    std::string bucket;
    std::string key;
    field_list query{};
    field_list headers{};
    std::string_view body{};
    /// Streams a 2xx body (see `net::http_request::on_body`).
    std::function<bool(std::string_view)> on_body{};
    /// Sees a streamed 2xx answer's headers before its body (see `net::http_request::on_headers`).
    std::function<void(const net::http_response&)> on_headers{};
    /// Inspects a 2xx answer; may throw (e.g. an <Error> inside a 200).
    std::function<void(const net::http_response&)> check{};
    /// Cancels the request and the sleeps between attempts.
    std::stop_token stop{};
    /// Attempts in all; 0 = the config's retry policy.
    int max_attempts = 0;
    /// The caller retries this call itself after its last attempt (a GET resumed at the
    /// bytes received): a transient failure then does not count toward a breaker yet.
    bool caller_retries = false;
    /// Whether the endpoint's breakers gate (and count) this request. Cleanup
    /// (AbortMultipartUpload) bypasses it: it must be tried even when the breaker is open.
    bool use_breaker = true;
    /// Appended to the object in messages (" part 3").
    std::string detail{};
};

/// A handle to an S3 endpoint (see the file comment).
class client {
public:
    /// Makes a transport for one thread of requests (default: `net::curl_transport`).
    using transport_factory =
        std::function<std::unique_ptr<net::transport>(const net::transport_options&)>;

    /// A client for `c` (default: `config::from_env()`).
    explicit client(config c = config::from_env(), transport_factory f = {})
        : st_(std::make_shared<state>(std::move(c), std::move(f))) {}

    /// The configuration this client was made with.
    const config& settings() const noexcept { return st_->cfg; }
    /// The endpoint's breakers (connection failures, server errors), shared by every copy
    /// of this client.
    endpoint_breakers& breakers() const noexcept { return st_->breakers; }

    /// Sends `c` with `net::call`: signed at each attempt, retried on transient failures with
    /// backoff and jitter, gated by the breakers. Returns the 2xx answer; throws otherwise. A
    /// key longer than S3's 1024 bytes is a usage error before any request.
    net::http_response execute(const s3_call& c) const {
        if (st_->cfg.credentials.empty())
            throw error(errc::usage, "s3",
                        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                        "AWS_PROFILE with a profile in the shared credentials file "
                        "(AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials)");
        if (c.key.size() > detail::max_key_bytes)
            throw error(errc::usage, "s3",
                        c.operation + " s3://" + c.bucket + "/" + c.key.substr(0, 64) +
                            "...: the key is " + std::to_string(c.key.size()) +
                            " bytes; S3 keys are at most 1024 bytes");
        net::send_policy p;
        p.retry = st_->cfg.retry;
        p.retry.stop = c.stop;
        p.retry.retryable = &net::is_retryable;
        if (c.max_attempts > 0) p.retry.max_attempts = c.max_attempts;
        if (c.use_breaker) p.breakers = &st_->breakers;
        p.caller_retries = c.caller_retries;
        return net::call([&] { return attempt(c); }, p);
    }

    /// PutObject: `body` as the whole object, with the given Content-Type and
    /// Content-Encoding (empty: not sent), which S3 serves back on GET. Returns its ETag.
    std::string put_object(std::string_view bucket, std::string_view key, std::string_view body,
                           std::stop_token stop = {}, std::string content_type = {},
                           std::string content_encoding = {}) const {
        s3_call c = call("PutObject", "PUT", bucket, key, stop);
        c.body = body;
        add_object_headers(c, std::move(content_type), std::move(content_encoding));
        return execute(c).header("ETag");
    }

    /// CreateMultipartUpload; the object's Content-Type and Content-Encoding (empty: not
    /// sent) are given here, not with the parts. Returns the UploadId.
    std::string create_multipart_upload(std::string_view bucket, std::string_view key,
                                        std::stop_token stop = {},
                                        std::string content_type = {},
                                        std::string content_encoding = {}) const {
        s3_call c = call("CreateMultipartUpload", "POST", bucket, key, stop);
        c.query = {{"uploads", ""}};
        add_object_headers(c, std::move(content_type), std::move(content_encoding));
        std::string id = detail::xml_text(execute(c).body, "UploadId");
        if (id.empty())
            throw error(errc::network, "s3",
                        "CreateMultipartUpload " + where(bucket, key) + ": no UploadId in the answer");
        return id;
    }

    /// UploadPart `number` (1-based). Returns the part's ETag.
    std::string upload_part(std::string_view bucket, std::string_view key,
                            std::string_view upload_id, std::uint32_t number,
                            std::string_view body, std::stop_token stop = {}) const {
        s3_call c = call("UploadPart", "PUT", bucket, key, stop);
        c.query = {{"partNumber", std::to_string(number)}, {"uploadId", std::string(upload_id)}};
        c.body = body;
        c.detail = " part " + std::to_string(number);
        std::string etag = execute(c).header("ETag");
        if (etag.empty())
            throw error(errc::network, "s3",
                        "UploadPart " + where(bucket, key) + c.detail + ": no ETag in the answer");
        return etag;
    }

    /// CompleteMultipartUpload with `parts` (in part-number order). A 200 answer that
    /// carries an <Error> is a failure (retried when its code is transient). Returns the
    /// object's ETag.
    std::string complete_multipart_upload(std::string_view bucket, std::string_view key,
                                          std::string_view upload_id,
                                          const std::vector<completed_part>& parts,
                                          std::stop_token stop = {}) const {
        std::string xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
        for (const auto& p : parts)
            xml += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>" +
                   detail::xml_escape(p.etag) + "</ETag></Part>";
        xml += "</CompleteMultipartUpload>";
        s3_call c = call("CompleteMultipartUpload", "POST", bucket, key, stop);
        c.query = {{"uploadId", std::string(upload_id)}};
        c.headers.emplace_back("Content-Type", "application/xml");
        c.body = xml;
        c.check = [this, &c](const net::http_response& r) {
            // S3 may answer 200 and report the failure in the body (it sends the status
            // before it knows the outcome, keeping the connection alive with spaces).
            if (r.body.find("<Error>") != std::string::npos) throw answer_error(c, r, 200);
        };
        net::http_response r = execute(c);
        std::string etag = detail::xml_text(r.body, "ETag");
        return etag.empty() ? r.header("ETag") : etag;
    }

    /// AbortMultipartUpload. Cleanup: not cancellable (no stop token), retried, and not
    /// gated by the breaker. An upload that is already gone (404 NoSuchUpload) counts as
    /// aborted. If it still fails, the error names the UploadId so it can be removed later.
    void abort_multipart_upload(std::string_view bucket, std::string_view key,
                                std::string_view upload_id) const {
        s3_call c = call("AbortMultipartUpload", "DELETE", bucket, key, {});
        c.query = {{"uploadId", std::string(upload_id)}};
        c.use_breaker = false;
        c.max_attempts = std::max(st_->cfg.retry.max_attempts, 5);
        try {
            execute(c);
        } catch (const s3_error& e) {
            if (e.status() == 404) return;
            throw abort_failed(bucket, key, upload_id, e);
        } catch (const error& e) {
            throw abort_failed(bucket, key, upload_id, e);
        }
    }

    /// One multipart upload in progress, as ListMultipartUploads names it.
    struct pending_upload {
        std::string key;
        std::string upload_id;
        /// When it was created, as S3 prints it (ISO 8601, "2026-01-02T03:04:05.000Z").
        std::string initiated{};
    };

    /// ListMultipartUploads of the keys starting with `prefix`: every page (S3 answers at
    /// most 1000 per request; the key and upload-id markers fetch the next), in S3's order.
    std::vector<pending_upload> list_multipart_uploads(std::string_view bucket,
                                                      std::string_view prefix,
                                                      std::stop_token stop = {}) const {
        std::vector<pending_upload> out;
        std::string key_marker, id_marker;
        for (;;) {
            s3_call c = call("ListMultipartUploads", "GET", bucket, "", stop);
            c.query = {{"prefix", std::string(prefix)}, {"uploads", ""}};
            if (!key_marker.empty()) c.query.emplace_back("key-marker", key_marker);
            if (!id_marker.empty()) c.query.emplace_back("upload-id-marker", id_marker);
            net::http_response r = execute(c);
            std::string_view xml = r.body;
            for (std::string_view one : detail::xml_elements(xml, "Upload"))
                out.push_back({detail::xml_text(one, "Key"), detail::xml_text(one, "UploadId"),
                               detail::xml_text(one, "Initiated")});
            if (detail::xml_text(xml, "IsTruncated") != "true") return out;
            key_marker = detail::xml_text(xml, "NextKeyMarker");
            id_marker = detail::xml_text(xml, "NextUploadIdMarker");
            if (key_marker.empty() && id_marker.empty())
                throw error(errc::network, "s3",
                            "ListMultipartUploads " + where(bucket, prefix) +
                                ": a truncated answer without a next marker");
        }
    }

    /// One stored part of a multipart upload, as ListParts names it.
    struct listed_part {
        std::uint32_t number = 0;
        std::string etag;
        std::uint64_t size = 0;
    };

    /// ListParts of one upload: every page (at most 1000 parts per request; the part-number
    /// marker fetches the next), in part-number order. Throws `s3_error` 404 NoSuchUpload
    /// when the upload is gone (completed or aborted).
    std::vector<listed_part> list_parts(std::string_view bucket, std::string_view key,
                                        std::string_view upload_id,
                                        std::stop_token stop = {}) const {
        std::vector<listed_part> out;
        std::string marker;
        for (;;) {
            s3_call c = call("ListParts", "GET", bucket, key, stop);
            c.query = {{"uploadId", std::string(upload_id)}};
            if (!marker.empty()) c.query.emplace_back("part-number-marker", marker);
            net::http_response r = execute(c);
            std::string_view xml = r.body;
            for (std::string_view one : detail::xml_elements(xml, "Part")) {
                listed_part p;
                p.number = static_cast<std::uint32_t>(
                    std::strtoul(detail::xml_text(one, "PartNumber").c_str(), nullptr, 10));
                p.etag = detail::xml_text(one, "ETag");
                p.size = std::strtoull(detail::xml_text(one, "Size").c_str(), nullptr, 10);
                out.push_back(std::move(p));
            }
            if (detail::xml_text(xml, "IsTruncated") != "true") return out;
            marker = detail::xml_text(xml, "NextPartNumberMarker");
            if (marker.empty())
                throw error(errc::network, "s3",
                            "ListParts " + where(bucket, key) +
                                ": a truncated answer without a next marker");
        }
    }

    /// HeadObject: the answer's headers (Content-Length, ETag, ...).
    net::http_response head_object(std::string_view bucket, std::string_view key,
                              std::stop_token stop = {}) const {
        return execute(call("HeadObject", "HEAD", bucket, key, stop));
    }

    /// DeleteObject.
    void delete_object(std::string_view bucket, std::string_view key,
                       std::stop_token stop = {}) const {
        execute(call("DeleteObject", "DELETE", bucket, key, stop));
    }

    /// A call pre-filled with the operation, method and object (for custom requests).
    s3_call call(std::string op, std::string method, std::string_view bucket,
                 std::string_view key, std::stop_token stop) const {
        s3_call c;
        c.operation = std::move(op);
        c.method = std::move(method);
        c.bucket = std::string(bucket);
        c.key = std::string(key);
        c.stop = std::move(stop);
        return c;
    }

    /// "s3://bucket/key", as messages name objects.
    static std::string where(std::string_view bucket, std::string_view key) {
        return "s3://" + std::string(bucket) + "/" + std::string(key);
    }

private:
    /// The object metadata headers PutObject and CreateMultipartUpload carry.
    static void add_object_headers(s3_call& c, std::string content_type,
                                   std::string content_encoding) {
        if (!content_type.empty()) c.headers.emplace_back("Content-Type", std::move(content_type));
        if (!content_encoding.empty())
            c.headers.emplace_back("Content-Encoding", std::move(content_encoding));
    }

    struct state {
        state(config c, transport_factory f)
            : cfg(std::move(c)), factory(std::move(f)),
              breakers([&] {
                  circuit_breaker_options o = cfg.breaker;
                  if (o.name == circuit_breaker_options{}.name)
                      o.name = "S3 endpoint " + cfg.effective_endpoint();
                  return o;
              }()) {
            topt.connect_timeout = cfg.connect_timeout;
            topt.stall_timeout = cfg.stall_timeout;
            topt.verify_tls = cfg.verify_tls;
            topt.ca_file = cfg.ca_file;
        }
        config cfg;
        transport_factory factory;
        net::transport_options topt;
        endpoint_breakers breakers;
        std::mutex m;
        // Idle transports with their open connections; one is leased per request.
        std::vector<std::unique_ptr<net::transport>> idle;
    };

    /// A transport borrowed from the pool for one request, returned afterwards.
    class lease {
    public:
        explicit lease(state& s) : s_(s) {
            std::lock_guard lk(s_.m);
            if (!s_.idle.empty()) {
                t_ = std::move(s_.idle.back());
                s_.idle.pop_back();
            }
        }
        ~lease() {
            if (!t_) return;
            std::lock_guard lk(s_.m);
            s_.idle.push_back(std::move(t_));
        }
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;
        net::transport& get() {
            if (!t_)
                t_ = s_.factory ? s_.factory(s_.topt)
                                : std::make_unique<net::curl_transport>(s_.topt);
            return *t_;
        }
        /// Drops the transport instead of returning it (its connection may be broken).
        void discard() noexcept { t_.reset(); }

    private:
        state& s_;
        std::unique_ptr<net::transport> t_;
    };

    /// One attempt: signing with the current time, the request, and the answer's check.
    net::http_response attempt(const s3_call& c) const {
        const config& cfg = st_->cfg;
        request_target tgt = target(cfg, c.bucket, c.key);
        sigv4::request_parts parts{c.method, tgt.path, c.query, c.headers, sigv4::sha256_hex(c.body)};
        parts.headers.emplace_back("host", tgt.host);
        std::string auth =
            sign_headers(parts, cfg.credentials, cfg.region, std::chrono::system_clock::now());
        net::http_request req;
        req.stage = "s3";
        req.method = c.method;
        req.url = tgt.url(sigv4::canonical_query(c.query));
        req.headers = std::move(parts.headers);
        req.headers.emplace_back("Authorization", std::move(auth));
        req.body = c.body;
        req.on_body = c.on_body;
        req.on_headers = c.on_headers;
        req.stop = c.stop;
        lease l(*st_);
        net::http_response r;
        try {
            r = l.get().request(req);
        } catch (...) {
            l.discard();
            throw;
        }
        if (!r.ok()) throw answer_error(c, r, r.status);
        if (c.check) c.check(r);
        return r;
    }

    /// The s3_error for an error answer: "UploadPart s3://b/k part 3: HTTP 503 SlowDown:
    /// Please reduce your request rate. (request id 4442587FB7D0A2F9)".
    static s3_error answer_error(const s3_call& c, const net::http_response& r, long status) {
        std::string code = detail::xml_text(r.body, "Code");
        std::string text = detail::xml_text(r.body, "Message");
        std::string rid = r.header("x-amz-request-id");
        if (rid.empty()) rid = detail::xml_text(r.body, "RequestId");
        std::string m = c.operation + " " + where(c.bucket, c.key) + c.detail + ": HTTP " +
                        std::to_string(status);
        if (!code.empty()) m += " " + code;
        if (!text.empty()) m += ": " + text;
        if (!rid.empty()) m += " (request id " + rid + ")";
        return s3_error(std::move(m), status, code, rid, detail::s3_transient(status, code));
    }

    static error abort_failed(std::string_view bucket, std::string_view key,
                              std::string_view upload_id, const error& e) {
        return error(errc::network, "s3",
                     "could not abort the multipart upload of " + where(bucket, key) +
                         " (UploadId " + std::string(upload_id) +
                         "); remove it later with AbortMultipartUpload or a bucket lifecycle "
                         "rule: " + e.message());
    }

    std::shared_ptr<state> st_;
};

}  // namespace sluice::s3
