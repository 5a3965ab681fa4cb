// docs/parallel.md, "Data-parallel parsing": a CSV file cut into blocks of whole records,
// each block parsed and encoded (as TSV) on a pool of two workers, the output written in
// input order - the same bytes as the one-thread pipeline - and a bad record in a later
// block reported exactly as a one-thread reader reports it.
#include <sluice/sluice.hpp>
#include <sluice/csv/csv.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

namespace {

/// One block: `csv::read_block` reads it as a reader of the whole file would at that point
/// (the block's origin; the header, once a block has read it, through the shared gate), and
/// a TSV encoder writes its records. Copied for each worker; the gate is shared.
struct csv_to_tsv_block {
    std::shared_ptr<sluice::csv::header_gate> gate = std::make_shared<sluice::csv::header_gate>();

    sluice::encoded_block operator()(sluice::text_block& b) const {
        sluice::encoded_block out;
        out.index = b.index;
        sluice::csv::encoder tsv({.delimiter = '\t', .write_header = false});
        sluice::chunk c;
        out.records = sluice::csv::read_block(b, {}, *gate, [&](const sluice::csv::row& r) { tsv.encode(r, c); });
        out.chunks.push_back(std::move(c));
        return out;
    }
};

std::string slurp(const char* path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The file converted in blocks on two workers (the error message, if it fails).
std::string in_blocks(const char* in, const char* out) {
    auto r = sluice::try_run(sluice::read_file(in) | sluice::csv::record_blocks({.block_bytes = 4096}) |
                                 sluice::parallel_map(csv_to_tsv_block{}, {.workers = 2, .window = 6}) |
                                 sluice::unpack_blocks(),
                             sluice::to_file(out));
    return r ? "" : r.error().what();
}

/// The same on one thread.
std::string in_one_piece(const char* in, const char* out) {
    auto r = sluice::try_run(sluice::read_file(in) | sluice::csv::read() |
                                 sluice::encode(sluice::csv::encoder({.delimiter = '\t', .write_header = false})),
                             sluice::to_file(out));
    return r ? "" : r.error().what();
}

}  // namespace

int main() {
    {
        std::ofstream f("in.csv", std::ios::binary);
        f << "id,name,note\n";
        for (int i = 0; i < 20000; ++i)
            f << i << ",name " << i << ',' << (i % 97 == 0 ? "\"two\nlines, \"\"quoted\"\"\"" : "plain") << '\n';
    }
    bool ok = in_blocks("in.csv", "blocks.tsv").empty() && in_one_piece("in.csv", "one.tsv").empty() &&
              slurp("blocks.tsv") == slurp("one.tsv");
    std::printf("same output: %s (%zu bytes)\n", ok ? "yes" : "NO", slurp("one.tsv").size());

    // A record with a field too many, far into the file: the same message either way
    // (line, column, byte offset and record in the whole input).
    std::string text = slurp("in.csv");
    text.replace(text.find("\n15000,"), 7, "\n15000,x,");
    std::ofstream("bad.csv", std::ios::binary) << text;
    const std::string e1 = in_blocks("bad.csv", "bad-blocks.tsv");
    const std::string e2 = in_one_piece("bad.csv", "bad-one.tsv");
    std::printf("blocks:    %s\none piece: %s\n", e1.c_str(), e2.c_str());
    ok = ok && !e1.empty() && e1 == e2;
    return ok ? 0 : 1;
}
