#pragma once
/// \file
/// UTF-8 validation (the one copy: the CSV reader, dead letters and the CLI use it): a
/// streaming validator (its state crosses input
/// blocks and reports the position of each invalid sequence's first byte), a one-shot check
/// and a copy that replaces invalid sequences with U+FFFD. Callers skip pure-ASCII blocks
/// before calling in, so this scalar code only sees the blocks that hold non-ASCII bytes.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "chunk.hpp"
#include "config.hpp"

namespace sluice::utf8 {

/// Incremental UTF-8 validator (RFC 3629: no overlongs, surrogates or code points past
/// U+10FFFF). Positions are whatever the caller counts in (buffer offsets for the reader).
struct validator {
    static constexpr std::size_t block_bits = 64;
    std::uint8_t rem = 0;    ///< continuation bytes still expected
    std::uint8_t lo = 0x80;  ///< allowed range of the next continuation byte
    std::uint8_t hi = 0xBF;
    std::int64_t lead = 0;  ///< position of the lead byte of the sequence in progress

    /// True between sequences (nothing pending).
    bool ground() const noexcept { return rem == 0; }

    /// Checks `n` bytes at `p`, the first being at position `pos`; calls `bad(position)`
    /// with the first byte of every invalid sequence, then resynchronises after it.
    template <class Bad>
    void feed(const char* p, std::size_t n, std::int64_t pos, Bad&& bad) {
        std::size_t i = 0;
        while (i < n) {
            if (rem == 0) {
                // ASCII fast path: 8 bytes at a time while none has its top bit set.
                while (i + 8 <= n) {
                    std::uint64_t w;
                    std::memcpy(&w, p + i, 8);
                    if (w & 0x8080808080808080ull) break;
                    i += 8;
                }
                while (i < n && static_cast<unsigned char>(p[i]) < 0x80) ++i;
                if (i == n) return;
            }
            step(static_cast<unsigned char>(p[i]), pos + static_cast<std::int64_t>(i), bad);
            ++i;
        }
    }

    /// Checks the block of `n <= 64` bytes at `p` (position `pos`) whose bytes >= 0x80 are
    /// the set bits of `high`. Only those bytes are stepped through: a valid multi-byte
    /// sequence is a run of such bytes, and an ASCII byte while one is pending breaks it.
    template <class Bad>
    void feed_block(const char* p, std::size_t n, std::uint64_t high, std::int64_t pos, Bad&& bad) {
        std::size_t cur = 0;  // bytes of the block accounted for
        while (high) {
            const std::size_t start = static_cast<std::size_t>(std::countr_zero(high));
            if (rem && start != cur) {  // ASCII bytes between: the pending sequence broke
                bad(lead);
                rem = 0;
            }
            const std::size_t len = static_cast<std::size_t>(std::countr_one(high >> start));
            for (std::size_t k = start; k < start + len; ++k)
                step(static_cast<unsigned char>(p[k]), pos + static_cast<std::int64_t>(k), bad);
            cur = start + len;
            high = cur >= block_bits ? 0 : high & (~std::uint64_t{0} << cur);
        }
        if (rem && cur < n) {
            bad(lead);
            rem = 0;
        }
    }

    /// End of input: a sequence cut short is invalid.
    template <class Bad>
    void finish(Bad&& bad) {
        if (rem) bad(lead);
        rem = 0;
    }

    /// One byte. Public so that the replacing copy can share the exact rules.
    template <class Bad>
    SLUICE_ALWAYS_INLINE bool step(unsigned char c, std::int64_t at, Bad&& bad) {
        if (rem) {
            if (c >= lo && c <= hi) {
                --rem;
                lo = 0x80;
                hi = 0xBF;
                return true;
            }
            // The sequence broke off: report it, then read this byte afresh (it may be ASCII
            // or a new lead byte).
            bad(lead);
            rem = 0;
        }
        lo = 0x80;
        hi = 0xBF;
        lead = at;
        if (c < 0x80) return true;
        if (c >= 0xC2 && c <= 0xDF)
            rem = 1;
        else if (c == 0xE0)
            rem = 2, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEF)
            rem = 2, hi = (c == 0xED ? 0x9F : 0xBF);  // ED A0..BF would be a surrogate
        else if (c == 0xF0)
            rem = 3, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3)
            rem = 3;
        else if (c == 0xF4)
            rem = 3, hi = 0x8F;  // nothing past U+10FFFF
        else {
            bad(at);  // a continuation byte without a lead, C0/C1 (overlong) or F5..FF
            return false;
        }
        return true;
    }
};

/// True if `s` is entirely valid UTF-8.
inline bool is_valid(std::string_view s) {
    bool ok = true;
    validator v;
    auto bad = [&](std::int64_t) { ok = false; };
    v.feed(s.data(), s.size(), 0, bad);
    v.finish(bad);
    return ok;
}

/// Appends `s` to `out`, each maximal invalid subsequence replaced by U+FFFD (EF BF BD),
/// the way WHATWG decoders do: a lead byte with some valid continuation bytes and then a
/// break counts as one error, a stray byte as one.
inline void append_replacing(std::string_view s, chunk& out) {
    static constexpr std::string_view replacement = "\xEF\xBF\xBD";
    out.reserve_spare(s.size() * 3);
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        std::size_t run = i;
        while (run < n && static_cast<unsigned char>(s[run]) < 0x80) ++run;
        out.append(s.substr(i, run - i));
        if (run == n) break;
        i = run;
        unsigned char c = static_cast<unsigned char>(s[i]);
        int need = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            need = 1;
        else if (c == 0xE0)
            need = 2, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEF)
            need = 2, hi = (c == 0xED ? 0x9F : 0xBF);
        else if (c == 0xF0)
            need = 3, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3)
            need = 3;
        else if (c == 0xF4)
            need = 3, hi = 0x8F;
        std::size_t j = i + 1;
        for (int k = 0; k < need && j < n; ++k) {
            unsigned char d = static_cast<unsigned char>(s[j]);
            if (d < lo || d > hi) break;
            ++j;
            lo = 0x80;
            hi = 0xBF;
        }
        if (need > 0 && j - i == static_cast<std::size_t>(need) + 1)
            out.append(s.substr(i, j - i));
        else
            out.append(replacement);
        i = j;
    }
}

}  // namespace sluice::utf8
