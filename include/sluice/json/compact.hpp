#pragma once
/// \file
/// `json::write_compact(text, out)`: appends a JSON text without the whitespace between its
/// tokens. Everything else is copied byte for byte: number text (`1e400`, `2.50`), key
/// order, duplicate keys, string contents and their escapes. A pretty-printed value (a
/// Postgres `json` column keeps its text as written: raw line breaks, indentation, CRLF)
/// becomes one line, so it can sit inside a JSON Lines record.
///
/// One pass, no allocation beyond one reservation in `out` (the result is never longer
/// than the input). String contents are skipped with the same 16-byte scan that
/// `write_string` uses to find escapes. No dependency beyond the standard library.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "../core/chunk.hpp"
#include "../core/json_escape.hpp"

namespace sluice::json {

namespace detail {

/// True for the four bytes RFC 8259 calls insignificant whitespace.
constexpr bool is_json_space(char c) noexcept {
    constexpr std::uint64_t mask =
        (1ull << ' ') | (1ull << '\t') | (1ull << '\n') | (1ull << '\r');
    auto u = static_cast<unsigned char>(c);
    return u <= ' ' && ((mask >> u) & 1u) != 0;
}

/// Copies a string's content after its opening quote, through the closing quote, from
/// `p` to `dst`; returns the new `p` and advances `dst`. A backslash and the byte after it
/// are copied together, so an escaped quote does not end the string. Bytes a valid string
/// cannot hold (control characters) are copied too; an unterminated string ends at `end`.
inline const char* copy_string_rest(const char* p, const char* end, char*& dst) noexcept {
    for (;;) {
        std::size_t k = find_escape(p, static_cast<std::size_t>(end - p));
        std::memcpy(dst, p, k);
        dst += k;
        p += k;
        if (p == end) return p;
        char c = *p++;
        *dst++ = c;
        if (c == '"') return p;
        if (c == '\\' && p != end) *dst++ = *p++;
    }
}

}  // namespace detail

/// Appends `json` to `out` with every whitespace byte outside strings removed. `json` is
/// meant to be valid JSON; anything else is still copied safely (an unterminated string
/// runs to the end), never read past its end.
inline void write_compact(std::string_view json, chunk& out) {
    out.reserve_spare(json.size());
    char* const start = out.tail();
    char* dst = start;
    const char* p = json.data();
    const char* const end = p + json.size();
    while (p != end) {
        char c = *p++;
        if (c == '"') {
            *dst++ = c;
            p = detail::copy_string_rest(p, end, dst);
        } else if (!detail::is_json_space(c)) {
            *dst++ = c;
        }
    }
    out.commit(static_cast<std::size_t>(dst - start));
}

/// `write_compact` for an object whose members' values are selected by position: the
/// value of the i-th member is copied exactly when `keep(i)` is true, compacted otherwise
/// (e.g. a server-encoded row whose `jsonb` columns are already printed the way they should
/// stay). Whitespace around the top-level keys and separators is always removed.
template <class Keep>
void write_compact_members(std::string_view json, Keep&& keep, chunk& out) {
    out.reserve_spare(json.size());
    char* const start = out.tail();
    char* dst = start;
    const char* p = json.data();
    const char* const end = p + json.size();
    std::size_t depth = 0;
    std::size_t member = 0;
    bool keep_spaces = false;  // inside the value of a member that is copied exactly
    while (p != end) {
        char c = *p++;
        switch (c) {
            case '"':
                *dst++ = c;
                p = detail::copy_string_rest(p, end, dst);
                continue;
            case '{':
            case '[': ++depth; break;
            case '}':
            case ']':
                if (depth > 0) --depth;
                if (depth <= 1) keep_spaces = false;
                break;
            case ':':
                if (depth == 1) keep_spaces = keep(member++);
                break;
            case ',':
                if (depth == 1) keep_spaces = false;
                break;
            default:
                if (!keep_spaces && detail::is_json_space(c)) continue;
        }
        *dst++ = c;
    }
    out.commit(static_cast<std::size_t>(dst - start));
}

}  // namespace sluice::json
