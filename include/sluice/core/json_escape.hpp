#pragma once
/// \file
/// `json::write_string(s, out)`: appends `s` as a quoted JSON string with every escape
/// RFC 8259 requires (`"`, `\` and the control characters U+0000..U+001F). Everything
/// else, UTF-8 included, is copied as it is. No dependency beyond the standard library.
/// The one JSON string escaper: the json/ writers, pg::json, the metrics' JSON and the
/// dead-letter records all use it (it lives in core/ so that core/metrics can).
///
/// Field values are mostly short and mostly clean, so the work is finding the next byte
/// that needs an escape: 16 bytes per step with SSE2 (always present on x86-64), 8 bytes
/// per step with SWAR. Into a chunk the clean runs are copied by the same loads (store as
/// you scan: no memcpy call per run, which showed as a fifth of CSV -> JSONL's time with
/// its short fields and quote-heavy JSON payloads), and a value or tail shorter than 16
/// bytes is copied and checked with two overlapping loads and stores instead of a byte at
/// a time (the events data's values: 1.47 -> 1.75 GB/s, bench_json BM_escape_*_events).

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define SLUICE_JSON_ESCAPE_SSE2 1
#endif

#include <string>

#include "chunk.hpp"
#include "config.hpp"

namespace sluice::json {

namespace detail {

/// For each byte: 0 if it is copied as is, otherwise the letter after the backslash
/// ('u' for the `\u00XX` form). The two-letter forms are the ones RFC 8259 names.
inline constexpr std::array<char, 256> escape_table = [] {
    std::array<char, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = 'u';
    t['\b'] = 'b';
    t['\f'] = 'f';
    t['\n'] = 'n';
    t['\r'] = 'r';
    t['\t'] = 't';
    t['"'] = '"';
    t['\\'] = '\\';
    return t;
}();

/// Whether byte `c` must be escaped inside a JSON string.
constexpr bool needs_escape(unsigned char c) noexcept { return escape_table[c] != 0; }

#ifdef SLUICE_JSON_ESCAPE_SSE2
/// Bit k set when byte k of `v` needs an escape: a quote, a backslash or a control byte.
SLUICE_ALWAYS_INLINE unsigned escape_mask16(__m128i v) noexcept {
    // Unsigned `v <= 0x1f` is `min(v, 0x1f) == v`; SSE2 has no unsigned compare.
    const __m128i ctrl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
    const __m128i hit = _mm_or_si128(ctrl, _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                        _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
    return static_cast<unsigned>(_mm_movemask_epi8(hit));
}
#endif

/// The high bit of each byte of `w` (8 bytes as loaded) that may need an escape (SWAR: the
/// classic "has a zero byte / a byte below k" tests). Borrows propagate upwards, so bytes
/// above the first real hit can be flagged, never below it: the lowest set bit (in memory
/// order) is exact.
constexpr std::uint64_t escape_mask8(std::uint64_t w) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ull;
    constexpr std::uint64_t highs = 0x8080808080808080ull;
    const std::uint64_t q = w ^ (ones * '"');
    const std::uint64_t b = w ^ (ones * '\\');
    return (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
}

/// Index of the first byte of `p[0..n)` that needs an escape, or `n`.
inline std::size_t find_escape(const char* p, std::size_t n) noexcept {
    std::size_t i = 0;
#ifdef SLUICE_JSON_ESCAPE_SSE2
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        const unsigned mask = escape_mask16(v);
        if (mask != 0) return i + static_cast<std::size_t>(std::countr_zero(mask));
    }
#else
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        const std::uint64_t hit = escape_mask8(w);
        if (hit != 0) {
            if constexpr (std::endian::native == std::endian::little)
                return i + static_cast<std::size_t>(std::countr_zero(hit)) / 8;
            else
                return i + static_cast<std::size_t>(std::countl_zero(hit)) / 8;
        }
    }
#endif
    for (; i < n; ++i)
        if (needs_escape(static_cast<unsigned char>(p[i]))) return i;
    return n;
}

/// Writes the escape sequence for byte `c` at `dst` (room for 6 bytes); returns its length.
inline std::size_t write_escape(unsigned char c, char* dst) noexcept {
    constexpr char hex[] = "0123456789abcdef";
    char e = escape_table[c];
    dst[0] = '\\';
    if (e != 'u') {
        dst[1] = e;
        return 2;
    }
    dst[1] = 'u';
    dst[2] = '0';
    dst[3] = '0';
    dst[4] = hex[c >> 4];
    dst[5] = hex[c & 0xf];
    return 6;
}

/// Stores the `n` bytes at `p` (n < 16) at `dst` with at most two fixed-size loads and
/// stores each (overlapping when `n` is not a power of two), and returns whether one of
/// them needs an escape. Nothing is read or written outside the `n` bytes. This is the
/// short field's whole cost - most CSV values are shorter than one vector step, and a
/// byte-at-a-time tail was a third of the escaper's time on such rows.
SLUICE_ALWAYS_INLINE bool copy_short(const char* p, std::size_t n, char* dst) noexcept {
    std::uint64_t a, b;
    if (n >= 8) {
        std::memcpy(&a, p, 8);
        std::memcpy(&b, p + n - 8, 8);
        std::memcpy(dst, &a, 8);
        std::memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4) {
        std::uint32_t x, y;
        std::memcpy(&x, p, 4);
        std::memcpy(&y, p + n - 4, 4);
        std::memcpy(dst, &x, 4);
        std::memcpy(dst + n - 4, &y, 4);
        a = x | 0x2020202000000000ull;  // the upper bytes: spaces, which need no escape
        b = y | 0x2020202000000000ull;
    } else if (n > 0) {
        const auto c0 = static_cast<unsigned char>(p[0]);
        const auto c1 = static_cast<unsigned char>(p[n / 2]);
        const auto c2 = static_cast<unsigned char>(p[n - 1]);
        dst[0] = static_cast<char>(c0);
        dst[n / 2] = static_cast<char>(c1);
        dst[n - 1] = static_cast<char>(c2);
        a = c0 | (std::uint64_t{c1} << 8) | (std::uint64_t{c2} << 16) | 0x2020202020000000ull;
        b = a;
    } else {
        return false;
    }
    // SWAR flags can be false only above a real hit (escape_mask8), so "any" is exact.
    return (escape_mask8(a) | escape_mask8(b)) != 0;
}

/// For writers that store through a raw pointer `d` into `out`'s spare room (which ends at
/// `room`): makes sure `need` more bytes fit, committing what is written before the chunk
/// grows. Escapes call it; a clean byte writes no more than it reads, so needs no check.
SLUICE_ALWAYS_INLINE void ensure_room(chunk& out, char*& d, char*& room, std::size_t need) {
    if (static_cast<std::size_t>(room - d) >= need) [[likely]]
        return;
    out.commit(static_cast<std::size_t>(d - out.tail()));
    out.reserve_spare(need + 64);
    d = out.tail();
    room = d + out.spare();
}

/// Appends the escaped bytes `p[0..n)` to `out`: the general case, out of line. One
/// pass: 16 bytes per step (SSE2), stored as they are scanned, then 8 (SWAR); at an escape
/// the step stops there, the escape is written and the next step starts after it. The
/// room is checked only at escapes (a clean step writes no more than it reads), and the
/// common escapes (`\"`, `\\`: quotes in embedded JSON, Windows paths) take two stores.
inline void write_escaped_slow(const char* p, std::size_t n, chunk& out) {
    const char* const end = p + n;
    out.reserve_spare(n + 64);
    char* d = out.tail();
    char* room = d + out.spare();
    const auto escape = [&](unsigned char c) {  // `p` is past `c`
        ensure_room(out, d, room, 6 + static_cast<std::size_t>(end - p));
        if (c == '"' || c == '\\') {
            d[0] = '\\';
            d[1] = static_cast<char>(c);
            d += 2;
        } else {
            d += write_escape(c, d);
        }
    };
#ifdef SLUICE_JSON_ESCAPE_SSE2
    while (end - p >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d), v);
        const unsigned mask = escape_mask16(v);
        if (mask == 0) {
            p += 16;
            d += 16;
            continue;
        }
        const auto k = static_cast<std::size_t>(std::countr_zero(mask));
        p += k;
        d += k;
        escape(static_cast<unsigned char>(*p++));
    }
    if (p != end && !copy_short(p, static_cast<std::size_t>(end - p), d)) {
        d += end - p;
        p = end;
    }
#endif
    if constexpr (std::endian::native == std::endian::little) {
        while (end - p >= 8) {
            std::uint64_t w;
            std::memcpy(&w, p, 8);
            std::memcpy(d, &w, 8);
            const std::uint64_t hit = escape_mask8(w);
            if (hit == 0) {
                p += 8;
                d += 8;
                continue;
            }
            const auto k = static_cast<std::size_t>(std::countr_zero(hit)) / 8;
            p += k;
            d += k;
            escape(static_cast<unsigned char>(*p++));
        }
    }
    while (p != end) {
        const auto c = static_cast<unsigned char>(*p++);
        if (needs_escape(c))
            escape(c);
        else
            *d++ = static_cast<char>(c);
    }
    out.commit(static_cast<std::size_t>(d - out.tail()));
}

}  // namespace detail

/// Appends the escaped content of `s` to `out`, without surrounding quotes. Inline fast
/// path for the clean values that most fields are: shorter than 16 bytes, at most two
/// overlapping stores checked with SWAR (detail::copy_short); longer, 16-byte vector steps
/// stored as they are scanned, the last few bytes again by copy_short. A value that holds an
/// escape goes on out of line (detail::write_escaped_slow) from the step that found it.
SLUICE_ALWAYS_INLINE void write_escaped(std::string_view s, chunk& out) {
    const char* p = s.data();
    std::size_t n = s.size();
    out.reserve_spare(n);
    char* dst = out.tail();
#ifdef SLUICE_JSON_ESCAPE_SSE2
    std::size_t i = 0;
    for (; n - i >= 16; i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), v);
        if (detail::escape_mask16(v) != 0) [[unlikely]] {
            out.commit(i);
            detail::write_escaped_slow(p + i, n - i, out);
            return;
        }
    }
    p += i;
    dst += i;
    out.commit(i);
    n -= i;
#else
    if (n >= 16) {
        detail::write_escaped_slow(p, n, out);
        return;
    }
#endif
    if (!detail::copy_short(p, n, dst)) [[likely]] {
        out.commit(n);
        return;
    }
    detail::write_escaped_slow(p, n, out);
}

/// Appends the escaped content of `s` to a std::string, without surrounding quotes.
inline void write_escaped(std::string_view s, std::string& out) {
    const char* p = s.data();
    std::size_t n = s.size();
    for (;;) {
        std::size_t k = detail::find_escape(p, n);
        out.append(p, k);
        if (k == n) return;
        char esc[6];
        out.append(esc, detail::write_escape(static_cast<unsigned char>(p[k]), esc));
        p += k + 1;
        n -= k + 1;
    }
}

/// Appends `s` to a std::string as a quoted JSON string.
inline void write_string(std::string_view s, std::string& out) {
    out += '"';
    write_escaped(s, out);
    out += '"';
}

/// Appends `s` to `out` as a quoted JSON string (RFC 8259 escapes; UTF-8 passed through).
SLUICE_ALWAYS_INLINE void write_string(std::string_view s, chunk& out) {
    out.reserve_spare(s.size() + 2);
    *out.tail() = '"';
    out.commit(1);
    write_escaped(s, out);
    out.push_back('"');
}

}  // namespace sluice::json
