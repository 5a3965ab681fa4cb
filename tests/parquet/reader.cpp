// The Parquet reader: the RLE / bit-packed hybrid and DELTA decoders on hand-made bytes, the
// typed text of every logical type, files sluice writes read back value for value (every
// codec, pages v1 and v2, dictionaries on and off, LISTs, several row groups), hand-built
// files for the legacy 2-level LIST, and hostile files (footer lengths, chunk offsets,
// levels, dictionary indexes, page sizes) that must end in clear errors.
#include <catch2/catch.hpp>

#include <sluice/core/range_source.hpp>
#include <sluice/parquet/encode.hpp>
#include <sluice/parquet/reader.hpp>
#include <sluice/parquet/row_encoders.hpp>
#include <sluice/parquet/text.hpp>
#include <sluice/sinks/for_each.hpp>

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pq = sluice::parquet;

namespace {

/// A random_access_input over bytes in memory, counting reads.
class memory_input final : public sluice::random_access_input {
public:
    explicit memory_input(std::string bytes, int* reads = nullptr) : b_(std::move(bytes)), reads_(reads) {}
    std::uint64_t size() override { return b_.size(); }
    void read_at(std::uint64_t off, std::size_t n, std::string& out) override {
        REQUIRE(off + n <= b_.size());  // the reader never reads outside the file
        if (reads_) ++*reads_;
        out.assign(b_, static_cast<std::size_t>(off), n);
    }
    std::string name() const override { return "mem.parquet"; }

private:
    std::string b_;
    int* reads_;
};

std::string to_jsonl(pq::reader r) {
    pq::jsonl_encoder enc;
    sluice::chunk out(1 << 12);
    while (auto row = r.next()) enc.encode(*row, out);
    return std::string(out.view());
}

std::string read_jsonl(std::string file, pq::reader_options o = {}) {
    return to_jsonl(pq::read(std::make_unique<memory_input>(std::move(file)), std::move(o)));
}

/// The message of the error reading `file` throws (or "" when none).
std::string read_error(std::string file, pq::reader_options o = {}) {
    try {
        (void)read_jsonl(std::move(file), std::move(o));
    } catch (const sluice::error& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

struct text_row {
    std::vector<std::optional<std::string>> v;
    std::size_t size() const { return v.size(); }
    bool is_null(int i) const { return !v[static_cast<std::size_t>(i)]; }
    std::string_view value(int i) const { return *v[static_cast<std::size_t>(i)]; }
};

std::string write(const std::vector<text_row>& rows, const pq::schema& s, pq::write_options o = {}) {
    std::string file;
    sluice::from_range(rows) | pq::encode(s, o) | sluice::for_each([&](sluice::chunk& c) { file.append(c.view()); });
    return file;
}

std::string text_of(const pq::leaf_type& t, const pq::value& v) {
    std::string s;
    pq::append_json(s, t, v);
    return s;
}

pq::value int_value(std::int64_t i, bool is64 = true) {
    pq::value v;
    v.kind = is64 ? pq::value_kind::int64 : pq::value_kind::int32;
    v.i = i;
    return v;
}

void varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7F) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}
std::uint64_t zigzag(std::int64_t v) { return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63); }

/// DELTA_BINARY_PACKED of `vals`: blocks of 128, 4 miniblocks of 32 (an independent encoder).
std::string delta_encode(const std::vector<std::int64_t>& vals) {
    std::string out;
    varint(out, 128);
    varint(out, 4);
    varint(out, vals.size());
    varint(out, zigzag(vals.empty() ? 0 : vals[0]));
    for (std::size_t at = 1; at < vals.size(); at += 128) {
        std::vector<std::int64_t> d;
        for (std::size_t i = at; i < vals.size() && i < at + 128; ++i) d.push_back(vals[i] - vals[i - 1]);
        std::int64_t mn = d[0];
        for (auto x : d) mn = std::min(mn, x);
        varint(out, zigzag(mn));
        std::string widths(4, '\0'), data;
        for (std::size_t m = 0; m < 4 && m * 32 < d.size(); ++m) {
            std::uint64_t mx = 0;
            for (std::size_t k = m * 32; k < d.size() && k < m * 32 + 32; ++k)
                mx = std::max(mx, static_cast<std::uint64_t>(d[k] - mn));
            const int w = pq::bit_width_for(mx);
            widths[m] = static_cast<char>(w);
            std::string bits(static_cast<std::size_t>(w) * 4, '\0');
            for (std::size_t k = 0; k < 32; ++k) {
                const std::size_t idx = m * 32 + k;
                const std::uint64_t x = idx < d.size() ? static_cast<std::uint64_t>(d[idx] - mn) : 0;
                for (int b = 0; b < w; ++b)
                    if ((x >> b) & 1) {
                        const std::size_t bit = k * static_cast<std::size_t>(w) + static_cast<std::size_t>(b);
                        bits[bit / 8] = static_cast<char>(bits[bit / 8] | (1 << (bit % 8)));
                    }
            }
            data += bits;
        }
        out += widths + data;
    }
    return out;
}

// --- hand-built files -----------------------------------------------------------------------------

pq::schema_element leaf(std::string name, pq::physical_type t, pq::repetition r) {
    pq::schema_element e;
    e.name = std::move(name);
    e.type = t;
    e.repetition_type = r;
    return e;
}
pq::schema_element group(std::string name, int children, std::optional<pq::repetition> r = std::nullopt) {
    pq::schema_element e;
    e.name = std::move(name);
    e.num_children = children;
    e.repetition_type = r;
    return e;
}

std::string page(pq::page_header h, const std::string& body) {
    h.uncompressed_page_size = h.uncompressed_page_size ? h.uncompressed_page_size : static_cast<std::int32_t>(body.size());
    h.compressed_page_size = static_cast<std::int32_t>(body.size());
    std::string out;
    pq::serialize(h, out);
    return out + body;
}

std::string data_page_v1(std::int32_t n, pq::encoding e, const std::string& body, std::int32_t usize = 0) {
    pq::page_header h;
    h.type = pq::page_type::data_page;
    h.uncompressed_page_size = usize;
    h.data_page.emplace();
    h.data_page->num_values = n;
    h.data_page->value_encoding = e;
    return page(h, body);
}

std::string dict_page(std::int32_t n, const std::string& body) {
    pq::page_header h;
    h.type = pq::page_type::dictionary_page;
    h.dictionary_page.emplace();
    h.dictionary_page->num_values = n;
    h.dictionary_page->value_encoding = pq::encoding::plain;
    return page(h, body);
}

/// A file of one column chunk (`pages`) under `schema` (the root added), `rows` rows.
std::string one_chunk_file(std::vector<pq::schema_element> schema, const std::string& pages, std::int64_t rows,
                           pq::physical_type t, bool dictionary = false) {
    std::string file = "PAR1";
    pq::file_meta_data m;
    m.schema.push_back(group("root", 1));
    for (auto& e : schema) m.schema.push_back(e);
    m.num_rows = rows;
    pq::row_group rg;
    rg.num_rows = rows;
    pq::column_chunk cc;
    cc.file_offset = 4;
    pq::column_meta_data md;
    md.type = t;
    md.encodings = {pq::encoding::plain};
    md.path_in_schema = {schema.front().name};
    md.codec = pq::compression_codec::uncompressed;
    md.num_values = rows;
    md.total_compressed_size = static_cast<std::int64_t>(pages.size());
    md.total_uncompressed_size = md.total_compressed_size;
    md.data_page_offset = 4;
    if (dictionary) md.dictionary_page_offset = 4;
    cc.meta_data = md;
    rg.columns.push_back(cc);
    rg.total_byte_size = md.total_compressed_size;
    m.row_groups.push_back(rg);
    file += pages;
    std::string footer;
    pq::serialize(m, footer);
    file += footer;
    const auto n = static_cast<std::uint32_t>(footer.size());
    file.append(reinterpret_cast<const char*>(&n), 4);
    return file + "PAR1";
}

std::string le32(std::uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }

/// A v1 level section: 4-byte length + one RLE run of `count` copies of `level` (width 1).
std::string rle_levels(std::uint32_t count, std::uint8_t level) {
    std::string runs;
    varint(runs, std::uint64_t{count} << 1);
    runs.push_back(static_cast<char>(level));
    return le32(static_cast<std::uint32_t>(runs.size())) + runs;
}

}  // namespace

TEST_CASE("rle_decoder: RLE and bit-packed runs, bounds", "[parquet][reader][rle]") {
    // RLE run of 5 x 3 (width 2), then a bit-packed group of 8 values 0..7 (width 3).
    std::string b;
    varint(b, 5 << 1);
    b.push_back(3);
    varint(b, (1 << 1) | 1);
    std::uint32_t bits = 0;  // 0..7 at 3 bits each, LSB first: 24 bits
    for (std::uint32_t i = 0; i < 8; ++i) bits |= i << (3 * i);
    const std::string packed{static_cast<char>(bits & 0xFF), static_cast<char>((bits >> 8) & 0xFF),
                             static_cast<char>(bits >> 16)};
    const std::string runs = b + packed;  // the decoder views its bytes: they must outlive it
    pq::rle_decoder d(runs, 3);
    std::uint32_t out[16];
    REQUIRE(d.get_batch(out, 16) == 13);
    CHECK(std::vector<std::uint32_t>(out, out + 13) == std::vector<std::uint32_t>{3, 3, 3, 3, 3, 0, 1, 2, 3, 4, 5, 6, 7});

    CHECK_THROWS_WITH(pq::rle_decoder("", 33), Catch::Contains("bit width 33"));
    // An RLE value wider than the bit width, and a run header cut off.
    std::string wide;
    varint(wide, 2 << 1);
    wide.push_back(9);
    pq::rle_decoder w(wide, 3);
    CHECK_THROWS_WITH(w.get_batch(out, 1), Catch::Contains("does not fit"));
    const std::string cut_header("\x80", 1);
    pq::rle_decoder cut(cut_header, 1);
    CHECK_THROWS_WITH(cut.get_batch(out, 1), Catch::Contains("past the end"));
    // A run claiming 2^62 values costs nothing until they are asked for.
    std::string huge;
    varint(huge, std::uint64_t{1} << 62);
    huge.push_back(1);
    pq::rle_decoder h(huge, 1);
    CHECK(h.get_batch(out, 16) == 16);
}

TEST_CASE("value_decoder: DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY", "[parquet][reader][delta]") {
    std::vector<std::int64_t> vals;
    for (int i = 0; i < 300; ++i) vals.push_back(i % 7 == 0 ? -1000000007LL * i : i * i);
    vals.push_back(std::numeric_limits<std::int64_t>::max());
    vals.push_back(std::numeric_limits<std::int64_t>::min());
    pq::leaf_type t64;
    t64.physical = pq::physical_type::int64;
    const std::string enc = delta_encode(vals);
    pq::value_decoder d;
    d.start(pq::encoding::delta_binary_packed, enc, t64, nullptr, nullptr);
    for (std::int64_t want : vals) {
        pq::value v;
        d.next(v);
        REQUIRE(v.i == want);
    }
    pq::value v;
    CHECK_THROWS_WITH(d.next(v), Catch::Contains("more values wanted"));

    // DELTA_BYTE_ARRAY: the spec's example, prefixes 0,2,0,3 and suffixes.
    pq::leaf_type tb;
    tb.physical = pq::physical_type::byte_array;
    const std::vector<std::string> words{"axis", "axle", "babble", "babyhood"};
    std::string dba = delta_encode({0, 2, 0, 3}) + delta_encode({4, 2, 6, 5}) + "axis" + "le" + "babble" + "yhood";
    std::deque<std::string> store;
    pq::value_decoder b;
    b.start(pq::encoding::delta_byte_array, dba, tb, nullptr, &store);
    for (const auto& w : words) {
        b.next(v);
        CHECK(v.s == w);
    }
    // DELTA_LENGTH_BYTE_ARRAY, and a length past the end.
    std::string dlba = delta_encode({3, 0, 2}) + "abc" + "de";
    pq::value_decoder l;
    l.start(pq::encoding::delta_length_byte_array, dlba, tb, nullptr, nullptr);
    for (std::string_view w : {"abc", "", "de"}) {
        l.next(v);
        CHECK(v.s == w);
    }
    std::string bad = delta_encode({3, 50}) + "abc";
    l.start(pq::encoding::delta_length_byte_array, bad, tb, nullptr, nullptr);
    l.next(v);
    CHECK_THROWS_WITH(l.next(v), Catch::Contains("past the end of the page"));
    // A prefix longer than the previous value.
    std::string badp = delta_encode({0, 9}) + delta_encode({2, 1}) + "ab" + "c";
    b.start(pq::encoding::delta_byte_array, badp, tb, nullptr, &store);
    b.next(v);
    CHECK_THROWS_WITH(b.next(v), Catch::Contains("prefix length 9"));
}

TEST_CASE("text: the typed text of each logical type", "[parquet][reader][text]") {
    using k = pq::logical_type::kind;
    pq::leaf_type t;
    t.physical = pq::physical_type::int64;
    CHECK(text_of(t, int_value(-9223372036854775807LL - 1)) == "-9223372036854775808");
    t.logical = pq::logical_type::decimal(18, 4);
    CHECK(text_of(t, int_value(-12345)) == "-1.2345");
    CHECK(text_of(t, int_value(5)) == "0.0005");
    CHECK(text_of(t, int_value(-5)) == "-0.0005");
    CHECK(text_of(t, int_value(1230000)) == "123.0000");
    t.logical = pq::logical_type::timestamp(true, pq::time_unit::micros);
    CHECK(text_of(t, int_value(-1)) == "\"1969-12-31T23:59:59.999999Z\"");
    CHECK(text_of(t, int_value(1'500'000)) == "\"1970-01-01T00:00:01.5Z\"");
    CHECK(text_of(t, int_value(std::numeric_limits<std::int64_t>::max())) == "\"infinity\"");
    t.logical = pq::logical_type::timestamp(false, pq::time_unit::nanos);
    CHECK(text_of(t, int_value(1)) == "\"1970-01-01T00:00:00.000000001\"");
    t.logical = pq::logical_type::of(k::date);
    CHECK(text_of(t, int_value(-719528)) == "\"0000-01-01\"");
    CHECK(text_of(t, int_value(19782)) == "\"2024-02-29\"");
    t.logical = pq::logical_type::integer(64, false);
    CHECK(text_of(t, int_value(-1)) == "18446744073709551615");
    t.logical = pq::logical_type::time(false, pq::time_unit::millis);
    CHECK(text_of(t, int_value(86399999)) == "\"23:59:59.999\"");

    // INT96 (legacy timestamps): nanoseconds of the day and a day number.
    pq::value i96;
    i96.kind = pq::value_kind::int96;
    i96.days = 19782;
    i96.i = 3723000000123;
    pq::leaf_type t96;
    t96.physical = pq::physical_type::int96;
    CHECK(text_of(t96, i96) == "\"2024-02-29T01:02:03.000000123\"");

    pq::value f;
    f.kind = pq::value_kind::float32;
    f.f = 0.1f;
    pq::leaf_type tf;
    tf.physical = pq::physical_type::float32;
    CHECK(text_of(tf, f) == "0.1");
    f.f = std::numeric_limits<float>::quiet_NaN();
    CHECK(text_of(tf, f) == "\"NaN\"");
    std::string csv;
    pq::append_text(csv, tf, f);
    CHECK(csv == "NaN");

    pq::value b;
    b.kind = pq::value_kind::bytes;
    pq::leaf_type tb;
    tb.physical = pq::physical_type::fixed_len_byte_array;
    tb.type_length = 16;
    tb.logical = pq::logical_type::decimal(38, 2);
    const std::string minus_one(16, '\xff');
    b.s = minus_one;
    CHECK(text_of(tb, b) == "-0.01");
    tb.logical = pq::logical_type::of(k::uuid);
    const std::string u("\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd\x38\x0a\x11", 16);
    b.s = u;
    CHECK(text_of(tb, b) == "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
    tb.physical = pq::physical_type::byte_array;
    tb.logical = pq::logical_type::of(k::json);
    b.s = R"({"a":[1,2]})";
    CHECK(text_of(tb, b) == R"({"a":[1,2]})");
    tb.logical = pq::logical_type::of(k::string);
    b.s = "a\"b\n";
    CHECK(text_of(tb, b) == R"("a\"b\n")");
    tb.logical = {};
    b.s = std::string_view("\x00z'", 3);
    CHECK(text_of(tb, b) == R"("\\x00z\\x27")");
}

TEST_CASE("files sluice writes read back value for value", "[parquet][reader][roundtrip]") {
    const auto s = pq::parse_schema(
        "id:int64!,small:int16,n:int32,amount:decimal(12,2),big:decimal(38,10),f:float,d:double,ok:bool,"
        "name:string,js:json,day:date,t:time,ts:timestamp,tz:timestamptz,u:uuid,tags:list<string>,nums:list<int32>");
    std::vector<text_row> rows;
    for (int i = 0; i < 3000; ++i) {
        const auto opt = [&](std::string v) { return i % 5 == 0 ? std::nullopt : std::optional<std::string>(v); };
        rows.push_back({{std::to_string(i), opt(std::to_string(i % 300 - 150)), opt(std::to_string(i * 1000)),
                         opt(std::to_string(i) + ".05"), opt("-" + std::to_string(i) + ".0000000001"), opt("0.5"),
                         opt(std::to_string(i) + ".25"), opt(i % 2 ? "t" : "f"), opt("n\"" + std::to_string(i % 10)),
                         opt("{\"k\": " + std::to_string(i) + "}"), opt("2024-02-29"), opt("12:00:00.5"),
                         opt("2024-01-02 03:04:05.25"), opt("2024-01-02 03:04:05+00"),
                         opt("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), opt(i % 3 ? "{a,NULL,\"\"}" : "{}"),
                         opt("{1,NULL," + std::to_string(i) + "}")}});
    }
    std::string want;
    for (bool v2 : {false, true}) {
        for (bool dict : {true, false}) {
            for (pq::compression_codec codec : {pq::compression_codec::zstd, pq::compression_codec::snappy,
                                                pq::compression_codec::gzip, pq::compression_codec::uncompressed}) {
                pq::write_options o;
                o.codec = codec;
                o.data_page_v2 = v2;
                o.dictionary = dict;
                o.row_group_rows = 1000;
                o.page_bytes = 4096;  // many pages per chunk, lists crossing page ends
                const std::string got = read_jsonl(write(rows, s, o));
                if (want.empty()) want = got;
                INFO("v2 " << v2 << " dictionary " << dict << " codec " << static_cast<int>(codec));
                REQUIRE(got == want);
            }
        }
    }
    CHECK(contains(want, R"({"id":0,"small":null,"n":null,"amount":null,"big":null,"f":null,"d":null,"ok":null,)"
                         R"("name":null,"js":null,"day":null,"t":null,"ts":null,"tz":null,"u":null,"tags":null,"nums":null})"));
    CHECK(contains(want, R"({"id":1,"small":-149,"n":1000,"amount":1.05,"big":-1.0000000001,"f":0.5,"d":1.25,"ok":true,)"
                         R"("name":"n\"1","js":{"k":1},"day":"2024-02-29","t":"12:00:00.5","ts":"2024-01-02T03:04:05.25",)"
                         R"("tz":"2024-01-02T03:04:05Z","u":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","tags":["a",null,""],)"
                         R"("nums":[1,null,1]})"));
    CHECK(contains(want, R"("id":3,)"));
    CHECK(contains(want, R"("tags":[],"nums":[1,null,3]})"));
    CHECK(std::count(want.begin(), want.end(), '\n') == 3000);

    // Column selection fetches only the chunks it needs, in the order asked.
    pq::write_options o;
    o.row_group_rows = 1000;
    const std::string file = write(rows, s, o);
    int reads = 0;
    pq::reader_options ro;
    ro.columns = {"nums", "id"};
    const std::string sel = to_jsonl(pq::read(std::make_unique<memory_input>(file, &reads), ro));
    CHECK(sel.substr(0, sel.find('\n')) == R"({"nums":null,"id":0})");
    CHECK(reads == 1 + 3 * 2);  // the tail (with the footer), then 2 chunks x 3 row groups
    ro.columns = {"nope"};
    CHECK(contains(read_error(file, ro), "no column 'nope'"));
}

TEST_CASE("hand-built files: legacy 2-level LIST, dictionaries", "[parquet][reader][files]") {
    // optional group l (LIST) { repeated int32 element; }: rows [1,2], null, [].
    pq::schema_element l = group("l", 1, pq::repetition::optional);
    l.converted = pq::converted_type::list;
    std::string body;
    // rep levels: 0,1,0,0 (width 1, bit-packed group), def levels: 2,2,0,1 (width 2).
    body += le32(2) + std::string("\x03\x02", 2);       // bit-packed: 8 values 0,1,0,0,...
    body += le32(3) + std::string("\x03\x4A\x00", 3);  // bit-packed: 2,2,0,1 = 0b01_00_10_10
    body += le32(1) + le32(2);
    const std::string file = one_chunk_file({l, leaf("element", pq::physical_type::int32, pq::repetition::repeated)},
                                            data_page_v1(4, pq::encoding::plain, body), 3, pq::physical_type::int32);
    CHECK(read_jsonl(file) == "{\"l\":[1,2]}\n{\"l\":null}\n{\"l\":[]}\n");

    // INT96 (Spark/Impala timestamps): 8 bytes of nanoseconds of the day, 4 of Julian day.
    const std::uint64_t nanos = 3723000000123ULL;
    const std::string i96 = std::string(reinterpret_cast<const char*>(&nanos), 8) + le32(2440588 + 19782);
    CHECK(read_jsonl(one_chunk_file({leaf("t", pq::physical_type::int96, pq::repetition::required)},
                                    data_page_v1(1, pq::encoding::plain, i96), 1, pq::physical_type::int96)) ==
          "{\"t\":\"2024-02-29T01:02:03.000000123\"}\n");

    // A dictionary column, and an index out of range.
    const std::string dict = dict_page(2, le32(1) + "a" + le32(2) + "bc");
    auto with_indexes = [&](std::string idx) {
        pq::schema_element e = leaf("s", pq::physical_type::byte_array, pq::repetition::required);
        e.converted = pq::converted_type::utf8;
        return one_chunk_file({e}, dict + data_page_v1(3, pq::encoding::rle_dictionary, idx), 3,
                              pq::physical_type::byte_array, true);
    };
    // width 2, bit-packed group: 1,0,1 = 0b01_00_01
    CHECK(read_jsonl(with_indexes(std::string("\x02\x03\x11\x00", 4))) == "{\"s\":\"bc\"}\n{\"s\":\"a\"}\n{\"s\":\"bc\"}\n");
    const std::string err = read_error(with_indexes(std::string("\x02\x03\x31\x00", 4)));  // 1,0,3
    CHECK(contains(err, "dictionary index 3 is out of range"));
    CHECK(contains(err, "column 's', row group 0, page 2"));
}

TEST_CASE("hostile files end in clear errors in bounded memory", "[parquet][reader][hostile]") {
    const auto s = pq::parse_schema("id:int64,name:string");
    std::vector<text_row> rows;
    for (int i = 0; i < 100; ++i) rows.push_back({{std::to_string(i), "n" + std::to_string(i)}});
    const std::string good = write(rows, s);
    std::uint32_t flen;
    std::memcpy(&flen, good.data() + good.size() - 8, 4);

    CHECK(contains(read_error("PAR1"), "not a Parquet file: 4 bytes"));
    CHECK(contains(read_error(good.substr(0, good.size() - 1)), "not a Parquet file"));
    std::string big = good;
    const std::uint32_t huge = 0xFFFFFFF0u;
    std::memcpy(big.data() + big.size() - 8, &huge, 4);
    CHECK(contains(read_error(big), "the footer length 4294967280 is larger than the file"));
    pq::reader_options small;
    small.limits.max_footer_bytes = 10;
    CHECK(contains(read_error(good, small), "over the limit of 10"));
    // The data cut short, the footer kept: the chunks point past the data.
    const std::string data = good.substr(0, good.size() - 8 - flen);
    const std::string cut = data.substr(0, data.size() / 2) + good.substr(good.size() - 8 - flen);
    CHECK(contains(read_error(cut), "lies outside the file's data"));

    // A definition level wider than its bit width, and one over the column's maximum.
    pq::schema_element e = leaf("x", pq::physical_type::int32, pq::repetition::optional);
    const std::string wide_def =
        one_chunk_file({e}, data_page_v1(2, pq::encoding::plain, rle_levels(2, 1).replace(5, 1, "\x03", 1) + le32(7) + le32(8)),
                       2, pq::physical_type::int32);
    CHECK(contains(read_error(wide_def), "RLE run value 3 does not fit in 1 bits"));
    CHECK(contains(read_error(wide_def), "column 'x', row group 0, page 1"));
    pq::schema_element l = group("l", 1, pq::repetition::optional);
    l.converted = pq::converted_type::list;
    const std::string bad_def = one_chunk_file(
        {l, leaf("element", pq::physical_type::int32, pq::repetition::repeated)},
        data_page_v1(1, pq::encoding::plain, rle_levels(1, 0) + rle_levels(1, 3) + le32(7)), 1, pq::physical_type::int32);
    CHECK(contains(read_error(bad_def), "definition level 3 is over the column's maximum 2"));
    // One list of 2^31 - 1 null elements in a 20-byte page: stopped at the element limit.
    std::string reps;
    varint(reps, 2);  // RLE run: 1 x 0
    reps.push_back(0);
    varint(reps, std::uint64_t{0x7FFFFFFE} << 1);  // then 2^31 - 2 x 1
    reps.push_back(1);
    // optional group l (LIST) { repeated group list { optional int32 element } }: def 2 = a null element.
    const std::string long_list = one_chunk_file(
        {l, group("list", 1, pq::repetition::repeated), leaf("element", pq::physical_type::int32, pq::repetition::optional)},
        data_page_v1(0x7FFFFFFF, pq::encoding::plain, le32(static_cast<std::uint32_t>(reps.size())) + reps + rle_levels(0x7FFFFFFF, 2)),
        1, pq::physical_type::int32);
    pq::reader_options few;
    few.limits.max_list_elements = 1000;
    CHECK(contains(read_error(long_list, few), "a LIST value of more than 1000 elements"));
    // Values that end before the levels say.
    const std::string short_values =
        one_chunk_file({e}, data_page_v1(2, pq::encoding::plain, rle_levels(2, 1) + le32(7)), 2, pq::physical_type::int32);
    CHECK(contains(read_error(short_values), "an INT32 value runs past the end of the page"));
    // A page claiming a gigabyte uncompressed.
    const std::string huge_page = one_chunk_file(
        {e}, data_page_v1(2, pq::encoding::plain, rle_levels(2, 1) + le32(7) + le32(8), 1 << 30), 2, pq::physical_type::int32);
    CHECK(contains(read_error(huge_page), "a page of 1073741824 bytes uncompressed is over the limit"));
    // More rows claimed than the column holds, and more values than the rows.
    const std::string ok_page = data_page_v1(2, pq::encoding::plain, rle_levels(2, 1) + le32(7) + le32(8));
    CHECK(read_jsonl(one_chunk_file({e}, ok_page, 2, pq::physical_type::int32)) == "{\"x\":7}\n{\"x\":8}\n");
    CHECK(contains(read_error(one_chunk_file({e}, ok_page, 3, pq::physical_type::int32)), "end before the row group's last row"));
    CHECK(contains(read_error(one_chunk_file({e}, ok_page, 1, pq::physical_type::int32)), "more values than the row group's 1 rows"));
    // A page header running past the chunk.
    CHECK(contains(read_error(one_chunk_file({e}, ok_page.substr(0, ok_page.size() - 3), 2, pq::physical_type::int32)),
                   "runs past the end of the column chunk"));
}
