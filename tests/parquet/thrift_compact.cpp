// The Thrift compact protocol encoder/decoder and the Parquet metadata structs: round trips,
// known byte layouts, and hostile input ending in a clear error.
#include <catch2/catch.hpp>

#include <sluice/parquet/metadata.hpp>
#include <sluice/parquet/thrift_compact.hpp>

#include <string>

using namespace sluice::parquet;
namespace thrift = sluice::parquet::thrift;

TEST_CASE("compact protocol field headers, zigzag varints and stop bytes", "[parquet][thrift]") {
    std::string out;
    thrift::writer w(out);
    w.begin_struct();
    w.field_i32(1, -1);      // delta 1, i32: 0x15, zigzag(-1) = 1
    w.field_i64(3, 300);     // delta 2, i64: 0x26, zigzag(300) = 600 = 0xD8 0x04
    w.field_bool(4, true);   // delta 1, bool true: 0x11
    w.field_binary(20, "ab");  // delta 16 > 15: long form 0x08, zigzag(20) = 40, len 2
    w.end_struct();
    CHECK(out == std::string("\x15\x01\x26\xD8\x04\x11\x08\x28\x02" "ab" "\x00", 12));

    thrift::reader r(out);
    int seen = 0;
    thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header f) {
        ++seen;
        if (f.id == 1) CHECK(r.read_i32() == -1);
        else if (f.id == 3) CHECK(r.read_i64() == 300);
        else if (f.id == 4) CHECK(r.read_bool(f));
        else if (f.id == 20) CHECK(r.read_binary() == "ab");
        else FAIL("unexpected field");
        return true;
    });
    CHECK(seen == 4);
    CHECK(r.remaining() == 0);
}

TEST_CASE("long lists use the 0xF0 header and unknown fields are skipped", "[parquet][thrift]") {
    std::string out;
    thrift::writer w(out);
    w.begin_struct();
    w.field_list(1, thrift::ctype::i32, 20);
    for (int i = 0; i < 20; ++i) w.list_i32(i - 10);
    w.field_struct(2);
    w.field_double(1, 2.5);
    w.field_list(2, thrift::ctype::bool_true, 2);
    w.list_bool(true);
    w.list_bool(false);
    w.end_struct();
    w.field_i32(3, 7);
    w.end_struct();
    CHECK(static_cast<unsigned char>(out[1]) == 0xF5);

    thrift::reader r(out);
    std::vector<int> values;
    int three = 0;
    thrift::read_struct(r, [&](thrift::reader& r, thrift::field_header f) {
        if (f.id == 1) {
            thrift::read_list(r, thrift::ctype::i32, [&](thrift::reader& r) { values.push_back(r.read_i32()); });
            return true;
        }
        if (f.id == 3) {
            three = r.read_i32();
            return true;
        }
        return false;  // field 2 (a struct with a double and a bool list) is skipped
    });
    REQUIRE(values.size() == 20);
    CHECK(values.front() == -10);
    CHECK(values.back() == 9);
    CHECK(three == 7);
}

namespace {

file_meta_data sample_footer() {
    file_meta_data m;
    m.created_by = "sluice test";
    schema_element root;
    root.name = "schema";
    root.num_children = 2;
    m.schema.push_back(root);
    schema_element amount;
    amount.name = "amount";
    amount.type = physical_type::int64;
    amount.repetition_type = repetition::optional;
    amount.converted = converted_type::decimal;
    amount.precision = 12;
    amount.scale = 2;
    amount.logical = logical_type::decimal(12, 2);
    m.schema.push_back(amount);
    schema_element ts;
    ts.name = "created_at";
    ts.type = physical_type::int64;
    ts.repetition_type = repetition::required;
    ts.logical = logical_type::timestamp(true);
    m.schema.push_back(ts);
    m.num_rows = 3;
    row_group g;
    g.num_rows = 3;
    g.total_byte_size = 100;
    column_chunk c;
    c.file_offset = 4;
    column_meta_data md;
    md.type = physical_type::int64;
    md.encodings = {encoding::plain, encoding::rle, encoding::rle_dictionary};
    md.path_in_schema = {"amount"};
    md.codec = compression_codec::zstd;
    md.num_values = 3;
    md.total_compressed_size = 40;
    md.total_uncompressed_size = 50;
    md.data_page_offset = 30;
    md.dictionary_page_offset = 4;
    md.stats.emplace();
    md.stats->null_count = 1;
    md.stats->min_value = std::string("\x01\0\0\0\0\0\0\0", 8);
    md.stats->max_value = std::string("\x09\0\0\0\0\0\0\0", 8);
    c.meta_data = md;
    g.columns.push_back(c);
    g.columns.push_back(c);
    m.row_groups.push_back(g);
    m.column_orders = {true, true};
    m.key_value_metadata.push_back({"k", "v"});
    return m;
}

}  // namespace

TEST_CASE("FileMetaData round-trips through write and read", "[parquet][metadata]") {
    const file_meta_data m = sample_footer();
    std::string bytes;
    serialize(m, bytes);
    std::size_t used = 0;
    const auto back = deserialize<file_meta_data>(bytes, &used);
    CHECK(used == bytes.size());
    CHECK(back.version == 1);
    CHECK(back.created_by == "sluice test");
    REQUIRE(back.schema.size() == 3);
    CHECK(back.schema[0].num_children == 2);
    CHECK(back.schema[1].logical->k == logical_type::kind::decimal);
    CHECK(back.schema[1].logical->precision == 12);
    CHECK(back.schema[1].logical->scale == 2);
    CHECK(back.schema[1].converted == converted_type::decimal);
    CHECK(back.schema[2].logical->k == logical_type::kind::timestamp);
    CHECK(back.schema[2].logical->adjusted_to_utc);
    CHECK(back.schema[2].logical->unit == time_unit::micros);
    CHECK(back.num_rows == 3);
    REQUIRE(back.row_groups.size() == 1);
    REQUIRE(back.row_groups[0].columns.size() == 2);
    const auto& md = *back.row_groups[0].columns[0].meta_data;
    CHECK(md.encodings.size() == 3);
    CHECK(md.codec == compression_codec::zstd);
    CHECK(md.dictionary_page_offset == 4);
    CHECK(md.stats->null_count == 1);
    CHECK(md.stats->max_value->size() == 8);
    CHECK(back.column_orders.size() == 2);
    CHECK(back.key_value_metadata.at(0).value == "v");

    // Every re-serialization is byte-identical: nothing is lost or reordered.
    std::string again;
    serialize(back, again);
    CHECK(again == bytes);
}

TEST_CASE("page headers round-trip", "[parquet][metadata]") {
    page_header h;
    h.type = page_type::data_page_v2;
    h.uncompressed_page_size = 1000;
    h.compressed_page_size = 500;
    h.data_page_v2.emplace();
    h.data_page_v2->num_values = 10;
    h.data_page_v2->num_nulls = 2;
    h.data_page_v2->num_rows = 10;
    h.data_page_v2->value_encoding = encoding::rle_dictionary;
    h.data_page_v2->definition_levels_byte_length = 3;
    h.data_page_v2->is_compressed = false;
    std::string bytes;
    serialize(h, bytes);
    bytes += "trailing page data";
    std::size_t used = 0;
    const auto back = deserialize<page_header>(bytes, &used);
    CHECK(bytes.substr(used) == "trailing page data");
    CHECK(back.data_page_v2->num_nulls == 2);
    CHECK_FALSE(back.data_page_v2->is_compressed);
    CHECK(back.data_page_v2->value_encoding == encoding::rle_dictionary);
}

TEST_CASE("hostile metadata ends in a clear error", "[parquet][thrift][hostile]") {
    std::string bytes;
    serialize(sample_footer(), bytes);

    SECTION("every truncation is an error, never a crash") {
        for (std::size_t n = 0; n < bytes.size(); ++n)
            CHECK_THROWS_AS(deserialize<file_meta_data>(std::string_view(bytes).substr(0, n)),
                            sluice::error);
    }
    SECTION("a list claiming more elements than bytes left") {
        // FileMetaData.schema (field 2): a list of structs claiming 2^31 elements.
        std::string evil("\x15\x02\x19\xFC\x80\x80\x80\x80\x08", 9);
        try {
            deserialize<file_meta_data>(evil);
            FAIL("no error");
        } catch (const sluice::error& e) {
            CHECK(e.code() == sluice::errc::bad_input);
            CHECK_THAT(e.what(), Catch::Contains("list"));
        }
    }
    SECTION("a string claiming gigabytes") {
        std::string evil("\x18\xFF\xFF\xFF\xFF\x0F", 6);
        CHECK_THROWS_WITH(deserialize<key_value>(evil), Catch::Contains("string"));
    }
    SECTION("nesting past the depth limit") {
        std::string evil("\x0C\xC8\x01", 3);  // an unknown field 100 of type struct...
        for (int i = 0; i < 10000; ++i) evil.push_back('\x1C');  // ...holding field 1, a struct, ...
        CHECK_THROWS_WITH(deserialize<file_meta_data>(evil), Catch::Contains("nesting"));
    }
    SECTION("missing required fields") {
        std::string empty(1, '\0');
        CHECK_THROWS_WITH(deserialize<file_meta_data>(empty), Catch::Contains("required field"));
        CHECK_THROWS_WITH(deserialize<page_header>(empty), Catch::Contains("required field"));
    }
    SECTION("negative sizes") {
        page_header h;
        h.type = page_type::dictionary_page;
        h.compressed_page_size = -5;
        h.dictionary_page.emplace();
        std::string b;
        serialize(h, b);
        CHECK_THROWS_WITH(deserialize<page_header>(b), Catch::Contains("negative"));
    }
}
