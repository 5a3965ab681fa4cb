/// \file
/// libFuzzer target for `parquet::read`: the input is a whole Parquet file, read from memory
/// (a `random_access_input`) with small limits, every row rendered as JSON lines and as CSV
/// text, then read again with the first column only.
///
/// Findings: a crash or sanitizer report, an exception that is not `sluice::error`, an
/// error that is not `bad_input` or `limit`, a read outside the file, or a projection whose
/// values differ from the same column in the full read.
///
/// Seeds (fuzz/corpus/parquet_reader/): small files DuckDB writes, e.g.
///   COPY (SELECT i, 'v' || i % 3 AS s, [i, NULL] AS l, i / 2.0 AS d FROM range(20) t(i))
///   TO 'x.parquet' (FORMAT parquet, COMPRESSION snappy, PARQUET_VERSION V2, ROW_GROUP_SIZE 7)
/// with each codec, pages v1 and v2, dictionaries on and off (tests/cli/parquet_duckdb.mjs runs
/// such statements).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/parquet/reader.hpp>
#include <sluice/parquet/row_encoders.hpp>

namespace {

namespace pq = sluice::parquet;

class memory_input final : public sluice::random_access_input {
public:
    explicit memory_input(std::string_view b) : b_(b) {}
    std::uint64_t size() override { return b_.size(); }
    void read_at(std::uint64_t off, std::size_t n, std::string& out) override {
        if (off > b_.size() || n > b_.size() - off) __builtin_trap();  // outside the file
        out.assign(b_.substr(static_cast<std::size_t>(off), n));
    }
    std::string name() const override { return "fuzz.parquet"; }

private:
    std::string_view b_;
};

pq::reader_options options() {
    pq::reader_options o;
    o.limits.max_footer_bytes = 1 << 20;
    o.limits.max_page_bytes = 8 << 20;
    o.limits.max_chunk_bytes = 8 << 20;
    return o;
}

/// Reads `data`; returns the first column's JSON texts, and the whole rows in `log`.
std::vector<std::string> read_all(std::string_view data, pq::reader_options o, std::string& log) {
    std::vector<std::string> first;
    try {
        auto r = pq::read(std::make_unique<memory_input>(data), std::move(o));
        pq::jsonl_encoder json;
        pq::csv_encoder csv(r.columns());
        sluice::chunk out(1 << 12);
        // Bounded: a footer may claim any row count (each row costs at least a level).
        for (std::size_t n = 0; n < 200000; ++n) {
            auto row = r.next();
            if (!row) break;
            out.clear();
            json.encode(*row, out);
            csv.encode(*row, out);
            log.append(out.view());
            std::string cell;
            if (row->size()) pq::append_json(cell, row->column(0).type, (*row)[0]);
            first.push_back(std::move(cell));
        }
    } catch (const sluice::error& e) {
        if (e.code() != sluice::errc::bad_input && e.code() != sluice::errc::limit &&
            e.code() != sluice::errc::usage)
            __builtin_trap();
        first.push_back(std::string("error ") + std::string(e.message()).substr(0, 8));
    }
    return first;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* p, std::size_t n) {
    const std::string_view data(reinterpret_cast<const char*>(p), n);
    std::string log;
    const std::vector<std::string> whole = read_all(data, options(), log);
    // The first column alone: the same values as long as both reads got that far.
    std::string name;
    try {
        auto r = pq::read(std::make_unique<memory_input>(data), options());
        if (r.columns().empty()) return 0;
        name = r.columns()[0].name;
    } catch (const sluice::error&) {
        return 0;
    }
    pq::reader_options one = options();
    one.columns = {name};
    std::string log1;
    const std::vector<std::string> alone = read_all(data, one, log1);
    const std::size_t common = whole.size() < alone.size() ? whole.size() : alone.size();
    for (std::size_t i = 0; i + 1 < common; ++i)
        if (whole[i] != alone[i]) __builtin_trap();
    return 0;
}
