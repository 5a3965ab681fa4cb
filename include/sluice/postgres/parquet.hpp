#pragma once
/// \file
/// Postgres result columns to a Parquet schema, without loss (`pg::parquet_schema`), so
/// `pg::rows(conn, sql) | parquet::encode(pg::parquet_schema(cols), options) | sink` writes a
/// typed Parquet file from text-format rows. The mapping (docs/parquet.md has the table):
///
/// | Postgres                         | Parquet                                              |
/// |----------------------------------|------------------------------------------------------|
/// | int2 / int4 / int8 (oid)         | INT32 (INTEGER 16) / INT32 / INT64 (INT64)           |
/// | float4 / float8                  | FLOAT / DOUBLE (NaN and infinities kept)             |
/// | bool                             | BOOLEAN                                              |
/// | numeric(p,s)                     | DECIMAL(p,s) on INT32 (p<=9), INT64 (p<=18), FLBA     |
/// | numeric (no typmod)              | STRING with the exact text (or DECIMAL(38,s), option) |
/// | date / time / timestamp          | DATE / TIME(micros) / TIMESTAMP(micros, not UTC)     |
/// | timestamptz                      | TIMESTAMP(micros, adjusted to UTC)                   |
/// | uuid                             | UUID, FIXED_LEN_BYTE_ARRAY(16) (or STRING, option)   |
/// | json / jsonb                     | JSON (compact text)                                  |
/// | bytea                            | BYTE_ARRAY                                           |
/// | 1-D arrays of the above          | LIST of the element type, NULL elements kept         |
/// | everything else                  | STRING holding Postgres' text (text, varchar, char,  |
/// |                                  | enums, inet, cidr, interval, ranges, timetz, money,  |
/// |                                  | composites, ...)                                      |
///
/// A multi-dimensional array value in an array column is an error naming column and row
/// (Postgres gives 1-D and N-D arrays one type); cast such a column to text in the query.

#include <string>
#include <vector>

#include "../parquet/schema.hpp"
#include "row.hpp"

namespace sluice::pg {

/// Options of the Postgres -> Parquet type mapping.
struct parquet_mapping_options {
    /// uuid as a STRING (8-4-4-4-12 hex text) instead of UUID (Spark cannot read UUID).
    bool uuid_as_string = false;
    /// numeric without a typmod as DECIMAL(38, unbounded_numeric_scale), failing on a value
    /// that does not fit, instead of its exact text in a STRING.
    bool unbounded_numeric_as_decimal = false;
    int unbounded_numeric_scale = 9;
};

namespace detail {

/// The Parquet column type of a scalar (non-array) type OID; false for "as text".
inline bool parquet_scalar_type(Oid oid, int typmod, const parquet_mapping_options& o,
                                parquet::column_type& t) {
    using parquet::value_type;
    switch (oid) {
        case 16: t.type = value_type::boolean; return true;
        case 17: t.type = value_type::bytes; return true;
        case 20: t.type = value_type::int64; return true;
        case 21: t.type = value_type::int16; return true;
        case 23: t.type = value_type::int32; return true;
        case 26: t.type = value_type::int64; return true;  // oid: unsigned 32-bit
        case 114:
        case 3802: t.type = value_type::json; return true;
        case 700: t.type = value_type::float32; return true;
        case 701: t.type = value_type::float64; return true;
        case 1082: t.type = value_type::date; return true;
        case 1083: t.type = value_type::time; return true;
        case 1114: t.type = value_type::timestamp; return true;
        case 1184: t.type = value_type::timestamptz; return true;
        case 2950:
            t.type = o.uuid_as_string ? value_type::string : value_type::uuid;
            return true;
        case 1700:
            if (typmod >= 4) {
                const int v = typmod - 4;
                const int p = (v >> 16) & 0xFFFF, s = v & 0xFFFF;
                // Postgres 15 allows a negative scale or one above the precision; Parquet
                // does not: those stay exact text.
                if (p >= 1 && p <= 38 && s >= 0 && s <= p) {
                    t.type = value_type::decimal;
                    t.precision = p;
                    t.scale = s;
                    return true;
                }
                if (p > 38) return false;
                return false;
            }
            if (o.unbounded_numeric_as_decimal) {
                t.type = value_type::decimal;
                t.precision = 38;
                t.scale = o.unbounded_numeric_scale;
                return true;
            }
            return false;
        default: return false;
    }
}

/// The element type OID of an array type OID we map to LIST; 0 for others.
inline Oid array_element(Oid oid) {
    switch (oid) {
        case 1000: return 16;    // _bool
        case 1001: return 17;    // _bytea
        case 1005: return 21;    // _int2
        case 1007: return 23;    // _int4
        case 1016: return 20;    // _int8
        case 1021: return 700;   // _float4
        case 1022: return 701;   // _float8
        case 1009: return 25;    // _text
        case 1015: return 1043;  // _varchar
        case 1014: return 1042;  // _bpchar
        case 1182: return 1082;  // _date
        case 1183: return 1083;  // _time
        case 1115: return 1114;  // _timestamp
        case 1185: return 1184;  // _timestamptz
        case 1231: return 1700;  // _numeric
        case 2951: return 2950;  // _uuid
        case 199: return 114;    // _json
        case 3807: return 3802;  // _jsonb
        default: return 0;
    }
}

}  // namespace detail

/// The Parquet schema for a result's columns (every column nullable). See the file comment.
inline parquet::schema parquet_schema(const column_list& cols, const parquet_mapping_options& o = {}) {
    parquet::schema s;
    for (const column& c : cols) {
        parquet::column pc;
        pc.name = c.name;
        pc.nullable = true;
        if (const Oid elem = detail::array_element(c.type)) {
            // An array's typmod is its element's (numeric(10,2)[] has numeric(10,2)'s).
            if (!detail::parquet_scalar_type(elem, c.type_mod, o, pc.type))
                pc.type.type = parquet::value_type::string;
            pc.type.list = true;
        } else if (!detail::parquet_scalar_type(c.type, c.type_mod, o, pc.type)) {
            pc.type.type = parquet::value_type::string;
        }
        s.columns.push_back(std::move(pc));
    }
    return s;
}

}  // namespace sluice::pg
