#pragma once
/// \file
/// The writer's schema: named columns of a `column_type` (what the values mean) that maps to
/// a Parquet physical type + logical annotation, nullable or not, scalar or a 1-D LIST.
///
/// Build one in code, from a struct's field list (`schema_of<T>()`, parquet/record.hpp), from a
/// CSV header (`schema::all_strings(names)`), from a Postgres result (postgres/parquet.hpp), or
/// from text: `parse_schema("id:int64,amount:decimal(12,2),created_at:timestamptz,tags:list<string>")`.
///
/// Type names of the text form (case-insensitive): bool, int16, int32, int64, float (float32),
/// double (float64), string (text), json, bytes (binary), decimal(p,s), date, time,
/// timestamp, timestamptz, uuid, and list<T> of any of those. A `!` after a type makes the
/// column required (never null): `id:int64!`.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../core/ascii.hpp"
#include "../core/error.hpp"
#include "metadata.hpp"

namespace sluice::parquet {

/// What a column's values are; decides the physical type and annotation.
enum class value_type : std::uint8_t {
    boolean,
    int16,        ///< INT32 + INTEGER(16, signed)
    int32,        ///< INT32
    int64,        ///< INT64
    float32,      ///< FLOAT
    float64,      ///< DOUBLE
    string,       ///< BYTE_ARRAY + STRING (UTF-8 checked)
    json,         ///< BYTE_ARRAY + JSON (compact text)
    bytes,        ///< BYTE_ARRAY, no annotation
    decimal,      ///< INT32 (p <= 9), INT64 (p <= 18), FIXED_LEN_BYTE_ARRAY (p <= 38) + DECIMAL
    date,         ///< INT32 + DATE
    time,         ///< INT64 + TIME(micros, not adjusted)
    timestamp,    ///< INT64 + TIMESTAMP(micros, not adjusted)
    timestamptz,  ///< INT64 + TIMESTAMP(micros, adjusted to UTC)
    uuid,         ///< FIXED_LEN_BYTE_ARRAY(16) + UUID
};

/// A column's type: the value type, decimal precision/scale, and whether it is a LIST.
struct column_type {
    value_type type = value_type::string;
    int precision = 0;  ///< decimal: 1..38
    int scale = 0;      ///< decimal: 0..precision
    bool list = false;  ///< a 1-D LIST of `type` elements (elements may be null)

    friend bool operator==(const column_type&, const column_type&) = default;
};

/// One column of a schema.
struct column {
    std::string name;
    column_type type;
    bool nullable = true;  ///< false: REQUIRED (a null is an error naming the column and row)
};

/// The bytes a FIXED_LEN_BYTE_ARRAY decimal of `precision` digits needs (two's complement).
constexpr int decimal_bytes(int precision) noexcept {
    // Smallest n with 2^(8n-1) > 10^precision - 1.
    int n = 1;
    long double limit = 128.0L;  // 2^(8n-1) for n = 1
    long double max = 1;
    for (int i = 0; i < precision; ++i) max *= 10;
    while (limit < max) {
        ++n;
        limit *= 256.0L;
    }
    return n;
}

/// The physical type a value type is stored as.
constexpr physical_type physical_of(const column_type& t) noexcept {
    switch (t.type) {
        case value_type::boolean: return physical_type::boolean;
        case value_type::int16:
        case value_type::int32:
        case value_type::date: return physical_type::int32;
        case value_type::int64:
        case value_type::time:
        case value_type::timestamp:
        case value_type::timestamptz: return physical_type::int64;
        case value_type::float32: return physical_type::float32;
        case value_type::float64: return physical_type::float64;
        case value_type::string:
        case value_type::json:
        case value_type::bytes: return physical_type::byte_array;
        case value_type::uuid: return physical_type::fixed_len_byte_array;
        case value_type::decimal:
            return t.precision <= 9    ? physical_type::int32
                   : t.precision <= 18 ? physical_type::int64
                                       : physical_type::fixed_len_byte_array;
    }
    return physical_type::byte_array;
}

/// The fixed length of a FIXED_LEN_BYTE_ARRAY column (0 for other types).
constexpr int fixed_length_of(const column_type& t) noexcept {
    if (t.type == value_type::uuid) return 16;
    if (t.type == value_type::decimal && t.precision > 18) return decimal_bytes(t.precision);
    return 0;
}

/// The text form of a type: "int64", "decimal(12,2)", "list<string>".
inline std::string to_string(const column_type& t) {
    std::string s;
    switch (t.type) {
        case value_type::boolean: s = "bool"; break;
        case value_type::int16: s = "int16"; break;
        case value_type::int32: s = "int32"; break;
        case value_type::int64: s = "int64"; break;
        case value_type::float32: s = "float"; break;
        case value_type::float64: s = "double"; break;
        case value_type::string: s = "string"; break;
        case value_type::json: s = "json"; break;
        case value_type::bytes: s = "bytes"; break;
        case value_type::decimal:
            s = "decimal(" + std::to_string(t.precision) + "," + std::to_string(t.scale) + ")";
            break;
        case value_type::date: s = "date"; break;
        case value_type::time: s = "time"; break;
        case value_type::timestamp: s = "timestamp"; break;
        case value_type::timestamptz: s = "timestamptz"; break;
        case value_type::uuid: s = "uuid"; break;
    }
    return t.list ? "list<" + s + ">" : s;
}

/// A writer's schema: the top-level columns in order.
struct schema {
    std::vector<column> columns;

    /// Every column a nullable string (a CSV file's header).
    template <class Names>
    static schema all_strings(const Names& names) {
        schema s;
        for (const auto& n : names) s.columns.push_back({std::string(n), {}, true});
        return s;
    }

    /// The flattened Parquet schema (root first), as written to the footer.
    std::vector<schema_element> elements() const {
        std::vector<schema_element> out;
        schema_element root;
        root.name = "schema";
        root.num_children = static_cast<std::int32_t>(columns.size());
        out.push_back(root);
        for (const column& c : columns) {
            schema_element leaf = leaf_element(c.type);
            if (!c.type.list) {
                leaf.name = c.name;
                leaf.repetition_type = c.nullable ? repetition::optional : repetition::required;
                out.push_back(std::move(leaf));
                continue;
            }
            // The three-level LIST of LogicalTypes.md: optional group (LIST) { repeated group
            // list { optional element } }.
            schema_element outer;
            outer.name = c.name;
            outer.repetition_type = c.nullable ? repetition::optional : repetition::required;
            outer.num_children = 1;
            outer.converted = converted_type::list;
            outer.logical = logical_type::of(logical_type::kind::list);
            out.push_back(std::move(outer));
            schema_element mid;
            mid.name = "list";
            mid.repetition_type = repetition::repeated;
            mid.num_children = 1;
            out.push_back(std::move(mid));
            leaf.name = "element";
            leaf.repetition_type = repetition::optional;
            out.push_back(std::move(leaf));
        }
        return out;
    }

    /// The leaf element (type and annotations, no name or repetition) of a value type.
    static schema_element leaf_element(const column_type& t) {
        using k = logical_type::kind;
        schema_element e;
        e.type = physical_of(t);
        if (const int n = fixed_length_of(t)) e.type_length = n;
        switch (t.type) {
            case value_type::int16:
                e.logical = logical_type::integer(16, true);
                e.converted = converted_type::int_16;
                break;
            case value_type::string:
                e.logical = logical_type::of(k::string);
                e.converted = converted_type::utf8;
                break;
            case value_type::json:
                e.logical = logical_type::of(k::json);
                e.converted = converted_type::json;
                break;
            case value_type::decimal:
                e.logical = logical_type::decimal(t.precision, t.scale);
                e.converted = converted_type::decimal;
                e.precision = t.precision;
                e.scale = t.scale;
                break;
            case value_type::date:
                e.logical = logical_type::of(k::date);
                e.converted = converted_type::date;
                break;
            case value_type::time:
                e.logical = logical_type::time(false);
                e.converted = converted_type::time_micros;
                break;
            case value_type::timestamp:
                // No ConvertedType: TIMESTAMP_MICROS means adjusted to UTC to old readers.
                e.logical = logical_type::timestamp(false);
                break;
            case value_type::timestamptz:
                e.logical = logical_type::timestamp(true);
                e.converted = converted_type::timestamp_micros;
                break;
            case value_type::uuid: e.logical = logical_type::of(k::uuid); break;
            default: break;
        }
        return e;
    }
};

namespace detail {

[[noreturn]] inline void schema_error(std::string_view spec, const std::string& what) {
    throw error(errc::usage, "parquet",
                "bad schema '" + std::string(spec) + "': " + what +
                    " (expected name:type[,name:type...], types: bool int16 int32 int64 float "
                    "double string json bytes decimal(p,s) date time timestamp timestamptz uuid "
                    "list<type>)");
}

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

inline column_type parse_scalar_type(std::string_view spec, std::string_view t) {
    const std::string name = ascii::lowered(trim(t));
    column_type ct;
    struct alias {
        const char* name;
        value_type type;
    };
    static constexpr alias names[] = {
        {"bool", value_type::boolean},       {"boolean", value_type::boolean},
        {"int16", value_type::int16},        {"smallint", value_type::int16},
        {"int32", value_type::int32},        {"int", value_type::int32},
        {"integer", value_type::int32},      {"int64", value_type::int64},
        {"bigint", value_type::int64},       {"float", value_type::float32},
        {"float32", value_type::float32},    {"double", value_type::float64},
        {"float64", value_type::float64},    {"string", value_type::string},
        {"text", value_type::string},        {"json", value_type::json},
        {"bytes", value_type::bytes},        {"binary", value_type::bytes},
        {"date", value_type::date},          {"time", value_type::time},
        {"timestamp", value_type::timestamp}, {"timestamptz", value_type::timestamptz},
        {"uuid", value_type::uuid},
    };
    for (const alias& a : names)
        if (name == a.name) {
            ct.type = a.type;
            return ct;
        }
    if (name.rfind("decimal(", 0) == 0 && name.back() == ')') {
        const std::string args = name.substr(8, name.size() - 9);
        const auto comma = args.find(',');
        try {
            ct.type = value_type::decimal;
            ct.precision = std::stoi(args.substr(0, comma));
            ct.scale = comma == std::string::npos ? 0 : std::stoi(args.substr(comma + 1));
        } catch (const std::exception&) {
            schema_error(spec, "bad decimal '" + name + "'");
        }
        if (ct.precision < 1 || ct.precision > 38 || ct.scale < 0 || ct.scale > ct.precision)
            schema_error(spec, "decimal precision must be 1..38 and scale 0..precision in '" +
                                   name + "'");
        return ct;
    }
    schema_error(spec, "unknown type '" + std::string(trim(t)) + "'");
}

}  // namespace detail

/// Parses "name:type[,name:type...]" (see the file comment). Throws `errc::usage`.
inline schema parse_schema(std::string_view spec) {
    schema s;
    std::size_t i = 0;
    while (i <= spec.size()) {
        // A comma inside decimal(p,s) or list<...> does not end the column.
        std::size_t j = i;
        int depth = 0;
        while (j < spec.size() && (spec[j] != ',' || depth > 0)) {
            if (spec[j] == '(' || spec[j] == '<') ++depth;
            if (spec[j] == ')' || spec[j] == '>') --depth;
            ++j;
        }
        const std::string_view part = detail::trim(spec.substr(i, j - i));
        const auto colon = part.find(':');
        if (colon == std::string_view::npos || colon == 0)
            detail::schema_error(spec, "'" + std::string(part) + "' is not name:type");
        column c;
        c.name = std::string(detail::trim(part.substr(0, colon)));
        std::string_view t = detail::trim(part.substr(colon + 1));
        if (!t.empty() && t.back() == '!') {
            c.nullable = false;
            t.remove_suffix(1);
        }
        const std::string lower = ascii::lowered(t);
        if (lower.rfind("list<", 0) == 0 && lower.back() == '>') {
            c.type = detail::parse_scalar_type(spec, t.substr(5, t.size() - 6));
            c.type.list = true;
        } else {
            c.type = detail::parse_scalar_type(spec, t);
        }
        for (const column& other : s.columns)
            if (other.name == c.name) detail::schema_error(spec, "column '" + c.name + "' twice");
        s.columns.push_back(std::move(c));
        i = j + 1;
    }
    if (s.columns.empty()) detail::schema_error(spec, "no columns");
    return s;
}

}  // namespace sluice::parquet
