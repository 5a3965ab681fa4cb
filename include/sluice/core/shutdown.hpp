#pragma once
/// \file
/// Two documented ways to stop a run early (the `drainable()` stage that makes the second
/// one work is in core/drainable.hpp, included here).
///
/// - **drop** (`shutdown::drop()`): cancel. The run's stop token is triggered; root sources
///   and threaded stages throw `errc::cancelled` within one record or block, the sink is
///   aborted (`to_file` removes its temporary file, an upload is aborted) and `run` throws
///   `cancelled` (the CLI exits 130). Nothing is committed.
/// - **drain** (`shutdown::drain()`): stop reading, finish what is in flight, commit. A
///   `drainable()` stage placed right after the source sees the request at its next record,
///   stops pulling and reports exhaustion; everything downstream (encoders, compressors,
///   `prefetch` queues, `parallel_map` windows) flushes as at a normal end of input and the
///   sink's `finish()` commits. `run` returns normally with what was read so far.
///
/// Cleanup (removing temporary files, aborting uploads, joining threads) runs in both modes
/// and does not look at the stop token. A drain can be escalated: `drop()` after `drain()`
/// cancels whatever is still running.
///
///     sluice::shutdown sd;
///     sluice::signal_watcher w(sd, sluice::signal_action::drain);  // SIGINT/SIGTERM
///     sluice::run(sluice::read_file(in) | sluice::drainable() | ..., sluice::to_file(out),
///                 sd.options());

#include <signal.h>

#include <atomic>
#include <ctime>
#include <initializer_list>
#include <stop_token>
#include <thread>
#include <utility>

#include "context.hpp"
#include "drainable.hpp"

namespace sluice {

/// The controller of one run's shutdown: hand `options()` to `run` and call `drain()` or
/// `drop()` from any thread (including a signal watcher) while the run goes on.
/// Not copyable or movable: the run keeps pointers into it, so it must outlive the run.
class shutdown {
public:
    shutdown() = default;
    shutdown(const shutdown&) = delete;
    shutdown& operator=(const shutdown&) = delete;

    /// Drop: cancel the run now (request_stop on its stop token). Idempotent.
    void drop() noexcept { stop_.request_stop(); }
    /// Drain: stop reading input, let what is in flight finish, commit. Idempotent.
    void drain() noexcept { drain_.store(true, std::memory_order_relaxed); }

    /// True once `drop()` was called.
    bool drop_requested() const noexcept { return stop_.stop_requested(); }
    /// True once `drain()` was called.
    bool drain_requested() const noexcept { return drain_.load(std::memory_order_relaxed); }

    /// The stop token `drop()` triggers.
    std::stop_token token() const noexcept { return stop_.get_token(); }
    /// The flag `drain()` sets (what `run_options::drain` points at).
    const std::atomic<bool>* drain_flag() const noexcept { return &drain_; }

    /// Run options wired to this controller (stop token and drain flag), with `m` as the
    /// metrics registry.
    run_options options(sluice::metrics* m = nullptr) const noexcept {
        run_options o;
        o.stop = token();
        o.metrics = m;
        o.drain = &drain_;
        return o;
    }

private:
    std::stop_source stop_;
    std::atomic<bool> drain_{false};
};

/// What a `signal_watcher` does on the first signal.
enum class signal_action : unsigned char {
    drop,   ///< cancel the run (the CLI's default; exit status 130)
    drain,  ///< finish in-flight work and commit (`--drain-on-signal`); a second signal drops
};

/// Turns SIGINT/SIGTERM (or the given signals) into `drain()` / `drop()` on a `shutdown`,
/// safely: the signals are blocked in the constructing thread (and so in every thread it
/// starts afterwards) and a watcher thread takes them with `sigtimedwait`, so no code runs
/// in a signal handler. Construct it in `main` before starting any other thread; the
/// destructor stops the watcher and restores the previous signal mask.
class signal_watcher {
public:
    signal_watcher(shutdown& sd, signal_action first,
                   std::initializer_list<int> signals = {SIGINT, SIGTERM})
        : sd_(&sd), action_(first) {
        sigemptyset(&set_);
        for (int s : signals) {
            sigaddset(&set_, s);
            if (wake_ == 0) wake_ = s;
        }
        pthread_sigmask(SIG_BLOCK, &set_, &old_);
        thread_ = std::jthread([this](std::stop_token st) { watch(st); });
    }
    signal_watcher(const signal_watcher&) = delete;
    signal_watcher& operator=(const signal_watcher&) = delete;
    ~signal_watcher() {
        // Wake the watcher now rather than at its next tick: waiting out the tick added
        // 25 ms on average (up to 50) to the end of every run. The watcher takes the
        // signal sent to its own thread, sees the stop request and ignores it.
        thread_.request_stop();
        if (wake_ != 0) pthread_kill(thread_.native_handle(), wake_);
        thread_.join();
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }

    /// The number of the first signal received (0: none yet).
    int received() const noexcept { return first_.load(std::memory_order_relaxed); }

private:
    void watch(std::stop_token st) {
        // The timeout is only a fallback: the destructor wakes the watcher with a signal.
        const timespec tick{0, 50'000'000};
        while (!st.stop_requested()) {
            const int s = sigtimedwait(&set_, nullptr, &tick);
            if (s <= 0 || st.stop_requested()) continue;  // timeout, EINTR, or the wake-up
            int none = 0;
            if (first_.compare_exchange_strong(none, s) && action_ == signal_action::drain)
                sd_->drain();
            else
                sd_->drop();  // drop mode, or a second signal while draining
        }
    }

    shutdown* sd_;
    signal_action action_;
    sigset_t set_{};
    sigset_t old_{};
    int wake_ = 0;  ///< the signal the destructor sends to the watcher thread
    std::atomic<int> first_{0};
    std::jthread thread_;
};

}  // namespace sluice
