#pragma once
/// \file
/// `bytes | json::read_array()`: a `.json` file holding one top-level array -> one
/// `const json_record&` per element, streamed with bounded memory (the file is never parsed
/// whole).
///
///     for (const auto& rec : read_file("orders.json") | json::read_array()) ...
///
/// A small scanner cuts the top-level elements: it tracks only string state (with
/// backslash escapes) and bracket depth, jumping through strings with memchr. Each element
/// is then validated and described by simdjson, exactly like a JSONL line. Memory: one
/// `batch_size` window plus the longest element (at most `max_record_size`).
///
/// Errors are `sluice::error(errc::bad_input, "json", ...)` naming the 1-based line of the
/// element (or of the structural problem): no `[` at the start, a missing or trailing
/// comma, a truncated array, content after the closing `]`. A record is valid until the
/// next pull; after a `bad_input` error in one element the reader can be pulled again
/// and resumes at the next element (structural errors end the stream).

#include <algorithm>
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

/// Options of `read_array`.
struct array_options {
    /// Bytes taken from upstream per refill of the parse window.
    std::size_t batch_size = std::size_t{1} << 20;
    /// A longer element is an error; bounds the window.
    std::size_t max_record_size = std::size_t{64} << 20;
    /// Nesting deeper than this (inside an element) is malformed.
    unsigned max_depth = detail::document_parser::default_max_depth;
    /// An element longer than this is validated member by member (see jsonl_options).
    std::size_t piecewise_bytes = detail::document_parser::default_piecewise_bytes;
    /// What a bad element does (see policy/error_policy.hpp): fail the run (the default),
    /// or be skipped / dead-lettered (`raw` is the element's text) and reading goes on at
    /// the next element. A structural error (no array, a missing comma, a truncated array)
    /// ends the stream: under a policy other than `fail` it is one last reject (with an
    /// empty `raw`). Rejects count in the counters named "json".
    sluice::any_error_policy errors{};
};

namespace detail {

template <class Up>
class array_stage : public stage_base<array_stage<Up>, Up> {
    using base = stage_base<array_stage<Up>, Up>;

public:
    using reference = const json_record&;

    array_stage(Up up, array_options o)
        : base(std::move(up)), opt_(std::move(o)), parser_(opt_.max_depth, opt_.piecewise_bytes),
          rej_(opt_.errors, "json") {
        if (opt_.batch_size == 0) opt_.batch_size = 1;
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
        request_record_room(ctx.memory, "json.read", opt_.batch_size + opt_.piecewise_bytes, 2,
                            256 * 1024, opt_.max_record_size);
    }
    /// Records rejected (skipped or dead-lettered) by the error policy so far.
    std::uint64_t rejects() const noexcept { return rej_.rejects(); }

private:
    maybe<const json_record&> next_record() {
        for (;;) {
            if (phase_ == phase::finished) return {};
            if (pos_ < win_.size() && !need_more_) {
                if (const json_record* r = step()) return *r;
                continue;
            }
            need_more_ = false;
            if (phase_ == phase::element && pos_ - elem_ > opt_.max_record_size)
                fail(elem_, "element longer than " + std::to_string(opt_.max_record_size) + " bytes");
            // Keep the element being cut; drop everything before it.
            std::size_t keep = phase_ == phase::element ? elem_ : pos_;
            count_lines_to(keep);
            bool got = false;
            if (!win_.exhausted()) {
                std::size_t dropped = win_.refill(this->up_, keep, opt_.batch_size, got);
                pos_ -= dropped;
                elem_ = elem_ >= dropped ? elem_ - dropped : 0;
                line_pos_ -= dropped;
            }
            if (!got) return at_end();
        }
    }

public:
    /// Elements yielded so far.
    std::uint64_t record_count() const noexcept { return records_; }
    /// The text of the last element cut, good or bad (valid until the next pull).
    std::string_view last_text() const noexcept { return last_; }

private:
    enum class phase : std::uint8_t {
        start,        // before '['
        first,        // after '[': an element or ']'
        after_comma,  // after ',': an element
        element,      // inside an element
        after_value,  // after an element: ',' or ']'
        tail,         // after ']': whitespace only
        finished,
    };

    static constexpr bool is_ws(char c) noexcept {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t';
    }

    /// Advances the scanner over the window; returns a record when an element is complete.
    const json_record* step() {
        const char* d = win_.data();
        const std::size_t n = win_.size();
        while (pos_ < n) {
            if (phase_ == phase::element) {
                if (std::size_t end = scan_element(d, n); end != npos) return cut(end);
                return nullptr;  // need more input
            }
            char c = d[pos_];
            if (is_ws(c)) {
                ++pos_;
                continue;
            }
            switch (phase_) {
                case phase::start:
                    if (win_.base() + pos_ == 0 && c == '\xEF') {
                        if (n < 3) {  // the BOM may arrive in pieces
                            if (win_.exhausted()) fail(0, "no JSON array in the input");
                            need_more_ = true;
                            return nullptr;
                        }
                        if (skip_bom(std::string_view(d, n)).size() != n) {
                            pos_ += 3;
                            continue;
                        }
                    }
                    if (c != '[') fail(pos_, "expected '[' (a JSON array) at the start of the input");
                    phase_ = phase::first;
                    ++pos_;
                    break;
                case phase::first:
                    if (c == ']') {
                        phase_ = phase::tail;
                        ++pos_;
                        break;
                    }
                    [[fallthrough]];
                case phase::after_comma:
                    if (c == ']' || c == ',')
                        fail(pos_, c == ']' ? "trailing comma before ']'" : "missing array element");
                    phase_ = phase::element;
                    elem_ = pos_;
                    depth_ = 0;
                    in_string_ = false;
                    break;
                case phase::after_value:
                    // The scanner stops an element only at ',' or ']' at depth 0.
                    phase_ = c == ',' ? phase::after_comma : phase::tail;
                    ++pos_;
                    break;
                case phase::tail:
                    fail(pos_, "unexpected content after the closing ']'");
                default:
                    break;
            }
        }
        return nullptr;
    }

    /// Scans from `pos_` for the ',' or ']' that ends the current element at depth 0.
    /// Returns its window offset, or npos when the window ends first (state is kept).
    std::size_t scan_element(const char* d, std::size_t n) {
        std::size_t i = pos_;
        while (i < n) {
            if (in_string_) {
                const void* q = std::memchr(d + i, '"', n - i);
                if (!q) {
                    i = n;
                    break;
                }
                std::size_t k = static_cast<std::size_t>(static_cast<const char*>(q) - d);
                // A quote preceded by an odd run of backslashes is escaped.
                std::size_t b = k;
                while (b > elem_ && d[b - 1] == '\\') --b;
                i = k + 1;
                if (((k - b) & 1) == 0) in_string_ = false;
                continue;
            }
            char c = d[i];
            switch (c) {
                case '"': in_string_ = true; break;
                case '[':
                case '{':
                    if (++depth_ > opt_.max_depth) fail(elem_, "nesting too deep");
                    break;
                case ']':
                case '}':
                    if (depth_ == 0) {
                        if (c == ']') {
                            pos_ = i;
                            return i;
                        }
                        fail(i, "unexpected '}'");
                    }
                    --depth_;
                    break;
                case ',':
                    if (depth_ == 0) {
                        pos_ = i;
                        return i;
                    }
                    break;
                default: break;
            }
            ++i;
        }
        pos_ = i;
        return npos;
    }

    /// The element `[elem_, end)` is complete: parse it and move past it.
    const json_record* cut(std::size_t end) {
        phase_ = phase::after_value;
        std::uint64_t line = line_of(elem_);
        std::string_view text(win_.data() + elem_, end - elem_);
        last_ = text;
        if (const char* msg = parser_.parse(text, win_.readable_from(elem_), line)) {
            std::size_t off = parser_.error_offset() != document_parser::npos
                                  ? elem_ + parser_.error_offset()
                                  : elem_;
            position p;
            p.record = records_;
            p.line = line_of(off);
            p.byte_offset = win_.base() + off;
            own_error_ = true;
            throw error(errc::bad_input, "json", msg, p);
        }
        ++records_;
        return &parser_.record();
    }

    /// Counts line ends up to window offset `to` (>= line_pos_), so `line_` is its line.
    void count_lines_to(std::size_t to) {
        if (to <= line_pos_) return;
        line_ += static_cast<std::uint64_t>(std::count(win_.data() + line_pos_, win_.data() + to, '\n'));
        line_pos_ = to;
    }
    std::uint64_t line_of(std::size_t off) {
        count_lines_to(off);
        return line_;
    }

    maybe<const json_record&> at_end() {
        switch (phase_) {
            case phase::tail:
            case phase::finished: phase_ = phase::finished; return {};
            case phase::start: phase_ = phase::finished; fail(pos_, "no JSON array in the input");
            case phase::element: phase_ = phase::finished; fail(elem_, "unterminated array (input ends inside an element)");
            default: phase_ = phase::finished; fail(pos_, "unterminated array (missing ']')");
        }
    }

    [[noreturn]] void fail(std::size_t off, std::string msg) {
        phase_ = phase::finished;  // the structure is lost: nothing sensible follows
        last_ = {};  // no element was cut: the previous one's view may dangle after a refill
        position p;
        p.record = records_;
        p.line = line_of(std::min(off, win_.size()));
        p.byte_offset = win_.base() + off;
        own_error_ = true;
        throw error(errc::bad_input, "json", std::move(msg), p);
    }

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    array_options opt_;
    document_parser parser_;
    byte_window win_;
    std::size_t pos_ = 0;        // window offset of the next byte to scan
    std::size_t elem_ = 0;       // window offset where the current element starts
    std::size_t line_pos_ = 0;   // window offset up to which lines are counted
    std::uint64_t line_ = 1;     // line of the byte at line_pos_
    std::uint64_t records_ = 0;
    unsigned depth_ = 0;
    bool in_string_ = false;
    bool need_more_ = false;  // the scanner cannot decide before more bytes arrive
    phase phase_ = phase::start;
    std::string_view last_;
    bool own_error_ = false;  // the exception in flight is this reader's (a bad element)
    sluice::detail::text_rejecter rej_;
};

}  // namespace detail

/// `bytes | json::read_array(options)` yields each element of a top-level JSON array as a
/// `const json_record&`.
struct read_array_fn : adaptor<read_array_fn, array_options> {
    template <class Up, class... O>
    using rules = adaptor_rules<rule<byte_like<reference_t<Up>>,
                                     "sluice::json::read_array: the upstream must yield bytes (chunks or strings)">>;
    template <class Up>
    static auto make(Up up, array_options o = {}) {
        return detail::array_stage<Up>(std::move(up), o);
    }
};
inline constexpr read_array_fn read_array{};

}  // namespace sluice::json
