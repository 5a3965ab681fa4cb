#pragma once
/// \file
/// `json::write_undoubled_string(text, out)`: appends, as a quoted JSON string, a text in
/// which every `"` is doubled - the inside of a CSV quoted field as it stands in the input
/// (csv::row::doubled_quotes()). Each `""` becomes `\"`: the same length, so a 16-byte step
/// that holds no other byte to escape is stored with the first quote of each pair turned
/// into a backslash, and nothing moves. Undoubling the field and escaping the quotes again
/// cost a restart of the scan at every quote in both directions; JSON payloads in CSV
/// (the events data's `{""ref"": ""c4ca4238a0"", ...}`) are made of little else.
/// Other bytes that need an escape (`\`, control characters: a line feed in a multi-line
/// field) are escaped as json::write_string does. No dependency beyond the standard library.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "../core/chunk.hpp"
#include "../core/json_escape.hpp"

namespace sluice::json {

namespace detail {

#ifdef SLUICE_JSON_ESCAPE_SSE2
/// Byte k of the result is 0xff when bit k of `bits` is set.
inline __m128i byte_mask16(unsigned bits) noexcept {
    const __m128i spread = _mm_set_epi64x(
        static_cast<long long>(0x0101010101010101ull * ((bits >> 8) & 0xff)),
        static_cast<long long>(0x0101010101010101ull * (bits & 0xff)));
    const __m128i select = _mm_set_epi8(-128, 64, 32, 16, 8, 4, 2, 1, -128, 64, 32, 16, 8, 4, 2, 1);
    return _mm_cmpeq_epi8(_mm_and_si128(spread, select), select);
}

/// Bit k of the result is the XOR of bits 0..k of `x` (16 bits).
constexpr unsigned prefix_xor16(unsigned x) noexcept {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    return x & 0xffff;
}
#endif

}  // namespace detail

/// Appends `text` - every `"` in it doubled, the pairs whole - to `out` as a quoted JSON
/// string of the undoubled text (each pair one `\"`), with every other escape RFC 8259
/// requires. Text that is not made of whole pairs is a contract violation: a lone quote
/// is written as `\"` as if its pair followed.
inline void write_undoubled_string(std::string_view text, chunk& out) {
    const char* p = text.data();
    const char* const end = p + text.size();
    out.reserve_spare(text.size() + 2 + 64);
    char* d = out.tail();
    char* room = d + out.spare();
    *d++ = '"';
    bool open = false;  // the last quote seen was the first of its pair
    // One byte, with the room check only where the output grows (an escape that is not
    // a quote pair's).
    const auto one = [&](unsigned char c) {
        if (c == '"') {
            if (!open) c = '\\';
            open = !open;
            *d++ = static_cast<char>(c);
            return;
        }
        if (!detail::needs_escape(c)) {
            *d++ = static_cast<char>(c);
            return;
        }
        detail::ensure_room(out, d, room, 7 + static_cast<std::size_t>(end - p));  // + the closing quote
        d += detail::write_escape(c, d);
    };
#ifdef SLUICE_JSON_ESCAPE_SSE2
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const auto quotes = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)));
        if ((detail::escape_mask16(v) & ~quotes) != 0) {
            // A backslash or a control byte: this step a byte at a time.
            for (const char* step_end = p + 16; p != step_end;) one(static_cast<unsigned char>(*p++));
            continue;
        }
        // A quote is the first of its pair when the quotes up to it, counted from the
        // last open pair, are odd in number.
        const unsigned parity = detail::prefix_xor16(quotes) ^ (open ? 0xffffu : 0u);
        const unsigned first = quotes & parity;
        open = (parity >> 15) & 1;
        if (first != 0) {
            const __m128i m = detail::byte_mask16(first);
            v = _mm_or_si128(_mm_andnot_si128(m, v), _mm_and_si128(m, backslash));
        }
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d), v);
        p += 16;
        d += 16;
    }
#endif
    while (p != end) one(static_cast<unsigned char>(*p++));
    *d++ = '"';
    out.commit(static_cast<std::size_t>(d - out.tail()));
}

}  // namespace sluice::json
