#pragma once
/// \file
/// Text to Parquet values, exactly: the writer's conversions of a field's text (a CSV field,
/// a Postgres text-format value) into the stored representation of its column type. Each
/// returns false (never a wrong value) when the text is not a value of the type or the
/// Parquet type cannot hold it; the writer turns that into an error naming column and row.
///
/// - integers: decimal digits with an optional sign, range-checked;
/// - floats: std::from_chars, plus Postgres' `NaN`, `Infinity`, `-Infinity`;
/// - decimals: `[-]digits[.digits]` with at most `scale` fraction digits (padded), at most
///   `precision` digits in all; the unscaled value as a 128-bit integer;
/// - dates `YYYY-MM-DD[ BC]`, times `HH:MM:SS[.ffffff]`, timestamps
///   `YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z|+HH[:MM[:SS]]][ BC]` (an offset converts to UTC);
///   `infinity` / `-infinity` are written as DuckDB writes them: the extreme values
///   (INT32 max / -max for dates, INT64 max / -max for timestamps);
/// - uuid: 32 hex digits with optional dashes (and braces);
/// - bytea: Postgres' hex form `\x0a1b...`, else the bytes as they are.

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace sluice::parquet::text {

// __extension__: GCC and Clang's 128-bit integers, without -Wpedantic's warning.
__extension__ typedef __int128 int128;
__extension__ typedef unsigned __int128 uint128;

/// DuckDB's infinite dates and timestamps.
inline constexpr std::int32_t date_infinity = std::numeric_limits<std::int32_t>::max();
inline constexpr std::int32_t date_neg_infinity = -std::numeric_limits<std::int32_t>::max();
inline constexpr std::int64_t timestamp_infinity = std::numeric_limits<std::int64_t>::max();
inline constexpr std::int64_t timestamp_neg_infinity = -std::numeric_limits<std::int64_t>::max();

inline bool parse_bool(std::string_view s, bool& out) {
    if (s == "t" || s == "true" || s == "1" || s == "TRUE" || s == "True" || s == "T") {
        out = true;
        return true;
    }
    if (s == "f" || s == "false" || s == "0" || s == "FALSE" || s == "False" || s == "F") {
        out = false;
        return true;
    }
    return false;
}

template <class Int>
bool parse_int(std::string_view s, Int& out) {
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

template <class Float>
bool parse_float(std::string_view s, Float& out) {
    if (s == "NaN") {
        out = std::numeric_limits<Float>::quiet_NaN();
        return true;
    }
    if (s == "Infinity" || s == "inf") {
        out = std::numeric_limits<Float>::infinity();
        return true;
    }
    if (s == "-Infinity" || s == "-inf") {
        out = -std::numeric_limits<Float>::infinity();
        return true;
    }
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    // ERANGE: a value past the type's range; from_chars leaves `out` alone, so refuse.
    return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

/// The unscaled value of a decimal with `scale` places and at most `precision` digits.
inline bool parse_decimal(std::string_view s, int precision, int scale, int128& out) {
    bool neg = false;
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
        neg = s.front() == '-';
        s.remove_prefix(1);
    }
    if (s.empty()) return false;
    int128 v = 0;
    int digits = 0, frac = 0;
    bool seen_point = false, any = false;
    for (char c : s) {
        if (c == '.') {
            if (seen_point) return false;
            seen_point = true;
            continue;
        }
        if (c < '0' || c > '9') return false;
        any = true;
        if (seen_point) {
            if (++frac > scale) {
                if (c != '0') return false;  // more fraction digits than the scale holds
                continue;
            }
        }
        if (v != 0 || c != '0' || seen_point) ++digits;
        if (digits > 38) return false;
        v = v * 10 + (c - '0');
    }
    if (!any) return false;
    for (; frac < scale; ++frac) {
        if (++digits > 38) return false;
        v *= 10;
    }
    // Leading zeros of the fraction were counted as digits; recount the significant ones.
    int128 t = v < 0 ? -v : v;
    int sig = 0;
    while (t > 0) {
        ++sig;
        t /= 10;
    }
    if (sig > precision) return false;
    out = neg ? -v : v;
    return true;
}

namespace detail {

inline bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

/// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (any year).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

constexpr bool valid_day(std::int64_t y, int m, int d) noexcept {
    constexpr int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1) return false;
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

/// Parses "Y...Y-MM-DD" at the start of `s` (4+ year digits); sets `used`.
inline bool parse_ymd(std::string_view s, std::int64_t& days, std::size_t& used) {
    std::size_t i = 0;
    std::int64_t y = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i < 9) y = y * 10 + (s[i++] - '0');
    int m = 0, d = 0;
    if (i < 4 || i >= s.size() || s[i] != '-' || !digits(s, i + 1, 2, m) || i + 3 >= s.size() ||
        s[i + 3] != '-' || !digits(s, i + 4, 2, d))
        return false;
    used = i + 6;
    // " BC" at the very end makes the year 1 - y (astronomical numbering).
    if (s.size() >= 3 && s.substr(s.size() - 3) == " BC") y = 1 - y;
    if (!valid_day(y, m, d)) return false;
    days = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
    return true;
}

/// Parses "HH:MM:SS[.ffffff]" at the start of `s`; microseconds of the day; sets `used`.
inline bool parse_hms(std::string_view s, std::int64_t& micros, std::size_t& used) {
    int h = 0, m = 0, sec = 0;
    if (!digits(s, 0, 2, h) || s.size() < 8 || s[2] != ':' || !digits(s, 3, 2, m) ||
        s[5] != ':' || !digits(s, 6, 2, sec))
        return false;
    std::size_t i = 8;
    std::int64_t frac = 0;
    int places = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            if (places < 6) {
                frac = frac * 10 + (s[i] - '0');
                ++places;
            } else if (s[i] != '0') {
                return false;  // below a microsecond: not representable
            }
            ++i;
        }
        if (places == 0) return false;
    }
    for (; places < 6; ++places) frac *= 10;
    if (h > 24 || m > 59 || sec > 60 || (h == 24 && (m || sec || frac))) return false;
    micros = ((std::int64_t{h} * 60 + m) * 60 + sec) * 1'000'000 + frac;
    used = i;
    return true;
}

}  // namespace detail

/// Days since 1970-01-01; `infinity` / `-infinity` as DuckDB writes them.
inline bool parse_date(std::string_view s, std::int32_t& out) {
    if (s == "infinity") {
        out = date_infinity;
        return true;
    }
    if (s == "-infinity") {
        out = date_neg_infinity;
        return true;
    }
    std::int64_t days = 0;
    std::size_t used = 0;
    if (!detail::parse_ymd(s, days, used)) return false;
    if (used != s.size() && s.substr(used) != " BC") return false;
    if (days <= date_neg_infinity || days >= date_infinity) return false;
    out = static_cast<std::int32_t>(days);
    return true;
}

/// Microseconds since midnight.
inline bool parse_time(std::string_view s, std::int64_t& out) {
    std::size_t used = 0;
    return detail::parse_hms(s, out, used) && used == s.size();
}

/// Microseconds since 1970-01-01 00:00 (UTC when `with_zone`: an offset is applied; a
/// timestamp without zone ignores none: an offset there is an error).
inline bool parse_timestamp(std::string_view s, bool with_zone, std::int64_t& out) {
    if (s == "infinity") {
        out = timestamp_infinity;
        return true;
    }
    if (s == "-infinity") {
        out = timestamp_neg_infinity;
        return true;
    }
    std::int64_t days = 0;
    std::size_t i = 0;
    if (!detail::parse_ymd(s, days, i)) return false;
    std::int64_t micros = 0;
    if (i < s.size() && (s[i] == ' ' || s[i] == 'T') && i + 1 < s.size() && s[i + 1] != 'B') {
        std::size_t used = 0;
        if (!detail::parse_hms(s.substr(i + 1), micros, used)) return false;
        i += 1 + used;
    }
    std::int64_t offset_seconds = 0;
    if (i < s.size() && (s[i] == 'Z' || s[i] == '+' || s[i] == '-')) {
        if (!with_zone) return false;
        if (s[i] == 'Z') {
            ++i;
        } else {
            const int sign = s[i] == '-' ? -1 : 1;
            int h = 0, m = 0, sec = 0;
            if (!detail::digits(s, i + 1, 2, h)) return false;
            i += 3;
            if (i < s.size() && s[i] == ':') {
                if (!detail::digits(s, i + 1, 2, m)) return false;
                i += 3;
                if (i < s.size() && s[i] == ':') {
                    if (!detail::digits(s, i + 1, 2, sec)) return false;
                    i += 3;
                }
            }
            offset_seconds = sign * (h * 3600 + m * 60 + sec);
        }
    }
    if (i != s.size() && s.substr(i) != " BC") return false;
    // days * 86400e6 + micros - offset, without overflow: the range of int64 microseconds
    // ends in year 294247; past it (Postgres goes to 294276) is an error, never a wrong value.
    const int128 v = int128{days} * 86'400'000'000 + micros - int128{offset_seconds} * 1'000'000;
    if (v <= timestamp_neg_infinity || v >= timestamp_infinity) return false;
    out = static_cast<std::int64_t>(v);
    return true;
}

/// 16 bytes from a UUID's text.
inline bool parse_uuid(std::string_view s, char out[16]) {
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') s = s.substr(1, s.size() - 2);
    int n = 0;
    int hi = -1;
    for (char c : s) {
        if (c == '-') continue;
        int v;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        else return false;
        if (hi < 0) {
            hi = v;
        } else {
            if (n == 16) return false;
            out[n++] = static_cast<char>(hi << 4 | v);
            hi = -1;
        }
    }
    return n == 16 && hi < 0;
}

/// Postgres bytea text: `\x` + hex pairs; anything else is taken as the bytes themselves.
inline bool parse_bytea(std::string_view s, std::string& out) {
    out.clear();
    if (s.size() < 2 || s[0] != '\\' || s[1] != 'x') {
        out.assign(s);
        return true;
    }
    if (s.size() % 2 != 0) return false;
    out.reserve((s.size() - 2) / 2);
    for (std::size_t i = 2; i < s.size(); i += 2) {
        auto hex = [](char c) {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        const int a = hex(s[i]), b = hex(s[i + 1]);
        if (a < 0 || b < 0) return false;
        out.push_back(static_cast<char>(a << 4 | b));
    }
    return true;
}

/// Splits a Postgres 1-D array literal `{a,"b c",NULL}` into elements, calling
/// `on_elem(std::string_view text, bool is_null)` (quoted elements unescaped into a scratch
/// string). False for malformed text, a multi-dimensional array, or explicit bounds
/// (`[2:3]={...}`), which a LIST cannot hold.
template <class F>
bool split_pg_array(std::string_view s, F&& on_elem, std::string& scratch) {
    if (s.size() < 2 || s.front() != '{' || s.back() != '}') return false;
    s = s.substr(1, s.size() - 2);
    if (s.empty()) return true;
    std::size_t i = 0;
    while (true) {
        if (i < s.size() && s[i] == '{') return false;  // nested: multi-dimensional
        if (i < s.size() && s[i] == '"') {
            scratch.clear();
            ++i;
            while (i < s.size() && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < s.size()) ++i;
                scratch.push_back(s[i++]);
            }
            if (i >= s.size()) return false;
            ++i;
            on_elem(std::string_view(scratch), false);
        } else {
            const std::size_t start = i;
            while (i < s.size() && s[i] != ',') ++i;
            const std::string_view e = s.substr(start, i - start);
            if (e.empty()) return false;
            on_elem(e, e == "NULL");
        }
        if (i == s.size()) return true;
        if (s[i] != ',') return false;
        ++i;
    }
}

}  // namespace sluice::parquet::text
