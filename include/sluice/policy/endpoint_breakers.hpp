#pragma once
/// \file
/// `endpoint_breakers` and `guarded_retry`: circuit breakers for one endpoint, one per kind
/// of failure, that count *calls* rather than attempts.
///
/// A plain breaker shared by every request of an endpoint has two flaws (issue 16): one
/// caller whose request keeps failing for its own reasons (an over-long key the server
/// answers with 500s) opens it for every unrelated caller, and a breaker threshold below
/// the retry budget caps the retries (six 503s failed a call allowed ten attempts). So:
///
/// - **A call counts once.** The failed attempts of one call (`guarded_retry`'s retries)
///   count as one failure, recorded when the call gives up. A breaker therefore opens only
///   after `failure_threshold` *calls* in a row have failed, and never cuts a call's own
///   retries short. A success of any call resets the count.
/// - **Per failure kind.** `connection` failures (refused, reset, timed out: no answer) and
///   `server` failures (5xx and throttling answers) have separate breakers: an answer of any
///   kind proves the endpoint reachable. Either breaker, when open, refuses calls.
/// - **Client errors count as nothing bad.** A request refused for its own fault (4xx, a
///   key that is too long: `failure_kind::client`) proves the service alive; cancellation
///   and usage errors (`failure_kind::none`) say nothing at all.
/// - A half-open probe still decides at once: its failure re-opens its breaker.

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include "../core/error.hpp"
#include "circuit_breaker.hpp"
#include "retry.hpp"

namespace sluice {

/// What one failed attempt says about the service it called.
enum class failure_kind : std::uint8_t {
    none,        ///< nothing (cancelled, a usage error): neither success nor failure
    client,      ///< the request's own fault (4xx, a bad key): the service is alive
    connection,  ///< no answer (refused, reset, timeout, DNS)
    server,      ///< a server-side fault answer (5xx, throttling)
};

/// The breakers of one endpoint: one for connection failures, one for server failures.
/// Thread-safe; share one per endpoint (e.g. through a `shared_ptr`).
class endpoint_breakers {
public:
    /// Both breakers use `o`; their names are `o.name` + " (connection failures)" and
    /// `o.name` + " (server errors)".
    explicit endpoint_breakers(const circuit_breaker_options& o = {})
        : connection_(named(o, " (connection failures)")), server_(named(o, " (server errors)")) {}
    endpoint_breakers(const endpoint_breakers&) = delete;
    endpoint_breakers& operator=(const endpoint_breakers&) = delete;

    /// One admission to both breakers.
    struct ticket {
        circuit_breaker::ticket connection, server;
        failure_kind refused_by = failure_kind::none;  ///< which breaker refused, if any
        explicit operator bool() const noexcept { return refused_by == failure_kind::none; }
    };

    /// Admits one attempt when neither breaker is open (a probe ticket of one breaker is
    /// handed back if the other refuses).
    ticket admit() {
        ticket t;
        t.connection = connection_.admit();
        if (!t.connection) {
            t.refused_by = failure_kind::connection;
            return t;
        }
        t.server = server_.admit();
        if (!t.server) {
            connection_.released(t.connection);
            t.connection = {};
            t.refused_by = failure_kind::server;
        }
        return t;
    }

    /// The error for a refused ticket (the refusing breaker's message).
    error rejection(const ticket& t) const {
        return t.refused_by == failure_kind::server ? server_.rejection() : connection_.rejection();
    }

    /// Reports an attempt's outcome. A failure of kind `connection` or `server` counts in
    /// its breaker only when `last` (the call gives up with it) or when the attempt was
    /// that breaker's probe; otherwise the call's next attempt will tell.
    void report(const ticket& t, failure_kind k, const std::string& why, bool last) {
        switch (k) {
            case failure_kind::none:
                connection_.released(t.connection);
                server_.released(t.server);
                return;
            case failure_kind::client:
                connection_.succeeded(t.connection);
                server_.succeeded(t.server);
                return;
            case failure_kind::connection:
                server_.released(t.server);
                count(connection_, t.connection, why, last);
                return;
            case failure_kind::server:
                connection_.succeeded(t.connection);
                count(server_, t.server, why, last);
                return;
        }
    }
    /// The attempt succeeded: both breakers close and forget their failures.
    void succeeded(const ticket& t) { report(t, failure_kind::client, {}, true); }

    /// The breaker of `k` (`connection` or `server`; others give the connection breaker).
    circuit_breaker& of(failure_kind k) noexcept {
        return k == failure_kind::server ? server_ : connection_;
    }
    const circuit_breaker& of(failure_kind k) const noexcept {
        return k == failure_kind::server ? server_ : connection_;
    }
    /// Whether either breaker is open or half-open.
    bool refusing() const {
        return connection_.state() != breaker_state::closed || server_.state() != breaker_state::closed;
    }

private:
    static circuit_breaker_options named(circuit_breaker_options o, const char* kind) {
        o.name += kind;
        return o;
    }
    static void count(circuit_breaker& b, const circuit_breaker::ticket& t, const std::string& why,
                      bool last) {
        if (last || t.probe)
            b.failed(t, why);
        else
            b.released(t);  // no-op for a non-probe ticket: the call is still trying
    }

    circuit_breaker connection_;
    circuit_breaker server_;
};

/// `guarded_retry(breakers, fn, policy, kind_of)`: `retry(fn, policy)` where every attempt
/// is admitted by `breakers` and its outcome reported to them (see the file comment):
/// `kind_of(const error&) -> failure_kind` classifies a failed attempt (cancellation is
/// always `none`; exceptions other than `sluice::error` are `server`). A refusal by an
/// open breaker ends the call at once with the breaker's message. `caller_retries`: the
/// caller will try again itself after the last attempt (a resumed download), so a
/// retryable failure does not count yet.
template <class F, class Classify>
    requires std::invocable<F&>
decltype(auto) guarded_retry(endpoint_breakers& breakers, F&& fn, const retry_policy& policy,
                             Classify&& kind_of, bool caller_retries = false) {
    const int attempts = policy.max_attempts < 1 ? 1 : policy.max_attempts;
    return retry(
        [&](int attempt) -> decltype(auto) {
            endpoint_breakers::ticket t = breakers.admit();
            if (!t) throw breakers.rejection(t);
            try {
                if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
                    std::invoke(fn);
                    breakers.succeeded(t);
                } else {
                    decltype(auto) r = std::invoke(fn);
                    breakers.succeeded(t);
                    return r;
                }
            } catch (const error& e) {
                failure_kind k = e.code() == errc::cancelled ? failure_kind::none : kind_of(e);
                bool retryable = detail::is_retryable(policy, e);
                bool last = !retryable || (attempt >= attempts && !caller_retries);
                breakers.report(t, k, e.message(), last);
                throw;
            } catch (const std::exception& e) {
                breakers.report(t, failure_kind::server, e.what(), true);
                throw;
            } catch (...) {
                breakers.report(t, failure_kind::server, "unknown exception", true);
                throw;
            }
        },
        policy);
}

}  // namespace sluice
