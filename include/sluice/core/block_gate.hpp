#pragma once
/// \file
/// `block_gate<T>`: what the first blocks of an input teach the later ones, when blocks are
/// parsed on several threads (core/text_block.hpp) - a CSV header, the columns of the first
/// JSON record. The job of block `k` asks `wait(k)`: it gets what an earlier block learned,
/// or nothing once every block before `k` finished without learning it (block `k` must then
/// learn it itself, as a one-thread reader would at that point). So the value is exactly
/// the one the first block that has it learned, whatever order the blocks finish in.
///
/// No deadlock with a pool taking blocks in input order: a job waits only while an earlier
/// block runs on another worker, and the earliest unfinished block never waits. Jobs share
/// one gate (hold it by `std::shared_ptr`); thread-safe.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

#include "error.hpp"

namespace sluice {

template <class T>
class block_gate {
public:
    /// For block `k`: what an earlier block learned, or nothing when every block before
    /// `k` finished without learning it. Waits until one or the other is true. Throws
    /// `cancelled` once an earlier block failed (its error comes out first, in input order).
    std::optional<T> wait(std::uint64_t k) {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return value_ || failed_ || unlearned_ >= k; });
        if (value_) return value_;
        if (failed_) throw cancelled_error("block_gate");
        return std::nullopt;
    }
    /// What was learned so far, without waiting (for the consumer's thread, which sees a
    /// block only after the blocks before it finished).
    std::optional<T> learned() {
        std::lock_guard lock(m_);
        return value_;
    }
    /// Block `k` finished; `learned` is what it learned (null: nothing).
    void done(std::uint64_t k, const T* learned) {
        {
            std::lock_guard lock(m_);
            if (learned && !value_) value_.emplace(*learned);
            if (!learned && k == unlearned_) ++unlearned_;
        }
        cv_.notify_all();
    }
    /// A block's job failed: the blocks waiting for it give up.
    void fail() {
        {
            std::lock_guard lock(m_);
            failed_ = true;
        }
        cv_.notify_all();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::optional<T> value_;
    std::uint64_t unlearned_ = 0;  // blocks 0..unlearned_-1 finished without learning it
    bool failed_ = false;
};

}  // namespace sluice
