// unpack_blocks (adaptors/unpack_blocks.hpp) after line_blocks / csv::record_blocks and an
// ordered parallel_map, as the CLI's block-parallel convert runs it: the output is the
// sequential one, the records are counted (counters, on_records in order), a block's
// sluice::error surfaces after the earlier blocks' output with its record index made
// absolute, other exceptions pass unchanged, and the run's stop token ends the run.
#include <catch2/catch.hpp>

#include "thread_support.hpp"

#include <sluice/adaptors/line_blocks.hpp>
#include <sluice/adaptors/parallel_map.hpp>
#include <sluice/adaptors/unpack_blocks.hpp>
#include <sluice/core/block_gate.hpp>
#include <sluice/csv/read.hpp>
#include <sluice/csv/record_blocks.hpp>
#include <sluice/sluice.hpp>

#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../csv/random_csv.hpp"

using csv_gen::pick;

namespace {

/// A non-sluice exception a job may throw.
struct job_failure : std::logic_error {
    using std::logic_error::logic_error;
};

/// The per-line work: each non-blank line upper-cased, one chunk per line; a line "BAD..."
/// throws a sluice::error naming the line's record index in the block (and its line), a
/// line "BOOM" throws a job_failure, a line "NOPOS" a sluice::error without a position.
struct upper_lines {
    bool jitter = true;

    sluice::encoded_block operator()(sluice::text_block& b) const {
        if (jitter && b.index % 5 == 1) std::this_thread::sleep_for(std::chrono::microseconds(200));
        sluice::encoded_block out;
        out.index = b.index;
        std::string_view rest = b.view();
        std::uint64_t line = b.line;
        while (!rest.empty()) {
            const std::size_t lf = rest.find('\n');
            const std::string_view l = rest.substr(0, lf == std::string_view::npos ? rest.size() : lf + 1);
            rest.remove_prefix(l.size());
            if (l != "\n") {
                if (l.starts_with("BAD")) {
                    sluice::position p;
                    p.record = out.records;
                    p.line = line;
                    throw sluice::error(sluice::errc::bad_input, "upper", "bad line", p);
                }
                if (l.starts_with("BOOM")) throw job_failure("boom in block " + std::to_string(b.index));
                if (l.starts_with("NOPOS")) throw sluice::error(sluice::errc::bad_input, "upper", "no position");
                std::string upper(l);
                for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                sluice::chunk c(upper.size());
                c.append(upper);
                out.chunks.push_back(std::move(c));
                ++out.records;
            }
            ++line;
        }
        return out;
    }
};

/// Lines of random length (some blank), `n` of them; the last may lack its line feed.
std::string random_lines(std::mt19937& rng, std::size_t n) {
    std::string in;
    for (std::size_t i = 0; i < n; ++i) {
        if (pick(rng, 0, 9) == 0) {
            in += '\n';
            continue;
        }
        const std::size_t len = pick(rng, 1, pick(rng, 0, 9) == 0 ? 200 : 20);
        for (std::size_t k = 0; k < len; ++k) in += static_cast<char>('a' + pick(rng, 0, 25));
        in += '\n';
    }
    if (!in.empty() && pick(rng, 0, 1)) in.pop_back();
    return in;
}

/// The sequential result: every block of the same split encoded on this thread, in order.
struct sequential {
    std::string output;
    std::vector<std::uint64_t> records;  // per block
};
sequential run_sequential(const std::vector<std::string>& pieces, const sluice::block_options& bo) {
    sequential s;
    auto blocks = sluice::from_range(pieces) | sluice::line_blocks(bo);
    sluice::run_context ctx;
    blocks.bind(ctx);
    upper_lines job{.jitter = false};
    while (auto b = blocks.next()) {
        sluice::encoded_block e = job(*b);
        for (const sluice::chunk& c : e.chunks) s.output += c.view();
        s.records.push_back(e.records);
    }
    return s;
}

struct parallel_result {
    std::string output;
    std::vector<std::uint64_t> records;  // as on_records told them
    std::optional<sluice::counters_snapshot> counters;
};

parallel_result run_parallel(const std::vector<std::string>& pieces, const sluice::block_options& bo,
                             sluice::parallel_options po, const sluice::run_options& ro = {}) {
    parallel_result r;
    sluice::metrics m;
    sluice::run_options o = ro;
    o.metrics = &m;
    sluice::unpack_blocks_options uo;
    uo.records_name = "records";
    uo.on_records = [&r](std::uint64_t n) { r.records.push_back(n); };
    auto out = sluice::from_range(pieces) | sluice::line_blocks(bo) |
               sluice::parallel_map(upper_lines{}, std::move(po)) | sluice::unpack_blocks(std::move(uo));
    try {
        sluice::run(out, sluice::for_each([&r](sluice::chunk& c) { r.output += c.view(); }), o);
    } catch (...) {
        for (const auto& c : m.snapshot())
            if (c.name == "records") r.counters = c;
        throw;
    }
    for (const auto& c : m.snapshot())
        if (c.name == "records") r.counters = c;
    return r;
}

}  // namespace

TEST_CASE("unpack_blocks: the output and record counts of the sequential run",
          "[adaptor][unpack_blocks]") {
    std::mt19937 rng(31);
    for (int round = 0; round < 60; ++round) {
        const std::string in = random_lines(rng, pick(rng, 0, 300));
        sluice::block_options bo;
        bo.block_bytes = pick(rng, 1, 64);
        bo.first_block_bytes = pick(rng, 1, 16);
        const auto pieces = csv_gen::random_pieces(rng, in, pick(rng, 1, 100));
        const sequential want = run_sequential(pieces, bo);
        sluice::parallel_options po{.workers = static_cast<unsigned>(pick(rng, 2, 3)),
                                    .window = pick(rng, 1, 8)};
        INFO("round " << round << " workers " << po.workers << " window " << po.window);
        const parallel_result got = run_parallel(pieces, bo, po);
        REQUIRE(got.output == want.output);
        REQUIRE(got.records == want.records);  // on_records: each block's, in order
        std::uint64_t total = 0;
        for (std::uint64_t n : want.records) total += n;
        REQUIRE(got.counters.has_value());
        CHECK(got.counters->in == total);
        CHECK(got.counters->out == total);
    }
}

TEST_CASE("unpack_blocks: a block's error comes after the earlier blocks, its record absolute",
          "[adaptor][unpack_blocks]") {
    std::mt19937 rng(8);
    const int before_threads = thread_count();
    for (int round = 0; round < 60; ++round) {
        std::string in = random_lines(rng, pick(rng, 1, 200));
        if (!in.ends_with('\n')) in += '\n';
        // A bad line somewhere (record index = good lines before it).
        std::vector<std::size_t> starts{0};
        for (std::size_t i = 0; i + 1 < in.size(); ++i)
            if (in[i] == '\n') starts.push_back(i + 1);
        const std::size_t at = starts[pick(rng, 0, starts.size() - 1)];
        in.insert(at, "BAD line\n");
        std::uint64_t good_before = 0, line = 1;
        for (std::size_t i = 0; i < at; ++i)
            if (in[i] == '\n') {
                ++line;
                if (i > 0 && in[i - 1] != '\n') ++good_before;
            }
        sluice::block_options bo;
        bo.block_bytes = pick(rng, 1, 64);
        bo.first_block_bytes = pick(rng, 1, 16);
        const auto pieces = csv_gen::random_pieces(rng, in, pick(rng, 1, 60));
        // What the blocks before the bad one write.
        std::string want;
        {
            auto blocks = sluice::from_range(pieces) | sluice::line_blocks(bo);
            sluice::run_context ctx;
            blocks.bind(ctx);
            while (auto b = blocks.next()) {
                if (b->byte_offset + b->view().size() > at) break;
                for (const sluice::chunk& c : upper_lines{.jitter = false}(*b).chunks) want += c.view();
            }
        }
        INFO("round " << round << " bad line at byte " << at << "\n" << in);
        std::string got;
        sluice::unpack_blocks_options uo;
        auto out = sluice::from_range(pieces) | sluice::line_blocks(bo) |
                   sluice::parallel_map(upper_lines{}, {.workers = 3, .window = pick(rng, 1, 9)}) |
                   sluice::unpack_blocks(uo);
        try {
            sluice::run(out, sluice::for_each([&got](sluice::chunk& c) { got += c.view(); }));
            FAIL("no error");
        } catch (const sluice::error& e) {
            CHECK(e.code() == sluice::errc::bad_input);
            CHECK(e.stage() == "upper");
            CHECK(e.message() == "bad line");
            CHECK(e.where().record == good_before);
            CHECK(e.where().line == line);
            CHECK(std::string(e.what()) == "upper: line " + std::to_string(line) + ", record " +
                                               std::to_string(good_before) + ": bad line");
        }
        CHECK(got == want);
    }
    CHECK(threads_back_to(before_threads));
}

TEST_CASE("unpack_blocks: errors without a record, and other exceptions, pass unchanged",
          "[adaptor][unpack_blocks]") {
    const std::string in = "one\ntwo\nthree\nfour\nNOPOS\nfive\n";
    const std::vector<std::string> pieces{in};
    const sluice::block_options bo{.block_bytes = 1, .first_block_bytes = 1};
    std::vector<std::string> bytes;
    for (char c : in) bytes.emplace_back(1, c);
    try {
        run_parallel(bytes, bo, {.workers = 2, .window = 3});
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(std::string(e.what()) == "upper: no position");
        CHECK_FALSE(e.where().has_record());
    }
    const std::string boom = "a\nb\nc\nBOOM\nd\n";
    bytes.clear();
    for (char c : boom) bytes.emplace_back(1, c);
    std::string got;
    auto out = sluice::from_range(bytes) | sluice::line_blocks(bo) |
               sluice::parallel_map(upper_lines{}, {.workers = 2, .window = 4}) | sluice::unpack_blocks();
    try {
        sluice::run(out, sluice::for_each([&got](sluice::chunk& c) { got += c.view(); }));
        FAIL("no error");
    } catch (const job_failure& e) {
        CHECK(std::string(e.what()) == "boom in block 3");
    }
    CHECK(got == "A\nB\nC\n");
    // An error in block 0: nothing before it, nothing added.
    bytes = {"BAD\n", "x\n"};
    try {
        run_parallel(bytes, bo, {.workers = 2, .window = 2});
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(e.where().record == 0);
        CHECK(e.where().line == 1);
    }
}

TEST_CASE("unpack_blocks: the run's stop token ends the run", "[adaptor][unpack_blocks]") {
    const int before = thread_count();
    std::string in;
    for (int i = 0; i < 200000; ++i) in += "line " + std::to_string(i) + "\n";
    std::vector<std::string> pieces;
    for (std::size_t at = 0; at < in.size(); at += 4096) pieces.push_back(in.substr(at, 4096));
    std::stop_source stop;
    sluice::run_options o;
    o.stop = stop.get_token();
    std::size_t chunks = 0;
    auto out = sluice::from_range(pieces) | sluice::line_blocks({.block_bytes = 64, .first_block_bytes = 8}) |
               sluice::parallel_map(upper_lines{.jitter = false}, {.workers = 2, .window = 4}) |
               sluice::unpack_blocks();
    auto r = sluice::try_run(out, sluice::for_each([&](sluice::chunk&) {
                                 if (++chunks == 1000) stop.request_stop();
                             }),
                             o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::cancelled);
    CHECK(chunks < 100000);  // stopped well before the end
    CHECK(threads_back_to(before));
}

namespace {

/// The CLI's CSV job (csv_block_job in examples/sluice/convert.cpp), writing rows as text:
/// the header from the first block that has one, through the gate.
struct csv_rows_job {
    sluice::csv::read_options ro;
    std::shared_ptr<sluice::csv::header_gate> gate = std::make_shared<sluice::csv::header_gate>();

    sluice::encoded_block operator()(sluice::text_block& b) {
        sluice::encoded_block out;
        out.index = b.index;
        sluice::chunk c(64);
        out.records = sluice::csv::read_block(b, ro, *gate, [&](const sluice::csv::row& r) {
            std::string s = std::to_string(r.line()) + "@" + std::to_string(r.byte_offset());
            for (std::string_view f : r) s += "|" + std::string(f);
            c.append(s + "\n");
        });
        out.chunks.push_back(std::move(c));
        return out;
    }
};

std::string csv_rows_whole(const std::string& in, std::string& error, std::uint64_t& rows) {
    std::string out;
    try {
        for (const sluice::csv::row& r : sluice::from_range(std::vector<std::string>{in}) | sluice::csv::read()) {
            std::string s = std::to_string(r.line()) + "@" + std::to_string(r.byte_offset());
            for (std::string_view f : r) s += "|" + std::string(f);
            out += s + "\n";
            ++rows;
        }
    } catch (const sluice::error& e) {
        error = e.what();
    }
    return out;
}

}  // namespace

TEST_CASE("unpack_blocks: CSV blocks on a pool with a header gate read as one reader",
          "[adaptor][unpack_blocks][csv]") {
    std::mt19937 rng(1234);
    using csv_gen::defect;
    for (int round = 0; round < 200; ++round) {
        csv_gen::shape s;
        s.records = pick(rng, 0, 60);
        s.columns = pick(rng, 1, 4);
        s.bom = pick(rng, 0, 3) == 0;
        s.blank_percent = static_cast<unsigned>(pick(rng, 0, 40));
        const bool bad = pick(rng, 0, 2) == 0;
        const std::string in = bad ? csv_gen::make_bad(rng, s, static_cast<defect>(pick(rng, 0, 4)))
                                   : csv_gen::make(rng, s);
        std::string want_error;
        std::uint64_t want_rows = 0;
        const std::string want = csv_rows_whole(in, want_error, want_rows);
        sluice::block_options bo;
        bo.block_bytes = pick(rng, 1, 64);
        bo.first_block_bytes = pick(rng, 1, 16);
        std::uint64_t rows = 0;
        sluice::unpack_blocks_options uo;
        uo.on_records = [&rows](std::uint64_t n) { rows += n; };
        auto out = sluice::from_range(csv_gen::random_pieces(rng, in, pick(rng, 1, 50))) |
                   sluice::csv::record_blocks(bo) |
                   sluice::parallel_map(csv_rows_job{}, {.workers = 3, .window = pick(rng, 1, 9)}) |
                   sluice::unpack_blocks(std::move(uo));
        std::string got, got_error;
        try {
            sluice::run(out, sluice::for_each([&got](sluice::chunk& c) { got += c.view(); }));
        } catch (const sluice::error& e) {
            got_error = e.what();
        }
        INFO("round " << round << "\n" << in);
        REQUIRE(got_error == want_error);
        if (want_error.empty()) {
            REQUIRE(got == want);
            CHECK(rows == want_rows);
        } else {
            // The rows of the blocks before the failing one: a prefix of the whole reader's.
            REQUIRE(want.starts_with(got));
        }
    }
}

namespace {

/// Lines as records; a line starting "REJECT" is rejected (collected in the block, its
/// record index counted from the block's start), the rest handed on.
struct collect_rejected_lines {
    sluice::encoded_block operator()(sluice::text_block& b) const {
        sluice::encoded_block out;
        out.index = b.index;
        std::string_view rest = b.view();
        std::uint64_t line = b.line;
        sluice::chunk c;
        while (!rest.empty()) {
            const std::size_t lf = rest.find('\n');
            const std::string_view l = rest.substr(0, lf == std::string_view::npos ? rest.size() : lf + 1);
            rest.remove_prefix(l.size());
            if (l.starts_with("REJECT")) {
                sluice::position p;
                p.line = line;
                p.record = out.read;
                out.rejects.push_back({"lines", sluice::error(sluice::errc::bad_input, "lines", "rejected", p),
                                       std::string(l)});
            } else {
                c.append(l);
                ++out.records;
            }
            ++out.read;
            ++line;
        }
        out.chunks.push_back(std::move(c));
        return out;
    }
};

}  // namespace

TEST_CASE("unpack_blocks hands collected rejects to its policy in input order, indices absolute",
          "[adaptor][unpack_blocks]") {
    std::string in, kept;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> want;  // line, record
    for (std::uint64_t i = 0; i < 3000; ++i) {
        if (i % 37 == 5) {
            in += "REJECT " + std::to_string(i) + "\n";
            want.emplace_back(i + 1, i);
        } else {
            in += "line " + std::to_string(i) + "\n";
            kept += "line " + std::to_string(i) + "\n";
        }
    }
    auto pipeline = [&](sluice::any_error_policy errors) {
        return sluice::from_range(std::array<std::string_view, 1>{in})
               | sluice::line_blocks({.block_bytes = 97, .first_block_bytes = 13})
               | sluice::parallel_map(collect_rejected_lines{}, {.workers = 2, .window = 5})
               | sluice::unpack_blocks({.errors = std::move(errors)});
    };

    std::vector<sluice::dead_letter_record> letters;
    sluice::metrics m;
    std::string out;
    sluice::run(pipeline(sluice::on_error::dead_letter(
                    [&](sluice::dead_letter_record&& r) { letters.push_back(std::move(r)); })),
                sluice::for_each([&](sluice::chunk& c) { out += c.view(); }), {.metrics = &m});
    CHECK(out == kept);
    REQUIRE(letters.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        CHECK(letters[i].stage == "lines");
        CHECK(letters[i].where().line == want[i].first);
        CHECK(letters[i].where().record == want[i].second);
        CHECK(letters[i].raw.starts_with("REJECT " + std::to_string(want[i].second)));
    }
    bool counted = false;
    for (const auto& c : m.snapshot())
        if (c.name == "lines") {
            counted = true;
            CHECK(c.rejects == want.size());
        }
    CHECK(counted);

    // The run's limit applies to the replayed rejects, at the same record as in one thread.
    sluice::reject_budget budget(10);
    try {
        sluice::run(pipeline(sluice::on_error::skip.within(budget)), sluice::for_each([](sluice::chunk&) {}));
        FAIL("no limit error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::limit);
        CHECK(e.where().record == want[10].second);
    }
    // Under `fail` the first reject ends the run, with its absolute position.
    try {
        sluice::run(pipeline({}), sluice::for_each([](sluice::chunk&) {}));
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::bad_input);
        CHECK(e.where().record == want[0].second);
        CHECK(e.where().line == want[0].first);
    }
}
