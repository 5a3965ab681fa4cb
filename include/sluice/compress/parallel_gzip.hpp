#pragma once
/// \file
/// Block-parallel gzip: `sluice::gzip::default_parallel_compressor` compresses independent blocks of
/// input on N threads and writes them, in order, as consecutive gzip members - pigz's idea
/// with members instead of one deflate stream. Concatenated members are one valid gzip file
/// (RFC 1952 section 2.2) that gzip(1), zlib, pigz and Python's gzip module read whole.
/// It models `sluice::codec`, so `bytes | sluice::compress(gzip::parallel_compressor(6, 4))`
/// works and it fits in an `any_codec`: `compression::make_parallel_compressor(format, level,
/// threads)` is the run-time factory (gzip: this compressor; zstd: libzstd's own workers).
///
/// - Members come from libdeflate when this build has it (512 KiB members by default; the
///   single-threaded `libdeflate_block_compressor` writes byte-identical output at the same
///   level and block size), else from zlib (one deflate per block; slightly larger than
///   one zlib stream, docs/benchmarks.md). 512 KiB rather than the single-threaded 1 MiB:
///   the extra slot below then costs no more memory than two 1 MiB slots did, and the members
///   stay smaller than `gzip -6`'s output (events.csv: 0.984x, events.jsonl: 0.968x).
/// - Memory: `threads + 1` slots, each one input block and its compressed form (about two
///   blocks), so at most (threads + 1) x block size x 2 plus one compressor per thread. The
///   extra slot is the one the caller fills while every thread compresses one: without it a
///   thread idles whenever the caller reads, and the caller's wake-ups land next to a busy
///   thread (docs/benchmarks.md, issue 15). When every slot is busy the caller waits for the
///   oldest block, which is also the next to be written.
/// - Threads (a `sluice::worker`, core/worker.hpp) start with the first full block and are
///   joined at the end of the run when the compressor is bound to one (the `compress` stage
///   binds it; the run's cancellation then stops them too), else by the destructor. An
///   exception on a worker is rethrown from the `process`/`finish` call that reaches its block.
/// Link: sluice::compress (zlib; libdeflate optional; zstd for the factory).

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "../core/chunk.hpp"
#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/memory_budget.hpp"
#include "../core/metrics.hpp"
#include "../core/worker.hpp"
#include "any_codec.hpp"
#include "format.hpp"
#include "gzip.hpp"
#include "identity.hpp"
#include "zstd.hpp"

namespace sluice::gzip {

/// Member compressor on zlib: one complete gzip member per call. One per worker thread.
class zlib_member {
public:
    /// What one holds while compressing (deflate's window and hash tables).
    static constexpr std::size_t state_bytes = (std::size_t{1} << 17) + (std::size_t{1} << 18) + 8192;

    explicit zlib_member(int level) : level_(std::clamp(level, 0, 9)) {}

    /// Appends `in` to `out` as one gzip member.
    void operator()(std::string_view in, chunk& out) {
        z_stream z{};
        // A fresh stream per member keeps the members independent (which is what makes
        // them parallel).
        detail::gzip_deflate_init(z, level_);
        const uLong bound = deflateBound(&z, static_cast<uLong>(in.size()));
        out.reserve_spare(bound);
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z.avail_in = static_cast<uInt>(in.size());
        z.next_out = reinterpret_cast<Bytef*>(out.tail());
        z.avail_out = static_cast<uInt>(bound);
        const int rc = deflate(&z, Z_FINISH);
        const std::size_t n = bound - z.avail_out;
        deflateEnd(&z);
        if (rc != Z_STREAM_END)
            throw error(errc::failed, "gzip", "deflate did not finish within its bound");
        out.commit(n);
    }

private:
    int level_;
};

#if defined(SLUICE_HAVE_LIBDEFLATE) && SLUICE_HAVE_LIBDEFLATE
/// Member compressor on libdeflate (see gzip_libdeflate.hpp). One per worker thread:
/// a libdeflate compressor is not thread-safe.
class libdeflate_member {
public:
    /// What one holds (libdeflate's tables).
    static constexpr std::size_t state_bytes = detail::libdeflate_tables_bytes;

    explicit libdeflate_member(int level) : c_(detail::make_libdeflate_compressor(level)) {}
    /// Appends `in` to `out` as one gzip member.
    void operator()(std::string_view in, chunk& out) {
        detail::libdeflate_gzip_member(c_.get(), in, out);
    }

private:
    detail::libdeflate_compressor_ptr c_;
};
#endif

/// Block-parallel gzip with member compressor `Member` (constructible from a level, callable
/// as `m(block, out)`). Models `sluice::codec`; move-only (the state lives on the heap).
template <class Member>
class basic_parallel_compressor {
public:
    /// Input bytes per member by default (half of libdeflate_block_compressor's: see above).
    static constexpr std::size_t default_block_size = std::size_t{512} << 10;

    /// `level`: 0-9 as gzip(1) (libdeflate accepts up to 12). `threads`: 0 means
    /// std::thread::hardware_concurrency(). `block_size`: input bytes per member.
    explicit basic_parallel_compressor(int level = 6, unsigned threads = 0,
                                    std::size_t block_size = default_block_size)
        : s_(std::make_unique<state>(level, threads, block_size)) {}

    /// Buffers input into the current block; full blocks go to the workers; finished blocks
    /// are copied out in order as `out` has room.
    std::size_t process(std::string_view in, chunk& out) {
        state& s = *s_;
        s.drain(out, false);
        if (in.empty() || out.spare() == 0) return 0;
        slot* f = s.filling();
        if (!f) {
            // Every slot holds a block not yet written: wait for the oldest and write it.
            // That produces output, so the codec contract's progress rule holds.
            s.drain(out, true);
            return 0;
        }
        const std::size_t n = std::min(in.size(), s.block_size - f->in.size());
        f->in.append(in.substr(0, n));
        if (f->in.size() == s.block_size) s.submit();
        return n;
    }

    /// Submits the last, partial block (an empty member for empty input, so the output is
    /// always a gzip file), then writes everything out in order.
    bool finish(chunk& out) {
        state& s = *s_;
        if (!s.finishing) {
            s.finishing = true;
            slot* f = s.current_fill();
            if (!f && s.members == 0) f = s.filling();
            if (f && (!f->in.empty() || s.members == 0)) s.submit();
        }
        while (s.pending != 0)
            if (!s.drain(out, true) && out.spare() == 0) return false;
        return true;
    }

    /// Links the run: its cancellation stops the workers and its end joins them (the
    /// `compress` stage calls this; without it the destructor joins them).
    void bind(run_context& ctx) {
        s_->w.bind(ctx);
        // Where the time goes between the caller and the workers (`--stats`): in/out are
        // blocks submitted/written, blocked_downstream_ns the caller's waits for a compressed
        // block (workers behind), blocked_upstream_ns the workers' waits for a block (the
        // caller behind), summed over the threads; queue high water: blocks in flight.
        if (ctx.metrics) {
            s_->counters = ctx.metrics->counters("compress.threads");
            s_->counters->set_queue_capacity(s_->slots.size());
        }
    }

    /// Reports the threads' buffers to a run's memory plan as a request: per thread one
    /// block in, its compressed form and a compressor; a budget lowers the thread count
    /// (down to one), before any thread starts.
    void plan_memory(memory_plan& plan, std::string_view stage) {
        state& s = *s_;
        const std::size_t per_thread = 2 * s.block_size + Member::state_bytes;
        const std::size_t filling = 2 * s.block_size;  // the caller's slot
        plan.request(stage, "gzip threads (block in + out + compressor each)", per_thread + filling,
                     s.nthreads * per_thread + filling,
                     [&s, per_thread, filling](std::size_t granted, std::string& what) {
                         const unsigned wanted = s.nthreads;
                         const auto n = static_cast<unsigned>(std::clamp<std::size_t>(
                             granted > filling ? (granted - filling) / per_thread : 0, 1, s.nthreads));
                         if (n < s.nthreads && !s.w.started()) {
                             s.nthreads = n;
                             s.slots.resize(n + 1);  // queues keep their (larger) capacity
                         }
                         what = "gzip threads: " + std::to_string(s.nthreads) + " of " +
                                std::to_string(wanted) + " (block in + out + compressor each)";
                         return s.nthreads * per_thread + filling;
                     });
    }

    /// Blocks (members) submitted so far.
    std::size_t members() const noexcept { return s_->members; }
    /// Worker threads this compressor uses.
    unsigned threads() const noexcept { return s_->nthreads; }

private:
    // A slot belongs to the caller's thread except while queued: a worker owns it from
    // `jobs` to `done`, and the queues' locks order the hand-overs.
    enum class slot_state : unsigned char { free, filling, queued, done };
    struct slot {
        chunk in;
        chunk out;
        std::size_t out_pos = 0;
        std::exception_ptr err;
        slot_state st = slot_state::free;
    };

    struct state {
        state(int lvl, unsigned threads, std::size_t block)
            : level(lvl),
              nthreads(threads ? threads : std::max(1u, std::thread::hardware_concurrency())),
              block_size(std::max<std::size_t>(block, 1)),
              slots(nthreads + 1),
              jobs(nthreads + 1),
              done(nthreads + 1) {}

        /// The slot being filled, making the next free slot the filling one; null if every
        /// slot is queued or waiting to be written.
        slot* filling() {
            if (fill_seq < write_seq + slots.size()) {
                slot& f = slots[fill_seq % slots.size()];
                if (f.st == slot_state::free) {
                    f.st = slot_state::filling;
                    f.in.reserve(block_size);
                }
                if (f.st == slot_state::filling) return &f;
            }
            return nullptr;
        }
        slot* current_fill() {
            if (fill_seq >= write_seq + slots.size()) return nullptr;
            slot& f = slots[fill_seq % slots.size()];
            return f.st == slot_state::filling ? &f : nullptr;
        }

        /// Hands the filling slot to the workers (never waits: the queue holds every slot).
        void submit() {
            start();
            const std::size_t i = fill_seq % slots.size();
            slots[i].st = slot_state::queued;
            std::size_t job = i;
            if (jobs.push(std::move(job), w.token()) == 0) stopped();
            ++fill_seq;
            ++pending;
            ++members;
            if (counters) {
                counters->add_in_single_writer();
                counters->note_queue_depth(pending);
            }
        }

        /// Marks the slots the workers finished as done; waits for one when `wait`. False
        /// when nothing was collected.
        bool collect(bool wait) {
            std::optional<std::size_t> i;
            std::uint64_t waited = 0;
            const bool got = wait ? done.pop(i, w.token(), &waited) : done.try_pop(i);
            if (waited && counters) counters->add_blocked_downstream(waited);
            if (!got) {
                if (wait) stopped();
                return false;
            }
            slots[*i].st = slot_state::done;
            return true;
        }

        [[noreturn]] void stopped() const {
            w.rethrow_if_failed();
            throw cancelled_error("gzip");
        }

        /// Copies finished blocks, oldest first, into `out` while it has room. Waits for the
        /// oldest block when `wait` (later ones only if already done, so the caller returns
        /// to feeding the workers). True when every submitted block is written.
        bool drain(chunk& out, bool wait) {
            while (pending != 0 && out.spare() != 0) {
                slot& s = slots[write_seq % slots.size()];
                while (s.st != slot_state::done)
                    if (!collect(wait)) return false;
                wait = false;
                if (s.err) std::rethrow_exception(std::exchange(s.err, nullptr));
                const std::size_t n = std::min(s.out.size() - s.out_pos, out.spare());
                std::memcpy(out.tail(), s.out.data() + s.out_pos, n);
                out.commit(n);
                s.out_pos += n;
                if (s.out_pos < s.out.size()) return false;  // `out` is full
                // Block written: the slot is free again (its buffers keep their capacity).
                s.in.clear();
                s.out.clear();
                s.out_pos = 0;
                s.st = slot_state::free;
                ++write_seq;
                --pending;
                if (counters) counters->add_out_single_writer();
            }
            return pending == 0;
        }

        void start() {
            if (w.started()) return;
            for (unsigned t = 0; t < nthreads; ++t)
                w.spawn([this](std::stop_token st) { work(st); });
        }

        /// A worker: compresses queued slots, one member each, with its own compressor.
        void work(const std::stop_token& st) {
            // A unique_ptr, not an optional: GCC 12 warns (wrongly) about an optional's
            // uninitialised payload here.
            std::unique_ptr<Member> m;
            std::optional<std::size_t> i;
            std::uint64_t idle = 0;
            while (jobs.pop(i, st, counters ? &idle : nullptr)) {
                if (idle) counters->add_blocked_upstream(std::exchange(idle, 0));
                slot& job = slots[*i];
                try {
                    if (!m) m = std::make_unique<Member>(level);  // per thread, on first use
                    (*m)(job.in.view(), job.out);
                } catch (...) {
                    job.err = std::current_exception();
                }
                if (done.push(std::move(*i), st) == 0) return;  // stopped
            }
        }

        int level;
        unsigned nthreads;
        std::size_t block_size;
        std::vector<slot> slots;
        std::size_t fill_seq = 0, write_seq = 0, pending = 0, members = 0;
        bool finishing = false;
        std::shared_ptr<stage_counters> counters;  // set by bind when the run has metrics
        bounded_queue<std::size_t> jobs;  // slot indices for the workers
        bounded_queue<std::size_t> done;  // slot indices compressed, as they finish
        worker w{"gzip"};                 // last: its threads are joined before the rest goes
    };

    std::unique_ptr<state> s_;
};

// The selection depends on the backend macros: it lives in gzip.hpp's selection namespace
// (see the ODR note there), the backends and the template above do not.
inline namespace SLUICE_GZIP_SELECTION_NS {

#if defined(SLUICE_HAVE_LIBDEFLATE) && SLUICE_HAVE_LIBDEFLATE
/// The default block-parallel gzip compressor: libdeflate members.
using default_parallel_compressor = basic_parallel_compressor<libdeflate_member>;
#else
/// The default block-parallel gzip compressor: zlib members (libdeflate was not found).
using default_parallel_compressor = basic_parallel_compressor<zlib_member>;
#endif

/// The default parallel compressor at gzip(1)-style `level` on `threads` threads (0: every core).
/// `bytes | sluice::compress(sluice::gzip::parallel_compressor(6, 4))`.
inline default_parallel_compressor parallel_compressor(int level = 6, unsigned threads = 0) {
    return default_parallel_compressor(level, threads);
}

}  // namespace SLUICE_GZIP_SELECTION_NS

}  // namespace sluice::gzip

namespace sluice::compression {

inline namespace SLUICE_GZIP_SELECTION_NS {

/// Like `make_compressor(f, level, threads)` (compress/codecs.hpp), with gzip compressed on
/// `threads` threads by the block-parallel compressor and zstd by libzstd's workers. `threads`:
/// 0 = every core, 1 = single-threaded (exactly `make_compressor`'s codecs). The CLI's
/// `--threads N` maps here.
inline any_codec make_parallel_compressor(format f, std::optional<int> level = std::nullopt,
                                       unsigned threads = 0) {
    const int l = level.value_or(default_level(f));
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    switch (f) {
        case format::gzip:
            if (threads == 1) return gzip::compressor(l);
            return gzip::default_parallel_compressor(l, threads);
        case format::zstd:
            return zstd::compressor(l, threads > 1 ? static_cast<int>(threads) : 0);
        case format::none:
            break;
    }
    return identity_codec{};
}

}  // namespace SLUICE_GZIP_SELECTION_NS

}  // namespace sluice::compression
