#pragma once
/// \file
/// Compiler glue shared by every sluice header. Nothing here depends on an optional library.

#include <cstddef>

/// Perfect forwarding without repeating the type (decltype keeps value category).
#define SLUICE_FWD(x) static_cast<decltype(x)&&>(x)

#if defined(__GNUC__) || defined(__clang__)
#define SLUICE_ALWAYS_INLINE inline __attribute__((always_inline))
#define SLUICE_NOINLINE __attribute__((noinline))
#else
#define SLUICE_ALWAYS_INLINE inline
#define SLUICE_NOINLINE
#endif

namespace sluice {
/// Cancellation is checked by sources once per this many records (and once per block for
/// byte sources): often enough to stop within a chunk, rarely enough that an atomic load
/// never shows up next to a tight arithmetic loop.
inline constexpr std::size_t stop_check_interval = 4096;
}  // namespace sluice
