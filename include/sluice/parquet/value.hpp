#pragma once
/// \file
/// What the Parquet reader hands out: `parquet::value` (one physical value: a bool, an
/// integer, a float, a byte string or an INT96 timestamp), `parquet::leaf_type` (a column's
/// physical type and its logical annotation, the deprecated ConvertedType folded in) and
/// `parquet::cell` (a row's entry for one top-level column: a value, or the elements of a
/// LIST). Byte strings are views valid until the reader's next pull.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "metadata.hpp"

namespace sluice::parquet {

/// Which member of a `value` is set.
enum class value_kind : std::uint8_t {
    null,     ///< no value
    boolean,  ///< `b`
    int32,    ///< `i` (an INT32 column)
    int64,    ///< `i` (an INT64 column)
    int96,    ///< `i` = nanoseconds of the day, `days` = days since 1970-01-01 (a legacy timestamp)
    float32,  ///< `f`
    float64,  ///< `d`
    bytes,    ///< `s` (BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY)
};

/// One physical value of a column. Which member holds it is `kind`.
struct value {
    value_kind kind = value_kind::null;
    bool b = false;
    float f = 0;
    std::int32_t days = 0;
    std::int64_t i = 0;
    double d = 0;
    std::string_view s;  ///< valid until the reader's next pull

    bool is_null() const noexcept { return kind == value_kind::null; }
};

/// A leaf column's type: the physical type, FIXED_LEN_BYTE_ARRAY's length, and its logical
/// type (from LogicalType, else derived from the ConvertedType, else `none`).
struct leaf_type {
    physical_type physical = physical_type::byte_array;
    std::int32_t type_length = 0;
    logical_type logical;
};

/// A row's entry for one top-level column.
struct cell {
    bool null = true;              ///< the value (or the whole list) is null
    bool list = false;             ///< a LIST column: `elements` holds the items
    value scalar;                  ///< flat columns: the value
    std::span<const value> elements;  ///< LIST columns: the items (a null item is a null value)
};

/// The logical type a ConvertedType means (for files written without LogicalType).
inline logical_type from_converted(converted_type c, std::int32_t precision, std::int32_t scale) {
    using k = logical_type::kind;
    switch (c) {
        case converted_type::utf8: return logical_type::of(k::string);
        case converted_type::enum_: return logical_type::of(k::enum_);
        case converted_type::json: return logical_type::of(k::json);
        case converted_type::bson: return logical_type::of(k::bson);
        case converted_type::decimal: return logical_type::decimal(precision, scale);
        case converted_type::date: return logical_type::of(k::date);
        case converted_type::time_millis: return logical_type::time(true, time_unit::millis);
        case converted_type::time_micros: return logical_type::time(true, time_unit::micros);
        // Legacy TIMESTAMP_* annotations mean instants (adjusted to UTC).
        case converted_type::timestamp_millis: return logical_type::timestamp(true, time_unit::millis);
        case converted_type::timestamp_micros: return logical_type::timestamp(true, time_unit::micros);
        case converted_type::uint_8: return logical_type::integer(8, false);
        case converted_type::uint_16: return logical_type::integer(16, false);
        case converted_type::uint_32: return logical_type::integer(32, false);
        case converted_type::uint_64: return logical_type::integer(64, false);
        case converted_type::int_8: return logical_type::integer(8, true);
        case converted_type::int_16: return logical_type::integer(16, true);
        case converted_type::int_32: return logical_type::integer(32, true);
        case converted_type::int_64: return logical_type::integer(64, true);
        default: return {};
    }
}

/// "INT32", "BYTE_ARRAY", ... for messages.
inline std::string_view to_string(physical_type t) noexcept {
    switch (t) {
        case physical_type::boolean: return "BOOLEAN";
        case physical_type::int32: return "INT32";
        case physical_type::int64: return "INT64";
        case physical_type::int96: return "INT96";
        case physical_type::float32: return "FLOAT";
        case physical_type::float64: return "DOUBLE";
        case physical_type::byte_array: return "BYTE_ARRAY";
        case physical_type::fixed_len_byte_array: return "FIXED_LEN_BYTE_ARRAY";
    }
    return "unknown";
}

}  // namespace sluice::parquet
