#pragma once
/// \file
/// `net::curl_transport`: the libcurl implementation of `net::transport` (CMake:
/// `sluice::net`).
///
/// - **Connection reuse.** One easy handle per object, reset (not recreated) between
///   requests, so its connection cache keeps the connection alive: no new TCP or TLS
///   handshake per request (per S3 part, per API page).
/// - **TLS.** Verification is on for https unless `transport_options::verify_tls` is off;
///   `ca_file` replaces the system's CA bundle. Only http and https are spoken.
/// - **Timeouts.** The connect timeout is CURLOPT_CONNECTTIMEOUT_MS; the stall timeout is a
///   timer in the progress callback (no byte moved for `stall_timeout`), which unlike
///   CURLOPT_LOW_SPEED_TIME does not count the time a streaming consumer spends blocking
///   the body callback; `request_timeout` bounds the whole request.
/// - **Paths as signed.** CURLOPT_PATH_AS_IS: the path is sent exactly as given, since
///   folding `/./` or `/../` would break a signature and name another object.
/// - libcurl's global initialisation runs once per process (`curl_global_once`).

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "../core/ascii.hpp"
#include "../core/error.hpp"
#include "../policy/retry.hpp"
#include "http.hpp"
#include "transient.hpp"
#include "transport.hpp"

namespace sluice::net {

/// curl_global_init exactly once per process, before the first handle (thread-safe). Every
/// libcurl user of sluice goes through `curl_transport`, which calls this.
inline void curl_global_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

/// A `net::transport` over one reused libcurl easy handle. Not thread-safe: one request at
/// a time (a client that sends from several threads pools them).
class curl_transport : public transport {
public:
    explicit curl_transport(transport_options o = {}) : opt_(std::move(o)) {
        curl_global_once();
        h_ = curl_easy_init();
        if (!h_) throw error(errc::out_of_memory, "net", "curl_easy_init failed");
    }
    curl_transport(const curl_transport&) = delete;
    curl_transport& operator=(const curl_transport&) = delete;
    ~curl_transport() override { curl_easy_cleanup(h_); }

    /// The settings this transport was made with.
    const transport_options& options() const noexcept { return opt_; }

    using transport::request;

    http_response request(const http_request& r) override {
        // Reset keeps the connection and DNS caches: the next request reuses the socket.
        curl_easy_reset(h_);
        call_state st;
        st.req = &r;
        st.handle = h_;
        st.last_progress = clock::now();
        st.stall_limit = opt_.stall_timeout;
        char errbuf[CURL_ERROR_SIZE] = {0};

        std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> hdrs(header_list(r),
                                                                        &curl_slist_free_all);
        set_common(r, hdrs.get(), errbuf);
        set_method(r);
        curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, &on_header);
        curl_easy_setopt(h_, CURLOPT_HEADERDATA, &st);
        curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, &on_write);
        curl_easy_setopt(h_, CURLOPT_WRITEDATA, &st);
        curl_easy_setopt(h_, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h_, CURLOPT_XFERINFOFUNCTION, &on_progress);
        curl_easy_setopt(h_, CURLOPT_XFERINFODATA, &st);

        CURLcode rc = curl_easy_perform(h_);
        if (rc != CURLE_OK) fail(r, st, rc, errbuf);
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
        bool over_limit = false;
        bool streaming_decided = false;
        bool streaming = false;
    };

    /// The request's headers for libcurl. curl adds "Expect: 100-continue" for large bodies
    /// (a round trip per S3 part) and a form Content-Type for POST bodies; neither is wanted
    /// (nor signed), so both are suppressed.
    static curl_slist* header_list(const http_request& r) {
        curl_slist* hdrs = curl_slist_append(nullptr, "Expect:");
        bool has_type = false;
        for (const auto& [k, v] : r.headers) {
            std::string line = k + ": " + v;
            has_type |= ascii::iequals(k, "content-type");
            hdrs = curl_slist_append(hdrs, line.c_str());
        }
        if (!has_type && !r.body.empty()) hdrs = curl_slist_append(hdrs, "Content-Type:");
        return hdrs;
    }

    /// URL, headers, connection and TLS settings.
    void set_common(const http_request& r, curl_slist* hdrs, char* errbuf) {
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
        if (opt_.request_timeout.count() > 0)
            curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS,
                             static_cast<long>(opt_.request_timeout.count()));
        curl_easy_setopt(h_, CURLOPT_SSL_VERIFYPEER, opt_.verify_tls ? 1L : 0L);
        curl_easy_setopt(h_, CURLOPT_SSL_VERIFYHOST, opt_.verify_tls ? 2L : 0L);
        if (!opt_.ca_file.empty()) curl_easy_setopt(h_, CURLOPT_CAINFO, opt_.ca_file.c_str());
        curl_easy_setopt(h_, CURLOPT_PROTOCOLS_STR, "http,https");
        // "": every encoding this libcurl build can decode.
        if (opt_.decode_content) curl_easy_setopt(h_, CURLOPT_ACCEPT_ENCODING, "");
    }

    void set_method(const http_request& r) {
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
    }

    /// Throws the error for a failed transfer (see the transport's failure contract).
    [[noreturn]] void fail(const http_request& r, const call_state& st, CURLcode rc,
                           const char* errbuf) const {
        std::string what = request_label(r) + ": ";
        if (st.over_limit)
            throw error(errc::limit, r.stage,
                        what + "the answer's body is larger than " + std::to_string(r.max_body) +
                            " bytes");
        if (st.cancelled || r.stop.stop_requested()) throw cancelled_error(r.stage);
        what += *errbuf ? errbuf : curl_easy_strerror(rc);
        if (st.stalled)
            throw transient_error(errc::network, r.stage,
                                  what + ": no data moved for " +
                                      std::to_string(opt_.stall_timeout.count()) +
                                      " ms (stall timeout)");
        if (curl_code_is_transient(rc)) throw transient_error(errc::network, r.stage, what);
        throw error(errc::network, r.stage, what);
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
        if (st->req->max_body && st->resp.body.size() + len > st->req->max_body) {
            st->over_limit = true;
            return 0;  // never buffer past the limit
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

}  // namespace sluice::net
