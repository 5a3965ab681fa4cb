/// \file
/// libFuzzer target for `json::read_jsonl`. The first input byte picks a small batch size
/// and a piece width, the next two seed the split points; the rest is JSON Lines.
///
/// The input is read as one piece with the default (1 MiB) batch, then cut at seeded points
/// and into fixed-width pieces, each with a tiny batch (1..64 bytes, so lines always span
/// refills of the padded window). Every record is walked (keys, raw texts, unescaped
/// strings) and logged with its line; after a `bad_input` error the reader is pulled again,
/// as documented, and the error (message, position, the offending line's text) is logged.
/// Findings: a crash or sanitizer report, an exception that is not `sluice::error`, an
/// error that is not `errc::bad_input`, or a log that depends on the splitting or the batch
/// size.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sluice/json/jsonl_reader.hpp>
#include <sluice/core/range_source.hpp>

#include "split.hpp"

namespace {

using namespace sluice_fuzz;
namespace json = sluice::json;

void put_record(std::string& log, const json::json_record& r) {
    log += "R ";
    put(log, r.line());
    put(log, static_cast<std::uint64_t>(r.type()));
    put(log, r.raw());
    put(log, r.value().str());
    put(log, static_cast<std::uint64_t>(r.size()));
    for (const json::json_field& f : r) {
        put(log, f.key);
        put(log, static_cast<std::uint64_t>(f.value.type()));
        put(log, f.value.raw());
        put(log, f.value.str());
        // Keys are distinct (duplicates are merged), so lookup finds this very member.
        if (r.get(f.key) != &f.value) __builtin_trap();
    }
    log += '\n';
    // The owning copy holds the same texts.
    json::json_owned_record owned = r.to_owned();
    if (owned.raw() != r.raw() || owned.size() != r.size() || owned.value().str() != r.value().str())
        __builtin_trap();
    for (std::size_t i = 0; i < r.size(); ++i)
        if (owned.name(i) != r.name(i) || owned.field(i).value.raw() != r.field(i).value.raw() ||
            owned.field(i).value.str() != r.field(i).value.str())
            __builtin_trap();
}

std::string run(std::vector<std::string_view> pieces, json::jsonl_options o) {
    std::string log;
    auto reader = sluice::from_range(std::move(pieces)) | json::read_jsonl(o);
    // Each pull consumes at least one line, so this bounds a reader that never ends.
    for (std::size_t pulls = 0; pulls < 100000; ++pulls) {
        try {
            auto r = reader.next();
            if (!r) {
                log += "END ";
                put(log, reader.line_number());
                put(log, reader.record_count());
                return log;
            }
            put_record(log, *r);
        } catch (const sluice::error& e) {
            if (e.code() != sluice::errc::bad_input) __builtin_trap();
            put_error(log, e);
            // A "too long" error is not resumable (and sets no last text): stop there.
            if (e.message().starts_with("record longer")) return log;
            log += "bad ";
            put(log, reader.last_text());
            log += '\n';
        }
    }
    __builtin_trap();  // a reader that never reports the end
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* p, std::size_t n) {
    control c = take_control(p, n);
    json::jsonl_options whole_opt;
    json::jsonl_options small_opt;
    small_opt.batch_size = 1 + (c.flags & 63);
    const std::size_t width = 1 + ((c.flags >> 6) & 3) * 2;

    std::string whole = run(one_piece(c.data), whole_opt);
    std::string cut = run(seeded_pieces(c.data, c.seed), small_opt);
    if (cut != whole) mismatch("jsonl: seeded split changed the result", whole, cut);
    if (c.data.size() <= 1024) {
        std::string fixed = run(fixed_pieces(c.data, width), whole_opt);
        if (fixed != whole) mismatch("jsonl: fixed-width split changed the result", whole, fixed);
    }
    return 0;
}
