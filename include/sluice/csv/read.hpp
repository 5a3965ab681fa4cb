#pragma once
/// \file
/// `csv::read(options)`: the RFC 4180 reader stage. Over any byte source (`chunk&`, strings)
/// it yields `const csv::row&` - one record's fields, valid until the next pull:
/// \code
/// auto n = sluice::read_file("orders.csv") | sluice::csv::read() | sluice::count();
/// for (const sluice::csv::row& r : sluice::read_file(path) | sluice::csv::read())
///     total += r.get<double>("amount");
/// \endcode
/// `csv::read<T>(options)` yields `T&` for a struct with a field list (see as.hpp).
///
/// The dialect: fields separated by `delimiter`; a field starting with `quote` is quoted
/// and may hold delimiters, CR, LF and doubled quotes; records end at LF or CRLF (a CR is
/// part of a line end only when an LF follows; a lone CR is data, and so is a CR before
/// the LF inside quotes). The last record needs no line end (a CR right before the end of
/// the input is dropped like a CRLF's). A UTF-8 BOM at the start is dropped. Blank lines
/// (empty or a lone CRLF) are skipped everywhere, before the header too; a line holding
/// only `""` is a record with one empty field.
///
/// Strict by default: an unterminated quote, text after a closing quote (`"x"y`), a quote
/// inside an unquoted field (`x"y`), a record whose field count differs from the header's
/// (or, without a header, the first record's) and invalid UTF-8 are `errc::bad_input`
/// errors in stage "csv" with a position: `line` is the 1-based physical line where the
/// record starts (every line counts: blank ones, the header, lines inside quoted fields) -
/// for an unterminated quote, the line where the quote opened; `column` the 1-based field;
/// `record` the 0-based index of the data record; `byte_offset` the offending byte (the
/// record start for a field-count mismatch). `read_options` relaxes each rule.
///
/// How it is fast: stage one (scan.hpp) turns 64-byte blocks into bitmasks and writes the
/// positions of quotes and of the delimiters and line feeds outside quotes; stage two
/// (here) walks those positions, so an unquoted field costs a few instructions whatever its
/// length and is a zero-copy view. Quoted fields with doubled quotes are unescaped into a
/// scratch buffer that is reused from record to record. Input is copied into a reader-owned
/// buffer with padding (so block loads never read past the end); a record that spans input
/// blocks simply stays in that buffer, whose growth `max_record_size` bounds. While a record
/// is incomplete, each refill only looks at the new positions for its line end (and counts
/// its delimiters against `max_columns`); the record is parsed once, when its end is there,
/// so the work per record is linear in its length whatever the number of refills.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../core/adaptor.hpp"
#include "../core/byte_count.hpp"
#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../core/stage.hpp"
#include "../core/utf8.hpp"
#include "as.hpp"
#include "options.hpp"
#include "row.hpp"
#include "scan.hpp"

namespace sluice::csv {

namespace detail {
inline namespace SLUICE_CSV_ISA {

/// Bytes scanned per stage-one call: small enough that the index list stays in L1/L2.
inline constexpr std::size_t scan_segment_bytes = 16 * 1024;
/// Most bytes copied from the upstream per refill, so buffer offsets fit in 32 bits and a
/// huge upstream block does not make the buffer huge.
inline constexpr std::size_t max_feed_bytes = 1024 * 1024;
/// Slack after the data: a whole block may be loaded past the end, plus the virtual LF.
inline constexpr std::size_t buffer_padding = 2 * block_size;

template <class Up>
class read_stage : public stage_base<read_stage<Up>, Up> {
    using base = stage_base<read_stage<Up>, Up>;

public:
    using reference = const row&;

    read_stage(Up up, read_options o)
        : base(std::move(up)), opt_(std::move(o)), rej_(opt_.errors, "csv") {
        const char d = opt_.delimiter, q = opt_.quote;
        if (d == q || d == '\n' || d == '\r' || d == '\0' || q == '\n' || q == '\r' || q == '\0')
            throw error(errc::usage, "csv",
                        "the delimiter and the quote must differ and be neither CR, LF nor NUL");
        if (opt_.max_record_size > (std::size_t{1} << 30))
            throw error(errc::usage, "csv", "max_record_size must be at most 1 GiB");
        if (opt_.max_columns == 0) throw error(errc::usage, "csv", "max_columns must be at least 1");
        base_ = opt_.origin.byte_offset;
        line_ = opt_.origin.line;
        bom_checked_ = base_ != 0;
        if (opt_.header && opt_.known_header) {
            header_ = opt_.known_header;
            expected_ = header_->size();
        }
    }

    void bind(run_context& ctx) {
        this->up_.bind(ctx);
        rej_.bind(ctx);
        // A feed, the padding and a segment's indices always; a record's bytes and, at
        // worst, one 4-byte index per byte for the record being assembled.
        request_record_room(ctx.memory, "csv.read",
                            max_feed_bytes + buffer_padding + 4 * scan_segment_bytes, 5,
                            256 * 1024, opt_.max_record_size);
    }

    maybe<const row&> next() {
        for (;;) {
            step st = scalar_mode_ ? parse_scalar() : parse_record();
            if (st == step::record) return row_;
            if (st == step::more && !refill()) return {};
        }
    }

    /// The column names; empty until the header line has been read (at the first pull) or
    /// when reading without a header.
    const csv::header& header() const noexcept {
        static const csv::header none;
        return header_ ? *header_ : none;
    }
    /// The header shared with owned rows (null until read).
    const std::shared_ptr<const csv::header>& shared_header() const noexcept { return header_; }
    /// Data records yielded so far.
    std::uint64_t records() const noexcept { return index_; }
    /// Records rejected (skipped or dead-lettered) by the error policy so far.
    std::uint64_t rejects() const noexcept { return rej_.rejects(); }
    /// Bytes of input consumed up to the end of the last record.
    std::uint64_t bytes_consumed() const noexcept { return base_ + rec_start_; }

private:
    enum class step { record, skipped, more };

    std::size_t size() const noexcept { return buf_.size(); }
    bool input_exhausted() const noexcept { return up_done_ && pending_.empty(); }

    // ---- input ---------------------------------------------------------------------------

    /// Makes progress towards a complete record: scans more blocks, pulls more input, or
    /// scans the final partial block. False when the input is finished.
    bool refill() {
        if (!bom_checked_ && (size() >= 3 || input_exhausted())) check_bom();
        if (bom_checked_ && !scalar_mode_ && !final_scanned_ && size() - scan_ >= block_size) {
            scan_segment();
            return true;
        }
        if (!input_exhausted()) {
            feed();
            return true;
        }
        if (!scalar_mode_ && !final_scanned_) {
            scan_final();
            return true;
        }
        if (!scalar_mode_ && in_quote_ && rec_start_ < size()) return unterminated_quote();
        return false;
    }

    /// Appends the next piece of upstream bytes, first dropping consumed records.
    void feed() {
        if (pending_.empty()) {
            auto r = this->up_.next();
            if (!r) {
                up_done_ = true;
                // The limit holds at the input's end too: a record cut off at the limit by
                // csv::record_blocks reaches a block's reader in one piece, with no feed after.
                if ((scalar_mode_ ? size() : scan_) - rec_start_ > opt_.max_record_size)
                    record_too_long();
                return;
            }
            pending_ = bytes_of(*r);
            if (pending_.empty()) return;
        }
        compact();
        // The unfinished record spans at least what stage one has scanned of it (the
        // scalar path has looked at everything).
        if ((scalar_mode_ ? size() : scan_) - rec_start_ > opt_.max_record_size) record_too_long();
        std::size_t take = std::min(pending_.size(), max_feed_bytes);
        buf_.reserve_spare(take + buffer_padding);
        buf_.append(pending_.substr(0, take));
        pending_.remove_prefix(take);
    }

    void check_bom() {
        bom_checked_ = true;
        if (size() >= 3 && std::memcmp(buf_.data(), "\xEF\xBB\xBF", 3) == 0)
            scan_ = rec_start_ = 3;
    }

    /// Moves the unfinished record to the front of the buffer; every stored offset shifts.
    void compact() {
        const std::size_t k = rec_start_;
        if (k == 0) return;
        buf_.erase_front(k);
        base_ += k;
        scan_ -= k;
        rec_start_ = 0;
        const auto k32 = static_cast<std::uint32_t>(k);
        std::uint32_t* ix = idx_.get();
        for (std::size_t i = ipos_; i < icount_; ++i) ix[i] -= k32;
        aw_s_ -= k32;  // meaningful only while waiting_, within the record: >= k
        aw_last_ -= k32;
        if (scalar_checked_ > k) scalar_checked_ -= k;
        else scalar_checked_ = 0;
        quoted_lf_end_ = quoted_lf_end_ > k ? quoted_lf_end_ - k : 0;
        bad_.erase(bad_.begin(), bad_.begin() + static_cast<std::ptrdiff_t>(bad_pos_));
        bad_pos_ = 0;
        for (auto& b : bad_) b -= k32;
        utf8_.lead -= static_cast<std::int64_t>(k);
    }

    // ---- stage one -----------------------------------------------------------------------

    void reserve_indices(std::size_t more) {
        // Drop the indices of records already yielded.
        if (ipos_ > 0) {
            std::memmove(idx_.get(), idx_.get() + ipos_, (icount_ - ipos_) * sizeof(std::uint32_t));
            icount_ -= ipos_;
            if (waiting_) wait_from_ -= ipos_;  // >= ipos_: within the current record
            ipos_ = 0;
        }
        std::size_t need = icount_ + more + 16;  // flatten() writes up to 8 entries past the end
        if (need > idx_cap_) {
            std::size_t cap = std::max(need, idx_cap_ * 2);
            auto fresh = std::make_unique_for_overwrite<std::uint32_t[]>(cap);
            if (icount_) std::memcpy(fresh.get(), idx_.get(), icount_ * sizeof(std::uint32_t));
            idx_ = std::move(fresh);
            idx_cap_ = cap;
        }
    }

    /// Runs stage one over `[scan_, scan_ + len)`; `real_end` limits the UTF-8 check to real
    /// data (the last block is zero-padded).
    void scan_range(std::size_t len, std::size_t real_end) {
        reserve_indices(len);
        std::uint32_t* out = idx_.get() + icount_;
        const char* b = buf_.data();
        // Stage one with the fastest variant this CPU runs (see scan.hpp).
        auto scan = [&](auto&& on_non_ascii, auto&& pending) {
#if defined(SLUICE_CSV_DISPATCH_AVX2)
            if (cpu_has_avx2_clmul())
                return scan_blocks_avx2(b, scan_, scan_ + len, opt_.quote, opt_.delimiter, in_quote_,
                                        out, quoted_lf_end_, on_non_ascii, pending);
#endif
            return scan_blocks(b, scan_, scan_ + len, opt_.quote, opt_.delimiter, in_quote_, out,
                               quoted_lf_end_, on_non_ascii, pending);
        };
        if (opt_.utf8 == utf8_mode::ignore) {
            out = scan([](std::size_t, std::uint64_t) {}, [] { return false; });
        } else {
            auto flag = [this](std::int64_t at) {
                bad_.push_back(static_cast<std::uint32_t>(std::max<std::int64_t>(at, 0)));
            };
            out = scan(
                [&](std::size_t pos, std::uint64_t high) {
                    if (pos >= real_end) return;
                    std::size_t n = std::min(block_size, real_end - pos);
                    utf8_.feed_block(b + pos, n, high, static_cast<std::int64_t>(pos), flag);
                },
                [this] { return !utf8_.ground(); });
        }
        icount_ = static_cast<std::size_t>(out - idx_.get());
    }

    void scan_segment() {
        std::size_t len = std::min((size() - scan_) & ~(block_size - 1), scan_segment_bytes);
        scan_range(len, size());
        scan_ += len;
    }

    /// The last, partial block at the end of the input, zero-padded. A record without a
    /// line end gets a virtual LF in the padding, so stage two needs no special case.
    void scan_final() {
        final_scanned_ = true;
        const std::size_t n = size();
        buf_.reserve_spare(buffer_padding);
        char* p = buf_.data();
        std::memset(p + n, 0, buffer_padding);
        // Compared with rec_start_, not scan_: the data may end exactly on a block boundary.
        const bool virtual_lf = n > rec_start_ && p[n - 1] != '\n';
        if (virtual_lf) p[n] = '\n';
        if (n + virtual_lf > scan_) scan_range(block_size, n);
        if (opt_.utf8 != utf8_mode::ignore)
            utf8_.finish([this](std::int64_t at) {
                bad_.push_back(static_cast<std::uint32_t>(std::max<std::int64_t>(at, 0)));
            });
        scan_ = n + virtual_lf;
    }

    // ---- stage two -----------------------------------------------------------------------

    /// Builds the next record from the structural indices. `more` when they run out before
    /// the record's line end (the record is re-parsed from its start once more are in).
    step parse_record() {
        const char* b = buf_.data();
        const std::uint32_t* ix = idx_.get();
        const std::size_t n = icount_;
        const char d = opt_.delimiter, q = opt_.quote;
        if (waiting_ && !await_line_end(b, ix, n, d)) return step::more;
        std::size_t i = ipos_;
        std::uint32_t s = static_cast<std::uint32_t>(rec_start_);
        fields_.clear();
        doubled_.clear();
        first_quoted_ = false;
        scratch_ready_ = false;
        nl_ = 0;
        for (;;) {
            if (i == n) return incomplete(n, s, false, 0, 0);
            const std::uint32_t p = ix[i++];
            const char c = b[p];
            if (c == d) {
                fields_.emplace_back(b + s, p - s);
                if (fields_.size() >= opt_.max_columns) [[unlikely]]
                    too_many_columns();
                s = p + 1;
                continue;
            }
            if (c == '\n') {
                std::uint32_t e = p;
                if (e > s && b[e - 1] == '\r') --e;
                fields_.emplace_back(b + s, e - s);
                return complete(p + 1, i);
            }
            // A quote: it must open the field.
            if (p != s) return anomaly("quote inside an unquoted field", p);
            if (fields_.empty()) first_quoted_ = true;
            // Quotes alternate: odd ones close or start an escape, even ones must directly
            // follow the previous quote (the second of a `""` pair).
            std::uint32_t last = p;
            std::uint32_t k = 1;
            bool escaped = false;
            for (;;) {
                if (i == n) return incomplete(n, s, true, k, last);
                const std::uint32_t r = ix[i++];
                const char c2 = b[r];
                if (c2 == q) {
                    if ((k & 1) == 0) {
                        if (r != last + 1) return anomaly("text after a closing quote", last + 1);
                        escaped = true;
                    }
                    ++k;
                    last = r;
                    continue;
                }
                std::uint32_t e = r;
                if (c2 == '\n' && b[e - 1] == '\r' && e - 1 != last) --e;
                if (last + 1 != e) return anomaly("text after a closing quote", last + 1);
                std::string_view content(b + s + 1, last - s - 1);
                // Line feeds inside quotes are rare: stage one noted the last block with one.
                if (s < quoted_lf_end_) count_newlines(content);
                if (escaped) {
                    if (q == '"') {
                        // Undoubled on first access (csv::detail::lazy_undoubling), into
                        // room reserved now.
                        reserve_scratch();
                        doubled_.push_back({fields_.size(), content});
                    } else {
                        content = unescape(content);
                    }
                }
                fields_.push_back(content);
                s = r + 1;
                if (c2 == '\n') return complete(r + 1, i);
                break;
            }
        }
    }

    /// The record is not complete in the indices up to `n`: remember where parsing stood
    /// (the current field starts at `s`; inside a quoted field, `k` quotes seen, the last at
    /// `last`), so the next attempt looks at the new indices only.
    step incomplete(std::size_t n, std::uint32_t s, bool quoted, std::uint32_t k,
                    std::uint32_t last) noexcept {
        waiting_ = true;
        wait_from_ = n;
        wait_delims_ = fields_.size();  // one per field closed: the delimiters so far
        aw_s_ = s;
        aw_quoted_ = quoted;
        aw_k_ = k;
        aw_last_ = last;
        return step::more;
    }

    /// Follows the indices stage one added since the last attempt with parse_record's rules,
    /// building nothing: true when the record can be parsed now - a line end came, or
    /// something parse_record must see itself (a stray quote, which may change where the
    /// record ends). A delimiter count past `max_columns` fails here, without waiting for
    /// the end of a runaway record.
    bool await_line_end(const char* b, const std::uint32_t* ix, std::size_t n, char d) {
        const char q = opt_.quote;
        for (std::size_t i = wait_from_; i < n; ++i) {
            const std::uint32_t p = ix[i];
            const char c = b[p];
            if (!aw_quoted_) {
                if (c == d) {
                    ++wait_delims_;
                    aw_s_ = p + 1;
                    continue;
                }
                if (c == '\n' || p != aw_s_) return stop_waiting();  // an end, or a stray quote
                aw_quoted_ = true;
                aw_k_ = 1;
                aw_last_ = p;
                continue;
            }
            if (c == q) {
                if ((aw_k_ & 1) == 0 && p != aw_last_ + 1) return stop_waiting();
                ++aw_k_;
                aw_last_ = p;
                continue;
            }
            std::uint32_t e = p;
            if (c == '\n' && b[e - 1] == '\r' && e - 1 != aw_last_) --e;
            if (c == '\n' || aw_last_ + 1 != e) return stop_waiting();
            ++wait_delims_;
            aw_quoted_ = false;
            aw_s_ = p + 1;
        }
        wait_from_ = n;
        if (wait_delims_ >= opt_.max_columns) too_many_columns();
        return false;
    }
    bool stop_waiting() noexcept {
        waiting_ = false;
        return true;
    }

    /// Adds the line feeds in `content` (a quoted field's) to `nl_` (a memchr per quoted
    /// field showed in profiles).
    void count_newlines(std::string_view content) noexcept { nl_ += count_byte(content, '\n'); }

    /// Collapses `""` pairs (already checked to be pairs) into the scratch buffer. Stores as
    /// it scans, 16 bytes per step (a memchr and a memcpy per pair showed in profiles of
    /// JSON-in-CSV payloads); the stores stay within the field's length of room.
    std::string_view unescape(std::string_view in) {
        reserve_scratch();
        return undouble_into_scratch(in);
    }
    void reserve_scratch() {
        if (!scratch_ready_) {
            // Once per record, before any view into scratch exists: reserving room for the
            // whole scanned remainder means the buffer never moves while views point into it.
            scratch_.clear();
            scratch_.reserve(scan_ - rec_start_ + 1);
            scratch_ready_ = true;
        }
    }
    /// `unescape` into room reserve_scratch() made (no allocation).
    std::string_view undouble_into_scratch(std::string_view in) noexcept {
        char* out = scratch_.tail();
        char* o = out;
        const char q = opt_.quote;
        const char* p = in.data();
        const std::size_t n = in.size();
        std::size_t i = 0;
#if defined(__SSE2__)
        // Before each store o - out <= i, and i + 16 <= n: within the n bytes of room.
        const __m128i qv = _mm_set1_epi8(q);
        while (i + 16 <= n) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o), v);
            const auto m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, qv)));
            if (m == 0) {
                o += 16;
                i += 16;
                continue;
            }
            const std::size_t k = static_cast<std::size_t>(std::countr_zero(m)) + 1;
            o += k;      // through the first quote of the pair
            i += k + 1;  // and past the second
        }
#endif
        while (i < n) {
            const char c = p[i];
            *o++ = c;
            i += c == q ? 2 : 1;  // skip the second quote of the pair
        }
        std::size_t len = static_cast<std::size_t>(o - out);
        scratch_.commit(len);
        return {out, len};
    }

    /// Byte-at-a-time parse of one record from `rec_start_`, for records with stray quotes
    /// (lenient mode, or to find where a bad record ends so the error policy can skip it). Quotes
    /// inside unquoted fields are literal; text after a closing quote is appended.
    step parse_scalar() {
        const std::size_t end = size();
        const bool eof = input_exhausted();
        if (scalar_waits_for_line_end(end, eof)) return step::more;
        fields_.clear();
        doubled_.clear();
        first_quoted_ = false;
        nl_ = 0;
        scratch_.clear();
        scratch_.reserve(end - rec_start_ + 1);  // no field grows past the record's bytes
        scalar_cursor c;
        c.pos = c.field_start = rec_start_;
        if (auto st = scan_scalar_record(c, end, eof)) return *st;
        leave_scalar_mode(c.pos);
        if (pending_error_) {
            error e = std::move(*pending_error_);
            pending_error_.reset();
            return report(e, c.pos);
        }
        return complete(c.pos, 0);
    }

    /// Where `scan_scalar_record` is in the record: the byte, the field it is in, and for a
    /// quoted field where its unquoted text starts in `scratch_` and its quotes are.
    struct scalar_cursor {
        std::size_t pos = 0, field_start = 0;
        std::size_t scratch_begin = 0;            // a quoted field's text in scratch_
        std::size_t close = std::size_t(-1);      // offset of its closing quote
        std::size_t open_quote = 0;               // offset of its opening quote
        std::uint64_t open_nl = 0;                // line ends seen before it opened
        bool quoted = false, in_quotes = false;
    };

    /// A record still without a line end in the new bytes cannot be complete: wait for more
    /// rather than parse it all again (which made a long record quadratic).
    bool scalar_waits_for_line_end(std::size_t end, bool eof) {
        const char* b = buf_.data();
        const bool wait = !eof && scalar_checked_ > rec_start_ && scalar_checked_ <= end &&
                          !std::memchr(b + scalar_checked_, '\n', end - scalar_checked_);
        scalar_checked_ = end;
        return wait;
    }

    /// Scans the record's bytes into `fields_` up to and past its line end (`c.pos` then
    /// just past it). Returns a step instead when the record needs more input or has an
    /// unterminated quote at the end of the input.
    std::optional<step> scan_scalar_record(scalar_cursor& c, std::size_t end, bool eof) {
        const char* b = buf_.data();
        const char d = opt_.delimiter, q = opt_.quote;
        for (;;) {
            if (c.pos >= end) {
                if (!eof) return step::more;
                if (c.in_quotes) {
                    scalar_mode_ = false;
                    return unterminated_quote_at(c.open_quote, line_ + c.open_nl,
                                                 fields_.size() + 1);
                }
                finish_scalar_field(c, true);
                return std::nullopt;
            }
            const char ch = b[c.pos];
            if (c.in_quotes) {
                if (ch == q) {
                    if (c.pos + 1 >= end && !eof) return step::more;
                    if (c.pos + 1 < end && b[c.pos + 1] == q) {  // "" inside quotes
                        scratch_.push_back(q);
                        c.pos += 2;
                        continue;
                    }
                    c.in_quotes = false;
                    c.close = c.pos++;
                    continue;
                }
                if (ch == '\n') ++nl_;
                scratch_.push_back(ch);
                ++c.pos;
                continue;
            }
            if (ch == d || ch == '\n') {
                finish_scalar_field(c, ch == '\n');
                ++c.pos;
                if (ch == '\n') return std::nullopt;
                if (fields_.size() >= opt_.max_columns) [[unlikely]] {
                    scalar_mode_ = false;
                    too_many_columns();
                }
                c.field_start = c.pos;
                c.quoted = false;
                c.close = std::size_t(-1);
                continue;
            }
            if (ch == q && c.pos == c.field_start) {
                if (fields_.empty()) first_quoted_ = true;
                c.quoted = c.in_quotes = true;
                c.open_quote = c.pos;
                c.open_nl = nl_;
                c.scratch_begin = scratch_.size();
                ++c.pos;
                continue;
            }
            if (c.quoted) scratch_.push_back(ch);
            ++c.pos;
        }
    }

    /// Adds the field that ends at `c.pos` (a delimiter, a line end or the end of input) to
    /// `fields_`, without the CR of a CRLF line end unless that CR was quoted.
    void finish_scalar_field(const scalar_cursor& c, bool line_end) {
        const char* b = buf_.data();
        if (c.quoted) {
            std::size_t len = scratch_.size() - c.scratch_begin;
            if (line_end && c.pos > 0 && b[c.pos - 1] == '\r' && c.pos - 1 != c.close &&
                len > 0) {
                scratch_.shrink(1);
                --len;
            }
            fields_.emplace_back(scratch_.data() + c.scratch_begin, len);
        } else {
            std::size_t e = c.pos;
            if (line_end && e > c.field_start && b[e - 1] == '\r') --e;
            fields_.emplace_back(b + c.field_start, e - c.field_start);
        }
    }

    /// Back to stage one after the record that ends at `pos`: forgets the indices, re-scans
    /// from `pos`, and re-validates the record's UTF-8 (the scalar parse did not).
    void leave_scalar_mode(std::size_t pos) {
        const char* b = buf_.data();
        scalar_mode_ = false;
        scalar_checked_ = 0;
        ipos_ = icount_ = 0;
        in_quote_ = 0;
        if (pos < size()) final_scanned_ = false;
        scan_ = pos;
        if (opt_.utf8 != utf8_mode::ignore) {
            bad_.resize(bad_pos_);
            utf8_ = {};
            auto flag = [this](std::int64_t at) { bad_.push_back(static_cast<std::uint32_t>(at)); };
            utf8_.feed(b + rec_start_, pos - rec_start_, static_cast<std::int64_t>(rec_start_), flag);
            utf8_.finish(flag);
        }
    }

    /// A record is complete up to `end` (just past its line end): checks it and yields it.
    step complete(std::size_t end, std::size_t next_index) {
        const std::uint64_t line = line_;
        if (fields_.size() == 1 && fields_[0].empty() && !first_quoted_) {
            advance(end, next_index);  // a blank line
            return step::skipped;
        }
        arm_undoubling();
        if (bad_pos_ < bad_.size() && bad_[bad_pos_] < end) {
            std::size_t at = bad_[bad_pos_];
            while (bad_pos_ < bad_.size() && bad_[bad_pos_] < end) ++bad_pos_;
            if (opt_.utf8 == utf8_mode::validate) {
                position p = where(line, column_at(at), at);
                return report(error(errc::bad_input, "csv", "invalid UTF-8", p), end, next_index);
            }
            replace_invalid_utf8(end);
        }
        if (fields_.size() > opt_.max_columns) [[unlikely]]
            too_many_columns();
        if (opt_.header && !header_) {
            if (!doubled_.empty()) undoubling_.resolve_all();
            if (opt_.unique_header) check_unique_names(line);
            std::vector<std::string> names;
            names.reserve(fields_.size());
            for (std::string_view f : fields_) names.emplace_back(f);
            header_ = std::make_shared<const csv::header>(std::move(names));
            expected_ = fields_.size();
            advance(end, next_index);
            return step::skipped;
        }
        if (expected_ == npos) expected_ = fields_.size();
        if (fields_.size() != expected_) {
            const bool longer = fields_.size() > expected_;
            const ragged rg = opt_.ragged;
            if (rg == ragged::keep) {
            } else if (!longer && (rg == ragged::pad || rg == ragged::fit)) {
                fields_.resize(expected_);
            } else if (longer && (rg == ragged::truncate || rg == ragged::fit)) {
                fields_.resize(expected_);
                while (!doubled_.empty() && doubled_.back().column >= expected_) doubled_.pop_back();
            } else {
                std::string msg = "record has " + std::to_string(fields_.size()) + " fields, expected " +
                                  std::to_string(expected_) +
                                  (header_ ? " (as the header)" : " (as the first record)");
                position p = where(line, std::min(fields_.size(), expected_) + 1, rec_start_);
                return report(error(errc::bad_input, "csv", std::move(msg), p), end, next_index);
            }
        }
        arm_undoubling();  // again: padding may have moved fields_, truncation cut doubled_
        row_ = row(std::span<const std::string_view>(fields_.data(), fields_.size()), &header_, line,
                   base_ + rec_start_, index_++, raw_text(end),
                   std::span<const doubled_quote_field>(doubled_.data(), doubled_.size()),
                   doubled_.empty() ? nullptr : &undoubling_);
        advance(end, next_index);
        return step::record;
    }

    /// Moves past a record ending at `end` (line numbers count its line feeds).
    void advance(std::size_t end, std::size_t next_index) noexcept {
        line_ += 1 + nl_;
        rec_start_ = end;
        if (next_index) ipos_ = next_index;
        while (bad_pos_ < bad_.size() && bad_[bad_pos_] < end) ++bad_pos_;
    }

    /// Rewrites the record's fields that hold invalid UTF-8 with U+FFFD replacements.
    void replace_invalid_utf8(std::size_t end) {
        if (!doubled_.empty()) undoubling_.resolve_all();
        doubled_.clear();  // the replaced text is only in fields_
        fixed_.clear();
        fixed_.reserve(3 * (end - rec_start_) + 3 * fields_.size() + 1);  // never moves below
        for (auto& f : fields_) {
            if (utf8::is_valid(f)) continue;
            std::size_t at = fixed_.size();
            utf8::append_replacing(f, fixed_);
            f = std::string_view(fixed_.data() + at, fixed_.size() - at);
        }
    }

    // ---- errors --------------------------------------------------------------------------

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    position where(std::uint64_t line, std::uint64_t column, std::size_t at) const noexcept {
        position p;
        p.record = index_;
        p.line = line;
        p.column = column;
        p.byte_offset = base_ + at;
        return p;
    }

    /// The 1-based field holding the byte at `at` of the current record (quote-aware).
    std::uint64_t column_at(std::size_t at) const noexcept {
        std::uint64_t col = 1;
        bool in_q = false;
        for (std::size_t i = rec_start_; i < at && i < size(); ++i) {
            char c = buf_.data()[i];
            if (c == opt_.quote)
                in_q = !in_q;
            else if (c == opt_.delimiter && !in_q)
                ++col;
        }
        return col;
    }

    /// A stray quote at `at`. Lenient mode re-parses the record byte by byte; strict mode
    /// throws, or (unless the error policy fails) re-parses it only to find where it ends and
    /// reject it.
    step anomaly(const char* what, std::size_t at) {
        if (!opt_.lenient_quotes) {
            position p = where(line_, fields_.size() + 1, at);
            error e(errc::bad_input, "csv", what, p);
            if (rej_.fails()) throw e;
            pending_error_.emplace(std::move(e));
        }
        scalar_mode_ = true;
        return parse_scalar();
    }

    /// Throws `e`, or hands the record (its raw bytes) to the error policy and skips it.
    step report(const error& e, std::size_t end, std::size_t next_index = 0) {
        if (rej_.fails() || !header_ready()) throw e;
        rej_.reject(raw_text(end), e);
        advance(end, next_index);
        return step::skipped;
    }
    /// The current record's bytes in the input, up to `end` (just past its line end).
    std::string_view raw_text(std::size_t end) const noexcept {
        return std::string_view(buf_.data() + rec_start_, std::min(end, size()) - rec_start_);
    }
    /// Errors in the header line are never skipped: without it nothing can be read.
    bool header_ready() const noexcept { return !opt_.header || header_ != nullptr; }

    /// The input ended inside quotes: finds the quote that opened the region.
    bool unterminated_quote() {
        const char* b = buf_.data();
        std::size_t open = rec_start_;
        std::uint64_t col = 1;
        bool in_q = false;
        for (std::size_t i = ipos_; i < icount_; ++i) {
            std::uint32_t p = idx_[i];
            if (b[p] == opt_.quote) {
                in_q = !in_q;
                if (in_q) open = p;
            } else if (b[p] == opt_.delimiter) {
                ++col;
            }
        }
        std::uint64_t nl = static_cast<std::uint64_t>(std::count(b + rec_start_, b + open, '\n'));
        unterminated_quote_at(open, line_ + nl, col);
        return false;
    }

    step unterminated_quote_at(std::size_t open, std::uint64_t line, std::uint64_t column) {
        error e(errc::bad_input, "csv", "unterminated quoted field (the quote opened here)",
                where(line, column, open));
        in_quote_ = 0;
        report(e, size());
        // Skipped: nothing follows an unterminated quote.
        final_scanned_ = true;
        scan_ = rec_start_ = size();
        ipos_ = icount_;
        return step::more;
    }

    /// With `unique_header`: the header's names are distinct, or an error names the repeat.
    void check_unique_names(std::uint64_t line) const {
        std::unordered_map<std::string_view, std::size_t> seen;
        seen.reserve(fields_.size());
        for (std::size_t i = 0; i < fields_.size(); ++i) {
            auto [it, fresh] = seen.try_emplace(fields_[i], i);
            if (fresh) continue;
            std::string name(fields_[i].substr(0, 64));
            throw error(errc::bad_input, "csv",
                        "duplicate column name '" + name + "' in the header (columns " +
                            std::to_string(it->second + 1) + " and " + std::to_string(i + 1) + ")",
                        where(line, i + 1, rec_start_));
        }
    }

    [[noreturn]] void too_many_columns() const {
        std::string msg = "record has more than " + std::to_string(opt_.max_columns) +
                          " fields (the column limit, max_columns)";
        if (opt_.header && !header_) msg = "header " + msg.substr(7);
        throw error(errc::bad_input, "csv", std::move(msg),
                    where(line_, opt_.max_columns + 1, rec_start_));
    }

    [[noreturn]] void record_too_long() const {
        std::string msg = "record longer than max_record_size (" +
                          std::to_string(opt_.max_record_size) + " bytes)";
        if (in_quote_) msg += "; is a quoted field never closed?";
        throw error(errc::bad_input, "csv", std::move(msg), where(line_, position::unknown, rec_start_));
    }

    // ---- state ---------------------------------------------------------------------------

    read_options opt_;
    sluice::detail::text_rejecter rej_;
    chunk buf_;                 // input bytes from base_ on, padded (see buffer_padding)
    std::string_view pending_;  // upstream bytes not yet copied into buf_
    std::uint64_t base_ = 0;    // input offset of buf_[0]
    std::size_t scan_ = 0;      // stage one has scanned buf_ up to here
    std::uint64_t in_quote_ = 0;
    std::size_t quoted_lf_end_ = 0;  // no line feed inside quotes in scanned blocks from here on
    std::unique_ptr<std::uint32_t[]> idx_;  // structural indices (offsets into buf_)
    std::size_t idx_cap_ = 0, ipos_ = 0, icount_ = 0;
    std::size_t rec_start_ = 0;  // offset of the record being parsed
    std::uint64_t line_ = 1;     // its physical line
    std::uint64_t nl_ = 0;       // line feeds inside its quoted fields
    utf8::validator utf8_;
    std::vector<std::uint32_t> bad_;  // offsets of invalid UTF-8 sequences, ascending
    std::size_t bad_pos_ = 0;
    std::vector<std::string_view> fields_;
    std::vector<doubled_quote_field> doubled_;  // fields_ read from quotes with "" inside
    detail::lazy_undoubling undoubling_;          // those of the current row not undoubled yet
    /// Points undoubling_ at the current record's fields (those of doubled_ still pending:
    /// the record's fields are only undoubled through it).
    void arm_undoubling() noexcept {
        if (!doubled_.empty())
            undoubling_ = {fields_.data(), doubled_, doubled_.size(), this, &undouble_lazily};
    }
    static std::string_view undouble_lazily(void* self, std::string_view text) noexcept {
        return static_cast<read_stage*>(self)->undouble_into_scratch(text);
    }
    chunk scratch_;  // unescaped quoted fields of the current record
    chunk fixed_;    // fields with U+FFFD replacements
    std::shared_ptr<const csv::header> header_;
    std::size_t expected_ = npos;
    std::uint64_t index_ = 0;
    std::optional<error> pending_error_;
    row row_;
    bool up_done_ = false, final_scanned_ = false, bom_checked_ = false;
    bool scalar_mode_ = false, first_quoted_ = false, scratch_ready_ = false;
    // An incomplete record: indices from wait_from_ on are still to be looked at.
    bool waiting_ = false, aw_quoted_ = false;
    std::size_t wait_from_ = 0, wait_delims_ = 0;
    std::uint32_t aw_s_ = 0, aw_k_ = 0, aw_last_ = 0;  // parse_record's s, k, last
    std::size_t scalar_checked_ = 0;  // parse_scalar found no line end before this offset
};

}  // namespace SLUICE_CSV_ISA

/// The function object behind `csv::read` (`T` = void: rows; otherwise records of type T).
template <class T>
struct read_fn : adaptor<read_fn<T>, read_options> {
    template <class Up, class... O>
    using rules = adaptor_rules<rule<byte_like<reference_t<Up>>,
                                     "sluice::csv::read: the upstream must yield bytes (chunks or "
                                     "strings)">>;
    template <class Up>
    static auto make(Up up, read_options o = {}) {
        read_stage<Up> st(std::move(up), std::move(o));
        if constexpr (std::is_void_v<T>)
            return st;
        else
            return as_fn<T>{}(std::move(st));
    }
};

}  // namespace detail

/// `bytes | csv::read(options)` yields `const csv::row&` per record. With a type,
/// `bytes | csv::read<T>(options)` yields `T&` (see `csv::as`). Function templates over the
/// stage object `detail::read_fn<T>` so that both spellings work (a variable template
/// would need `read<>()` for rows).
template <class T = void, class S>
    requires pipeable_input<S>
auto read(S&& s, read_options o = {}) {
    return detail::read_fn<T>{}(std::forward<S>(s), std::move(o));
}
/// The partial call: a closure to pipe bytes into.
template <class T = void>
auto read(read_options o = {}) {
    return detail::read_fn<T>{}(std::move(o));
}

}  // namespace sluice::csv
