#pragma once
/// \file
/// `s3::curl_transport`: the libcurl implementation of `s3::transport`. One easy handle per
/// object, reset (not recreated) between requests, so its connection cache keeps the
/// connection alive (keep-alive, no new TLS handshake per part). TLS verification is on for
/// https unless the config says otherwise; connect timeout via CURLOPT_CONNECTTIMEOUT_MS;
/// the low-speed timeout is a stall timer in the progress callback (no byte moved for
/// `stall_timeout`), which unlike CURLOPT_LOW_SPEED_TIME does not count the time a GET's
/// consumer spends blocking the body callback.

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "../policy/retry.hpp"
#include "../core/error.hpp"
#include "transport.hpp"

namespace sluice::s3 {

namespace detail {

/// curl_global_init exactly once per process, before the first handle (thread-safe).
inline void curl_global_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

/// Failures worth another attempt: the network or the server may recover.
inline bool curl_code_is_transient(CURLcode c) noexcept {
    switch (c) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return true;
        default:
            return false;
    }
}

}  // namespace detail

/// An `s3::transport` over one reused libcurl easy handle. Not thread-safe: one request at
/// a time (the client pools transports).
class curl_transport : public transport {
public:
    explicit curl_transport(transport_options o = {}) : opt_(std::move(o)) {
        detail::curl_global_once();
        h_ = curl_easy_init();
        if (!h_) throw error(errc::out_of_memory, "s3", "curl_easy_init failed");
    }
    curl_transport(const curl_transport&) = delete;
    curl_transport& operator=(const curl_transport&) = delete;
    ~curl_transport() override { curl_easy_cleanup(h_); }

    using transport::request;

    http_response request(const http_request& r) override {
        // Reset keeps the connection and DNS caches: the next request reuses the socket.
        curl_easy_reset(h_);
        call_state st;
        st.req = &r;
        st.handle = h_;
        st.last_progress = clock::now();
        char errbuf[CURL_ERROR_SIZE] = {0};

        curl_slist* hdrs = nullptr;
        // curl adds "Expect: 100-continue" for large bodies (a round trip per part) and a
        // form Content-Type for POST bodies; neither is wanted or signed.
        hdrs = curl_slist_append(hdrs, "Expect:");
        bool has_type = false;
        for (const auto& [k, v] : r.headers) {
            std::string line = k + ": " + v;
            has_type |= detail::iequals(k, "content-type");
            hdrs = curl_slist_append(hdrs, line.c_str());
        }
        if (!has_type && !r.body.empty()) hdrs = curl_slist_append(hdrs, "Content-Type:");
        std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> guard(hdrs,
                                                                         &curl_slist_free_all);

        curl_easy_setopt(h_, CURLOPT_URL, r.url.c_str());
        // Send the path exactly as signed: without this libcurl folds `/./` and `/../` in an
        // object key, so the signature fails and the request would name another object.
        curl_easy_setopt(h_, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(h_, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h_, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(h_, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h_, CURLOPT_CONNECTTIMEOUT_MS,
                         static_cast<long>(opt_.connect_timeout.count()));
        curl_easy_setopt(h_, CURLOPT_SSL_VERIFYPEER, opt_.verify_tls ? 1L : 0L);
        curl_easy_setopt(h_, CURLOPT_SSL_VERIFYHOST, opt_.verify_tls ? 2L : 0L);
        if (!opt_.ca_file.empty()) curl_easy_setopt(h_, CURLOPT_CAINFO, opt_.ca_file.c_str());
        curl_easy_setopt(h_, CURLOPT_PROTOCOLS_STR, "http,https");

        if (r.method == "HEAD") {
            curl_easy_setopt(h_, CURLOPT_NOBODY, 1L);
        } else if (r.method == "GET") {
            curl_easy_setopt(h_, CURLOPT_HTTPGET, 1L);
        } else {
            curl_easy_setopt(h_, CURLOPT_CUSTOMREQUEST, r.method.c_str());
            if (!r.body.empty() || r.method == "PUT" || r.method == "POST") {
                // Sent from the caller's buffer without a copy.
                curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE,
                                 static_cast<curl_off_t>(r.body.size()));
                curl_easy_setopt(h_, CURLOPT_POSTFIELDS, r.body.empty() ? "" : r.body.data());
            }
        }

        curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, &on_header);
        curl_easy_setopt(h_, CURLOPT_HEADERDATA, &st);
        curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, &on_write);
        curl_easy_setopt(h_, CURLOPT_WRITEDATA, &st);
        curl_easy_setopt(h_, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h_, CURLOPT_XFERINFOFUNCTION, &on_progress);
        curl_easy_setopt(h_, CURLOPT_XFERINFODATA, &st);
        st.stall_limit = opt_.stall_timeout;

        CURLcode rc = curl_easy_perform(h_);
        if (rc != CURLE_OK) {
            if (st.cancelled || r.stop.stop_requested()) throw cancelled_error("s3");
            std::string what = describe(r, rc, errbuf);
            if (st.stalled)
                throw transient_error(errc::network, "s3",
                                      what + ": no data moved for " +
                                          std::to_string(opt_.stall_timeout.count()) +
                                          " ms (stall timeout)");
            if (detail::curl_code_is_transient(rc)) throw transient_error(errc::network, "s3", what);
            throw error(errc::network, "s3", what);
        }
        curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &st.resp.status);
        return std::move(st.resp);
    }

private:
    using clock = std::chrono::steady_clock;

    /// Per-request state shared with the C callbacks.
    struct call_state {
        const http_request* req = nullptr;
        CURL* handle = nullptr;
        http_response resp;
        clock::time_point last_progress{};
        curl_off_t last_bytes = 0;
        std::chrono::milliseconds stall_limit{};
        bool stalled = false;
        bool cancelled = false;
        bool streaming_decided = false;
        bool streaming = false;
    };

    /// "PUT http://host/bucket/key: <curl's reason>". The URL has no query string: for
    /// presigned requests that is where the signature would be.
    static std::string describe(const http_request& r, CURLcode rc, const char* errbuf) {
        std::string url = r.url.substr(0, r.url.find('?'));
        std::string m = r.method + " " + url + ": ";
        m += *errbuf ? errbuf : curl_easy_strerror(rc);
        return m;
    }

    static std::size_t on_header(char* p, std::size_t size, std::size_t n, void* ud) {
        auto* st = static_cast<call_state*>(ud);
        std::string_view line(p, size * n);
        if (line.starts_with("HTTP/")) {
            // A new status line (after "100 Continue" or a redirect): start over.
            st->resp.headers.clear();
            return size * n;
        }
        auto colon = line.find(':');
        if (colon != std::string_view::npos) {
            std::string_view v = line.substr(colon + 1);
            while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
            while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' '))
                v.remove_suffix(1);
            st->resp.headers.emplace_back(std::string(line.substr(0, colon)), std::string(v));
        }
        return size * n;
    }

    static std::size_t on_write(char* p, std::size_t size, std::size_t n, void* ud) {
        auto* st = static_cast<call_state*>(ud);
        std::size_t len = size * n;
        if (st->req->on_body) {
            if (!st->streaming_decided) {
                // The status is known once the body starts: only a success is streamed.
                long status = 0;
                curl_easy_getinfo(st->handle, CURLINFO_RESPONSE_CODE, &status);
                st->streaming = status >= 200 && status < 300;
                st->streaming_decided = true;
                if (st->streaming && st->req->on_headers) {
                    st->resp.status = status;
                    st->req->on_headers(st->resp);
                }
            }
            if (st->streaming) {
                bool more = st->req->on_body(std::string_view(p, len));
                // Time spent in the consumer is not a stall of the network.
                st->last_progress = clock::now();
                if (!more) {
                    st->cancelled = true;
                    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
                }
                return len;
            }
        }
        st->resp.body.append(p, len);
        return len;
    }

    static int on_progress(void* ud, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
        auto* st = static_cast<call_state*>(ud);
        if (st->req->stop.stop_requested()) {
            st->cancelled = true;
            return 1;
        }
        auto now = clock::now();
        curl_off_t moved = dlnow + ulnow;
        if (moved != st->last_bytes) {
            st->last_bytes = moved;
            st->last_progress = now;
        } else if (st->stall_limit.count() > 0 && now - st->last_progress > st->stall_limit) {
            st->stalled = true;
            return 1;
        }
        return 0;
    }

    transport_options opt_;
    CURL* h_ = nullptr;
};

}  // namespace sluice::s3
