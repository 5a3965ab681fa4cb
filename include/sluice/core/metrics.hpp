#pragma once
/// \file
/// Per-stage counters that a running pipeline updates and any thread may read, and a
/// registry that collects them for one snapshot of the whole run.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sluice {

/// A plain copy of one stage's counters at one moment.
struct counters_snapshot {
    std::string name;
    std::uint64_t in = 0;      ///< records that entered the stage
    std::uint64_t out = 0;     ///< records that left it
    std::uint64_t errors = 0;  ///< records rejected or failures raised
    std::uint64_t bytes = 0;   ///< payload bytes that left it (byte-like records only)
};

/// Counters of one stage. Writers use relaxed atomics (one writer thread per counter in
/// practice), so reading from a progress or HTTP thread while the run goes on is safe.
class stage_counters {
public:
    explicit stage_counters(std::string name) : name_(std::move(name)) {}
    stage_counters(const stage_counters&) = delete;
    stage_counters& operator=(const stage_counters&) = delete;

    const std::string& name() const noexcept { return name_; }
    void add_in(std::uint64_t n = 1) noexcept { in_.fetch_add(n, std::memory_order_relaxed); }
    void add_out(std::uint64_t n = 1) noexcept { out_.fetch_add(n, std::memory_order_relaxed); }
    void add_error(std::uint64_t n = 1) noexcept {
        errors_.fetch_add(n, std::memory_order_relaxed);
    }
    void add_bytes(std::uint64_t n) noexcept { bytes_.fetch_add(n, std::memory_order_relaxed); }

    /// Single-writer increments: a relaxed load and store (no locked instruction), for the
    /// hot path of a stage that is the only writer of these counters.
    void bump_in(std::uint64_t n = 1) noexcept { bump(in_, n); }
    void bump_out(std::uint64_t n = 1) noexcept { bump(out_, n); }
    void bump_bytes(std::uint64_t n) noexcept { bump(bytes_, n); }

    std::uint64_t in() const noexcept { return in_.load(std::memory_order_relaxed); }
    std::uint64_t out() const noexcept { return out_.load(std::memory_order_relaxed); }
    std::uint64_t errors() const noexcept { return errors_.load(std::memory_order_relaxed); }
    std::uint64_t bytes() const noexcept { return bytes_.load(std::memory_order_relaxed); }

    counters_snapshot snapshot() const {
        return counters_snapshot{name_, in(), out(), errors(), bytes()};
    }

private:
    static void bump(std::atomic<std::uint64_t>& a, std::uint64_t n) noexcept {
        a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::string name_;
    std::atomic<std::uint64_t> in_{0}, out_{0}, errors_{0}, bytes_{0};
};

/// The counters of every metered stage of a run, in pipeline order (upstream first).
/// Pass one in `run_options::metrics`; `meter(name)` stages register themselves there.
class metrics {
public:
    /// The counters named `name`, created on first use (two meters with one name share).
    std::shared_ptr<stage_counters> counters(const std::string& name) {
        std::lock_guard lock(mu_);
        for (auto& c : all_)
            if (c->name() == name) return c;
        all_.push_back(std::make_shared<stage_counters>(name));
        return all_.back();
    }
    /// A consistent-enough copy of every counter (each value is read atomically).
    std::vector<counters_snapshot> snapshot() const {
        std::lock_guard lock(mu_);
        std::vector<counters_snapshot> out;
        out.reserve(all_.size());
        for (auto& c : all_) out.push_back(c->snapshot());
        return out;
    }

private:
    mutable std::mutex mu_;
    std::vector<std::shared_ptr<stage_counters>> all_;
};

}  // namespace sluice
