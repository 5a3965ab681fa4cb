#pragma once
/// \file
/// Stage one of the CSV reader: block classification, as simdjson and simdcsv do it.
/// Each 64-byte block becomes three bitmasks (quote, delimiter, line feed); a prefix XOR of
/// the quote mask marks the bytes inside quoted regions; delimiters and line feeds outside
/// them, plus every quote, are written out as a list of positions ("structural indices")
/// that stage two (read.hpp) walks field by field. No per-byte branches: the cost is a few
/// vector compares per block and a few instructions per structural character.
///
/// The vector width is chosen at compile time from the target macros (__AVX2__, else
/// __SSE2__ - the x86-64 baseline, else portable scalar code), and the prefix XOR uses a
/// carry-less multiply when __PCLMUL__ is on. Everything lives in an inline namespace named
/// after that choice, so translation units built with different flags never share (and
/// ODR-merge) differently compiled inline functions.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../core/config.hpp"

// Built for an x86-64 below AVX2 (the default -march=x86-64), GCC and Clang also compile
// an AVX2 + PCLMUL + POPCNT variant of stage one with function target attributes, used
// when the CPU has those (checked once at run time): the same masks and indices, in half
// the vector compares and with a one-instruction prefix XOR and popcount.
#if !defined(__AVX2__) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(SLUICE_CSV_NO_DISPATCH)
#define SLUICE_CSV_DISPATCH_AVX2 1
#endif

#if defined(__AVX2__) || defined(__PCLMUL__) || defined(SLUICE_CSV_DISPATCH_AVX2)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__AVX2__) && defined(__PCLMUL__)
#define SLUICE_CSV_ISA avx2_pclmul
#elif defined(__AVX2__)
#define SLUICE_CSV_ISA avx2
#elif defined(__SSE2__) && defined(__PCLMUL__)
#define SLUICE_CSV_ISA sse2_pclmul
#elif defined(__SSE2__)
#define SLUICE_CSV_ISA sse2
#else
#define SLUICE_CSV_ISA portable
#endif

namespace sluice::csv::detail {
inline namespace SLUICE_CSV_ISA {

/// The bytes one classification step looks at.
inline constexpr std::size_t block_size = 64;

/// Bit i of each mask describes byte i of a 64-byte block.
struct block_masks {
    std::uint64_t quote;
    std::uint64_t delim;
    std::uint64_t newline;
    std::uint64_t high;  ///< bytes >= 0x80 (UTF-8 multi-byte sequences need a closer look)
};

#if defined(__AVX2__)
SLUICE_ALWAYS_INLINE std::uint64_t eq_mask(__m256i lo, __m256i hi, __m256i c) noexcept {
    auto l = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, c)));
    auto h = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, c)));
    return l | (std::uint64_t{h} << 32);
}
#elif defined(__SSE2__)
SLUICE_ALWAYS_INLINE std::uint64_t eq_mask(__m128i a, __m128i b, __m128i c, __m128i d,
                                           __m128i x) noexcept {
    auto m = [x](__m128i v) {
        return static_cast<std::uint64_t>(
            static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, x))));
    };
    return m(a) | (m(b) << 16) | (m(c) << 32) | (m(d) << 48);
}
#endif

/// Classifies the 64 bytes at `p` (all must be readable).
SLUICE_ALWAYS_INLINE block_masks classify(const char* p, char quote, char delim) noexcept {
    block_masks m;
#if defined(__AVX2__)
    __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    m.quote = eq_mask(lo, hi, _mm256_set1_epi8(quote));
    m.delim = eq_mask(lo, hi, _mm256_set1_epi8(delim));
    m.newline = eq_mask(lo, hi, _mm256_set1_epi8('\n'));
    m.high = static_cast<std::uint32_t>(_mm256_movemask_epi8(lo)) |
             (std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(hi))} << 32);
#elif defined(__SSE2__)
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
    __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 32));
    __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 48));
    m.quote = eq_mask(a, b, c, d, _mm_set1_epi8(quote));
    m.delim = eq_mask(a, b, c, d, _mm_set1_epi8(delim));
    m.newline = eq_mask(a, b, c, d, _mm_set1_epi8('\n'));
    auto top = [](__m128i v) {
        return static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(v)));
    };
    m.high = top(a) | (top(b) << 16) | (top(c) << 32) | (top(d) << 48);
#else
    m.quote = m.delim = m.newline = m.high = 0;
    for (std::size_t i = 0; i < block_size; ++i) {
        unsigned char ch = static_cast<unsigned char>(p[i]);
        m.quote |= std::uint64_t{ch == static_cast<unsigned char>(quote)} << i;
        m.delim |= std::uint64_t{ch == static_cast<unsigned char>(delim)} << i;
        m.newline |= std::uint64_t{ch == '\n'} << i;
        m.high |= std::uint64_t{ch >= 0x80} << i;
    }
#endif
    return m;
}

/// Bit i of the result is the XOR of bits 0..i of `x`: with `x` the quote mask, the bits
/// from an opening quote up to (not including) its closing quote.
SLUICE_ALWAYS_INLINE std::uint64_t prefix_xor(std::uint64_t x) noexcept {
#if defined(__PCLMUL__)
    // Carry-less multiplication by all-ones is exactly a prefix XOR.
    __m128i r = _mm_clmulepi64_si128(_mm_set_epi64x(0, static_cast<long long>(x)),
                                     _mm_set1_epi8(static_cast<char>(0xFF)), 0);
    return static_cast<std::uint64_t>(_mm_cvtsi128_si64(r));
#else
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
#endif
}

/// Appends `base + i` for every set bit i of `bits` at `out`; returns the new end. Writes up
/// to 8 entries past the end unconditionally (the buffer keeps that much slack): fixed-trip
/// unrolled stores beat a loop whose exit is unpredictable.
SLUICE_ALWAYS_INLINE std::uint32_t* flatten(std::uint32_t* out, std::uint32_t base,
                                            std::uint64_t bits) noexcept {
    if (bits == 0) return out;
    const int count = std::popcount(bits);
    std::uint32_t* end = out + count;
    for (int i = 0; i < 8; ++i) {
        out[i] = base + static_cast<std::uint32_t>(std::countr_zero(bits));
        bits &= bits - 1;
    }
    if (count > 8) {
        out += 8;
        while (bits) {
            *out++ = base + static_cast<std::uint32_t>(std::countr_zero(bits));
            bits &= bits - 1;
        }
    }
    return end;
}

/// Scans whole blocks `[from, to)` of `buf` (`to - from` a multiple of 64), appending the
/// structural indices (quotes; delimiters and line feeds outside quotes) at `out`.
/// `in_quote` is all-ones when the scan starts inside a quoted region and is updated for
/// the next call. `on_non_ascii(pos, high_mask)` is called for blocks that hold a byte
/// >= 0x80 and when `always_check()` says so (a UTF-8 sequence is pending across blocks).
/// `quoted_lf_end` is raised to the end of the last block holding a line feed inside quotes
/// (stage two counts the line feeds of a quoted field only when it starts before that).
template <class NonAscii, class Pending>
SLUICE_ALWAYS_INLINE std::uint32_t* scan_blocks(const char* buf, std::size_t from, std::size_t to,
                                                char quote, char delim, std::uint64_t& in_quote,
                                                std::uint32_t* out, std::size_t& quoted_lf_end,
                                                NonAscii&& on_non_ascii, Pending&& always_check) {
    std::uint64_t carry = in_quote;
    for (std::size_t pos = from; pos < to; pos += block_size) {
        block_masks m = classify(buf + pos, quote, delim);
        std::uint64_t inside = prefix_xor(m.quote) ^ carry;
        // Sign-extend the last bit: all-ones if the block ends inside quotes.
        carry = static_cast<std::uint64_t>(static_cast<std::int64_t>(inside) >> 63);
        std::uint64_t structural = ((m.delim | m.newline) & ~inside) | m.quote;
        out = flatten(out, static_cast<std::uint32_t>(pos), structural);
        if (m.newline & inside) [[unlikely]]
            quoted_lf_end = pos + block_size;
        if (m.high || always_check()) [[unlikely]]
            on_non_ascii(pos, m.high);
    }
    in_quote = carry;
    return out;
}

#if defined(SLUICE_CSV_DISPATCH_AVX2)
#define SLUICE_CSV_AVX2_FN inline __attribute__((always_inline, target("avx2,pclmul,popcnt,bmi")))

/// The bits of the 64 bytes `lo`, `hi` equal to `c` (no lambda: a lambda would not
/// inherit the target attribute).
SLUICE_CSV_AVX2_FN std::uint64_t eq_mask_avx2(__m256i lo, __m256i hi, char c) noexcept {
    const __m256i v = _mm256_set1_epi8(c);
    auto l = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, v)));
    auto h = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, v)));
    return l | (std::uint64_t{h} << 32);
}

/// `classify` with AVX2, for the run-time dispatched variant.
SLUICE_CSV_AVX2_FN block_masks classify_avx2(const char* p, char quote, char delim) noexcept {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    block_masks m;
    m.quote = eq_mask_avx2(lo, hi, quote);
    m.delim = eq_mask_avx2(lo, hi, delim);
    m.newline = eq_mask_avx2(lo, hi, '\n');
    m.high = static_cast<std::uint32_t>(_mm256_movemask_epi8(lo)) |
             (std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(hi))} << 32);
    return m;
}

/// `prefix_xor` with a carry-less multiply.
SLUICE_CSV_AVX2_FN std::uint64_t prefix_xor_clmul(std::uint64_t x) noexcept {
    __m128i r = _mm_clmulepi64_si128(_mm_set_epi64x(0, static_cast<long long>(x)),
                                     _mm_set1_epi8(static_cast<char>(0xFF)), 0);
    return static_cast<std::uint64_t>(_mm_cvtsi128_si64(r));
}

/// `scan_blocks` compiled for AVX2 + PCLMUL + POPCNT + BMI; call it only when
/// `cpu_has_avx2_clmul()`. Same contract, same output.
template <class NonAscii, class Pending>
__attribute__((noinline, target("avx2,pclmul,popcnt,bmi"))) std::uint32_t* scan_blocks_avx2(
    const char* buf, std::size_t from, std::size_t to, char quote, char delim,
    std::uint64_t& in_quote, std::uint32_t* out, std::size_t& quoted_lf_end,
    NonAscii&& on_non_ascii, Pending&& always_check) {
    std::uint64_t carry = in_quote;
    for (std::size_t pos = from; pos < to; pos += block_size) {
        block_masks m = classify_avx2(buf + pos, quote, delim);
        std::uint64_t inside = prefix_xor_clmul(m.quote) ^ carry;
        carry = static_cast<std::uint64_t>(static_cast<std::int64_t>(inside) >> 63);
        std::uint64_t structural = ((m.delim | m.newline) & ~inside) | m.quote;
        out = flatten(out, static_cast<std::uint32_t>(pos), structural);
        if (m.newline & inside) [[unlikely]]
            quoted_lf_end = pos + block_size;
        if (m.high || always_check()) [[unlikely]]
            on_non_ascii(pos, m.high);
    }
    in_quote = carry;
    return out;
}

/// Whether this CPU runs `scan_blocks_avx2` (asked once).
inline bool cpu_has_avx2_clmul() noexcept {
    static const bool yes = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("pclmul") &&
               __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("bmi");
    }();
    return yes;
}
#undef SLUICE_CSV_AVX2_FN
#endif

}  // namespace SLUICE_CSV_ISA
}  // namespace sluice::csv::detail
