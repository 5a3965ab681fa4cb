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
/// per step with SWAR, a byte at a time for the last few. Into a chunk the clean runs are
/// copied by the same loads (store as you scan: no memcpy call per run, which showed as a
/// fifth of CSV -> JSONL's time with its short fields and quote-heavy JSON payloads).

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

/// Copies the bytes of `p[0..n)` that need no escape to `dst`, up to the first one that
/// does; returns how many. Copies in 16-byte (SSE2) and 8-byte steps with fixed-size loads
/// and stores (the bytes of a step after an escape are stored too, and overwritten by the
/// caller), never past `p + n` nor `dst + n`: no library call, no per-byte branch on the runs.
SLUICE_ALWAYS_INLINE std::size_t copy_clean(const char* p, std::size_t n, char* dst) noexcept {
    std::size_t i = 0;
#ifdef SLUICE_JSON_ESCAPE_SSE2
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), v);
        const unsigned mask = escape_mask16(v);
        if (mask != 0) return i + static_cast<std::size_t>(std::countr_zero(mask));
    }
#endif
    if constexpr (std::endian::native == std::endian::little) {
        for (; i + 8 <= n; i += 8) {
            std::uint64_t w;
            std::memcpy(&w, p + i, 8);
            std::memcpy(dst + i, &w, 8);
            const std::uint64_t hit = escape_mask8(w);
            if (hit != 0) return i + static_cast<std::size_t>(std::countr_zero(hit)) / 8;
        }
    }
    for (; i < n; ++i) {
        const unsigned char c = static_cast<unsigned char>(p[i]);
        if (needs_escape(c)) return i;
        dst[i] = static_cast<char>(c);
    }
    return n;
}

}  // namespace detail

/// Appends the escaped content of `s` to `out`, without surrounding quotes. Inline fast
/// path (detail::copy_clean): the clean runs between escapes are copied with vector stores
/// into room reserved once, so a short field costs a few instructions, not a memcpy call.
SLUICE_ALWAYS_INLINE void write_escaped(std::string_view s, chunk& out) {
    const char* p = s.data();
    std::size_t n = s.size();
    // One reservation for the common case (no escapes); each escape re-checks the room it
    // needs, so a string of control characters still never overflows.
    out.reserve_spare(n);
    for (;;) {
        const std::size_t k = detail::copy_clean(p, n, out.tail());
        out.commit(k);
        if (k == n) return;
        out.reserve_spare(6 + (n - k - 1));
        out.commit(detail::write_escape(static_cast<unsigned char>(p[k]), out.tail()));
        p += k + 1;
        n -= k + 1;
    }
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
inline void write_string(std::string_view s, chunk& out) {
    out.reserve_spare(s.size() + 2);
    *out.tail() = '"';
    out.commit(1);
    write_escaped(s, out);
    out.push_back('"');
}

}  // namespace sluice::json
