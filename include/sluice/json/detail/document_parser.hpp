#pragma once
/// \file
/// `json::detail::document_parser`: validates one JSON text with simdjson's ondemand API and
/// fills a reusable `json_record`. Shared by the JSONL, array and document readers.
///
/// ondemand is lazy: it checks only what is visited. So the parser walks every value of the
/// document once - strings with a backslash are unescaped (which checks escapes and rejects
/// lone surrogates; stage 1 already checked UTF-8 and control characters, so a string without
/// one is used as it stands), numbers are checked against the RFC 8259 grammar on their raw
/// text (so big integers stay valid and keep their digits), literals are compared exactly -
/// and then requires that no token follows the value. Values inside nested containers are
/// only validated, not described. Top-level members of an object are recorded with their raw
/// text as they go by; duplicate keys keep the first position and the last value.
///
/// simdjson needs about 5.7 bytes of index and string space per input byte of a document, so
/// a 63 MB line would cost 360 MB on top of the line itself. A container longer than
/// `piecewise_bytes` is therefore cut into its members by a small string-aware scanner
/// (as `read_array` cuts a file) and each member is validated as a document of its own,
/// recursively: simdjson's buffers are then bounded by `piecewise_bytes` (or the longest
/// single string or number), not by the record. Escaped strings a record keeps (top-level
/// keys and string values) are unescaped into a buffer of the record's size.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "../record.hpp"

namespace sluice::json::detail {

/// 1-based line of byte `offset` in `text`.
inline std::uint64_t line_at(std::string_view text, std::size_t offset) {
    offset = std::min(offset, text.size());
    return 1 + static_cast<std::uint64_t>(std::count(text.data(), text.data() + offset, '\n'));
}

/// Drops a leading UTF-8 byte order mark.
constexpr std::string_view skip_bom(std::string_view s) noexcept {
    if (s.size() >= 3 && s[0] == '\xEF' && s[1] == '\xBB' && s[2] == '\xBF') s.remove_prefix(3);
    return s;
}

/// Whether `s` is a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
constexpr bool is_json_number(std::string_view s) noexcept {
    std::size_t i = 0, n = s.size();
    auto digit = [&](std::size_t k) { return k < n && s[k] >= '0' && s[k] <= '9'; };
    if (i < n && s[i] == '-') ++i;
    if (!digit(i)) return false;
    if (s[i] == '0')
        ++i;
    else
        while (digit(i)) ++i;
    if (i < n && s[i] == '.') {
        ++i;
        if (!digit(i)) return false;
        while (digit(i)) ++i;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
        if (!digit(i)) return false;
        while (digit(i)) ++i;
    }
    return i == n;
}

/// `s` without trailing JSON whitespace (simdjson's raw tokens run up to the next token).
constexpr std::string_view trim_json_ws(std::string_view s) noexcept {
    while (!s.empty()) {
        char c = s.back();
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        s.remove_suffix(1);
    }
    return s;
}

/// Parses JSON texts one at a time into a record whose views point into the input (raw
/// text) and into the simdjson parser (unescaped strings): valid until the next `parse`.
class document_parser {
public:
    /// Nesting deeper than this is rejected (it bounds the recursion of the walk).
    static constexpr unsigned default_max_depth = 1024;

    /// Containers longer than this are validated member by member (see the file comment).
    static constexpr std::size_t default_piecewise_bytes = std::size_t{1} << 20;

    explicit document_parser(unsigned max_depth = default_max_depth,
                             std::size_t piecewise_bytes = default_piecewise_bytes)
        : max_depth_(max_depth), piecewise_bytes_(piecewise_bytes < 2 ? 2 : piecewise_bytes) {}

    /// Parses `text`, which must be followed by at least `simdjson::SIMDJSON_PADDING` readable
    /// bytes (`capacity` counts them). Returns nullptr on success (see `record()`), otherwise a
    /// message; then `error_offset()` is the byte offset in `text` near the error, if known.
    const char* parse(std::string_view text, std::size_t capacity, std::uint64_t line) {
        fields_.clear();
        indexed_ = false;
        error_offset_ = npos;
        text_ = text;
        std::string_view trimmed = trim_leading(text);
        if (trimmed.empty()) return "no JSON value (empty input)";
        std::size_t lead = trimmed.data() - text.data();
        if (trimmed.size() > piecewise_bytes_ && (trimmed[0] == '{' || trimmed[0] == '['))
            return parse_piecewise(trimmed, capacity - lead, line);
        auto doc_result = parser_.iterate(simdjson::padded_string_view(
            trimmed.data(), trimmed.size(), capacity - lead));
        simdjson::ondemand::document doc;
        if (auto e = std::move(doc_result).get(doc)) return fail(e);
        simdjson::ondemand::json_type t;
        if (auto e = doc.type().get(t)) return fail(e, doc);
        std::string_view body = trim_json_ws(trimmed);
        const char* msg = nullptr;
        json_type type = json_type::null;
        std::string_view scalar_str;
        switch (t) {
            case simdjson::ondemand::json_type::object: {
                type = json_type::object;
                simdjson::ondemand::object obj;
                if (auto e = doc.get_object().get(obj)) return fail(e, doc);
                msg = walk_members(obj, 1);
                if (!msg) msg = check_end(doc);
                break;
            }
            case simdjson::ondemand::json_type::array: {
                type = json_type::array;
                simdjson::ondemand::array arr;
                if (auto e = doc.get_array().get(arr)) return fail(e, doc);
                msg = walk_elements(arr, 1);
                if (!msg) msg = check_end(doc);
                break;
            }
            default: {
                // A scalar text: its token must reach the end of the input (nothing follows).
                std::string_view tok;
                if (auto e = doc.raw_json_token().get(tok)) return fail(e, doc);
                if (tok.data() + tok.size() != trimmed.data() + trimmed.size())
                    return at(tok.data() + tok.size(), "unexpected content after the JSON value");
                tok = trim_json_ws(tok);
                if (t == simdjson::ondemand::json_type::string) {
                    type = json_type::string;
                    if (auto e = doc.get_string().get(scalar_str)) return fail(e, doc);
                } else {
                    msg = check_scalar(t, tok, type);
                    if (msg) error_offset_ = static_cast<std::size_t>(tok.data() - text.data());
                }
                break;
            }
        }
        if (msg) return msg;
        record_ = json_record(type, body, fields_.data(), fields_.size(), line);
        record_.set_scalar_string(scalar_str);
        return nullptr;
    }

    /// The record of the last successful `parse`.
    const json_record& record() const noexcept { return record_; }
    /// Offset in the parsed text near the last error, or `npos`.
    std::size_t error_offset() const noexcept { return error_offset_; }
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

private:
    static std::string_view trim_leading(std::string_view s) noexcept {
        std::size_t i = 0;
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
        return s.substr(i);
    }

    const char* fail(simdjson::error_code e) { return simdjson::error_message(e); }
    const char* fail(simdjson::error_code e, simdjson::ondemand::document& doc) {
        const char* loc = nullptr;
        if (!doc.current_location().get(loc)) note(loc);
        return simdjson::error_message(e);
    }
    template <class V>
    const char* fail_at(simdjson::error_code e, V& v) {
        const char* loc = nullptr;
        if (!v.current_location().get(loc)) note(loc);
        return simdjson::error_message(e);
    }
    const char* at(const char* p, const char* msg) {
        note(p);
        return msg;
    }
    void note(const char* p) {
        if (p >= text_.data() && p <= text_.data() + text_.size())
            error_offset_ = static_cast<std::size_t>(p - text_.data());
    }

    /// After a container at the root, the document must be exhausted.
    const char* check_end(simdjson::ondemand::document& doc) {
        const char* loc = nullptr;
        auto e = doc.current_location().get(loc);
        if (e == simdjson::OUT_OF_BOUNDS) return nullptr;
        if (e) return simdjson::error_message(e);
        return at(loc, "unexpected content after the JSON value");
    }

    /// Validates a number or literal token (already trimmed) and names its type.
    static const char* check_scalar(simdjson::ondemand::json_type t, std::string_view tok,
                                    json_type& type) {
        using jt = simdjson::ondemand::json_type;
        if (t == jt::number) {
            type = json_type::number;
            return is_json_number(tok) ? nullptr : "invalid number";
        }
        if (t == jt::boolean) {
            type = json_type::boolean;
            return tok == "true" || tok == "false" ? nullptr : "invalid literal";
        }
        if (t == jt::null) {
            type = json_type::null;
            return tok == "null" ? nullptr : "invalid literal";
        }
        return "unexpected character";
    }

    /// The content of the string whose text starts at `p` (just after its opening quote) when
    /// it holds no escape: then it is the text up to the closing quote, and nothing is left to
    /// validate (stage 1 already rejected invalid UTF-8, unescaped control characters and
    /// unclosed strings, so the quote is there). `plain` is false when a backslash comes
    /// first: then simdjson must unescape the string.
    static std::string_view plain_string(const char* p, bool& plain) noexcept {
        const char* q = p;
        while (*q != '"' && *q != '\\') ++q;
        plain = *q == '"';
        return std::string_view(p, static_cast<std::size_t>(q - p));
    }

    /// Consumes the string value `v`: unescaped by simdjson into `s` unless it is `plain`.
    /// A plain one must still be consumed, not left for simdjson to skip: its skipping takes a
    /// string followed by ':' for a key and would let `"a":"b":1` through.
    const char* consume_string(simdjson::ondemand::value& v, bool plain, std::string_view& s) {
        if (plain) {
            simdjson::ondemand::raw_json_string raw;
            if (auto e = v.get_raw_json_string().get(raw)) return fail_at(e, v);
            return nullptr;
        }
        if (auto e = v.get_string().get(s)) return fail_at(e, v);
        return nullptr;
    }

    /// Walks `v` (validating everything in it) and describes it as a `json_value`.
    const char* walk_value(simdjson::ondemand::value& v, unsigned depth, json_value& out) {
        using jt = simdjson::ondemand::json_type;
        jt t;
        if (auto e = v.type().get(t)) return fail_at(e, v);
        std::string_view tok = v.raw_json_token();
        switch (t) {
            case jt::string: {
                bool plain;
                std::string_view s = plain_string(tok.data() + 1, plain);
                if (const char* msg = consume_string(v, plain, s)) return msg;
                out = json_value(json_type::string, trim_json_ws(tok), s);
                return nullptr;
            }
            case jt::array:
            case jt::object: {
                if (depth >= max_depth_) return at(tok.data(), "nesting too deep");
                const char* start = tok.data();
                const char* msg;
                if (t == jt::array) {
                    simdjson::ondemand::array a;
                    if (auto e = v.get_array().get(a)) return fail_at(e, v);
                    msg = walk_elements(a, depth + 1);
                } else {
                    simdjson::ondemand::object o;
                    if (auto e = v.get_object().get(o)) return fail_at(e, v);
                    msg = check_members(o, depth + 1);
                }
                if (msg) return msg;
                // The container ends where the next token (',' ']' '}') starts.
                const char* end = nullptr;
                if (v.current_location().get(end)) end = text_.data() + text_.size();
                out = json_value(t == jt::array ? json_type::array : json_type::object,
                                 trim_json_ws(std::string_view(start, static_cast<std::size_t>(end - start))));
                return nullptr;
            }
            default: {
                tok = trim_json_ws(tok);
                json_type type;
                if (const char* msg = check_scalar(t, tok, type)) return at(tok.data(), msg);
                out = json_value(type, tok);
                return nullptr;
            }
        }
    }

    /// Validates `v` and everything in it without describing it (values inside containers
    /// need no `json_value`, nor the container's extent).
    const char* check_value(simdjson::ondemand::value& v, unsigned depth) {
        using jt = simdjson::ondemand::json_type;
        jt t;
        if (auto e = v.type().get(t)) return fail_at(e, v);
        switch (t) {
            case jt::string: {
                bool plain;
                std::string_view s = plain_string(v.raw_json_token().data() + 1, plain);
                return consume_string(v, plain, s);
            }
            case jt::array: {
                if (depth >= max_depth_) return at(v.raw_json_token().data(), "nesting too deep");
                simdjson::ondemand::array a;
                if (auto e = v.get_array().get(a)) return fail_at(e, v);
                return walk_elements(a, depth + 1);
            }
            case jt::object: {
                if (depth >= max_depth_) return at(v.raw_json_token().data(), "nesting too deep");
                simdjson::ondemand::object o;
                if (auto e = v.get_object().get(o)) return fail_at(e, v);
                return check_members(o, depth + 1);
            }
            default: {
                std::string_view tok = trim_json_ws(v.raw_json_token());
                json_type type;
                if (const char* msg = check_scalar(t, tok, type)) return at(tok.data(), msg);
                return nullptr;
            }
        }
    }

    const char* walk_elements(simdjson::ondemand::array& a, unsigned depth) {
        for (auto element : a) {
            simdjson::ondemand::value v;
            if (auto e = std::move(element).get(v)) return fail(e);
            if (const char* msg = check_value(v, depth)) return msg;
        }
        return nullptr;
    }

    /// The unescaped key of `f`: its raw text when it holds no escape (see `plain_string`).
    const char* field_key(simdjson::ondemand::field& f, std::string_view& key) {
        bool plain;
        key = plain_string(f.key().raw(), plain);
        if (plain) return nullptr;
        if (auto e = f.unescaped_key().get(key)) return fail(e);
        return nullptr;
    }

    /// Validates a nested object (its members are not recorded).
    const char* check_members(simdjson::ondemand::object& o, unsigned depth) {
        for (auto member : o) {
            simdjson::ondemand::field f;
            if (auto e = std::move(member).get(f)) return fail(e);
            std::string_view key;
            if (const char* msg = field_key(f, key)) return msg;
            if (const char* msg = check_value(f.value(), depth)) return msg;
        }
        return nullptr;
    }

    /// Walks the top-level object, recording its members.
    const char* walk_members(simdjson::ondemand::object& o, unsigned depth) {
        json_value value;
        for (auto member : o) {
            simdjson::ondemand::field f;
            if (auto e = std::move(member).get(f)) return fail(e);
            std::string_view key;
            if (const char* msg = field_key(f, key)) return msg;
            if (const char* msg = walk_value(f.value(), depth, value)) return msg;
            add_field(key, value);
        }
        return nullptr;
    }

    void add_field(std::string_view key, const json_value& value) {
        // Duplicate keys: the last value wins, in the first one's place. Records are usually
        // narrow, so up to `scan_limit` keys a scan (sizes compared first) is cheaper than a
        // hash table. Size and first byte are compared inline before memcmp: keys of equal
        // length are common (id/at, status/amount) and a library call per pair showed in
        // profiles. A wider record switches to a hash index of the keys so far, keeping the
        // whole record linear in its keys (a scan per key made 200k keys take a minute).
        const std::size_t n = fields_.size();
        if (n < scan_limit) {
            for (json_field& f : fields_)
                if (f.key.size() == key.size() && (key.empty() || f.key[0] == key[0]) && f.key == key) {
                    f.value = value;
                    return;
                }
            fields_.push_back({key, value});
            return;
        }
        if (!indexed_) {
            index_.clear();
            index_.reserve(2 * scan_limit);
            for (std::size_t i = 0; i < n; ++i) index_.emplace(fields_[i].key, i);
            indexed_ = true;
        }
        auto [it, fresh] = index_.try_emplace(key, n);
        if (!fresh) {
            fields_[it->second].value = value;
            return;
        }
        fields_.push_back({key, value});
    }

    /// Keys compared one by one up to this many; a hash index from there on.
    static constexpr std::size_t scan_limit = 32;

    // ---- piecewise validation of long containers -------------------------------------------

    static constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

    /// Offset just past the string whose opening quote is at `i`, or npos if it never closes.
    static std::size_t string_end(std::string_view s, std::size_t i) noexcept {
        std::size_t from = i + 1;
        for (;;) {
            const void* q = from < s.size() ? std::memchr(s.data() + from, '"', s.size() - from) : nullptr;
            if (!q) return npos;
            std::size_t k = static_cast<std::size_t>(static_cast<const char*>(q) - s.data());
            std::size_t b = k;
            while (b > i + 1 && s[b - 1] == '\\') --b;
            if (((k - b) & 1) == 0) return k + 1;  // not escaped
            from = k + 1;
        }
    }

    /// Offset of the ',' or `close` that ends the member value starting at `i` (brackets
    /// outside strings counted), or npos. Brackets of the wrong kind inside are left for
    /// the member's own parse to reject; at depth 0 they end the scan with an error.
    const char* value_end(std::string_view s, std::size_t i, char close, std::size_t& end) {
        std::size_t depth = 0;
        while (i < s.size()) {
            char c = s[i];
            if (c == '"') {
                std::size_t e = string_end(s, i);
                if (e == npos) return at(s.data() + i, "unterminated string");
                i = e;
                continue;
            }
            if (c == '[' || c == '{') {
                ++depth;
            } else if (c == ']' || c == '}') {
                if (depth == 0) {
                    if (c != close) return at(s.data() + i, "unexpected closing bracket");
                    end = i;
                    return nullptr;
                }
                --depth;
            } else if (c == ',' && depth == 0) {
                end = i;
                return nullptr;
            }
            ++i;
        }
        return at(s.data() + s.size(), "unterminated container");
    }

    /// Validates the string document `s` (its text with the quotes); with `out`, its content
    /// unescaped, stored where it outlives the pieces.
    const char* piece_string_content(simdjson::ondemand::document& doc, std::string_view s,
                                     std::string_view* out) {
        bool plain;
        std::string_view content = plain_string(s.data() + 1, plain);
        if (plain && content.size() + 2 == s.size()) {
            if (out) *out = content;
            return nullptr;
        }
        std::string_view u;
        if (auto e = doc.get_string().get(u)) return fail(e, doc);
        if (!out) return nullptr;
        if (arena_.capacity() < arena_reserved_) arena_.reserve(arena_reserved_);  // never moves after
        std::size_t at = arena_.size();
        arena_.append(u);
        *out = std::string_view(arena_.data() + at, u.size());
        return nullptr;
    }

    /// Validates one piece: a whole JSON value `s` (trimmed) at nesting `depth`, followed by
    /// `cap - s.size()` readable bytes. Describes it in `*out` when `out` is set.
    const char* piece(std::string_view s, std::size_t cap, unsigned depth, json_value* out) {
        if (s.empty()) return at(s.data(), "missing value");
        if (s.size() > piecewise_bytes_ && (s[0] == '{' || s[0] == '[')) {
            if (depth >= max_depth_) return at(s.data(), "nesting too deep");
            if (const char* msg = container_piecewise(s, cap, depth + 1, false)) return msg;
            if (out) *out = json_value(s[0] == '{' ? json_type::object : json_type::array, s);
            return nullptr;
        }
        auto doc_result = parser_.iterate(simdjson::padded_string_view(s.data(), s.size(), cap));
        simdjson::ondemand::document doc;
        if (auto e = std::move(doc_result).get(doc)) return at(s.data(), simdjson::error_message(e));
        simdjson::ondemand::json_type t;
        if (auto e = doc.type().get(t)) return fail(e, doc);
        using jt = simdjson::ondemand::json_type;
        if (t == jt::object || t == jt::array) {
            if (depth >= max_depth_) return at(s.data(), "nesting too deep");
            const char* msg;
            if (t == jt::object) {
                simdjson::ondemand::object o;
                if (auto e = doc.get_object().get(o)) return fail(e, doc);
                msg = check_members(o, depth + 1);
            } else {
                simdjson::ondemand::array a;
                if (auto e = doc.get_array().get(a)) return fail(e, doc);
                msg = walk_elements(a, depth + 1);
            }
            if (!msg) msg = check_end(doc);
            if (msg) return msg;
            if (out) *out = json_value(t == jt::object ? json_type::object : json_type::array, s);
            return nullptr;
        }
        std::string_view tok;
        if (auto e = doc.raw_json_token().get(tok)) return fail(e, doc);
        if (tok.data() + tok.size() != s.data() + s.size())
            return at(tok.data() + tok.size(), "unexpected content after the JSON value");
        if (t == jt::string) {
            std::string_view content;
            if (const char* msg = piece_string_content(doc, s, out ? &content : nullptr)) return msg;
            if (out) *out = json_value(json_type::string, s, content);
            return nullptr;
        }
        json_type type;
        if (const char* msg = check_scalar(t, trim_json_ws(tok), type)) return at(s.data(), msg);
        if (out) *out = json_value(type, s);
        return nullptr;
    }

    /// Cuts the container `s` (trimmed, from its bracket to its closing bracket) into members
    /// and validates each as a piece at `depth`; `record` adds an object's members to the
    /// record's fields.
    const char* container_piecewise(std::string_view s, std::size_t cap, unsigned depth, bool record) {
        const bool obj = s[0] == '{';
        const char close = obj ? '}' : ']';
        std::size_t i = 1;
        const std::size_t n = s.size();
        auto skip_ws = [&] {
            while (i < n && is_ws(s[i])) ++i;
        };
        skip_ws();
        if (i < n && s[i] == close) {
            ++i;
        } else {
            json_value value;
            for (;;) {
                std::string_view key;
                if (obj) {
                    if (i >= n || s[i] != '"') return at(s.data() + i, "expected a key string");
                    std::size_t ke = string_end(s, i);
                    if (ke == npos) return at(s.data() + i, "unterminated string");
                    json_value k;
                    if (const char* msg = piece(s.substr(i, ke - i), cap - i, depth, record ? &k : nullptr))
                        return msg;
                    key = k.str();
                    i = ke;
                    skip_ws();
                    if (i >= n || s[i] != ':') return at(s.data() + i, "expected ':' after the key");
                    ++i;
                    skip_ws();
                }
                std::size_t end = 0;
                if (const char* msg = value_end(s, i, close, end)) return msg;
                std::string_view v = trim_json_ws(s.substr(i, end - i));
                if (const char* msg = piece(v, cap - i, depth, record ? &value : nullptr)) return msg;
                if (record) add_field(key, value);
                i = end + 1;
                if (s[end] == close) break;
                skip_ws();
                if (i < n && s[i] == close) return at(s.data() + i, "trailing comma");
            }
        }
        if (i != n) return at(s.data() + i, "unexpected content after the JSON value");
        return nullptr;
    }

    /// `parse` for a container longer than `piecewise_bytes_`.
    const char* parse_piecewise(std::string_view trimmed, std::size_t cap, std::uint64_t line) {
        arena_ = std::string();  // the last big record's buffer is not kept
        arena_reserved_ = trimmed.size();
        std::string_view body = trim_json_ws(trimmed);
        const bool obj = body[0] == '{';
        if (const char* msg = container_piecewise(body, cap, 1, obj)) return msg;
        // A document's last bytes may be followed only by whitespace (trimmed already).
        record_ = json_record(obj ? json_type::object : json_type::array, body, fields_.data(),
                              fields_.size(), line);
        return nullptr;
    }

    simdjson::ondemand::parser parser_;
    std::vector<json_field> fields_;
    // Keys of a wide record -> their index in fields_ (valid while indexed_).
    std::unordered_map<std::string_view, std::size_t> index_;
    bool indexed_ = false;
    json_record record_;
    std::string_view text_;
    std::size_t error_offset_ = npos;
    unsigned max_depth_;
    std::size_t piecewise_bytes_;
    std::string arena_;  // unescaped strings of a piecewise record (reserved once: no moves)
    std::size_t arena_reserved_ = 0;
};

}  // namespace sluice::json::detail
