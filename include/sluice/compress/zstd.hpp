#pragma once
/// \file
/// Zstandard through libzstd's streaming API: `sluice::zstd::compressor` (ZSTD_compressStream2,
/// optionally with libzstd's own worker threads) and `sluice::zstd::decompressor`
/// (ZSTD_decompressStream, any number of concatenated frames).
/// Link: libzstd (CMake target sluice::zstd).

// The size estimates (ZSTD_estimateCStreamSize, ZSTD_getCParams, ZSTD_estimateDStreamSize)
// are in zstd.h's static-linking section, which a second inclusion opens whatever came first.
#ifndef ZSTD_STATIC_LINKING_ONLY
#define ZSTD_STATIC_LINKING_ONLY
#endif
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../core/memory_budget.hpp"

namespace sluice::zstd {

namespace detail {
struct cctx_free {
    void operator()(ZSTD_CCtx* c) const noexcept { ZSTD_freeCCtx(c); }
};
struct dctx_free {
    void operator()(ZSTD_DCtx* d) const noexcept { ZSTD_freeDCtx(d); }
};
[[noreturn]] inline void zstd_failed(const char* what, std::size_t rc) {
    throw error(errc::failed, "zstd", std::string(what) + ": " + ZSTD_getErrorName(rc));
}
}  // namespace detail

/// Streaming zstd compression. The output is one zstd frame (with a content checksum, so
/// `zstd -t` and our decompressor verify it). Models `sluice::codec`.
class compressor {
public:
    /// `level`: ZSTD_minCLevel() (negative: fastest) to ZSTD_maxCLevel() (22), clamped;
    /// 3 is zstd(1)'s default. `workers` > 0 lets libzstd compress on that many threads of
    /// its own (memory grows with them: about workers x 2 x job size); with a libzstd built
    /// without threads the request is ignored and compression stays single-threaded.
    explicit compressor(int level = 3, int workers = 0) : c_(ZSTD_createCCtx()) {
        if (!c_)
            throw error(errc::out_of_memory, "zstd", "ZSTD_createCCtx failed");
        level = std::clamp(level, ZSTD_minCLevel(), ZSTD_maxCLevel());
        set(ZSTD_c_compressionLevel, level);
        set(ZSTD_c_checksumFlag, 1);
        if (workers > 0) {
            // An error here means a single-threaded libzstd: documented fallback, not a failure.
            (void)ZSTD_CCtx_setParameter(c_.get(), ZSTD_c_nbWorkers, workers);
        }
        level_ = level;
        workers_ = workers > 0 ? workers : 0;
    }

    /// Reports the compression context to a run's memory plan; with workers, a request
    /// that drops workers (down to compressing on the caller's thread) to fit the budget.
    /// A worker holds about two jobs of four windows each (libzstd's default job size).
    void plan_memory(memory_plan& plan, std::string_view stage) {
        const std::size_t base = ZSTD_estimateCStreamSize(level_);
        if (workers_ == 0) {
            plan.hold(stage, base, "zstd window and tables");
            return;
        }
        const auto cp = ZSTD_getCParams(level_, 0, 0);
        const std::size_t per_worker = base + 2 * (std::size_t{4} << cp.windowLog);
        ZSTD_CCtx* c = c_.get();
        plan.request(stage, "zstd workers (window, tables, two jobs each)", base,
                     static_cast<std::size_t>(workers_) * per_worker,
                     [c, base, per_worker, this](std::size_t granted, std::string& what) {
                         const int wanted = workers_;
                         const std::size_t n = std::min<std::size_t>(
                             static_cast<std::size_t>(workers_), granted / per_worker);
                         workers_ = static_cast<int>(n);
                         (void)ZSTD_CCtx_setParameter(c, ZSTD_c_nbWorkers, workers_);
                         what = "zstd workers: " + std::to_string(workers_) + " of " +
                                std::to_string(wanted);
                         return n == 0 ? base : n * per_worker;
                     });
    }
    /// libzstd worker threads in use (0: compression on the caller's thread).
    int workers() const noexcept { return workers_; }

    /// Consumes a prefix of `in`; compressed bytes go into `out`'s spare capacity.
    std::size_t process(std::string_view in, chunk& out) {
        if (in.empty() || out.spare() == 0)
            return 0;
        ZSTD_inBuffer src{in.data(), in.size(), 0};
        ZSTD_outBuffer dst{out.tail(), out.spare(), 0};
        // With workers, one call may only hand input to the job queue; libzstd guarantees
        // it takes input or flushes output on each call, so the stage makes progress.
        const std::size_t rc = ZSTD_compressStream2(c_.get(), &dst, &src, ZSTD_e_continue);
        if (ZSTD_isError(rc))
            detail::zstd_failed("ZSTD_compressStream2", rc);
        out.commit(dst.pos);
        return src.pos;
    }

    /// Ends the frame; true once it is entirely out.
    bool finish(chunk& out) {
        while (out.spare() != 0) {
            ZSTD_inBuffer src{nullptr, 0, 0};
            ZSTD_outBuffer dst{out.tail(), out.spare(), 0};
            const std::size_t rc = ZSTD_compressStream2(c_.get(), &dst, &src, ZSTD_e_end);
            if (ZSTD_isError(rc))
                detail::zstd_failed("ZSTD_compressStream2", rc);
            out.commit(dst.pos);
            if (rc == 0)
                return true;  // 0 = frame complete and flushed
        }
        return false;
    }

private:
    void set(ZSTD_cParameter p, int v) {
        const std::size_t rc = ZSTD_CCtx_setParameter(c_.get(), p, v);
        if (ZSTD_isError(rc))
            detail::zstd_failed("ZSTD_CCtx_setParameter", rc);
    }
    std::unique_ptr<ZSTD_CCtx, detail::cctx_free> c_;
    int level_ = 3;
    int workers_ = 0;
};

/// Streaming zstd decompression of one or more concatenated frames (skippable frames are
/// skipped). Models `sluice::codec`.
///
/// Errors are `sluice::error(errc::bad_input, "zstd", ..., position{.byte_offset})` with the
/// compressed offset: corrupt data or checksum, bytes after a frame that are not a frame,
/// a stream ending inside a frame (truncated), an empty stream. Memory is bounded by
/// libzstd's window limit (ZSTD_d_windowLogMax, 128 MiB by default, as zstd(1) without
/// --long); output only ever goes into the caller's spare capacity.
class decompressor {
public:
    decompressor() : d_(ZSTD_createDCtx()) {
        if (!d_)
            throw error(errc::out_of_memory, "zstd", "ZSTD_createDCtx failed");
    }

    /// The largest window libzstd accepts by default (ZSTD_d_windowLogMax 27).
    static constexpr int default_window_log_max = 27;
    /// The smallest window a memory budget may bring it down to (1 MiB: zstd(1) levels
    /// 1-2 on small inputs; level 3 on large ones needs 2 MiB and fails below that).
    static constexpr int min_window_log = 20;

    /// Refuses frames whose window is above 2^`log` bytes (ZSTD_d_windowLogMax): the
    /// decoder then holds at most that window.
    void limit_window(int log) {
        (void)ZSTD_DCtx_setParameter(d_.get(), ZSTD_d_windowLogMax, log);
        window_log_ = log;
    }

    /// The bytes a decoder holds with a window of 2^`log` (libzstd's estimate).
    static std::size_t memory_for_window(int log) {
        return ZSTD_estimateDStreamSize(std::size_t{1} << log);
    }

    /// Reports the window to a run's memory plan as a request: a budget lowers the largest
    /// window accepted (a frame needing more fails as corrupt-for-this-budget data).
    void plan_memory(memory_plan& plan, std::string_view stage) { plan_window(plan, stage, *this); }

    /// The request of `plan_memory`, applied to `target` (which may be a decoder made later).
    template <class Target>
    static void plan_window(memory_plan& plan, std::string_view stage, Target& target) {
        plan.request(stage, "zstd window", memory_for_window(min_window_log),
                     memory_for_window(default_window_log_max),
                     [&target](std::size_t granted, std::string& what) {
                         int log = min_window_log;
                         while (log < default_window_log_max && memory_for_window(log + 1) <= granted)
                             ++log;
                         target.limit_window(log);
                         what = "zstd window: at most " + std::to_string((std::size_t{1} << log) >> 20) +
                                " MiB";
                         return memory_for_window(log);
                     },
                     memory_use::headroom);
    }

    /// Consumes a prefix of `in`; decompressed bytes go into `out`'s spare capacity.
    std::size_t process(std::string_view in, chunk& out) {
        if (in.empty() || out.spare() == 0)
            return 0;
        ZSTD_inBuffer src{in.data(), in.size(), 0};
        ZSTD_outBuffer dst{out.tail(), out.spare(), 0};
        const std::size_t rc = ZSTD_decompressStream(d_.get(), &dst, &src);
        out.commit(dst.pos);
        if (ZSTD_isError(rc))
            fail(std::string("corrupt zstd data: ") + ZSTD_getErrorName(rc) +
                     (window_log_ < default_window_log_max &&
                              ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge
                          ? " (the memory budget allows a window of " +
                                std::to_string((std::size_t{1} << window_log_) >> 10) + " KiB)"
                          : std::string()),
                 consumed_ + src.pos);
        consumed_ += src.pos;
        if (src.pos != 0)
            seen_input_ = true;
        // 0: a frame ended and everything it holds is out; the next byte starts a new frame.
        in_frame_ = rc != 0;
        return src.pos;
    }

    /// Drains buffered output; a frame still open here means truncated input.
    bool finish(chunk& out) {
        if (!seen_input_)
            fail("empty input: no zstd frame", 0);
        while (in_frame_) {
            if (out.spare() == 0)
                return false;
            ZSTD_inBuffer src{nullptr, 0, 0};
            ZSTD_outBuffer dst{out.tail(), out.spare(), 0};
            const std::size_t rc = ZSTD_decompressStream(d_.get(), &dst, &src);
            out.commit(dst.pos);
            if (ZSTD_isError(rc))
                fail(std::string("corrupt zstd data: ") + ZSTD_getErrorName(rc), consumed_);
            in_frame_ = rc != 0;
            if (in_frame_ && dst.pos == 0)
                fail("truncated zstd stream: input ends inside a frame", consumed_);
        }
        return true;
    }

private:
    [[noreturn]] static void fail(std::string msg, std::uint64_t offset) {
        position where;
        where.byte_offset = offset;
        throw error(errc::bad_input, "zstd", std::move(msg), where);
    }

    std::unique_ptr<ZSTD_DCtx, detail::dctx_free> d_;
    int window_log_ = default_window_log_max;
    std::uint64_t consumed_ = 0;
    bool in_frame_ = false;
    bool seen_input_ = false;
};

}  // namespace sluice::zstd
