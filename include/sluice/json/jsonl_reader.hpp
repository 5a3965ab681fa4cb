#pragma once
/// \file
/// `bytes | json::read_jsonl()`: JSON Lines (NDJSON) -> one `const json_record&` per line.
///
///     for (const auto& rec : read_file("events.jsonl") | json::read_jsonl())
///         use(rec["id"].raw(), rec["name"].str());
///
/// Lines end with LF or CRLF; blank lines and a leading UTF-8 BOM are skipped; the last line
/// needs no line end. Each line must hold exactly one JSON value (usually an object), fully
/// validated: trailing garbage, bad numbers, invalid UTF-8 and lone surrogate escapes are
/// errors, `sluice::error(errc::bad_input, "jsonl", ...)` naming the 1-based line.
///
/// Memory is bounded by `batch_size` plus the longest line (itself bounded by
/// `max_record_size`), whatever the input size. Each line is validated by simdjson's ondemand
/// parser straight out of the padded window. `iterate_many` over whole batches parses
/// slightly faster (docs/benchmarks.md), but the walk that checks every value dominates the
/// cost, and per line keeps line numbers, JSONL's one-value-per-line rule and error recovery
/// exact.
///
/// A record and all its views are valid until the next pull. After a `bad_input` error for
/// one line the reader can be pulled again: it resumes at the next line (for skip-and-report
/// error handling; `last_text()` is the offending line).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "../core/adaptor.hpp"
#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../core/stage.hpp"
#include "../policy/error_policy.hpp"
#include "detail/byte_window.hpp"
#include "detail/document_parser.hpp"
#include "record.hpp"

namespace sluice::json {

/// Options of `read_jsonl`.
struct jsonl_options {
    /// Bytes taken from upstream per refill of the parse window.
    std::size_t batch_size = std::size_t{1} << 20;
    /// A longer line is an error; bounds the window when a line end never comes.
    std::size_t max_record_size = std::size_t{64} << 20;
    /// Nesting deeper than this is malformed.
    unsigned max_depth = detail::document_parser::default_max_depth;
    /// An object or array longer than this is validated member by member, so the parser's
    /// memory stays near this size rather than ~6x the line's (see document_parser.hpp).
    std::size_t piecewise_bytes = detail::document_parser::default_piecewise_bytes;
    /// What a bad line does (see policy/error_policy.hpp): fail the run (the default), or
    /// be skipped / dead-lettered (`raw` is the line, without its line end) and reading goes
    /// on at the next line. Rejects count in the counters named "jsonl".
    sluice::any_error_policy errors{};
    /// Where the bytes start in the whole input, for a reader given one piece of it (a
    /// `text_block` from `line_blocks`): `line` is the 1-based line of the first byte,
    /// `byte_offset` the bytes before it. Lines and byte offsets in records and errors count
    /// from there; a byte-order mark is looked for only at offset 0. Record indices count
    /// from 0 (`unpack_blocks` adds the earlier blocks' records to its errors).
    input_origin origin{};
};

namespace detail {

template <class Up>
class jsonl_stage : public stage_base<jsonl_stage<Up>, Up> {
    using base = stage_base<jsonl_stage<Up>, Up>;

public:
    using reference = const json_record&;

    jsonl_stage(Up up, jsonl_options o)
        : base(std::move(up)), opt_(std::move(o)), parser_(opt_.max_depth, opt_.piecewise_bytes),
          rej_(opt_.errors, "jsonl") {
        if (opt_.batch_size == 0) opt_.batch_size = 1;
        line_ = opt_.origin.line - 1;
    }

    /// The next record; a bad one is handed to the error policy (`options.errors`) and
    /// reading goes on, unless the policy fails the run.
    maybe<const json_record&> next() {
        for (;;) {
            own_error_ = false;
            try {
                return next_record();
            } catch (const error& e) {
                if (!own_error_ || rej_.fails()) throw;
                rej_.reject(last_, e);
            }
        }
    }

    void bind(run_context& ctx) {
        this->up_.bind(ctx);
        rej_.bind(ctx);
        // A refill and the parser's steady state (piecewise validation keeps it near
        // `piecewise_bytes`) always; a record's bytes in the window and in the parser.
        request_record_room(ctx.memory, "jsonl.read", opt_.batch_size + opt_.piecewise_bytes, 2,
                            256 * 1024, opt_.max_record_size);
    }
    /// Records rejected (skipped or dead-lettered) by the error policy so far.
    std::uint64_t rejects() const noexcept { return rej_.rejects(); }

private:
    maybe<const json_record&> next_record() {
        for (;;) {
            std::size_t avail = win_.size() - pos_;
            const char* start = win_.data() + pos_;
            // A line longer than the window is searched for its end only in the new bytes:
            // searching from its start at every refill made a long line quadratic.
            std::size_t from = scanned_ > pos_ ? scanned_ : pos_;
            const void* nl = win_.size() > from ? std::memchr(win_.data() + from, '\n', win_.size() - from) : nullptr;
            if (!nl) scanned_ = win_.size();
            if (skip_rest_) {  // the rest of a line already reported as too long
                if (nl) {
                    pos_ += static_cast<std::size_t>(static_cast<const char*>(nl) - start) + 1;
                    skip_rest_ = false;
                    continue;
                }
                pos_ = win_.size();
                avail = 0;
            }
            if (nl) {
                auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - start);
                std::size_t at = pos_;
                pos_ += len + 1;
                if (const json_record* r = handle(at, len)) return *r;
                continue;
            }
            if (avail > opt_.max_record_size) too_long();
            bool got = false;
            if (!win_.exhausted()) {
                std::size_t dropped = win_.refill(this->up_, pos_, opt_.batch_size, got);
                scanned_ -= dropped < scanned_ ? dropped : scanned_;
                pos_ -= dropped;
            }
            if (got) continue;
            // End of input: the last line may lack its line end.
            if (pos_ == win_.size()) return {};
            std::size_t at = pos_;
            pos_ = win_.size();
            if (const json_record* r = handle(at, win_.size() - at)) return *r;
        }
    }

public:
    /// 1-based number of the last line read (blank lines count).
    std::uint64_t line_number() const noexcept { return line_; }
    /// Records yielded so far.
    std::uint64_t record_count() const noexcept { return records_; }
    /// The text of the last non-blank line, good or bad (valid until the next pull).
    std::string_view last_text() const noexcept { return last_; }

private:
    /// Parses the line at window offset `at`; nullptr for a blank line.
    const json_record* handle(std::size_t at, std::size_t len) {
        ++line_;
        std::string_view line(win_.data() + at, len);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (opt_.origin.byte_offset + win_.base() + at == 0) {
            std::string_view s = skip_bom(line);
            at += line.size() - s.size();
            line = s;
        }
        if (line.find_first_not_of(" \t") == std::string_view::npos) return nullptr;
        last_ = line;
        if (const char* msg = parser_.parse(line, win_.readable_from(at), line_)) {
            position p;
            p.record = records_;
            p.line = line_;
            p.byte_offset = opt_.origin.byte_offset + win_.base() + at;
            if (parser_.error_offset() != document_parser::npos) p.byte_offset += parser_.error_offset();
            own_error_ = true;
            throw error(errc::bad_input, "jsonl", msg, p);
        }
        ++records_;
        return &parser_.record();
    }

    [[noreturn]] void too_long() {
        position p;
        p.record = records_;
        p.line = ++line_;
        p.byte_offset = opt_.origin.byte_offset + win_.base() + pos_;
        // Resumable like any bad line: the next pull drops the rest of this one. Its text is
        // not kept (that is the point of the limit), so last_text() is empty.
        last_ = {};
        pos_ = win_.size();
        skip_rest_ = true;
        own_error_ = true;
        throw error(errc::bad_input, "jsonl",
                    "record longer than " + std::to_string(opt_.max_record_size) + " bytes", p);
    }

    jsonl_options opt_;
    document_parser parser_;
    byte_window win_;
    std::size_t pos_ = 0;  // window offset of the first unread byte
    std::uint64_t line_ = 0;
    std::uint64_t records_ = 0;
    std::string_view last_;
    bool skip_rest_ = false;  // dropping the rest of a too-long line
    bool own_error_ = false;  // the exception in flight is this reader's (a bad line)
    sluice::detail::text_rejecter rej_;
    std::size_t scanned_ = 0;  // window offset up to which no line end follows pos_
};

}  // namespace detail

/// `bytes | json::read_jsonl(options)` yields each non-blank line as a `const json_record&`.
struct read_jsonl_fn : adaptor<read_jsonl_fn, jsonl_options> {
    template <class Up, class... O>
    using rules = adaptor_rules<rule<byte_like<reference_t<Up>>,
                                     "sluice::json::read_jsonl: the upstream must yield bytes (chunks or strings)">>;
    template <class Up>
    static auto make(Up up, jsonl_options o = {}) {
        return detail::jsonl_stage<Up>(std::move(up), o);
    }
};
inline constexpr read_jsonl_fn read_jsonl{};

}  // namespace sluice::json
