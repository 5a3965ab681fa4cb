#pragma once
/// \file
/// `circuit_breaker`: stops calling a service that keeps failing. Thread-safe; meant to be
/// shared by every caller of one endpoint (all the part uploads of an S3 client, say).
///
///     closed --(failure_threshold consecutive failures)--> open
///     open --(cooldown elapsed; exactly one caller admitted as the probe)--> half-open
///     half-open --(probe succeeds)--> closed,  --(probe fails)--> open (cooldown restarts)
///
/// While open, and while the half-open probe is in flight, calls are rejected at once with
/// an `errc::network` error that says so. Cancellation (`errc::cancelled`) is neither a
/// success nor a failure: a caller who gives up says nothing about the service.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>

#include "../core/error.hpp"

namespace sluice {

/// Tuning of a `circuit_breaker`.
struct circuit_breaker_options {
    /// Consecutive failures that open the breaker. Values below 1 count as 1.
    int failure_threshold = 5;
    /// How long the breaker stays open before admitting one probe.
    std::chrono::milliseconds cooldown{10'000};
    /// Names the guarded service in messages ("s3 endpoint http://127.0.0.1:9000").
    std::string name = "service";
};

/// The state of a breaker, as `circuit_breaker::state()` reports it.
enum class breaker_state : std::uint8_t { closed, open, half_open };

/// A thread-safe circuit breaker. Use `call(fn)` or, for finer control, `admit()` and then
/// exactly one of `succeeded(t)`, `failed(t, why)` or `released(t)` with the returned ticket.
class circuit_breaker {
public:
    using clock = std::chrono::steady_clock;

    /// What `admit()` hands out: whether the call may go ahead, and whether it is the probe.
    struct ticket {
        bool admitted = false;  ///< false: the breaker is open; do not call the service
        bool probe = false;     ///< this call decides whether the breaker closes again
        explicit operator bool() const noexcept { return admitted; }
    };

    explicit circuit_breaker(circuit_breaker_options o = {}) : opt_(std::move(o)) {
        if (opt_.failure_threshold < 1) opt_.failure_threshold = 1;
    }
    circuit_breaker(const circuit_breaker&) = delete;
    circuit_breaker& operator=(const circuit_breaker&) = delete;

    /// Asks to make one call. Closed: admitted. Open and the cooldown over, with no probe
    /// out: admitted as the probe (the breaker is now half-open). Otherwise rejected.
    ticket admit() {
        std::lock_guard lk(m_);
        if (state_ == breaker_state::closed) return {true, false};
        if (state_ == breaker_state::open && clock::now() >= opened_at_ + opt_.cooldown) {
            state_ = breaker_state::half_open;
            return {true, true};
        }
        return {false, false};
    }

    /// The admitted call worked: closes the breaker and clears the failure count.
    void succeeded(const ticket& t) {
        if (!t.admitted) return;
        std::lock_guard lk(m_);
        consecutive_ = 0;
        if (t.probe || state_ != breaker_state::open) state_ = breaker_state::closed;
    }

    /// The admitted call failed (`why` is kept for the message given to rejected callers).
    void failed(const ticket& t, std::string why = {}) {
        if (!t.admitted) return;
        std::lock_guard lk(m_);
        if (!why.empty()) last_failure_ = std::move(why);
        ++consecutive_;
        ++total_failures_;
        if (t.probe || (state_ == breaker_state::closed &&
                        consecutive_ >= static_cast<std::uint64_t>(opt_.failure_threshold))) {
            if (state_ != breaker_state::open) ++times_opened_;
            state_ = breaker_state::open;
            opened_at_ = clock::now();
        }
    }

    /// The admitted call ended without saying anything about the service (it was
    /// cancelled): a probe goes back so that the next caller may probe instead.
    void released(const ticket& t) {
        if (!t.admitted || !t.probe) return;
        std::lock_guard lk(m_);
        if (state_ == breaker_state::half_open) {
            // Re-open with the cooldown already elapsed: the next admit() probes at once.
            state_ = breaker_state::open;
            opened_at_ = clock::now() - opt_.cooldown;
        }
    }

    /// Runs `fn()` under the breaker: throws the rejection error when open; reports the
    /// outcome (a `sluice::error` with `errc::cancelled` is a release, any other exception a
    /// failure) and passes `fn`'s result or exception through.
    template <class F>
        requires std::invocable<F&>
    decltype(auto) call(F&& fn) {
        ticket t = admit();
        if (!t) throw rejection();
        try {
            if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
                std::invoke(fn);
                succeeded(t);
            } else {
                decltype(auto) r = std::invoke(fn);
                succeeded(t);
                return r;
            }
        } catch (const error& e) {
            if (e.code() == errc::cancelled)
                released(t);
            else
                failed(t, e.what());
            throw;
        } catch (const std::exception& e) {
            failed(t, e.what());
            throw;
        } catch (...) {
            failed(t);
            throw;
        }
    }

    /// The error given to a rejected caller: names the service, the failure count and the
    /// last failure, and says when the next probe is due.
    error rejection() const {
        std::lock_guard lk(m_);
        std::string m = "circuit breaker open for " + opt_.name + " after " +
                        std::to_string(consecutive_) + " consecutive failures";
        if (state_ == breaker_state::half_open) {
            m += "; a probe request is in flight";
        } else {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                opened_at_ + opt_.cooldown - clock::now());
            m += "; next probe in " + std::to_string(left.count() < 0 ? 0 : left.count()) + " ms";
        }
        if (!last_failure_.empty()) m += " (last failure: " + last_failure_ + ")";
        return error(errc::network, "circuit_breaker", std::move(m));
    }

    breaker_state state() const {
        std::lock_guard lk(m_);
        return state_;
    }
    /// Failures since the last success.
    std::uint64_t consecutive_failures() const {
        std::lock_guard lk(m_);
        return consecutive_;
    }
    /// How many times the breaker has opened (closed or half-open -> open).
    std::uint64_t times_opened() const {
        std::lock_guard lk(m_);
        return times_opened_;
    }
    const circuit_breaker_options& options() const noexcept { return opt_; }

private:
    circuit_breaker_options opt_;
    mutable std::mutex m_;
    breaker_state state_ = breaker_state::closed;
    std::uint64_t consecutive_ = 0;
    std::uint64_t total_failures_ = 0;
    std::uint64_t times_opened_ = 0;
    clock::time_point opened_at_{};
    std::string last_failure_;
};

}  // namespace sluice
