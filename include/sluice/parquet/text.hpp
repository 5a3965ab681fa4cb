#pragma once
/// \file
/// Parquet values as text: `parquet::append_json` (a JSON value) and `parquet::append_text`
/// (the same text without JSON string quoting, for CSV fields).
///
/// - integers: their digits (unsigned annotations read unsigned); decimals: the exact digits
///   with the scale's places (`-12.50`), a JSON number;
/// - floats: the shortest text that reads back to the same value (std::to_chars); NaN and
///   the infinities, which JSON lacks, as the strings "NaN", "Infinity", "-Infinity";
/// - DATE: `YYYY-MM-DD`; TIMESTAMP: ISO 8601 `YYYY-MM-DDTHH:MM:SS[.fraction]`, with `Z` when
///   adjusted to UTC (the fraction has only the digits it needs); TIME: `HH:MM:SS[.fraction]`
///   (`Z` when adjusted to UTC); INT96: a timestamp (nanoseconds); the extreme values DuckDB
///   and Postgres use for infinite dates and timestamps as "infinity" / "-infinity";
/// - UUID: the canonical 8-4-4-4-12 hex text; JSON: embedded as it is (when it is valid
///   UTF-8; else a string); strings and enums: JSON strings;
/// - bytes without annotation: printable ASCII as it is, other bytes as `\xNN` (DuckDB's
///   BLOB text); FLOAT16: as a float;
/// - LIST: a JSON array of the elements (in CSV too); null: `null` (an empty CSV field).

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "../core/json_escape.hpp"
#include "../core/utf8.hpp"
#include "rle_decoder.hpp"
#include "value.hpp"

namespace sluice::parquet {

namespace detail {

template <class Out>
void put_uint(Out& out, std::uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
}
template <class Out>
void put_int(Out& out, std::int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
}
template <class Out>
void put_digits(Out& out, std::uint64_t v, int width) {
    char buf[24];
    int n = 0;
    do {
        buf[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width) buf[n++] = '0';
    while (n) out.push_back(buf[--n]);
}

/// (year, month, day) of a count of days since 1970-01-01 (proleptic Gregorian; H. Hinnant's
/// civil_from_days).
struct civil {
    std::int64_t y;
    unsigned m, d;
};
constexpr civil civil_from_days(std::int64_t z) noexcept {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<std::uint64_t>(z - era * 146097);
    const std::uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const std::uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::uint64_t mp = (5 * doy + 2) / 153;
    const auto d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
    const auto m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
    return {y + (m <= 2), m, d};
}

template <class Out>
void put_date(Out& out, std::int64_t days) {
    const civil c = civil_from_days(days);
    if (c.y < 0) {
        out.push_back('-');
        put_digits(out, static_cast<std::uint64_t>(-c.y), 4);
    } else {
        put_digits(out, static_cast<std::uint64_t>(c.y), 4);
    }
    out.push_back('-');
    put_digits(out, c.m, 2);
    out.push_back('-');
    put_digits(out, c.d, 2);
}

/// HH:MM:SS[.fraction] of `ticks` since midnight, `per_second` ticks a second (the fraction
/// trimmed of trailing zeros).
template <class Out>
void put_time_of_day(Out& out, std::uint64_t ticks, std::uint64_t per_second, int digits) {
    const std::uint64_t secs = ticks / per_second;
    std::uint64_t frac = ticks % per_second;
    put_digits(out, secs / 3600, 2);
    out.push_back(':');
    put_digits(out, secs / 60 % 60, 2);
    out.push_back(':');
    put_digits(out, secs % 60, 2);
    if (frac) {
        while (frac % 10 == 0) {
            frac /= 10;
            --digits;
        }
        out.push_back('.');
        put_digits(out, frac, digits);
    }
}

/// An instant `v` ticks since the epoch (`per_second` ticks a second).
template <class Out>
void put_timestamp(Out& out, std::int64_t v, std::uint64_t per_second, int digits, bool utc) {
    const auto ps = static_cast<std::int64_t>(per_second);
    const std::int64_t per_day = ps * 86400;
    std::int64_t days = v / per_day;
    std::int64_t rem = v % per_day;
    if (rem < 0) {
        rem += per_day;
        --days;
    }
    put_date(out, days);
    out.push_back('T');
    put_time_of_day(out, static_cast<std::uint64_t>(rem), per_second, digits);
    if (utc) out.push_back('Z');
}

/// The decimal digits of a big-endian two's complement integer, with `scale` places.
template <class Out>
void put_decimal_bytes(Out& out, std::string_view be, std::int32_t scale) {
    if (be.size() > 64) corrupt("a DECIMAL value of " + std::to_string(be.size()) + " bytes");
    unsigned char mag[64];
    const std::size_t n = be.size();
    std::memcpy(mag, be.data(), n);
    const bool neg = n && (mag[0] & 0x80);
    if (neg) {  // two's complement negation
        bool carry = true;
        for (std::size_t i = n; i-- > 0;) {
            unsigned v = static_cast<unsigned char>(~mag[i]) + (carry ? 1u : 0u);
            mag[i] = static_cast<unsigned char>(v);
            carry = v > 0xFF;
        }
    }
    char digits[160];
    int nd = 0;
    std::size_t start = 0;
    for (;;) {
        while (start < n && mag[start] == 0) ++start;
        if (start == n) break;
        unsigned rem = 0;
        for (std::size_t i = start; i < n; ++i) {
            const unsigned cur = (rem << 8) | mag[i];
            mag[i] = static_cast<unsigned char>(cur / 10);
            rem = cur % 10;
        }
        digits[nd++] = static_cast<char>('0' + rem);
    }
    if (neg) out.push_back('-');
    const int s = scale < 0 ? 0 : scale;
    if (nd <= s) {
        out.append("0");
        if (s) out.push_back('.');
        for (int i = nd; i < s; ++i) out.push_back('0');
        while (nd) out.push_back(digits[--nd]);
        return;
    }
    while (nd > s) out.push_back(digits[--nd]);
    if (s) out.push_back('.');
    while (nd) out.push_back(digits[--nd]);
}

template <class Out>
void put_decimal_int(Out& out, std::int64_t v, std::int32_t scale) {
    unsigned char be[8];
    for (int i = 0; i < 8; ++i) be[i] = static_cast<unsigned char>(static_cast<std::uint64_t>(v) >> (56 - 8 * i));
    put_decimal_bytes(out, std::string_view(reinterpret_cast<const char*>(be), 8), scale);
}

template <class Out, class F>
void put_float(Out& out, F v, bool json) {
    if (std::isnan(v)) {
        out.append(json ? "\"NaN\"" : "NaN");
    } else if (std::isinf(v)) {
        out.append(v > 0 ? (json ? "\"Infinity\"" : "Infinity") : (json ? "\"-Infinity\"" : "-Infinity"));
    } else {
        char buf[64];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        out.append(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
    }
}

inline float half_to_float(std::uint16_t h) noexcept {
    const std::uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1F, man = h & 0x3FF;
    float v;
    if (exp == 0) v = std::ldexp(static_cast<float>(man), -24);
    else if (exp == 31) v = man ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    else v = std::ldexp(static_cast<float>(man | 0x400), static_cast<int>(exp) - 25);
    return sign ? -v : v;
}

template <class Out>
void put_blob(Out& out, std::string_view s, bool json) {
    static constexpr char hex[] = "0123456789ABCDEF";
    if (json) out.push_back('"');
    for (unsigned char c : s) {
        if (c >= 32 && c < 127 && c != '\\' && c != '"' && c != '\'') {
            out.push_back(static_cast<char>(c));
        } else {
            out.append(json ? "\\\\x" : "\\x");
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    if (json) out.push_back('"');
}

template <class Out>
void put_string(Out& out, std::string_view s, bool json) {
    if (json) json::write_string(s, out);
    else out.append(s);
}

/// The text of "infinity" / "-infinity", quoted for JSON.
template <class Out>
void put_infinity(Out& out, bool negative, bool json) {
    if (json) out.push_back('"');
    out.append(negative ? "-infinity" : "infinity");
    if (json) out.push_back('"');
}

template <class Out>
void put_value(Out& out, const leaf_type& t, const value& v, bool json) {
    using k = logical_type::kind;
    const logical_type& lt = t.logical;
    switch (v.kind) {
        case value_kind::null: out.append(json ? "null" : ""); return;
        case value_kind::boolean: out.append(v.b ? "true" : "false"); return;
        case value_kind::float32: put_float(out, v.f, json); return;
        case value_kind::float64: put_float(out, v.d, json); return;
        case value_kind::int96: {
            constexpr std::int64_t ns_per_day = 86'400'000'000'000;
            // days * ns_per_day + nanos overflows past ~2262: print the parts instead.
            if (json) out.push_back('"');
            put_date(out, v.days);
            out.push_back('T');
            put_time_of_day(out, static_cast<std::uint64_t>(v.i < 0 ? 0 : v.i % ns_per_day), 1'000'000'000, 9);
            if (json) out.push_back('"');
            return;
        }
        case value_kind::int32:
        case value_kind::int64: {
            const bool is64 = v.kind == value_kind::int64;
            switch (lt.k) {
                case k::decimal: put_decimal_int(out, v.i, lt.scale); return;
                case k::date:
                    if (v.i == std::numeric_limits<std::int32_t>::max() ||
                        v.i == -std::numeric_limits<std::int32_t>::max())
                        return put_infinity(out, v.i < 0, json);
                    if (json) out.push_back('"');
                    put_date(out, v.i);
                    if (json) out.push_back('"');
                    return;
                case k::time: {
                    const std::uint64_t per = lt.unit == time_unit::millis ? 1000 : lt.unit == time_unit::micros ? 1'000'000 : 1'000'000'000;
                    const int digits = lt.unit == time_unit::millis ? 3 : lt.unit == time_unit::micros ? 6 : 9;
                    if (json) out.push_back('"');
                    put_time_of_day(out, static_cast<std::uint64_t>(v.i < 0 ? 0 : v.i), per, digits);
                    if (lt.adjusted_to_utc) out.push_back('Z');
                    if (json) out.push_back('"');
                    return;
                }
                case k::timestamp: {
                    if (is64 && (v.i == std::numeric_limits<std::int64_t>::max() ||
                                 v.i == -std::numeric_limits<std::int64_t>::max()))
                        return put_infinity(out, v.i < 0, json);
                    const std::uint64_t per = lt.unit == time_unit::millis ? 1000 : lt.unit == time_unit::micros ? 1'000'000 : 1'000'000'000;
                    const int digits = lt.unit == time_unit::millis ? 3 : lt.unit == time_unit::micros ? 6 : 9;
                    if (json) out.push_back('"');
                    put_timestamp(out, v.i, per, digits, lt.adjusted_to_utc);
                    if (json) out.push_back('"');
                    return;
                }
                case k::integer:
                    if (!lt.is_signed) {
                        put_uint(out, is64 ? static_cast<std::uint64_t>(v.i)
                                           : static_cast<std::uint32_t>(static_cast<std::int32_t>(v.i)));
                        return;
                    }
                    break;
                default: break;
            }
            put_int(out, v.i);
            return;
        }
        case value_kind::bytes:
            switch (lt.k) {
                case k::decimal: put_decimal_bytes(out, v.s, lt.scale); return;
                case k::string:
                case k::enum_: put_string(out, v.s, json); return;
                case k::json:
                    if (json && !v.s.empty() && utf8::is_valid(v.s)) out.append(v.s);
                    else put_string(out, v.s, json);
                    return;
                case k::uuid:
                    if (v.s.size() == 16) {
                        static constexpr char hex[] = "0123456789abcdef";
                        if (json) out.push_back('"');
                        for (int i = 0; i < 16; ++i) {
                            if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
                            const auto c = static_cast<unsigned char>(v.s[static_cast<std::size_t>(i)]);
                            out.push_back(hex[c >> 4]);
                            out.push_back(hex[c & 15]);
                        }
                        if (json) out.push_back('"');
                        return;
                    }
                    break;
                case k::float16:
                    if (v.s.size() == 2) {
                        const auto h = static_cast<std::uint16_t>(static_cast<unsigned char>(v.s[0]) |
                                                                  static_cast<unsigned char>(v.s[1]) << 8);
                        put_float(out, half_to_float(h), json);
                        return;
                    }
                    break;
                default: break;
            }
            put_blob(out, v.s, json);
            return;
    }
}

}  // namespace detail

/// Appends `v` (of a column of type `t`) as a JSON value to `out` (a std::string or chunk).
template <class Out>
void append_json(Out& out, const leaf_type& t, const value& v) {
    detail::put_value(out, t, v, true);
}

/// Appends `v` as text for a CSV field: the JSON text without string quoting; null: nothing.
template <class Out>
void append_text(Out& out, const leaf_type& t, const value& v) {
    detail::put_value(out, t, v, false);
}

/// Appends a cell: its value, a JSON array of a list's elements, or `null`.
template <class Out>
void append_json(Out& out, const leaf_type& t, const cell& c) {
    if (c.null) {
        out.append("null");
    } else if (!c.list) {
        append_json(out, t, c.scalar);
    } else {
        out.push_back('[');
        bool first = true;
        for (const value& v : c.elements) {
            if (!first) out.push_back(',');
            first = false;
            append_json(out, t, v);
        }
        out.push_back(']');
    }
}

/// Appends a cell as CSV text: a scalar as `append_text`, a list as its JSON array, null as
/// nothing.
template <class Out>
void append_text(Out& out, const leaf_type& t, const cell& c) {
    if (c.null) return;
    if (c.list) append_json(out, t, c);
    else append_text(out, t, c.scalar);
}

}  // namespace sluice::parquet
