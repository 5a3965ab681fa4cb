// parquet::to_partitions: Hive escaping, one file per partition without the partition
// columns, one memory budget across partitions (the largest written first, files never cut),
// max_partitions, and atomicity (a failed run leaves nothing, not even its directories);
// parquet::encode with a schema made from the first row (CSV header) or, with no rows, from
// the reader's header.
#include <catch2/catch.hpp>

#include <sluice/core/range_source.hpp>
#include <sluice/csv/csv.hpp>
#include <sluice/parquet/encode.hpp>
#include <sluice/parquet/partition.hpp>
#include <sluice/sinks/for_each.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pq = sluice::parquet;
namespace fs = std::filesystem;

namespace {

struct text_row {
    std::vector<std::optional<std::string>> v;
    std::size_t size() const { return v.size(); }
    bool is_null(int i) const { return !v[static_cast<std::size_t>(i)]; }
    std::string_view value(int i) const { return *v[static_cast<std::size_t>(i)]; }
};

/// Collects every partition file's bytes in memory, counting what was written before finish.
struct memory_target {
    std::map<std::string, std::string> committed;
    std::map<std::string, std::size_t> pushed_before_commit;
    std::vector<std::string> flushes;  ///< the partition of each row group written early

    struct file_sink : sluice::sink_base {
        memory_target* t;
        std::string path, bytes;
        bool push(sluice::chunk& c) {
            bytes.append(c.view());
            if (bytes.size() > 4) t->flushes.push_back(path);  // past "PAR1": a row group
            t->pushed_before_commit[path] = bytes.size();
            return true;
        }
        std::uint64_t finish() {
            t->committed[path] = bytes;
            return bytes.size();
        }
    };

    pq::partition_target target() {
        pq::partition_target pt;
        pt.open = [this](const std::string& path) -> sluice::any_byte_sink {
            return file_sink{{}, this, path, {}};
        };
        return pt;
    }
};

pq::schema three_columns() {
    return pq::parse_schema("day:string,v:int64,payload:string");
}

std::string temp_dir(const char* name) {
    auto d = fs::temp_directory_path() / (std::string("sluice-partition-") + name + "-" + std::to_string(::getpid()));
    fs::remove_all(d);
    return d.string();
}

}  // namespace

TEST_CASE("hive_escape escapes what Hive escapes", "[parquet][partition]") {
    CHECK(pq::hive_escape("plain value-1.2_x") == "plain value-1.2_x");
    CHECK(pq::hive_escape("a/b=c:d") == "a%2Fb%3Dc%3Ad");
    CHECK(pq::hive_escape("%#?*'\"\\{[]^") == "%25%23%3F%2A%27%22%5C%7B%5B%5D%5E");
    CHECK(pq::hive_escape(std::string("\x01\x1f\x7f", 3)) == "%01%1F%7F");
    CHECK(pq::hive_escape("naïve ☃") == "naïve ☃");
}

TEST_CASE("to_partitions writes one file per value, partition columns left out", "[parquet][partition]") {
    const std::string root = temp_dir("files");
    std::vector<text_row> rows;
    for (int i = 0; i < 300; ++i)
        rows.push_back({{i % 3 == 0 ? std::nullopt : std::optional<std::string>(i % 3 == 1 ? "2024/01" : "x=y"),
                         std::to_string(i), std::string(20, 'a' + i % 26)}});
    pq::partition_options o;
    o.columns = {"day"};
    auto res = sluice::run(sluice::from_range(rows), pq::to_partitions(three_columns(), o, pq::directory_target(root)));
    CHECK(res.rows == 300);
    CHECK(res.files == 3);
    CHECK(fs::is_regular_file(root + "/day=__HIVE_DEFAULT_PARTITION__/part-00000.parquet"));
    CHECK(fs::is_regular_file(root + "/day=2024%2F01/part-00000.parquet"));
    CHECK(fs::is_regular_file(root + "/day=x%3Dy/part-00000.parquet"));
    // The files hold two columns (v, payload): read the footer's schema.
    std::ifstream in(root + "/day=x%3Dy/part-00000.parquet", std::ios::binary);
    std::string file((std::istreambuf_iterator<char>(in)), {});
    std::uint32_t n = 0;
    std::memcpy(&n, file.data() + file.size() - 8, 4);
    auto meta = pq::deserialize<pq::file_meta_data>(std::string_view(file).substr(file.size() - 8 - n, n));
    REQUIRE(meta.schema.size() == 3);
    CHECK(meta.schema[1].name == "v");
    CHECK(meta.schema[2].name == "payload");
    CHECK(meta.num_rows == 100);
    fs::remove_all(root);
}

TEST_CASE("to_partitions keeps one budget: the largest partition is written first, files stay whole",
          "[parquet][partition]") {
    memory_target mem;
    std::vector<text_row> rows;
    // Partition "big" gets 9 of 10 rows of incompressible-ish payload.
    for (int i = 0; i < 20000; ++i)
        rows.push_back({{std::string(i % 10 == 0 ? "small" : "big"), std::to_string(i),
                         std::to_string(i * 2654435761u) + std::to_string(i * 40503u)}});
    pq::partition_options o;
    o.columns = {"day"};
    o.memory_bytes = 64 * 1024;
    o.write.page_bytes = 8 * 1024;
    o.write.dictionary = false;
    auto sink = pq::to_partitions(three_columns(), o, mem.target());
    std::size_t peak = 0;
    for (const auto& r : rows) {
        sink.push(r);
        peak = std::max(peak, sink.buffered_bytes());
    }
    // Past the budget the largest partition, "big", was written first, and mostly.
    REQUIRE_FALSE(mem.flushes.empty());
    CHECK(mem.flushes.front() == "day=big/part-00000.parquet");
    CHECK(mem.pushed_before_commit["day=big/part-00000.parquet"] > 64 * 1024);
    CHECK(mem.pushed_before_commit["day=small/part-00000.parquet"] * 4 <
          mem.pushed_before_commit["day=big/part-00000.parquet"]);
    CHECK(peak < 64 * 1024 + 3 * 8 * 1024 * 2);
    auto res = sink.finish();
    CHECK(res.files == 2);
    REQUIRE(mem.committed.size() == 2);
    const std::string& big = mem.committed["day=big/part-00000.parquet"];
    std::uint32_t n = 0;
    std::memcpy(&n, big.data() + big.size() - 8, 4);
    auto meta = pq::deserialize<pq::file_meta_data>(std::string_view(big).substr(big.size() - 8 - n, n));
    CHECK(meta.num_rows == 18000);
    CHECK(meta.row_groups.size() > 2);
}

TEST_CASE("to_partitions: past max_partitions the run fails and leaves nothing", "[parquet][partition]") {
    const std::string root = temp_dir("limit");
    std::vector<text_row> rows;
    for (int i = 0; i < 50; ++i) rows.push_back({{std::to_string(i), std::to_string(i), std::string("p")}});
    pq::partition_options o;
    o.columns = {"day"};
    o.max_partitions = 10;
    try {
        sluice::run(sluice::from_range(rows), pq::to_partitions(three_columns(), o, pq::directory_target(root)));
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::limit);
        CHECK(std::string(e.what()).find("'day=10' would be partition 11, past the limit of 10") != std::string::npos);
    }
    CHECK_FALSE(fs::exists(root));
}

TEST_CASE("to_partitions: an unknown or every column is a usage error", "[parquet][partition]") {
    pq::partition_options o;
    o.columns = {"nope"};
    CHECK_THROWS_WITH(pq::to_partitions(three_columns(), o, {}), Catch::Contains("'nope' is not a column"));
    o.columns = {"day", "v", "payload"};
    CHECK_THROWS_WITH(pq::to_partitions(three_columns(), o, {}), Catch::Contains("every column"));
}

TEST_CASE("encode(schema_from_header): strings named by the CSV header, also with no rows", "[parquet][encode]") {
    auto file_of = [](std::string csv) {
        std::string file;
        sluice::from_range(std::vector<std::string>{std::move(csv)}) | sluice::csv::read() |
            pq::encode(pq::schema_from_header) | sluice::for_each([&](sluice::chunk& c) { file.append(c.view()); });
        std::uint32_t n = 0;
        std::memcpy(&n, file.data() + file.size() - 8, 4);
        return pq::deserialize<pq::file_meta_data>(std::string_view(file).substr(file.size() - 8 - n, n));
    };
    auto meta = file_of("a,b\n1,2\n3,4\n");
    REQUIRE(meta.schema.size() == 3);
    CHECK(meta.schema[1].name == "a");
    CHECK(meta.num_rows == 2);
    auto empty = file_of("x,y,z\n");
    REQUIRE(empty.schema.size() == 4);
    CHECK(empty.schema[3].name == "z");
    CHECK(empty.num_rows == 0);
}
