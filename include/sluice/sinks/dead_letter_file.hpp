#pragma once
/// \file
/// `dead_letter_file(path)`: a sink of `dead_letter_record`s that writes one JSON object per
/// line, committed like any `to_file` output (a temporary file renamed at `finish()`,
/// removed by `abort()`). Hand it to the error policies of a run by reference:
/// \code
/// sluice::dead_letter_file bad("rejects.jsonl");
/// sluice::reject_budget budget(100);  // one cap for every stage of the run
/// auto policy = sluice::on_error::dead_letter(bad).within(budget);
/// csv::read_options ro;
/// ro.errors = policy;
/// ... | csv::read(ro) | validate(policy, ...) | ...;  // then bad.finish() (or abort)
/// \endcode
/// A line is `{"stage":"csv","line":3,"record":1,"column":2,"byte_offset":17,"error":"...",
/// "raw":"...","code":"..."}` with the position fields the stage knew and `code` only when
/// the source had one (a SQLSTATE). Invalid UTF-8 in the message or the raw text becomes
/// U+FFFD so that every line stays valid JSON (a record is often bad precisely because of
/// its bytes). Pushes are serialized: stages on different threads may share the sink.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../core/json_object.hpp"
#include "../core/sink.hpp"
#include "../core/utf8.hpp"
#include "../policy/error_policy.hpp"
#include "to_file.hpp"

namespace sluice {

namespace detail {
/// `s`, or its U+FFFD-repaired copy in `scratch` when it is not valid UTF-8.
inline std::string_view valid_utf8(std::string_view s, chunk& scratch) {
    if (utf8::is_valid(s)) return s;
    scratch.clear();
    utf8::append_replacing(s, scratch);
    return scratch.view();
}
}  // namespace detail

/// Appends `d` as one JSON object (no line end) to `out`; `scratch` is reused for repairs.
inline void append_dead_letter_json(const dead_letter_record& d, chunk& out, chunk& scratch) {
    json::object_writer<chunk> o(out);
    auto number = [&o](const char* key, std::uint64_t v) {
        if (v != position::unknown) o.number(key, v);
    };
    auto text = [&](const char* key, std::string_view v) {
        o.string(key, detail::valid_utf8(v, scratch));
    };
    text("stage", d.stage);
    const position& at = d.where();
    number("line", at.line);
    number("record", at.record);
    number("column", at.column);
    number("byte_offset", at.byte_offset);
    text("error", d.error.message());
    text("raw", d.raw);
    if (!d.code.empty()) text("code", d.code);
    o.close();
}

/// The dead-letter file sink (see the file comment).
class dead_letter_file : public sink_base {
public:
    /// Writes to `path` (through a temporary file, as `to_file`).
    explicit dead_letter_file(std::string path) : out_(to_file(std::move(path))) {}

    /// Writes one dead letter (thread-safe).
    bool push(const dead_letter_record& d) {
        std::lock_guard<std::mutex> lock(m_);
        line_.clear();
        append_dead_letter_json(d, line_, scratch_);
        line_.push_back('\n');
        out_.push(line_);
        ++count_;
        return true;
    }
    /// Commits the file (it exists, possibly empty, from now on).
    void finish() {
        std::lock_guard<std::mutex> lock(m_);
        out_.finish();
    }
    /// Removes the temporary file: no dead-letter file is left.
    void abort(const error& e) noexcept {
        std::lock_guard<std::mutex> lock(m_);
        out_.abort(e);
    }

    /// Dead letters written so far.
    std::uint64_t count() const noexcept {
        std::lock_guard<std::mutex> lock(m_);
        return count_;
    }
    const std::string& path() const noexcept { return out_.path(); }

private:
    mutable std::mutex m_;
    decltype(to_file(std::string())) out_;
    chunk line_, scratch_;
    std::uint64_t count_ = 0;
};

}  // namespace sluice
