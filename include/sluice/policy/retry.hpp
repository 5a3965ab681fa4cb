#pragma once
/// \file
/// `retry(fn, policy)`: calls `fn` until it succeeds, retrying *transient* failures with
/// exponential backoff and "equal" jitter (`c = min(max_delay, base_delay * 2^n)`,
/// `sleep = random(c/2, c)`) for at most `policy.max_attempts` attempts. The lower half of
/// the window is guaranteed, so the time retried over grows with the attempts (5 attempts of
/// 1 s base wait 7.5 to 15 s in all) instead of collapsing to a few lucky short sleeps, while
/// the upper half still spreads the retries of many clients hit by the same outage. For stages that call other services (HTTP, a
/// database): everything not classified as transient propagates at once, and a stop request
/// interrupts the sleep between attempts.
///
/// A failure is transient when it is a `sluice::transient_error` (the default classifier),
/// or when `policy.retryable(e)` says so. Cancellation (`errc::cancelled`) is never retried.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "../core/error.hpp"

namespace sluice {

/// An error that may go away if the operation is tried again (a dropped connection, a
/// timeout, an overloaded server). Throw it from code wrapped in `retry` to ask for another
/// attempt; catch it as a plain `sluice::error` everywhere else.
class transient_error : public error {
public:
    using error::error;
    /// Wraps an existing error, marking it transient.
    explicit transient_error(const error& e) : error(e) {}
};

/// How `retry` paces and bounds attempts.
struct retry_policy {
    /// Attempts in all, the first included (1 = no retry). Values below 1 count as 1.
    int max_attempts = 5;
    /// Backoff ceiling before jitter for the first retry; doubles with every retry. Tests
    /// set it low (a few ms) to stay fast.
    std::chrono::milliseconds base_delay{100};
    /// Upper bound of any one sleep.
    std::chrono::milliseconds max_delay{20'000};
    /// Classifier; empty means "retry exactly the `transient_error`s".
    std::function<bool(const error&)> retryable{};
    /// Called before each sleep with (the failed attempt's 1-based number, its error, the
    /// sleep chosen): for logging and tests. May be empty.
    std::function<void(int, const error&, std::chrono::milliseconds)> on_retry{};
    /// Interrupts the wait between attempts (and stops retrying) when triggered.
    std::stop_token stop{};
};

namespace detail {

/// The backoff ceiling before retry number `retry` (0-based): min(max_delay, base_delay * 2^retry).
inline std::chrono::milliseconds backoff_ceiling(const retry_policy& p, int retry) {
    using rep = std::chrono::milliseconds::rep;
    rep cap = p.max_delay.count() < 0 ? 0 : p.max_delay.count();
    rep ceiling = p.base_delay.count() < 0 ? 0 : p.base_delay.count();
    for (int i = 0; i < retry && ceiling < cap; ++i) ceiling *= 2;
    return std::chrono::milliseconds(ceiling > cap ? cap : ceiling);
}

/// The jittered sleep before retry number `retry` (0-based): uniform in
/// [ceiling / 2, ceiling] (see `backoff_ceiling`). The random half spreads the retries of
/// many clients hit by the same outage instead of synchronising them; the fixed half keeps
/// the window growing with the attempts.
inline std::chrono::milliseconds backoff_delay(const retry_policy& p, int retry) {
    using rep = std::chrono::milliseconds::rep;
    rep ceiling = backoff_ceiling(p, retry).count();
    if (ceiling <= 0) return std::chrono::milliseconds(0);
    thread_local std::minstd_rand rng{std::random_device{}()};
    std::uniform_int_distribution<rep> dist(ceiling / 2, ceiling);
    return std::chrono::milliseconds(dist(rng));
}

/// Sleeps for `d` unless `stop` is triggered first; returns false when it was.
inline bool sleep_unless_stopped(std::chrono::milliseconds d, const std::stop_token& stop) {
    if (d.count() <= 0) return !stop.stop_requested();
    if (!stop.stop_possible()) {
        std::this_thread::sleep_for(d);
        return true;
    }
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lk(m);
    // The predicate never holds: the wait ends at the timeout or at the stop request.
    cv.wait_for(lk, stop, d, [] { return false; });
    return !stop.stop_requested();
}

inline bool is_retryable(const retry_policy& p, const error& e) {
    if (e.code() == errc::cancelled) return false;
    if (p.retryable) return p.retryable(e);
    return dynamic_cast<const transient_error*>(&e) != nullptr;
}

}  // namespace detail

/// The shortest total time `p` spends sleeping before giving up (the sum of the lower
/// halves of its windows): what an outage must outlast to fail a call.
inline std::chrono::milliseconds min_retry_window(const retry_policy& p) {
    std::chrono::milliseconds sum{0};
    for (int r = 0; r + 1 < p.max_attempts; ++r) sum += detail::backoff_ceiling(p, r) / 2;
    return sum;
}

/// `retry(fn, policy)` calls `fn()` (or `fn(attempt)` with the 1-based attempt number, if it
/// takes an int) and returns its result. A retryable `sluice::error` leads to a jittered
/// sleep and another attempt; once attempts are exhausted the last error is rethrown with
/// "(after N attempts)" appended. Other exceptions propagate unchanged. If `policy.stop`
/// is triggered during a sleep, throws `cancelled`.
struct retry_fn {
    template <class F>
        requires std::invocable<F&> || std::invocable<F&, int>
    decltype(auto) operator()(F&& fn, const retry_policy& policy = {}) const {
        const int attempts = policy.max_attempts < 1 ? 1 : policy.max_attempts;
        for (int attempt = 1;; ++attempt) {
            try {
                if constexpr (std::invocable<F&, int>)
                    return std::invoke(fn, attempt);
                else
                    return std::invoke(fn);
            } catch (const error& e) {
                if (!detail::is_retryable(policy, e)) throw;
                if (attempt >= attempts) {
                    if (attempts == 1) throw;
                    throw error(e.code(), e.stage(),
                                e.message() + " (after " + std::to_string(attempts) +
                                    " attempts)",
                                e.where());
                }
                auto delay = detail::backoff_delay(policy, attempt - 1);
                if (policy.on_retry) policy.on_retry(attempt, e, delay);
                if (!detail::sleep_unless_stopped(delay, policy.stop))
                    throw cancelled_error(e.stage().empty() ? "retry" : e.stage());
            }
        }
    }
};
/// See `retry_fn`.
inline constexpr retry_fn retry{};

}  // namespace sluice
