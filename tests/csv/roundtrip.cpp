// Generated data with random quotes, delimiters, CR/LF and unicode: encode -> read gives
// the same fields back, whatever the input block size (read_file with blocks of 1, 2, 3, 7,
// 64 bytes and the default), and the field positions agree across block sizes.
#include <catch2/catch.hpp>

#include <sluice/csv/csv.hpp>
#include <sluice/sluice.hpp>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace csv = sluice::csv;

namespace {

using table = std::vector<std::vector<std::string>>;

std::string random_field(std::mt19937& rng) {
    static const char* pieces[] = {"a", "b", "xyz", ",", "\"", "\"\"", "\n", "\r\n", "\r", " ",
                                   "\t", ";", "|", "é", "東京", "😀", "Ω", "0", "123", "-1.5e3"};
    std::string s;
    int n = static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) s += pieces[rng() % 20];
    return s;
}

table random_table(unsigned seed, std::size_t rows, std::size_t cols) {
    std::mt19937 rng(seed);
    table t(rows, std::vector<std::string>(cols));
    for (auto& r : t)
        for (auto& f : r) f = random_field(rng);
    return t;
}

std::string encode(const table& t, csv::write_options o) {
    csv::encoder e(std::move(o));
    sluice::chunk out;
    e.begin(out);
    for (const auto& r : t) e.encode(r, out);
    return std::string(out.view());
}

struct read_result {
    table rows;
    std::vector<std::uint64_t> lines, offsets;
};

read_result read_file_blocks(const std::string& path, csv::read_options o, std::size_t block) {
    read_result res;
    for (const csv::row& r : sluice::read_file(path, {block}) | csv::read(o)) {
        std::vector<std::string> f;
        for (std::string_view s : r) f.emplace_back(s);
        res.rows.push_back(std::move(f));
        res.lines.push_back(r.line());
        res.offsets.push_back(r.byte_offset());
    }
    return res;
}

void write_file(const std::string& path, const std::string& bytes) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
}

}  // namespace

TEST_CASE("round trip through files read in small blocks", "[csv][roundtrip]") {
    for (char delim : {',', '\t', ';', '|'}) {
        for (bool crlf : {false, true}) {
            table t = random_table(static_cast<unsigned>(delim) * 2 + crlf, 150, 4);
            csv::write_options wo;
            wo.delimiter = delim;
            wo.crlf = crlf;
            wo.header = {"c1", "c,2", "c\"3", "c4"};
            const std::string text = encode(t, wo);
            const std::string path = "roundtrip_test.csv";
            write_file(path, text);
            csv::read_options ro;
            ro.delimiter = delim;
            read_result first;
            for (std::size_t block : {1, 2, 3, 7, 64, 256 * 1024}) {
                INFO("delimiter " << int(delim) << " crlf " << crlf << " block " << block);
                read_result got = read_file_blocks(path, ro, block);
                CHECK(got.rows == t);
                if (block == 1) {
                    first = got;
                } else {
                    CHECK(got.lines == first.lines);
                    CHECK(got.offsets == first.offsets);
                }
            }
            std::remove(path.c_str());
        }
    }
}

TEST_CASE("lines and offsets of generated records are exact", "[csv][roundtrip]") {
    table t = random_table(7, 300, 3);
    const std::string text = encode(t, {});
    // Where each record starts, computed independently from the encoded lines.
    std::vector<std::uint64_t> offsets, lines;
    {
        csv::encoder e;
        std::uint64_t off = 0, line = 1;
        for (const auto& r : t) {
            sluice::chunk one;
            e.encode(r, one);
            offsets.push_back(off);
            lines.push_back(line);
            off += one.size();
            for (char c : one.view()) line += c == '\n';
        }
    }
    csv::read_options o;
    o.header = false;
    write_file("lines_test.csv", text);
    for (std::size_t block : {1, 5, 64, 4096}) {
        read_result got = read_file_blocks("lines_test.csv", o, block);
        CHECK(got.rows == t);
        CHECK(got.lines == lines);
        CHECK(got.offsets == offsets);
    }
    std::remove("lines_test.csv");
}

TEST_CASE("owned rows and structs survive encode -> read", "[csv][roundtrip]") {
    table t = random_table(99, 50, 5);
    std::vector<std::string> src{encode(t, {.write_header = false})};
    csv::read_options o;
    o.header = false;
    std::vector<csv::owned_row> kept;
    for (const csv::row& r : sluice::from_range(src) | csv::read(o)) kept.push_back(r.to_owned());
    REQUIRE(kept.size() == t.size());
    for (std::size_t i = 0; i < t.size(); ++i) CHECK(kept[i].fields() == t[i]);
    // Re-encoding the owned rows gives the same bytes.
    csv::encoder e({.write_header = false});
    sluice::chunk out;
    for (const auto& r : kept) e.encode(r, out);
    CHECK(out.view() == src[0]);
}
