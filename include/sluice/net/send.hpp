#pragma once
/// \file
/// `net::call(attempt, policy)` and `net::send(transport, request, policy)`: one HTTP call
/// under `sluice::retry` and an endpoint's breakers (policy/endpoint_breakers.hpp), with the
/// one set of rules every sluice client shares:
///
/// - **Retried:** `transient_error`s (the transport's transient failures, net/transient.hpp)
///   and `http_error`s whose status is transient; everything else fails at once, and
///   cancellation is never retried.
/// - **Counted:** a failed attempt tells the breakers whose fault it was: an error answer
///   of 5xx (or a transient failure reported inside a 2xx, as S3 does) is the server's;
///   any other answer, and a body over its limit, the request's own (the endpoint is alive);
///   a usage error nothing; no answer at all, the connection's. A call counts once, when it
///   gives up, so the breakers never cut its retries short.
///
///     net::curl_transport t({.ca_file = "/etc/ssl/my-ca.pem"});
///     net::http_request r;
///     r.url = "https://api.example.com/v1/status";
///     endpoint_breakers breakers({.name = "status API"});
///     net::http_response a = net::send(t, r, {.retry = {.max_attempts = 4}, .breakers = &breakers});

#include <concepts>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../core/error.hpp"
#include "../policy/endpoint_breakers.hpp"
#include "../policy/retry.hpp"
#include "http.hpp"
#include "transient.hpp"
#include "transport.hpp"

namespace sluice::net {

/// How `net::call` and `net::send` retry and guard one call.
struct send_policy {
    /// Attempts, backoff and the stop token; an empty `retryable` means `net::is_retryable`.
    retry_policy retry{};
    /// The endpoint's breakers, which admit every attempt and count the call's failure;
    /// null: retries only.
    endpoint_breakers* breakers = nullptr;
    /// The caller tries again itself after the last attempt (a download resumed at the bytes
    /// received): a retryable failure then does not count toward a breaker yet.
    bool caller_retries = false;
};

/// Whether another attempt may succeed: a `transient_error`, or a transient `http_error`.
inline bool is_retryable(const error& e) {
    if (dynamic_cast<const transient_error*>(&e)) return true;
    if (auto* h = dynamic_cast<const http_error*>(&e)) return h->transient();
    return false;
}

/// What a failed attempt says about the endpoint (see the file comment).
inline failure_kind failure_kind_of(const error& e) {
    if (auto* h = dynamic_cast<const http_error*>(&e)) {
        if (h->status() >= 500 || (h->status() < 300 && h->transient())) return failure_kind::server;
        return failure_kind::client;
    }
    if (e.code() == errc::usage || e.code() == errc::cancelled) return failure_kind::none;
    if (e.code() == errc::limit) return failure_kind::client;
    return failure_kind::connection;
}

/// The `http_error` for a non-2xx answer `a` to `r`: "GET http://host/path: HTTP 503: <the
/// first 200 bytes of the body>" (the request's label, never its query string).
inline http_error answer_error(const http_request& r, const http_response& a) {
    std::string m = request_label(r) + ": HTTP " + std::to_string(a.status);
    std::string_view snippet = std::string_view(a.body).substr(0, 200);
    if (!snippet.empty()) m += ": " + std::string(snippet);
    return http_error(r.stage, std::move(m), a.status, status_is_transient(a.status));
}

/// `net::call(attempt, policy)`: `attempt()` under retry and the breakers of `policy` (see
/// the file comment), returning what the successful attempt returned. For calls whose every
/// attempt builds its own request (signed with the current time, sent through a pooled
/// transport); `attempt` throws `http_error` (e.g. `answer_error`) for a failed answer.
template <class F>
    requires std::invocable<F&>
decltype(auto) call(F&& attempt, send_policy policy) {
    if (!policy.retry.retryable) policy.retry.retryable = &is_retryable;
    if (!policy.breakers) return retry(attempt, policy.retry);
    return guarded_retry(*policy.breakers, attempt, policy.retry, &failure_kind_of,
                         policy.caller_retries);
}

/// `net::send(transport, request, policy)`: sends `r` through `t` until it gets a 2xx
/// answer, which it returns; a non-2xx answer is an `http_error` (`answer_error`), retried
/// when transient. A streamed body (`r.on_body`) is handed on again from its start at
/// every attempt.
inline http_response send(transport& t, const http_request& r, const send_policy& policy = {}) {
    return call(
        [&] {
            http_response a = t.request(r);
            if (!a.ok()) throw answer_error(r, a);
            return a;
        },
        policy);
}

}  // namespace sluice::net
