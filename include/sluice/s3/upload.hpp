#pragma once
/// \file
/// `s3::upload(client_or_config, bucket, key, options)`: a sink of byte chunks that streams
/// into one S3 object.
///
/// - Bytes are cut into parts of exactly the current part size (default 8 MiB, at least
///   5 MiB). The multipart upload is created lazily, when the first part fills; up to
///   `concurrency` parts (default 4) upload in the background (a `sluice::worker` pool,
///   joined at the end of the run) while the pipeline fills the next one. Memory: at most (in-flight + 1) x part size.
/// - Streams of unknown length: the part size doubles every `growth_interval` parts (1,000),
///   so 10,000 parts hold ~4.9 TiB from a 5 MiB base and no stream fails at part 10,001.
///   Every part but the last is exactly the part size current at its number. When growth
///   would exceed `memory_budget`, fewer parts go in flight; when not even one part in
///   flight plus the one filling fit, the upload fails at once with an `out_of_memory`
///   error naming the budget (no temporary files: see docs/s3.md).
/// - A run's memory budget (`run_options::memory_budget`) lowers the parts in flight, then
///   the part size (never below 5 MiB), when the sink is bound (see `plan_memory`).
/// - Less than one part in all: a single PutObject. Nothing at all: an empty object.
/// - `finish()` waits for the parts and sends CompleteMultipartUpload. Errors from the
///   background threads are parked and rethrown at the next `push` or at `finish`.
/// - `abort(error)`, a failed `finish()`, cancellation or destruction before `finish()`:
///   in-flight parts are cancelled and the upload is removed with AbortMultipartUpload,
///   which is not cancellable and is retried; if it still fails, the error (rethrown by
///   finish, or passed to `on_cleanup_failure` from abort) names the UploadId.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/chunk.hpp"
#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/memory_budget.hpp"
#include "../core/sink.hpp"
#include "../core/worker.hpp"
#include "client.hpp"
#include "config.hpp"

namespace sluice::s3 {

inline constexpr std::size_t mib = 1024 * 1024;
/// S3's smallest part (all but the last part of a multipart upload).
inline constexpr std::size_t min_part_size = 5 * mib;
/// S3's largest part.
inline constexpr std::uint64_t max_part_size = 5ull * 1024 * mib;
/// S3's part-count limit.
inline constexpr std::uint32_t max_parts = 10'000;

/// One part a multipart upload holds: its number, ETag and size as S3 lists them, and the
/// caller's tag for it (see `upload_options::explicit_parts`; e.g. the last key it covers).
struct stored_part {
    std::uint32_t number = 0;
    std::string etag;
    std::uint64_t size = 0;
    std::string tag{};
};

/// An existing multipart upload to continue: its UploadId and the parts it already holds
/// (numbers 1..n, each once, as confirmed with ListParts). New parts follow part n, and
/// CompleteMultipartUpload lists the old parts and the new ones.
struct resume_point {
    std::string upload_id;
    std::vector<stored_part> parts;
};

/// Options of `s3::upload`.
struct upload_options {
    /// Base part size; every part but the last has exactly the current part size.
    std::size_t part_size = 8 * mib;
    /// Parts uploading at once in the background (>= 1).
    unsigned concurrency = 4;
    /// The part size doubles after every this many parts (unknown-length streams).
    std::uint32_t growth_interval = 1000;
    /// Upper bound of buffered bytes, (in-flight + 1) x part size. See the file comment.
    std::uint64_t memory_budget = 2048ull * mib;
    /// The stream's size when known in advance: the base part size is then raised so the
    /// whole stream fits in 10,000 parts without growth.
    std::optional<std::uint64_t> size_hint{};
    /// Content-Type of the object (empty: none sent), e.g. "application/x-ndjson".
    std::string content_type{};
    /// Content-Encoding of the object (empty: none sent), e.g. "gzip" for a `.jsonl.gz`
    /// that HTTP clients should decompress as they download it. Sent with the
    /// CreateMultipartUpload or the single PutObject, as S3 wants.
    std::string content_encoding{};
    /// FOR TESTS ONLY: accept a `part_size` below S3's 5 MiB minimum (real S3 rejects such
    /// uploads at Complete; test servers let a test see many parts from little data).
    bool allow_small_parts_for_testing = false;
    /// Told the UploadId as soon as the multipart upload is created (on the pipeline
    /// thread), e.g. to record it so that a crashed process's upload can be aborted later.
    /// An exception from it aborts the upload and fails the run.
    std::function<void(const std::string&)> on_multipart_created{};
    /// Receives the error when `abort(error)` could not remove the multipart upload (it
    /// names the UploadId). Default: one line on stderr, since abort cannot throw.
    std::function<void(const error&)> on_cleanup_failure{};
    /// Continue this multipart upload instead of creating one (see `resume_point`).
    std::optional<resume_point> resume{};
    /// Parts end only where the caller says (`end_part(tag)` on the sink), not at the part
    /// size: a part is then a unit the caller chose (whole records, whole gzip members) and
    /// the part size only sizes the buffers. Every part but the last must still be >= 5 MiB.
    bool explicit_parts = false;
    /// Called on the pipeline thread for each stored part, in part-number order (part n is
    /// reported only after parts 1..n-1), with the tag given to `end_part`: a checkpoint
    /// written here names a prefix of the object that is safely stored. Resumed parts are
    /// not reported again. An exception from it fails the run.
    std::function<void(const stored_part&)> on_part_stored{};
    /// Leave the multipart upload open when the sink is aborted or destroyed unfinished
    /// (its stored parts kept for a later `resume`), instead of AbortMultipartUpload.
    bool keep_upload_on_abort = false;
};

/// What a finished upload reports.
struct upload_result {
    std::uint64_t bytes = 0;     ///< bytes stored
    std::uint32_t parts = 0;     ///< parts uploaded (1 for a single PutObject)
    bool multipart = false;      ///< whether a multipart upload was used
    std::string etag;            ///< the object's ETag as S3 reports it
};

namespace detail {

/// The part size for part `number` (1-based): `base` doubled once per `interval` parts,
/// capped at S3's 5 GiB.
inline std::uint64_t part_size_for(std::uint64_t base, std::uint32_t interval,
                                   std::uint32_t number) {
    std::uint32_t doublings = interval ? (number - 1) / interval : 0;
    std::uint64_t s = base;
    for (std::uint32_t i = 0; i < doublings && s < max_part_size; ++i) s *= 2;
    return std::min<std::uint64_t>(s, max_part_size);
}

/// The shared state of one upload: the pipeline thread fills parts, the workers send them.
/// Parts go to the workers through `jobs_` and come back (ETag, buffer for reuse) through
/// `results_`; everything else belongs to the pipeline thread.
class upload_state {
public:
    upload_state(client c, std::string bucket, std::string key, upload_options o)
        : cli_(std::move(c)), bucket_(std::move(bucket)), key_(std::move(key)),
          opt_(normalized(std::move(o))), jobs_(opt_.concurrency), results_(opt_.concurrency) {
        if (opt_.part_size < min_part_size && !opt_.allow_small_parts_for_testing)
            throw error(errc::usage, "s3.upload",
                        "part size " + std::to_string(opt_.part_size) +
                            " is below S3's minimum of 5 MiB (5242880 bytes)");
        if (opt_.part_size < 1) opt_.part_size = 1;
        base_ = opt_.part_size;
        if (opt_.size_hint) {
            // Fit the known size into the part limit without growth, in whole MiB.
            std::uint64_t need = (*opt_.size_hint + max_parts - 1) / max_parts;
            need = (need + mib - 1) / mib * mib;
            if (need > base_) base_ = need;
        }
        if (base_ > max_part_size)
            throw error(errc::usage, "s3.upload", "part size above S3's maximum of 5 GiB");
        current_ = base_;
        check_budget(1);  // fail before the first byte if not even the base fits
        if (opt_.resume) adopt(*opt_.resume);
        buf_.reserve(static_cast<std::size_t>(current_));
    }
    upload_state(const upload_state&) = delete;
    upload_state& operator=(const upload_state&) = delete;
    ~upload_state() {
        // A sink dropped without finish() or abort() must not leave an open upload (unless
        // it is kept for a resume).
        if (!finished_ && !aborted_ && !opt_.keep_upload_on_abort) abort_quietly(nullptr);
        w_.halt();
    }

    void bind(run_context& ctx) {
        // Cancelling the run cancels the in-flight parts and the sleeps between retries; the
        // end of the run joins the workers.
        w_.bind(ctx);
        plan_memory(ctx.memory);
    }

    /// Reports the part buffers to a run's memory plan as a request. Under a budget the
    /// upload first lowers the parts in flight (down to one), then the part size (never
    /// below S3's 5 MiB; explicit parts keep theirs, which a caller chose). Nothing is sent
    /// before the first part fills, so a refused run sends no request.
    void plan_memory(memory_plan& plan) {
        if (workers_started_) return;  // bound again after parts were sent: nothing to adapt
        const std::uint64_t p = current_;
        const std::uint64_t floor =
            opt_.explicit_parts ? p
                                : std::min<std::uint64_t>(p, opt_.allow_small_parts_for_testing
                                                                 ? opt_.part_size
                                                                 : min_part_size);
        const std::size_t minimum = static_cast<std::size_t>(bytes_for(0, floor));
        const std::size_t preferred = static_cast<std::size_t>(bytes_for(opt_.concurrency, p));
        plan.request("s3.upload", what(opt_.concurrency, p), minimum, preferred,
                     [this, floor](std::size_t granted, std::string& text) {
                         adapt(granted, floor);
                         text = what(in_flight(), current_);
                         return static_cast<std::size_t>(bytes_for(in_flight(), current_));
                     });
    }

    /// What one connection holds besides its part: curl's buffers and a TLS session.
    static constexpr std::size_t connection_bytes = 256 * 1024;

    void push(std::string_view b) {
        w_.rethrow_if_failed();
        if (opt_.explicit_parts) {
            if (b.empty()) return;
            // The part ended by end_part() goes out only now that more bytes follow (so a
            // stream of one part can still be a single PutObject).
            if (part_ended_) dispatch();
            part_ended_ = false;
            buf_.append(b);
            total_ += b.size();
            return;
        }
        while (!b.empty()) {
            std::size_t room = static_cast<std::size_t>(current_) - buf_.size();
            std::size_t n = std::min(room, b.size());
            buf_.append(b.substr(0, n));
            b.remove_prefix(n);
            total_ += n;
            // Dispatch only when more bytes follow: a stream that ends exactly at a part
            // boundary must still be able to choose PutObject in finish().
            if (buf_.size() == current_ && !b.empty()) dispatch();
        }
    }

    /// Ends the part being filled here (explicit parts), tagged `tag`; nothing when it is empty.
    void end_part(std::string tag) {
        if (!opt_.explicit_parts)
            throw error(errc::usage, "s3.upload", "end_part() needs upload_options::explicit_parts");
        if (buf_.empty()) return;
        part_tag_ = std::move(tag);
        part_ended_ = true;
    }

    upload_result finish() {
        w_.rethrow_if_failed();
        upload_result res;
        res.bytes = total_ + resumed_bytes_;
        if (upload_id_.empty()) {
            // The whole stream fit in one part (or was empty): a single PutObject.
            res.etag = cli_.put_object(bucket_, key_, buf_.view(), w_.token(), opt_.content_type,
                                       opt_.content_encoding);
            finished_ = true;
            res.parts = 1;
            return res;
        }
        if (!buf_.empty()) dispatch();
        while (outstanding_ != 0 && !w_.failed()) collect(true);
        w_.rethrow_if_failed();
        report_stored();
        w_.rethrow_if_failed();
        std::vector<completed_part> parts;
        for (auto& [n, etag] : etags_) parts.push_back({n, etag});
        // If this throws, the caller (run) aborts the sink, which removes the upload.
        res.etag =
            cli_.complete_multipart_upload(bucket_, key_, upload_id_, parts, w_.token());
        finished_ = true;
        res.parts = static_cast<std::uint32_t>(parts.size());
        res.multipart = true;
        jobs_.close();  // every part is back: the workers end
        w_.join();
        return res;
    }

    void abort(const error&) noexcept {
        if (finished_ || aborted_) return;
        if (opt_.keep_upload_on_abort) {
            aborted_ = true;
            w_.halt();
            return;
        }
        abort_quietly(opt_.on_cleanup_failure ? &opt_.on_cleanup_failure : nullptr);
    }

    const std::string& upload_id() const noexcept { return upload_id_; }

private:
    /// Part buffers and connections with `n` parts in flight of `part` bytes (0: parts are
    /// sent from the pipeline thread, which still needs a connection).
    static std::uint64_t bytes_for(unsigned n, std::uint64_t part) {
        return (n + 1ull) * part + std::max(n, 1u) * std::uint64_t{connection_bytes};
    }
    static std::string what(unsigned n, std::uint64_t part) {
        return "parts in flight: " + std::to_string(n) + " x " + std::to_string(part >> 20) +
               " MiB + 1 filling" + (n == 0 ? " (each sent from the pipeline thread)" : "");
    }
    /// Parts uploading in the background at once (0: sent from the pipeline thread).
    unsigned in_flight() const noexcept { return inline_parts_ ? 0 : opt_.concurrency; }

    /// Fits the buffers into `granted` bytes, before any part is sent. The default does not
    /// fit: parts drop to `floor` (S3's 5 MiB; explicit parts keep theirs) and as many go in
    /// flight as fit, none at the least (each part is then sent from the pipeline thread,
    /// which waits for it). Parallelism is worth more than part size, which past 5 MiB only
    /// saves requests.
    void adapt(std::size_t granted, std::uint64_t floor) {
        if (bytes_for(opt_.concurrency, current_) <= granted) return;
        if (!opt_.explicit_parts && floor < current_) {
            base_ = current_ = floor;
            if (!opt_.resume) opt_.part_size = static_cast<std::size_t>(floor);
            buf_ = chunk();
            buf_.reserve(static_cast<std::size_t>(current_));
        }
        unsigned n = opt_.concurrency;
        while (n > 0 && bytes_for(n, current_) > granted) --n;
        inline_parts_ = n == 0;
        opt_.concurrency = std::max(n, 1u);
        // Growth (long streams) stays within what was granted too.
        opt_.memory_budget = std::min<std::uint64_t>(opt_.memory_budget, granted);
    }

    /// Sends the filled part from the pipeline thread (no part in flight: see `adapt`) and
    /// keeps its buffer for the next part.
    void send_inline() {
        std::uint32_t number = next_part_++;
        pending_[number] = stored_part{number, {}, buf_.size(), std::move(part_tag_)};
        part_tag_.clear();
        std::string etag = cli_.upload_part(bucket_, key_, upload_id_, number, buf_.view(), w_.token());
        etags_[number] = etag;
        pending_[number].etag = std::move(etag);
        report_stored();
        const std::uint64_t next_size =
            opt_.explicit_parts ? base_ : part_size_for(base_, opt_.growth_interval, next_part_);
        check_budget(next_part_);
        if (next_size != current_) buf_ = chunk();
        current_ = next_size;
        buf_.clear();
        buf_.reserve(static_cast<std::size_t>(current_));
    }

    static upload_options normalized(upload_options o) {
        if (o.concurrency < 1) o.concurrency = 1;
        if (o.growth_interval < 1) o.growth_interval = 1;
        return o;
    }

    /// Hands the full buffer to the workers, after creating the upload if needed, and
    /// starts a fresh buffer sized for the next part number.
    void dispatch() {
        if (upload_id_.empty()) {
            upload_id_ = cli_.create_multipart_upload(bucket_, key_, w_.token(), opt_.content_type,
                                                      opt_.content_encoding);
            if (opt_.on_multipart_created) opt_.on_multipart_created(upload_id_);
        }
        if (next_part_ > max_parts)
            throw error(errc::limit, "s3.upload",
                        "more than 10,000 parts (S3's limit); raise part_size or size_hint");
        if (inline_parts_) return send_inline();
        if (!workers_started_) start_workers();
        std::uint32_t number = next_part_++;
        pending_[number] = stored_part{number, {}, buf_.size(), std::move(part_tag_)};
        part_tag_.clear();
        // Explicit parts: the caller sizes them; no growth.
        std::uint64_t next_size = opt_.explicit_parts
                                      ? base_
                                      : part_size_for(base_, opt_.growth_interval, next_part_);
        unsigned limit = check_budget(next_part_);
        // Wait for a slot: bounds memory to (in flight + queued + 1 filling) parts.
        while (collect(false)) {
        }
        while (outstanding_ >= limit && !w_.failed()) collect(true);
        w_.rethrow_if_failed();
        if (w_.stop_requested()) throw cancelled_error("s3.upload");
        // Never waits: fewer than `limit` <= concurrency parts are out.
        jobs_.push(job{number, std::move(buf_)}, w_.token());
        ++outstanding_;
        chunk fresh;
        if (!spare_.empty() && spare_.back().capacity() >= next_size) {
            fresh = std::move(spare_.back());
            spare_.pop_back();
        }
        if (next_size != current_) spare_.clear();  // old-sized buffers are of no use
        current_ = next_size;
        buf_ = std::move(fresh);
        buf_.clear();
        buf_.reserve(static_cast<std::size_t>(current_));
    }

    /// Takes back finished parts: keeps their ETags and their buffers for reuse. Waits for
    /// one when `wait` (throwing when the upload is stopped); false when none came back.
    bool collect(bool wait) {
        std::optional<part_done> d;
        if (!wait) {
            if (!results_.try_pop(d)) return false;
        } else if (!results_.pop(d, w_.token())) {
            w_.rethrow_if_failed();
            throw cancelled_error("s3.upload");
        }
        --outstanding_;
        if (!d->etag.empty()) {
            etags_[d->number] = d->etag;
            pending_[d->number].etag = std::move(d->etag);
        }
        if (d->data.capacity() >= current_) spare_.push_back(std::move(d->data));
        report_stored();
        return true;
    }

    /// Tells `on_part_stored` about the parts now stored after every earlier one.
    void report_stored() {
        for (auto it = pending_.begin(); it != pending_.end() && it->first == reported_ + 1;) {
            if (it->second.etag.empty()) break;
            ++reported_;
            if (opt_.on_part_stored) opt_.on_part_stored(it->second);
            it = pending_.erase(it);
        }
    }

    /// Takes over an existing upload: its parts are kept and numbering continues after them.
    void adopt(const resume_point& r) {
        if (r.upload_id.empty())
            throw error(errc::usage, "s3.upload", "resume: no UploadId to continue");
        std::uint32_t expect = 1;
        for (const auto& p : r.parts) {
            if (p.number != expect++ || p.etag.empty())
                throw error(errc::usage, "s3.upload",
                            "resume: the stored parts must be numbered 1..n, each with its ETag");
            etags_[p.number] = p.etag;
            resumed_bytes_ += p.size;
        }
        upload_id_ = r.upload_id;
        next_part_ = expect;
        reported_ = expect - 1;
        if (!opt_.explicit_parts) current_ = part_size_for(base_, opt_.growth_interval, next_part_);
    }

    /// The number of parts that may be in flight for part `number`'s size, within the
    /// memory budget; throws when not even one fits next to the filling buffer.
    unsigned check_budget(std::uint32_t number) const {
        std::uint64_t size = part_size_for(base_, opt_.growth_interval, number);
        std::uint64_t fit = opt_.memory_budget / size;
        if (fit < (inline_parts_ ? 1u : 2u))
            throw error(errc::out_of_memory, "s3.upload",
                        "part " + std::to_string(number) + " needs a part size of " +
                            std::to_string(size / mib) + " MiB; one part uploading plus one "
                            "filling exceeds the memory budget of " +
                            std::to_string(opt_.memory_budget / mib) +
                            " MiB (upload_options::memory_budget); raise the budget, or give "
                            "the stream's size (size_hint) or a larger base part_size");
        return static_cast<unsigned>(std::min<std::uint64_t>(opt_.concurrency, fit - 1));
    }

    void start_workers() {
        workers_started_ = true;
        for (unsigned i = 0; i < opt_.concurrency; ++i)
            w_.spawn([this](std::stop_token st) { work(st); });
    }

    /// A worker: sends queued parts. After a failure (parked for the pipeline thread) or a
    /// stop, the parts still queued are handed back unsent.
    void work(const std::stop_token& st) {
        std::optional<job> j;
        while (jobs_.pop(j, st)) {
            part_done d;
            d.number = j->number;
            if (!w_.failed() && !st.stop_requested()) {
                try {
                    d.etag = cli_.upload_part(bucket_, key_, upload_id_, j->number, j->data.view(),
                                              st);
                } catch (...) {
                    w_.park(std::current_exception());
                }
            }
            d.data = std::move(j->data);
            j.reset();
            // Never waits: at most `concurrency` parts are out.
            results_.push(std::move(d), st);
        }
    }

    /// Cancels in-flight parts, then removes the upload (retried, not cancellable).
    void abort_quietly(const std::function<void(const error&)>* report) noexcept {
        aborted_ = true;
        w_.halt();
        if (upload_id_.empty()) return;
        try {
            cli_.abort_multipart_upload(bucket_, key_, upload_id_);
        } catch (...) {
            error e = current_error();
            try {
                if (report && *report)
                    (*report)(e);
                else
                    std::cerr << "sluice: s3.upload: " << e.message() << '\n';
            } catch (...) {
            }
        }
    }

    struct job {
        std::uint32_t number = 0;
        chunk data;
    };
    struct part_done {
        std::uint32_t number = 0;
        std::string etag;  // empty when the part was not sent or failed
        chunk data;        // the part's buffer, for reuse
    };

    client cli_;
    std::string bucket_, key_;
    upload_options opt_;
    std::uint64_t base_ = 0;
    std::uint64_t current_ = 0;  // size of the part being filled
    chunk buf_;
    std::uint64_t total_ = 0;
    std::uint32_t next_part_ = 1;
    std::string upload_id_;
    bool finished_ = false;
    bool aborted_ = false;
    unsigned outstanding_ = 0;  // parts handed to the workers and not yet collected
    std::vector<chunk> spare_;
    std::map<std::uint32_t, std::string> etags_;
    bool workers_started_ = false;
    bool inline_parts_ = false;  // a budget left no part in flight: parts go out inline
    // Explicit parts and part reports: the part being filled ended, its tag, the parts
    // dispatched and not yet reported (etag filled once stored), the last reported number.
    bool part_ended_ = false;
    std::string part_tag_;
    std::map<std::uint32_t, stored_part> pending_;
    std::uint32_t reported_ = 0;
    std::uint64_t resumed_bytes_ = 0;

    bounded_queue<job> jobs_;
    bounded_queue<part_done> results_;
    worker w_{"s3.upload"};  // last: its threads are joined before the rest goes
};

/// The sink object `s3::upload` returns: movable, owns the upload state.
class upload_sink : public sink_base {
public:
    explicit upload_sink(std::unique_ptr<upload_state> s) : s_(std::move(s)) {}

    void bind(run_context& ctx) { s_->bind(ctx); }

    template <byte_like R>
    bool push(const R& r) {
        s_->push(bytes_of(r));
        return true;
    }
    /// Commits the object (see the file comment).
    upload_result finish() { return s_->finish(); }
    /// Ends the part being filled here, tagged `tag` (needs `upload_options::explicit_parts`):
    /// the bytes pushed since the last end form one part.
    void end_part(std::string tag = {}) { s_->end_part(std::move(tag)); }
    /// Removes whatever was uploaded; never throws.
    void abort(const error& e) noexcept { s_->abort(e); }
    /// The multipart UploadId, once created ("" before, and for a single PutObject).
    const std::string& upload_id() const noexcept { return s_->upload_id(); }

private:
    std::unique_ptr<upload_state> s_;
};

}  // namespace detail

/// `bytes | s3::upload(client_or_config, bucket, key, options)`: see the file comment.
struct upload_fn {
    detail::upload_sink operator()(const client& c, std::string bucket, std::string key,
                                   upload_options o = {}) const {
        return detail::upload_sink(std::make_unique<detail::upload_state>(
            c, std::move(bucket), std::move(key), std::move(o)));
    }
    detail::upload_sink operator()(const config& c, std::string bucket, std::string key,
                                   upload_options o = {}) const {
        return (*this)(client(c), std::move(bucket), std::move(key), std::move(o));
    }
};
/// See `upload_fn`.
inline constexpr upload_fn upload{};

}  // namespace sluice::s3
