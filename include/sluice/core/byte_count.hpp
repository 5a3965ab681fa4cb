#pragma once
/// \file
/// `count_byte(text, c)`: how many times the byte `c` occurs in `text`, 16 bytes per step
/// (line feeds in a block for its line number, quotes for the parity that says where a CSV
/// record may end). `std::count` is not vectorised at -O2, and a movemask + popcount per
/// step costs a library call on baseline x86-64 (no POPCNT): here the matches are summed
/// per byte lane and folded every 255 steps.

///
/// On x86-64, GCC and Clang also compile a 32-byte AVX2 variant with a function target
/// attribute, used when the CPU has AVX2 (asked once, unless built for AVX2): half the steps
/// over the reading thread's two passes of every block (line feeds, quotes).

#include <algorithm>
#include <cstddef>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SLUICE_COUNT_BYTE_DISPATCH_AVX2 1
#endif

namespace sluice {

namespace detail {

#ifdef SLUICE_COUNT_BYTE_DISPATCH_AVX2
/// count_byte's whole 32-byte steps with AVX2; `*consumed` gets the bytes they covered.
__attribute__((target("avx2"))) inline std::size_t count_byte_avx2(const char* p, std::size_t n, char c,
                                                                 std::size_t* consumed) noexcept {
    const __m256i needle = _mm256_set1_epi8(c);
    std::size_t total = 0, done = 0;
    while (n - done >= 32) {
        const std::size_t steps = std::min<std::size_t>((n - done) / 32, 255);
        __m256i lanes = _mm256_setzero_si256();  // matches per byte lane, at most 255 each
        for (std::size_t i = 0; i < steps; ++i, done += 32)
            lanes = _mm256_sub_epi8(
                lanes, _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + done)),
                                         needle));
        const __m256i sums = _mm256_sad_epu8(lanes, _mm256_setzero_si256());
        total += static_cast<std::size_t>(_mm256_extract_epi64(sums, 0)) +
                 static_cast<std::size_t>(_mm256_extract_epi64(sums, 1)) +
                 static_cast<std::size_t>(_mm256_extract_epi64(sums, 2)) +
                 static_cast<std::size_t>(_mm256_extract_epi64(sums, 3));
    }
    *consumed = done;
    return total;
}

/// Whether this CPU runs count_byte_avx2 (asked once; known when built for AVX2).
inline bool count_byte_has_avx2() noexcept {
#if defined(__AVX2__)
    return true;
#endif
    static const bool yes = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") != 0;
    }();
    return yes;
}
#endif

}  // namespace detail

inline std::size_t count_byte(std::string_view text, char c) noexcept {
    const char* p = text.data();
    std::size_t n = text.size();
    std::size_t total = 0;
#ifdef SLUICE_COUNT_BYTE_DISPATCH_AVX2
    if (n >= 64 && detail::count_byte_has_avx2()) {
        std::size_t done = 0;
        total = detail::count_byte_avx2(p, n, c, &done);
        p += done;
        n -= done;
    }
#endif
#if defined(__SSE2__)
    const __m128i needle = _mm_set1_epi8(c);
    while (n >= 16) {
        const std::size_t steps = std::min<std::size_t>(n / 16, 255);
        __m128i lanes = _mm_setzero_si128();  // matches per byte lane, at most 255 each
        for (std::size_t i = 0; i < steps; ++i, p += 16)
            lanes = _mm_sub_epi8(
                lanes, _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), needle));
        const __m128i sums = _mm_sad_epu8(lanes, _mm_setzero_si128());
        total += static_cast<std::size_t>(_mm_cvtsi128_si32(sums)) +
                 static_cast<std::size_t>(_mm_extract_epi16(sums, 4));
        n -= steps * 16;
    }
#endif
    for (; n; --n, ++p) total += *p == c;
    return total;
}

}  // namespace sluice
