#pragma once
/// \file
/// `pg::json_encoder`: encodes `pg::row`s (text format) as JSON objects with Postgres's
/// `row_to_json` semantics, one per line (JSONL), for `sluice::encode`:
///
///     pg::rows(conn, sql) | sluice::encode(pg::json_encoder{}) | sluice::to_file("x.jsonl")
///
/// The mapping, verified against the server (tests/postgres/json.cpp):
///   int2/int4/int8, float4/float8, numeric  numbers, as Postgres prints them (numeric
///                                           verbatim, never through a double); NaN and
///                                           +-Infinity as strings "NaN", "Infinity" ...
///   bool                                    true / false
///   json                                    embedded compacted: whitespace between
///                                           tokens removed (the server keeps a json
///                                           value's text as written, line breaks and
///                                           all), everything else as stored
///   jsonb                                   embedded as it prints (always one line)
///   date, timestamp, timestamptz            to_json's ISO 8601: "2024-01-02T03:04:05+00:00"
///                                           (needs the session's DateStyle ISO, which
///                                           `pg::connection` sets by default)
///   arrays (any dimension) of these         nested JSON arrays, NULL elements as null
///   NULL                                    null
///   everything else (text, uuid, oid, ...)  its text as a JSON string (bytea: "\\x...")
/// Composite values, domains and other types created with CREATE TYPE are not mapped
/// (`json_mapping_exact` tells): `pg::json_lines` then lets the server encode, and compacts
/// what it sends the same way (see `json_encoder_options::verbatim_columns`).
/// So every encoded row is one line, whatever its json values hold.

#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../json/compact.hpp"
#include "../core/json_escape.hpp"
#include "row.hpp"

namespace sluice::pg {

/// How a column's text becomes JSON.
enum class json_kind : std::uint8_t {
    string,       ///< a JSON string of the text
    integer,      ///< a number, always valid as printed (int2/4/8)
    number,       ///< a number unless NaN/Infinity (float4/8, numeric)
    boolean,      ///< t/f -> true/false
    json,         ///< json: embedded compacted (whitespace between tokens removed)
    raw,          ///< jsonb: embedded as it prints
    date,         ///< a string, as printed in DateStyle ISO
    timestamp,    ///< a string, ' ' -> 'T'
    timestamptz,  ///< a string, ' ' -> 'T', "+HH" -> "+HH:00"
    unknown,      ///< not a built-in type we know: a string, maybe not what to_json does
};

/// The JSON mapping of a column type: its kind, and for arrays the element's kind and
/// the array's element delimiter.
struct json_mapping {
    json_kind kind = json_kind::unknown;
    bool array = false;
    char delimiter = ',';
};

namespace detail {

/// Built-in type OIDs (pg_type.dat, stable across versions) and their mapping.
inline json_mapping json_mapping_of(Oid oid) noexcept {
    using k = json_kind;
    switch (oid) {
        case 20: case 21: case 23: return {k::integer};                  // int8 int2 int4
        case 700: case 701: case 1700: return {k::number};                // float4 float8 numeric
        case 16: return {k::boolean};
        case 114: return {k::json};
        case 3802: return {k::raw};                                       // jsonb
        case 1082: return {k::date};
        case 1114: return {k::timestamp};
        case 1184: return {k::timestamptz};
        // Built-in types to_json prints as strings.
        case 17: case 18: case 19: case 25: case 26: case 1042: case 1043:  // bytea char name text oid bpchar varchar
        case 2950: case 1083: case 1266: case 1186: case 790:            // uuid time timetz interval money
        case 869: case 650: case 829: case 774: case 142: case 1560: case 1562:  // inet cidr macaddr macaddr8 xml bit varbit
        case 600: case 601: case 602: case 603: case 604: case 628: case 718:  // geometric types
        case 3614: case 3615: case 3220: case 28: case 29: case 27: case 5069:  // tsvector tsquery pg_lsn xid cid tid xid8
        case 24: case 2202: case 2205: case 2206: case 3734: case 3769: case 4089: case 4096:  // reg* types
        case 3904: case 3906: case 3908: case 3910: case 3912: case 3926:  // ranges
        case 4451: case 4532: case 4533: case 4534: case 4535: case 4536:  // multiranges
        case 705: case 2275:                                              // unknown cstring
            return {k::string};
        // Arrays of the above.
        case 1016: case 1005: case 1007: return {k::integer, true};
        case 1021: case 1022: case 1231: return {k::number, true};
        case 1000: return {k::boolean, true};
        case 199: return {k::json, true};
        case 3807: return {k::raw, true};
        case 1182: return {k::date, true};
        case 1115: return {k::timestamp, true};
        case 1185: return {k::timestamptz, true};
        case 1020: return {k::string, true, ';'};                          // box[]
        case 1001: case 1002: case 1003: case 1009: case 1028: case 1014: case 1015:
        case 2951: case 1183: case 1270: case 1187: case 791: case 1041: case 651:
        case 1040: case 775: case 143: case 1561: case 1563: case 1017: case 1018:
        case 1019: case 1027: case 629: case 1034: case 3643: case 3645: case 3221:
        case 1008: case 1011: case 1012: case 1010: case 271: case 1263: case 719:
        case 3905: case 3907: case 3909: case 3911: case 3913: case 3927:
            return {k::string, true};
        default: return {k::unknown};
    }
}

/// Appends a JSON number or string for a float/numeric's text: Postgres prints the
/// specials as NaN, Infinity, -Infinity, which to_json turns into strings.
inline void write_number(std::string_view v, chunk& out) {
    char c = v.empty() ? 'N' : v[0] == '-' && v.size() > 1 ? v[1] : v[0];
    if (c == 'N' || c == 'I')
        json::write_string(v, out);
    else
        out.append(v);
}

/// Appends a date/time value in to_json's form. In DateStyle ISO the text is
/// "2024-01-02 03:04:05.5+05:30" (or "... BC", "infinity"); to_json prints the same with
/// 'T' between date and time and the offset always with minutes ("+00" -> "+00:00").
inline void write_datetime(std::string_view v, json_kind kind, chunk& out) {
    out.reserve_spare(v.size() + 8);
    out.push_back('"');
    std::size_t sp = v.find(' ');
    if (kind == json_kind::date || sp == std::string_view::npos || sp + 1 >= v.size() ||
        v[sp + 1] < '0' || v[sp + 1] > '9') {
        out.append(v);  // a date, "infinity", or a shape we do not know: unchanged
        out.push_back('"');
        return;
    }
    out.append(v.substr(0, sp));
    out.push_back('T');
    std::string_view rest = v.substr(sp + 1);
    if (kind == json_kind::timestamptz) {
        // The offset's sign comes after "HH:MM:SS[.ffffff]".
        std::size_t s = rest.find_first_of("+-");
        if (s != std::string_view::npos) {
            std::size_t end = rest.find(' ', s);
            if (end == std::string_view::npos) end = rest.size();
            out.append(rest.substr(0, end));
            if (end - s == 3) out.append(":00");
            out.append(rest.substr(end));
            out.push_back('"');
            return;
        }
    }
    out.append(rest);
    out.push_back('"');
}

/// Appends one non-null scalar of kind `kind`.
inline void write_scalar(std::string_view v, json_kind kind, chunk& out) {
    switch (kind) {
        case json_kind::integer: out.append(v); return;
        case json_kind::number: write_number(v, out); return;
        case json_kind::boolean: out.append(v == "t" ? std::string_view("true") : "false"); return;
        case json_kind::json: json::write_compact(v, out); return;
        case json_kind::raw: out.append(v); return;
        case json_kind::date:
        case json_kind::timestamp:
        case json_kind::timestamptz: write_datetime(v, kind, out); return;
        case json_kind::string:
        case json_kind::unknown: json::write_string(v, out); return;
    }
}

/// Converts an array's text form ("{1,2,NULL}", "{{\"a b\",c},{NULL,\"NULL\"}}",
/// "[0:1]={1,2}") into a JSON array. Elements are unquoted (NULL is a null, "NULL" a
/// string) or double-quoted with backslash escapes.
class array_writer {
public:
    array_writer(std::string_view text, json_mapping t, chunk& out, std::string& scratch)
        : s_(text), t_(t), out_(out), tmp_(scratch) {}

    void write() {
        if (!s_.empty() && s_[0] == '[') {
            // Explicit bounds: to_json ignores them.
            auto eq = s_.find('=');
            if (eq == std::string_view::npos) bad();
            i_ = eq + 1;
        }
        level();
        if (i_ != s_.size()) bad();
    }

private:
    void level() {
        if (i_ >= s_.size() || s_[i_] != '{') bad();
        ++i_;
        out_.push_back('[');
        if (i_ < s_.size() && s_[i_] == '}') {
            ++i_;
            out_.push_back(']');
            return;
        }
        for (bool first = true;; first = false) {
            if (!first) out_.push_back(',');
            if (i_ >= s_.size()) bad();
            if (s_[i_] == '{')
                level();
            else
                element();
            if (i_ >= s_.size()) bad();
            if (s_[i_] == '}') {
                ++i_;
                out_.push_back(']');
                return;
            }
            if (s_[i_] != t_.delimiter) bad();
            ++i_;
        }
    }

    void element() {
        if (s_[i_] == '"') {
            tmp_.clear();
            for (++i_;; ++i_) {
                if (i_ >= s_.size()) bad();
                char c = s_[i_];
                if (c == '"') break;
                if (c == '\\') {
                    if (++i_ >= s_.size()) bad();
                    c = s_[i_];
                }
                tmp_ += c;
            }
            ++i_;
            write_scalar(tmp_, t_.kind, out_);
            return;
        }
        std::size_t end = i_;
        while (end < s_.size() && s_[end] != t_.delimiter && s_[end] != '}') ++end;
        std::string_view v = s_.substr(i_, end - i_);
        i_ = end;
        if (v.size() == 4 && (v[0] | 0x20) == 'n' && (v[1] | 0x20) == 'u' &&
            (v[2] | 0x20) == 'l' && (v[3] | 0x20) == 'l')
            out_.append("null");
        else
            write_scalar(v, t_.kind, out_);
    }

    [[noreturn]] void bad() const {
        throw sluice::error(errc::bad_input, "postgres.json",
                            "malformed array literal: " + std::string(s_.substr(0, 200)));
    }

    std::string_view s_;
    json_mapping t_;
    chunk& out_;
    std::string& tmp_;
    std::size_t i_ = 0;
};

}  // namespace detail

/// The JSON mapping `json_encoder` uses for a type OID.
inline json_mapping json_mapping_of(Oid oid) noexcept { return detail::json_mapping_of(oid); }

/// True when every column maps exactly as row_to_json would (built-in types only).
inline bool json_mapping_exact(const column_list& cols) noexcept {
    for (const auto& c : cols)
        if (detail::json_mapping_of(c.type).kind == json_kind::unknown) return false;
    return true;
}

/// How `json_encoder` frames the objects.
enum class json_framing : std::uint8_t {
    lines,  ///< one object per line (JSONL)
    array,  ///< one JSON array: "[" objects separated by ",\n" "]\n"
    bare,   ///< objects only, nothing between them (for embedding elsewhere)
};

/// Options of `json_encoder`.
struct json_encoder_options {
    json_framing framing = json_framing::lines;
    /// Each row is one column that the server already encoded (`SELECT row_to_json(q)
    /// FROM (...) q`): its text is copied compacted, the values of `verbatim_columns`
    /// exactly. `pg::json_lines` sets this when the query has types the client-side
    /// mapping does not know.
    bool passthrough = false;
    /// With `passthrough`: the members (by column index) whose values are copied exactly -
    /// the jsonb columns, which the server prints on one line with a space after each
    /// `:` and `,` (as the client-side mapping keeps them). Every other member is
    /// compacted, so a json value (as written: raw line breaks, indentation) nested
    /// anywhere in it, even inside a composite or a domain, cannot break the line.
    std::vector<bool> verbatim_columns;
};

/// Encodes rows as `{"col":value,...}` exactly as `row_to_json(q)` prints them (no spaces;
/// keys are the column names, in order), except that json values are compacted so each
/// row is one line. An encoder for `sluice::encode`; also usable directly:
/// `enc.encode(row, chunk)`. Unknown types become strings (see the file comment).
class json_encoder {
public:
    json_encoder() = default;
    explicit json_encoder(json_encoder_options o) : opt_(std::move(o)) {}

    /// Appends the row's JSON object (and '\n' unless disabled) to `out`.
    template <row_like R>
    void encode(const R& r, chunk& out) {
        if (opt_.framing == json_framing::array && count_ > 0) out.append(",\n");
        ++count_;
        if (opt_.passthrough) {
            const auto& keep = opt_.verbatim_columns;
            json::write_compact_members(
                r.value(0), [&keep](std::size_t i) { return i < keep.size() && keep[i]; }, out);
            if (opt_.framing == json_framing::lines) out.push_back('\n');
            return;
        }
        prepare(r.shared_columns());
        const int n = r.size();
        out.push_back('{');
        for (int i = 0; i < n; ++i) {
            const auto& col = cols_[static_cast<std::size_t>(i)];
            out.append(i == 0 ? std::string_view(col.key).substr(1) : std::string_view(col.key));
            if (r.is_null(i)) {
                out.append("null");
                continue;
            }
            std::string_view v = r.value(i);
            if (col.type.array)
                detail::array_writer(v, col.type, out, scratch_).write();
            else
                detail::write_scalar(v, col.type.kind, out);
        }
        out.push_back('}');
        if (opt_.framing == json_framing::lines) out.push_back('\n');
    }

    /// The array's opening bracket (array framing only).
    void begin(chunk& out) {
        if (opt_.framing == json_framing::array) out.push_back('[');
    }
    /// The array's closing bracket (array framing only).
    void end(chunk& out) {
        if (opt_.framing == json_framing::array) out.append("]\n");
    }
    /// Rows encoded so far, in every framing.
    std::uint64_t count() const noexcept { return count_; }

private:
    struct column_plan {
        std::string key;  // ,"name":
        json_mapping type;
    };

    /// Computes the per-column plan once per result (rows of a result share the list).
    void prepare(const std::shared_ptr<const column_list>& cols) {
        if (cols.get() == planned_ && cols_.size() == cols->size()) return;
        planned_ = cols.get();
        keep_ = cols;
        cols_.clear();
        for (const auto& c : *cols) {
            chunk k;
            k.push_back(',');
            json::write_string(c.name, k);
            k.push_back(':');
            cols_.push_back(column_plan{std::string(k.view()), detail::json_mapping_of(c.type)});
        }
    }

    json_encoder_options opt_;
    std::uint64_t count_ = 0;
    const column_list* planned_ = nullptr;
    std::shared_ptr<const column_list> keep_;  // so planned_ cannot be reused by another list
    std::vector<column_plan> cols_;
    std::string scratch_;
};

}  // namespace sluice::pg
