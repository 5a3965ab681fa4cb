#pragma once
/// \file
/// Whole-document JSON reading, for inputs that are one JSON text of any shape (a `.json`
/// config, a test file): `json::parse_document(text)` and `bytes | json::read_document()`,
/// which yields exactly one record. The input is held in memory whole (up to
/// `max_document_size`); use `read_jsonl` or `read_array` to stream large inputs.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include <simdjson.h>

#include "../core/adaptor.hpp"
#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../core/stage.hpp"
#include "detail/document_parser.hpp"
#include "record.hpp"

namespace sluice::json {

/// Options of `read_document` and `parse_document`.
struct document_options {
    /// A larger input is an error (`limit`) rather than an unbounded allocation.
    std::size_t max_document_size = std::size_t{1} << 30;
    /// Nesting deeper than this is malformed.
    unsigned max_depth = detail::document_parser::default_max_depth;
};

namespace detail {

/// Parses the padded buffer `buf` (content `[0, size)`) as one document; throws on error.
inline void parse_whole(document_parser& p, chunk& buf, const char* stage) {
    buf.reserve(buf.size() + simdjson::SIMDJSON_PADDING);
    // Defined bytes in the padding: simdjson may read them (never use them).
    std::memset(buf.tail(), 0, simdjson::SIMDJSON_PADDING);
    std::string_view all = buf.view();
    std::string_view text = skip_bom(all);
    std::size_t bom = all.size() - text.size();
    if (const char* msg = p.parse(text, buf.capacity() - bom, 1)) {
        position pos;
        pos.record = 0;
        if (p.error_offset() != document_parser::npos) {
            pos.byte_offset = bom + p.error_offset();
            pos.line = line_at(all, pos.byte_offset);
        } else {
            pos.line = 1;
        }
        throw error(errc::bad_input, stage, msg, pos);
    }
}

template <class Up>
class document_stage : public stage_base<document_stage<Up>, Up> {
    using base = stage_base<document_stage<Up>, Up>;

public:
    using reference = const json_record&;

    document_stage(Up up, document_options o)
        : base(std::move(up)), opt_(o), parser_(o.max_depth) {}

    maybe<const json_record&> next() {
        if (done_) return {};
        done_ = true;
        while (auto r = this->up_.next()) {
            std::string_view b = bytes_of(*r);
            if (buf_.size() + b.size() > opt_.max_document_size)
                throw error(errc::limit, "json", "document larger than " +
                                                     std::to_string(opt_.max_document_size) + " bytes");
            buf_.append(b);
        }
        parse_whole(parser_, buf_, "json");
        return parser_.record();
    }

private:
    document_options opt_;
    document_parser parser_;
    chunk buf_;
    bool done_ = false;
};

}  // namespace detail

/// Parses one complete JSON text (any value; a leading BOM is skipped) and returns an owning
/// record. Malformed input throws `sluice::error(errc::bad_input, "json", ...)` naming the line.
inline json_owned_record parse_document(std::string_view text, document_options o = {}) {
    // (The second bound is never the binding one; it tells GCC's overflow warnings that
    // adding the padding cannot wrap.)
    if (text.size() > o.max_document_size || text.size() > (std::numeric_limits<std::size_t>::max() >> 1))
        throw error(errc::limit, "json", "document larger than " + std::to_string(o.max_document_size) + " bytes");
    detail::document_parser p(o.max_depth);
    chunk buf(text.size() + simdjson::SIMDJSON_PADDING);
    if (!text.empty()) std::memcpy(buf.data(), text.data(), text.size());
    buf.commit(text.size());
    detail::parse_whole(p, buf, "json");
    return p.record().to_owned();
}

/// A reusable parser of whole JSON texts that stay in the caller's buffer, for a large text
/// already in memory that must not be copied (an HTTP page whose records array is then
/// streamed with `read_array` over its `raw()` text). `parse(buf)` adds simdjson's padding
/// to `buf` in place (a leading BOM is skipped) and returns the document as a record whose
/// views (`raw()`, strings) point into `buf`: valid until the next `parse`, or until `buf`
/// changes. The parser's buffers are reused from one text to the next.
class in_place_parser {
public:
    explicit in_place_parser(document_options o = {}) : opt_(o), parser_(o.max_depth) {}

    /// Parses the text in `buf`. Malformed input throws `sluice::error(errc::bad_input,
    /// "json", ...)` naming the line and byte; a text over `max_document_size` is `errc::limit`.
    const json_record& parse(chunk& buf) {
        if (buf.size() > opt_.max_document_size)
            throw error(errc::limit, "json",
                        "document larger than " + std::to_string(opt_.max_document_size) + " bytes");
        detail::parse_whole(parser_, buf, "json");
        return parser_.record();
    }

private:
    document_options opt_;
    detail::document_parser parser_;
};

/// `bytes | json::read_document()` reads the whole input as one JSON text and yields one
/// `const json_record&` (any JSON value).
struct read_document_fn : adaptor<read_document_fn, document_options> {
    template <class Up, class... O>
    using rules = adaptor_rules<rule<byte_like<reference_t<Up>>,
                                     "sluice::json::read_document: the upstream must yield bytes">>;
    template <class Up>
    static auto make(Up up, document_options o = {}) {
        return detail::document_stage<Up>(std::move(up), o);
    }
};
inline constexpr read_document_fn read_document{};

}  // namespace sluice::json
