#pragma once
/// \file
/// Per-stage counters that a running pipeline updates and any thread may read, and a
/// registry that collects them for one snapshot of the whole run.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json_object.hpp"

namespace sluice {

/// A plain copy of one stage's counters at one moment.
struct counters_snapshot {
    std::string name;
    std::uint64_t in = 0;      ///< records that entered the stage
    std::uint64_t out = 0;     ///< records that left it
    std::uint64_t errors = 0;  ///< records rejected or failures raised
    std::uint64_t bytes = 0;   ///< payload bytes that left it (byte-like records only)
    std::uint64_t rejects = 0;  ///< poison records skipped or dead-lettered by an error policy
    std::uint64_t blocked_upstream_ns = 0;    ///< time spent waiting for input (threaded stages)
    std::uint64_t blocked_downstream_ns = 0;  ///< time spent waiting for room downstream
    std::uint64_t queue_high_water = 0;  ///< most items ever buffered at once (threaded stages)
    std::uint64_t queue_capacity = 0;    ///< the bound `queue_high_water` may not pass (0: none)
};

/// One JSON object for a snapshot: `{"stages":[{"name":"read","in":0,"out":12,...},...]}`,
/// stages in pipeline order, every counter present (what the CLI's `--stats` prints).
inline std::string to_json(const std::vector<counters_snapshot>& stages) {
    std::string out = "{\"stages\":[";
    bool first = true;
    for (const auto& c : stages) {
        if (!first) out += ',';
        first = false;
        json::object_writer<std::string> o(out);
        o.string("name", c.name)
            .number("in", c.in)
            .number("out", c.out)
            .number("errors", c.errors)
            .number("rejects", c.rejects)
            .number("bytes", c.bytes)
            .number("blocked_upstream_ns", c.blocked_upstream_ns)
            .number("blocked_downstream_ns", c.blocked_downstream_ns)
            .number("queue_high_water", c.queue_high_water)
            .number("queue_capacity", c.queue_capacity)
            .close();
    }
    out += "]}";
    return out;
}

/// Counters of one stage. Writers use relaxed atomics, so reading from a progress or HTTP
/// thread while the run goes on is safe. `add_*` is an atomic read-modify-write: any
/// thread may add. `add_*_single_writer` is a relaxed load and store: cheaper on the hot
/// path, and correct only while one thread alone writes that counter.
class stage_counters {
public:
    explicit stage_counters(std::string name) : name_(std::move(name)) {}
    stage_counters(const stage_counters&) = delete;
    stage_counters& operator=(const stage_counters&) = delete;

    const std::string& name() const noexcept { return name_; }
    /// Atomic increments (any thread).
    void add_in(std::uint64_t n = 1) noexcept { in_.fetch_add(n, std::memory_order_relaxed); }
    void add_out(std::uint64_t n = 1) noexcept { out_.fetch_add(n, std::memory_order_relaxed); }
    void add_error(std::uint64_t n = 1) noexcept {
        errors_.fetch_add(n, std::memory_order_relaxed);
    }
    void add_bytes(std::uint64_t n) noexcept { bytes_.fetch_add(n, std::memory_order_relaxed); }
    void add_reject(std::uint64_t n = 1) noexcept {
        rejects_.fetch_add(n, std::memory_order_relaxed);
    }
    /// Time a stage's consumer side waited for input, in nanoseconds (any thread may add).
    void add_blocked_upstream(std::uint64_t ns) noexcept {
        blocked_up_.fetch_add(ns, std::memory_order_relaxed);
    }
    /// Time a stage's producer side waited for room downstream, in nanoseconds.
    void add_blocked_downstream(std::uint64_t ns) noexcept {
        blocked_down_.fetch_add(ns, std::memory_order_relaxed);
    }
    /// Records a queue depth; keeps the maximum (lock-free, any thread).
    void note_queue_depth(std::uint64_t depth) noexcept {
        std::uint64_t cur = high_water_.load(std::memory_order_relaxed);
        while (depth > cur &&
               !high_water_.compare_exchange_weak(cur, depth, std::memory_order_relaxed)) {
        }
    }
    /// The capacity a threaded stage's queue was built with (shown next to the high water).
    void set_queue_capacity(std::uint64_t n) noexcept {
        capacity_.store(n, std::memory_order_relaxed);
    }

    /// Single-writer increments: a relaxed load and store (no locked instruction), for the
    /// hot path of a stage that is the only writer of these counters. Two threads adding
    /// this way lose counts; use `add_*` from more than one thread.
    void add_in_single_writer(std::uint64_t n = 1) noexcept { store_sum(in_, n); }
    void add_out_single_writer(std::uint64_t n = 1) noexcept { store_sum(out_, n); }
    void add_bytes_single_writer(std::uint64_t n) noexcept { store_sum(bytes_, n); }

    std::uint64_t in() const noexcept { return in_.load(std::memory_order_relaxed); }
    std::uint64_t out() const noexcept { return out_.load(std::memory_order_relaxed); }
    std::uint64_t errors() const noexcept { return errors_.load(std::memory_order_relaxed); }
    std::uint64_t bytes() const noexcept { return bytes_.load(std::memory_order_relaxed); }
    std::uint64_t rejects() const noexcept { return rejects_.load(std::memory_order_relaxed); }
    std::uint64_t queue_high_water() const noexcept {
        return high_water_.load(std::memory_order_relaxed);
    }

    counters_snapshot snapshot() const {
        return counters_snapshot{name_,
                                 in(),
                                 out(),
                                 errors(),
                                 bytes(),
                                 rejects(),
                                 blocked_up_.load(std::memory_order_relaxed),
                                 blocked_down_.load(std::memory_order_relaxed),
                                 queue_high_water(),
                                 capacity_.load(std::memory_order_relaxed)};
    }

private:
    static void store_sum(std::atomic<std::uint64_t>& a, std::uint64_t n) noexcept {
        a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::string name_;
    std::atomic<std::uint64_t> in_{0}, out_{0}, errors_{0}, bytes_{0};
    std::atomic<std::uint64_t> rejects_{0}, blocked_up_{0}, blocked_down_{0}, high_water_{0},
        capacity_{0};
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
    /// The snapshot as one JSON object (see `sluice::to_json`), e.g. for `--stats`.
    std::string to_json() const { return sluice::to_json(snapshot()); }

private:
    mutable std::mutex mu_;
    std::vector<std::shared_ptr<stage_counters>> all_;
};

}  // namespace sluice
