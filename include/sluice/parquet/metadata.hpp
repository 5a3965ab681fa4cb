#pragma once
/// \file
/// Parquet's Thrift metadata as plain C++ structs, each with `write(thrift::writer&)` and
/// `read(thrift::reader&)`: FileMetaData (the footer), SchemaElement, RowGroup,
/// ColumnChunk, ColumnMetaData, Statistics, the LogicalType union, and the page headers
/// (PageHeader, DataPageHeader, DataPageHeaderV2, DictionaryPageHeader). Field ids are
/// those of apache/parquet-format's parquet.thrift; fields sluice does not use (bloom
/// filters, page indexes, encryption, size statistics) are skipped on read and never written.
///
/// Convention: the caller opens a struct (`begin_struct()` at the top level, `field_struct(id)`
/// for a field, `list_struct()` for a list element); `write(w)` writes the fields and closes it.
/// `read(r)` reads one whole struct.
///
/// `read` copies what it keeps (the structs own their strings), checks the required fields
/// are present and that sizes and counts are not negative, and throws
/// `sluice::error(errc::bad_input, "parquet", ...)` otherwise.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "thrift_compact.hpp"

namespace sluice::parquet {

/// Physical (storage) types.
enum class physical_type : std::int32_t {
    boolean = 0,
    int32 = 1,
    int64 = 2,
    int96 = 3,
    float32 = 4,
    float64 = 5,
    byte_array = 6,
    fixed_len_byte_array = 7,
};

/// The deprecated ConvertedType annotations, still written next to logical types for old readers.
enum class converted_type : std::int32_t {
    utf8 = 0,
    map = 1,
    map_key_value = 2,
    list = 3,
    enum_ = 4,
    decimal = 5,
    date = 6,
    time_millis = 7,
    time_micros = 8,
    timestamp_millis = 9,
    timestamp_micros = 10,
    uint_8 = 11,
    uint_16 = 12,
    uint_32 = 13,
    uint_64 = 14,
    int_8 = 15,
    int_16 = 16,
    int_32 = 17,
    int_64 = 18,
    json = 19,
    bson = 20,
    interval = 21,
};

/// FieldRepetitionType.
enum class repetition : std::int32_t { required = 0, optional = 1, repeated = 2 };

/// Encodings of values and levels.
enum class encoding : std::int32_t {
    plain = 0,
    plain_dictionary = 2,
    rle = 3,
    bit_packed = 4,
    delta_binary_packed = 5,
    delta_length_byte_array = 6,
    delta_byte_array = 7,
    rle_dictionary = 8,
    byte_stream_split = 9,
};

/// CompressionCodec.
enum class compression_codec : std::int32_t {
    uncompressed = 0,
    snappy = 1,
    gzip = 2,
    lzo = 3,
    brotli = 4,
    lz4 = 5,
    zstd = 6,
    lz4_raw = 7,
};

/// PageType.
enum class page_type : std::int32_t {
    data_page = 0,
    index_page = 1,
    dictionary_page = 2,
    data_page_v2 = 3,
};

/// TimeUnit union member ids.
enum class time_unit : std::int16_t { millis = 1, micros = 2, nanos = 3 };

/// The LogicalType union, flattened: `kind` is the union member's field id.
struct logical_type {
    enum class kind : std::int16_t {
        none = 0,
        string = 1,
        map = 2,
        list = 3,
        enum_ = 4,
        decimal = 5,
        date = 6,
        time = 7,
        timestamp = 8,
        integer = 10,
        unknown = 11,
        json = 12,
        bson = 13,
        uuid = 14,
        float16 = 15,
        other = 999,  ///< a member this code does not know (read only)
    };
    kind k = kind::none;
    std::int32_t scale = 0;         ///< decimal
    std::int32_t precision = 0;     ///< decimal
    bool adjusted_to_utc = false;   ///< time, timestamp
    time_unit unit = time_unit::micros;  ///< time, timestamp
    std::int8_t bit_width = 0;      ///< integer
    bool is_signed = true;          ///< integer

    static logical_type of(kind k) {
        logical_type t;
        t.k = k;
        return t;
    }
    static logical_type decimal(std::int32_t precision, std::int32_t scale) {
        logical_type t;
        t.k = kind::decimal;
        t.precision = precision;
        t.scale = scale;
        return t;
    }
    static logical_type timestamp(bool utc, time_unit u = time_unit::micros) {
        logical_type t;
        t.k = kind::timestamp;
        t.adjusted_to_utc = utc;
        t.unit = u;
        return t;
    }
    static logical_type time(bool utc, time_unit u = time_unit::micros) {
        logical_type t = timestamp(utc, u);
        t.k = kind::time;
        return t;
    }
    static logical_type integer(int bits, bool is_signed) {
        logical_type t;
        t.k = kind::integer;
        t.bit_width = static_cast<std::int8_t>(bits);
        t.is_signed = is_signed;
        return t;
    }

    /// Writes the union's member and closes the struct the caller opened (see file comment).
    void write(thrift::writer& w) const {
        w.field_struct(static_cast<std::int16_t>(k));
        switch (k) {
            case kind::decimal:
                w.field_i32(1, scale);
                w.field_i32(2, precision);
                break;
            case kind::time:
            case kind::timestamp:
                w.field_bool(1, adjusted_to_utc);
                w.field_struct(2);  // TimeUnit union
                w.field_struct(static_cast<std::int16_t>(unit));
                w.end_struct();
                w.end_struct();
                break;
            case kind::integer:
                w.field_i8(1, bit_width);
                w.field_bool(2, is_signed);
                break;
            default: break;
        }
        w.end_struct();
        w.end_struct();
    }

    void read(thrift::reader& r) {
        using thrift::ctype;
        k = kind::other;
        thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header f) {
            if (f.type != ctype::strct) return false;
            switch (f.id) {
                case 1: case 2: case 3: case 4: case 6: case 11: case 12: case 13: case 14:
                case 15:
                    k = static_cast<kind>(f.id);
                    return false;  // empty struct: skipped
                case 5:
                    k = kind::decimal;
                    thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header g) {
                        if (g.type != ctype::i32) return false;
                        if (g.id == 1) scale = r.read_i32();
                        else if (g.id == 2) precision = r.read_i32();
                        else return false;
                        return true;
                    });
                    return true;
                case 7:
                case 8:
                    k = static_cast<kind>(f.id);
                    thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header g) {
                        if (g.id == 1 && (g.type == ctype::bool_true || g.type == ctype::bool_false)) {
                            adjusted_to_utc = r.read_bool(g);
                            return true;
                        }
                        if (g.id == 2 && g.type == ctype::strct) {
                            thrift::read_struct(r, [&](thrift::reader&, thrift::field_header u) {
                                if (u.id >= 1 && u.id <= 3) unit = static_cast<time_unit>(u.id);
                                return false;
                            });
                            return true;
                        }
                        return false;
                    });
                    return true;
                case 10:
                    k = kind::integer;
                    thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header g) {
                        if (g.id == 1 && g.type == ctype::byte) {
                            bit_width = r.read_i8();
                            return true;
                        }
                        if (g.id == 2 && (g.type == ctype::bool_true || g.type == ctype::bool_false)) {
                            is_signed = r.read_bool(g);
                            return true;
                        }
                        return false;
                    });
                    return true;
                default: return false;
            }
        });
    }
};

namespace detail {

inline void expect(thrift::reader& r, thrift::field_header f, thrift::ctype t, const char* what) {
    const bool is_bool_t = t == thrift::ctype::bool_true || t == thrift::ctype::bool_false;
    const bool is_bool_f =
        f.type == thrift::ctype::bool_true || f.type == thrift::ctype::bool_false;
    if (f.type != t && !(is_bool_t && is_bool_f))
        r.fail(std::string("field '") + what + "' has the wrong type");
}

inline std::int32_t read_i32_field(thrift::reader& r, thrift::field_header f, const char* what) {
    expect(r, f, thrift::ctype::i32, what);
    return r.read_i32();
}
inline std::int64_t read_i64_field(thrift::reader& r, thrift::field_header f, const char* what) {
    expect(r, f, thrift::ctype::i64, what);
    return r.read_i64();
}
inline std::string read_string_field(thrift::reader& r, thrift::field_header f, const char* what) {
    expect(r, f, thrift::ctype::binary, what);
    return std::string(r.read_binary());
}
inline void require(thrift::reader& r, bool present, const char* what) {
    if (!present) r.fail(std::string("required field '") + what + "' is missing");
}
inline void non_negative(thrift::reader& r, std::int64_t v, const char* what) {
    if (v < 0) r.fail(std::string("field '") + what + "' is negative");
}

}  // namespace detail

/// Statistics: min/max as PLAIN bytes (byte arrays without a length prefix).
struct statistics {
    std::optional<std::string> max;  ///< deprecated signed-order max (field 1)
    std::optional<std::string> min;  ///< deprecated signed-order min (field 2)
    std::optional<std::int64_t> null_count;
    std::optional<std::int64_t> distinct_count;
    std::optional<std::string> max_value;
    std::optional<std::string> min_value;

    void write(thrift::writer& w) const {
        if (max) w.field_binary(1, *max);
        if (min) w.field_binary(2, *min);
        if (null_count) w.field_i64(3, *null_count);
        if (distinct_count) w.field_i64(4, *distinct_count);
        if (max_value) w.field_binary(5, *max_value);
        if (min_value) w.field_binary(6, *min_value);
        w.end_struct();
    }
    void read(thrift::reader& r) {
        using detail::read_i64_field, detail::read_string_field;
        thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header f) {
            switch (f.id) {
                case 1: max = read_string_field(r, f, "Statistics.max"); return true;
                case 2: min = read_string_field(r, f, "Statistics.min"); return true;
                case 3: null_count = read_i64_field(r, f, "Statistics.null_count"); return true;
                case 4: distinct_count = read_i64_field(r, f, "Statistics.distinct_count"); return true;
                case 5: max_value = read_string_field(r, f, "Statistics.max_value"); return true;
                case 6: min_value = read_string_field(r, f, "Statistics.min_value"); return true;
                default: return false;
            }
        });
    }
};

/// One node of the flattened (depth-first) schema tree.
struct schema_element {
    std::optional<physical_type> type;          ///< leaves only
    std::optional<std::int32_t> type_length;    ///< FIXED_LEN_BYTE_ARRAY width
    std::optional<repetition> repetition_type;  ///< all but the root
    std::string name;
    std::optional<std::int32_t> num_children;  ///< groups only
    std::optional<converted_type> converted;
    std::optional<std::int32_t> scale;
    std::optional<std::int32_t> precision;
    std::optional<std::int32_t> field_id;
    std::optional<logical_type> logical;

    void write(thrift::writer& w) const {
        if (type) w.field_i32(1, static_cast<std::int32_t>(*type));
        if (type_length) w.field_i32(2, *type_length);
        if (repetition_type) w.field_i32(3, static_cast<std::int32_t>(*repetition_type));
        w.field_binary(4, name);
        if (num_children) w.field_i32(5, *num_children);
        if (converted) w.field_i32(6, static_cast<std::int32_t>(*converted));
        if (scale) w.field_i32(7, *scale);
        if (precision) w.field_i32(8, *precision);
        if (field_id) w.field_i32(9, *field_id);
        if (logical && logical->k != logical_type::kind::none) {
            w.field_struct(10);
            logical->write(w);
        }
        w.end_struct();
    }
    void read(thrift::reader& r) {
        using detail::read_i32_field;
        bool has_name = false;
        thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header f) {
            switch (f.id) {
                case 1: {
                    const auto t = read_i32_field(r, f, "SchemaElement.type");
                    if (t < 0 || t > 7) r.fail("unknown physical type " + std::to_string(t));
                    type = static_cast<physical_type>(t);
                    return true;
                }
                case 2:
                    type_length = read_i32_field(r, f, "SchemaElement.type_length");
                    return true;
                case 3: {
                    const auto v = read_i32_field(r, f, "SchemaElement.repetition_type");
                    if (v < 0 || v > 2) r.fail("unsupported repetition type " + std::to_string(v));
                    repetition_type = static_cast<repetition>(v);
                    return true;
                }
                case 4:
                    name = detail::read_string_field(r, f, "SchemaElement.name");
                    has_name = true;
                    return true;
                case 5: {
                    const auto n = read_i32_field(r, f, "SchemaElement.num_children");
                    detail::non_negative(r, n, "SchemaElement.num_children");
                    num_children = n;
                    return true;
                }
                case 6:
                    converted = static_cast<converted_type>(
                        read_i32_field(r, f, "SchemaElement.converted_type"));
                    return true;
                case 7: scale = read_i32_field(r, f, "SchemaElement.scale"); return true;
                case 8: precision = read_i32_field(r, f, "SchemaElement.precision"); return true;
                case 9: field_id = read_i32_field(r, f, "SchemaElement.field_id"); return true;
                case 10:
                    detail::expect(r, f, thrift::ctype::strct, "SchemaElement.logicalType");
                    logical.emplace();
                    logical->read(r);
                    return true;
                default: return false;
            }
        });
        detail::require(r, has_name, "SchemaElement.name");
    }
};

/// KeyValue metadata.
struct key_value {
    std::string key;
    std::optional<std::string> value;

    void write(thrift::writer& w) const {
        w.field_binary(1, key);
        if (value) w.field_binary(2, *value);
        w.end_struct();
    }
    void read(thrift::reader& r) {
        thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header f) {
            if (f.id == 1) key = detail::read_string_field(r, f, "KeyValue.key");
            else if (f.id == 2) value = detail::read_string_field(r, f, "KeyValue.value");
            else return false;
            return true;
        });
    }
};

/// ColumnMetaData: one column chunk's type, encodings, codec, sizes, offsets, statistics.
struct column_meta_data {
    physical_type type = physical_type::int32;
    std::vector<encoding> encodings;
    std::vector<std::string> path_in_schema;
    compression_codec codec = compression_codec::uncompressed;
    std::int64_t num_values = 0;
    std::int64_t total_uncompressed_size = 0;
    std::int64_t total_compressed_size = 0;
    std::int64_t data_page_offset = 0;
    std::optional<std::int64_t> index_page_offset;
    std::optional<std::int64_t> dictionary_page_offset;
    std::optional<statistics> stats;

    void write(thrift::writer& w) const {
        using thrift::ctype;
        w.field_i32(1, static_cast<std::int32_t>(type));
        w.field_list(2, ctype::i32, encodings.size());
        for (encoding e : encodings) w.list_i32(static_cast<std::int32_t>(e));
        w.field_list(3, ctype::binary, path_in_schema.size());
        for (const auto& p : path_in_schema) w.list_binary(p);
        w.field_i32(4, static_cast<std::int32_t>(codec));
        w.field_i64(5, num_values);
        w.field_i64(6, total_uncompressed_size);
        w.field_i64(7, total_compressed_size);
        w.field_i64(9, data_page_offset);
        if (index_page_offset) w.field_i64(10, *index_page_offset);
        if (dictionary_page_offset) w.field_i64(11, *dictionary_page_offset);
        if (stats) {
            w.field_struct(12);
            stats->write(w);
        }
        w.end_struct();
    }
    void read(thrift::reader& r) {
        using detail::read_i64_field;
        using thrift::ctype;
        unsigned seen = 0;
        thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header f) {
            switch (f.id) {
                case 1: {
                    const auto t = detail::read_i32_field(r, f, "ColumnMetaData.type");
                    if (t < 0 || t > 7) r.fail("unknown physical type " + std::to_string(t));
                    type = static_cast<physical_type>(t);
                    break;
                }
                case 2:
                    detail::expect(r, f, ctype::list, "ColumnMetaData.encodings");
                    thrift::read_list(r, ctype::i32, [&](thrift::reader& r) {
                        encodings.push_back(static_cast<encoding>(r.read_i32()));
                    });
                    break;
                case 3:
                    detail::expect(r, f, ctype::list, "ColumnMetaData.path_in_schema");
                    thrift::read_list(r, ctype::binary, [&](thrift::reader& r) {
                        path_in_schema.emplace_back(r.read_binary());
                    });
                    break;
                case 4:
                    codec = static_cast<compression_codec>(
                        detail::read_i32_field(r, f, "ColumnMetaData.codec"));
                    break;
                case 5: num_values = read_i64_field(r, f, "ColumnMetaData.num_values"); break;
                case 6:
                    total_uncompressed_size =
                        read_i64_field(r, f, "ColumnMetaData.total_uncompressed_size");
                    break;
                case 7:
                    total_compressed_size =
                        read_i64_field(r, f, "ColumnMetaData.total_compressed_size");
                    break;
                case 9:
                    data_page_offset = read_i64_field(r, f, "ColumnMetaData.data_page_offset");
                    break;
                case 10:
                    index_page_offset = read_i64_field(r, f, "ColumnMetaData.index_page_offset");
                    return true;
                case 11:
                    dictionary_page_offset =
                        read_i64_field(r, f, "ColumnMetaData.dictionary_page_offset");
                    return true;
                case 12:
                    detail::expect(r, f, ctype::strct, "ColumnMetaData.statistics");
                    stats.emplace();
                    stats->read(r);
                    return true;
                default: return false;
            }
            seen |= 1u << f.id;
            return true;
        });
        const char* names[] = {"",
                               "ColumnMetaData.type",
                               "ColumnMetaData.encodings",
                               "ColumnMetaData.path_in_schema",
                               "ColumnMetaData.codec",
                               "ColumnMetaData.num_values",
                               "ColumnMetaData.total_uncompressed_size",
                               "ColumnMetaData.total_compressed_size",
                               "",
                               "ColumnMetaData.data_page_offset"};
        for (int id : {1, 2, 3, 4, 5, 6, 7, 9}) detail::require(r, seen & (1u << id), names[id]);
        detail::non_negative(r, num_values, names[5]);
        detail::non_negative(r, total_uncompressed_size, names[6]);
        detail::non_negative(r, total_compressed_size, names[7]);
        detail::non_negative(r, data_page_offset, names[9]);
        if (dictionary_page_offset)
            detail::non_negative(r, *dictionary_page_offset, "ColumnMetaData.dictionary_page_offset");
    }
};

/// ColumnChunk: where a column's data is, and its metadata.
struct column_chunk {
    std::optional<std::string> file_path;  ///< never written; a reader refuses external data
    std::int64_t file_offset = 0;
    std::optional<column_meta_data> meta_data;

    void write(thrift::writer& w) const {
        if (file_path) w.field_binary(1, *file_path);
        w.field_i64(2, file_offset);
        if (meta_data) {
            w.field_struct(3);
            meta_data->write(w);
        }
        w.end_struct();
    }
    void read(thrift::reader& r) {
        thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header f) {
            switch (f.id) {
                case 1: file_path = detail::read_string_field(r, f, "ColumnChunk.file_path"); return true;
                case 2: file_offset = detail::read_i64_field(r, f, "ColumnChunk.file_offset"); return true;
                case 3:
                    detail::expect(r, f, thrift::ctype::strct, "ColumnChunk.meta_data");
                    meta_data.emplace();
                    meta_data->read(r);
                    return true;
                default: return false;
            }
        });
    }
};

/// RowGroup: the column chunks of a horizontal slice of rows.
struct row_group {
    std::vector<column_chunk> columns;
    std::int64_t total_byte_size = 0;
    std::int64_t num_rows = 0;
    std::optional<std::int64_t> file_offset;
    std::optional<std::int64_t> total_compressed_size;
    std::optional<std::int16_t> ordinal;

    void write(thrift::writer& w) const {
        w.field_list(1, thrift::ctype::strct, columns.size());
        for (const auto& c : columns) {
            w.list_struct();
            c.write(w);
        }
        w.field_i64(2, total_byte_size);
        w.field_i64(3, num_rows);
        if (file_offset) w.field_i64(5, *file_offset);
        if (total_compressed_size) w.field_i64(6, *total_compressed_size);
        if (ordinal) w.field_i16(7, *ordinal);
        w.end_struct();
    }
    void read(thrift::reader& r) {
        bool has_columns = false, has_rows = false;
        thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header f) {
            switch (f.id) {
                case 1:
                    detail::expect(r, f, thrift::ctype::list, "RowGroup.columns");
                    thrift::read_list(r, thrift::ctype::strct, [&](thrift::reader& r) {
                        columns.emplace_back().read(r);
                    });
                    has_columns = true;
                    return true;
                case 2: total_byte_size = detail::read_i64_field(r, f, "RowGroup.total_byte_size"); return true;
                case 3:
                    num_rows = detail::read_i64_field(r, f, "RowGroup.num_rows");
                    detail::non_negative(r, num_rows, "RowGroup.num_rows");
                    has_rows = true;
                    return true;
                case 5: file_offset = detail::read_i64_field(r, f, "RowGroup.file_offset"); return true;
                case 6:
                    total_compressed_size = detail::read_i64_field(r, f, "RowGroup.total_compressed_size");
                    return true;
                case 7:
                    detail::expect(r, f, thrift::ctype::i16, "RowGroup.ordinal");
                    ordinal = r.read_i16();
                    return true;
                default: return false;
            }
        });
        detail::require(r, has_columns, "RowGroup.columns");
        detail::require(r, has_rows, "RowGroup.num_rows");
    }
};

/// FileMetaData: the footer.
struct file_meta_data {
    std::int32_t version = 1;
    std::vector<schema_element> schema;  ///< depth-first, the root first
    std::int64_t num_rows = 0;
    std::vector<row_group> row_groups;
    std::vector<key_value> key_value_metadata;
    std::optional<std::string> created_by;
    /// ColumnOrder per leaf column: true = TYPE_ORDER (the only one sluice writes).
    std::vector<bool> column_orders;

    void write(thrift::writer& w) const {
        using thrift::ctype;
        w.field_i32(1, version);
        w.field_list(2, ctype::strct, schema.size());
        for (const auto& s : schema) {
            w.list_struct();
            s.write(w);
        }
        w.field_i64(3, num_rows);
        w.field_list(4, ctype::strct, row_groups.size());
        for (const auto& g : row_groups) {
            w.list_struct();
            g.write(w);
        }
        if (!key_value_metadata.empty()) {
            w.field_list(5, ctype::strct, key_value_metadata.size());
            for (const auto& kv : key_value_metadata) {
                w.list_struct();
                kv.write(w);
            }
        }
        if (created_by) w.field_binary(6, *created_by);
        if (!column_orders.empty()) {
            w.field_list(7, ctype::strct, column_orders.size());
            for (std::size_t i = 0; i < column_orders.size(); ++i) {
                w.list_struct();  // ColumnOrder union
                w.field_struct(1);  // TYPE_ORDER: TypeDefinedOrder {}
                w.end_struct();
                w.end_struct();
            }
        }
        w.end_struct();
    }
    void read(thrift::reader& r) {
        using thrift::ctype;
        bool has_version = false, has_schema = false, has_rows = false, has_groups = false;
        thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header f) {
            switch (f.id) {
                case 1:
                    version = detail::read_i32_field(r, f, "FileMetaData.version");
                    has_version = true;
                    return true;
                case 2:
                    detail::expect(r, f, ctype::list, "FileMetaData.schema");
                    thrift::read_list(r, ctype::strct, [&](thrift::reader& r) {
                        schema.emplace_back().read(r);
                    });
                    has_schema = true;
                    return true;
                case 3:
                    num_rows = detail::read_i64_field(r, f, "FileMetaData.num_rows");
                    detail::non_negative(r, num_rows, "FileMetaData.num_rows");
                    has_rows = true;
                    return true;
                case 4:
                    detail::expect(r, f, ctype::list, "FileMetaData.row_groups");
                    thrift::read_list(r, ctype::strct, [&](thrift::reader& r) {
                        row_groups.emplace_back().read(r);
                    });
                    has_groups = true;
                    return true;
                case 5:
                    detail::expect(r, f, ctype::list, "FileMetaData.key_value_metadata");
                    thrift::read_list(r, ctype::strct, [&](thrift::reader& r) {
                        key_value_metadata.emplace_back().read(r);
                    });
                    return true;
                case 6: created_by = detail::read_string_field(r, f, "FileMetaData.created_by"); return true;
                case 7:
                    detail::expect(r, f, ctype::list, "FileMetaData.column_orders");
                    thrift::read_list(r, ctype::strct, [&](thrift::reader& r) {
                        bool type_order = false;
                        thrift::read_struct(r, [&](thrift::reader&, thrift::field_header g) {
                            if (g.id == 1) type_order = true;
                            return false;
                        });
                        column_orders.push_back(type_order);
                    });
                    return true;
                default: return false;
            }
        });
        detail::require(r, has_version, "FileMetaData.version");
        detail::require(r, has_schema, "FileMetaData.schema");
        detail::require(r, has_rows, "FileMetaData.num_rows");
        detail::require(r, has_groups, "FileMetaData.row_groups");
        if (schema.empty()) r.fail("empty schema");
    }
};

/// DataPageHeader (v1).
struct data_page_header {
    std::int32_t num_values = 0;
    encoding value_encoding = encoding::plain;
    encoding definition_level_encoding = encoding::rle;
    encoding repetition_level_encoding = encoding::rle;
    std::optional<statistics> stats;

    void write(thrift::writer& w) const {
        w.field_i32(1, num_values);
        w.field_i32(2, static_cast<std::int32_t>(value_encoding));
        w.field_i32(3, static_cast<std::int32_t>(definition_level_encoding));
        w.field_i32(4, static_cast<std::int32_t>(repetition_level_encoding));
        if (stats) {
            w.field_struct(5);
            stats->write(w);
        }
        w.end_struct();
    }
    void read(thrift::reader& r) {
        unsigned seen = 0;
        thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header f) {
            switch (f.id) {
                case 1: num_values = detail::read_i32_field(r, f, "DataPageHeader.num_values"); break;
                case 2:
                    value_encoding = static_cast<encoding>(
                        detail::read_i32_field(r, f, "DataPageHeader.encoding"));
                    break;
                case 3:
                    definition_level_encoding = static_cast<encoding>(
                        detail::read_i32_field(r, f, "DataPageHeader.definition_level_encoding"));
                    break;
                case 4:
                    repetition_level_encoding = static_cast<encoding>(
                        detail::read_i32_field(r, f, "DataPageHeader.repetition_level_encoding"));
                    break;
                case 5:
                    detail::expect(r, f, thrift::ctype::strct, "DataPageHeader.statistics");
                    stats.emplace();
                    stats->read(r);
                    return true;
                default: return false;
            }
            seen |= 1u << f.id;
            return true;
        });
        detail::require(r, (seen & 0x1E) == 0x1E, "DataPageHeader.num_values/encodings");
        detail::non_negative(r, num_values, "DataPageHeader.num_values");
    }
};

/// DataPageHeaderV2: levels are stored uncompressed before the (maybe compressed) values.
struct data_page_header_v2 {
    std::int32_t num_values = 0;
    std::int32_t num_nulls = 0;
    std::int32_t num_rows = 0;
    encoding value_encoding = encoding::plain;
    std::int32_t definition_levels_byte_length = 0;
    std::int32_t repetition_levels_byte_length = 0;
    bool is_compressed = true;
    std::optional<statistics> stats;

    void write(thrift::writer& w) const {
        w.field_i32(1, num_values);
        w.field_i32(2, num_nulls);
        w.field_i32(3, num_rows);
        w.field_i32(4, static_cast<std::int32_t>(value_encoding));
        w.field_i32(5, definition_levels_byte_length);
        w.field_i32(6, repetition_levels_byte_length);
        w.field_bool(7, is_compressed);
        if (stats) {
            w.field_struct(8);
            stats->write(w);
        }
        w.end_struct();
    }
    void read(thrift::reader& r) {
        using detail::read_i32_field;
        unsigned seen = 0;
        thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header f) {
            switch (f.id) {
                case 1: num_values = read_i32_field(r, f, "DataPageHeaderV2.num_values"); break;
                case 2: num_nulls = read_i32_field(r, f, "DataPageHeaderV2.num_nulls"); break;
                case 3: num_rows = read_i32_field(r, f, "DataPageHeaderV2.num_rows"); break;
                case 4:
                    value_encoding =
                        static_cast<encoding>(read_i32_field(r, f, "DataPageHeaderV2.encoding"));
                    break;
                case 5:
                    definition_levels_byte_length =
                        read_i32_field(r, f, "DataPageHeaderV2.definition_levels_byte_length");
                    break;
                case 6:
                    repetition_levels_byte_length =
                        read_i32_field(r, f, "DataPageHeaderV2.repetition_levels_byte_length");
                    break;
                case 7:
                    detail::expect(r, f, thrift::ctype::bool_true, "DataPageHeaderV2.is_compressed");
                    is_compressed = r.read_bool(f);
                    return true;
                case 8:
                    detail::expect(r, f, thrift::ctype::strct, "DataPageHeaderV2.statistics");
                    stats.emplace();
                    stats->read(r);
                    return true;
                default: return false;
            }
            seen |= 1u << f.id;
            return true;
        });
        detail::require(r, (seen & 0x7E) == 0x7E, "DataPageHeaderV2 counts/encoding/lengths");
        detail::non_negative(r, num_values, "DataPageHeaderV2.num_values");
        detail::non_negative(r, num_nulls, "DataPageHeaderV2.num_nulls");
        detail::non_negative(r, num_rows, "DataPageHeaderV2.num_rows");
        detail::non_negative(r, definition_levels_byte_length,
                             "DataPageHeaderV2.definition_levels_byte_length");
        detail::non_negative(r, repetition_levels_byte_length,
                             "DataPageHeaderV2.repetition_levels_byte_length");
        if (num_nulls > num_values) r.fail("DataPageHeaderV2.num_nulls exceeds num_values");
    }
};

/// DictionaryPageHeader.
struct dictionary_page_header {
    std::int32_t num_values = 0;
    encoding value_encoding = encoding::plain;
    std::optional<bool> is_sorted;

    void write(thrift::writer& w) const {
        w.field_i32(1, num_values);
        w.field_i32(2, static_cast<std::int32_t>(value_encoding));
        if (is_sorted) w.field_bool(3, *is_sorted);
        w.end_struct();
    }
    void read(thrift::reader& r) {
        unsigned seen = 0;
        thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header f) {
            switch (f.id) {
                case 1: num_values = detail::read_i32_field(r, f, "DictionaryPageHeader.num_values"); break;
                case 2:
                    value_encoding = static_cast<encoding>(
                        detail::read_i32_field(r, f, "DictionaryPageHeader.encoding"));
                    break;
                case 3:
                    detail::expect(r, f, thrift::ctype::bool_true, "DictionaryPageHeader.is_sorted");
                    is_sorted = r.read_bool(f);
                    return true;
                default: return false;
            }
            seen |= 1u << f.id;
            return true;
        });
        detail::require(r, (seen & 0x6) == 0x6, "DictionaryPageHeader.num_values/encoding");
        detail::non_negative(r, num_values, "DictionaryPageHeader.num_values");
    }
};

/// PageHeader: type, sizes, and the one header of that type.
struct page_header {
    page_type type = page_type::data_page;
    std::int32_t uncompressed_page_size = 0;
    std::int32_t compressed_page_size = 0;
    std::optional<std::int32_t> crc;
    std::optional<data_page_header> data_page;
    std::optional<dictionary_page_header> dictionary_page;
    std::optional<data_page_header_v2> data_page_v2;

    void write(thrift::writer& w) const {
        w.field_i32(1, static_cast<std::int32_t>(type));
        w.field_i32(2, uncompressed_page_size);
        w.field_i32(3, compressed_page_size);
        if (crc) w.field_i32(4, *crc);
        if (data_page) {
            w.field_struct(5);
            data_page->write(w);
        }
        if (dictionary_page) {
            w.field_struct(7);
            dictionary_page->write(w);
        }
        if (data_page_v2) {
            w.field_struct(8);
            data_page_v2->write(w);
        }
        w.end_struct();
    }
    void read(thrift::reader& r) {
        using thrift::ctype;
        unsigned seen = 0;
        thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header f) {
            switch (f.id) {
                case 1: type = static_cast<page_type>(detail::read_i32_field(r, f, "PageHeader.type")); break;
                case 2:
                    uncompressed_page_size = detail::read_i32_field(r, f, "PageHeader.uncompressed_page_size");
                    break;
                case 3:
                    compressed_page_size = detail::read_i32_field(r, f, "PageHeader.compressed_page_size");
                    break;
                case 4: crc = detail::read_i32_field(r, f, "PageHeader.crc"); return true;
                case 5:
                    detail::expect(r, f, ctype::strct, "PageHeader.data_page_header");
                    data_page.emplace();
                    data_page->read(r);
                    return true;
                case 7:
                    detail::expect(r, f, ctype::strct, "PageHeader.dictionary_page_header");
                    dictionary_page.emplace();
                    dictionary_page->read(r);
                    return true;
                case 8:
                    detail::expect(r, f, ctype::strct, "PageHeader.data_page_header_v2");
                    data_page_v2.emplace();
                    data_page_v2->read(r);
                    return true;
                default: return false;
            }
            seen |= 1u << f.id;
            return true;
        });
        detail::require(r, (seen & 0xE) == 0xE, "PageHeader.type/sizes");
        detail::non_negative(r, uncompressed_page_size, "PageHeader.uncompressed_page_size");
        detail::non_negative(r, compressed_page_size, "PageHeader.compressed_page_size");
        if (type == page_type::data_page && !data_page) r.fail("data page without its header");
        if (type == page_type::data_page_v2 && !data_page_v2) r.fail("data page v2 without its header");
        if (type == page_type::dictionary_page && !dictionary_page)
            r.fail("dictionary page without its header");
    }
};

/// Serializes a top-level struct (a footer or a page header) and appends it to `out`.
template <class T>
void serialize(const T& value, std::string& out) {
    thrift::writer w(out);
    w.begin_struct();
    value.write(w);
}

/// Parses a top-level struct from `bytes`; `consumed` (when given) receives its length.
template <class T>
T deserialize(std::string_view bytes, std::size_t* consumed = nullptr, thrift::limits lim = {}) {
    thrift::reader r(bytes, lim);
    T value;
    value.read(r);
    if (consumed) *consumed = r.consumed();
    return value;
}

}  // namespace sluice::parquet
