/// \file
/// libFuzzer target for `csv::read`. The first input byte picks the dialect (delimiter,
/// quote, header) and a piece width, the next two seed the split points; the rest is CSV.
///
/// For each option set - strict; lenient quotes + ragged fit + U+FFFD replacement; strict
/// with an error policy dead-lettering bad records - the input is read as one piece, cut at seeded
/// points, and (for small inputs) cut into fixed-width pieces. Every field is consumed and
/// logged with its position; a `sluice::error` ends a run and is logged too. Findings:
///   - a crash, sanitizer report, or an exception that is not `sluice::error` (uncaught);
///   - a log that depends on how the input was split (chunk-boundary bug);
///   - an input the strict reader accepts but a relaxed option set reads differently
///     (the relaxations must not change valid input);
///   - an error that is not `errc::bad_input`, or an owned row that differs from its view;
///   - a field listed in `doubled_quotes()` whose text, undoubled, is not the field.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sluice/csv/read.hpp>
#include <sluice/core/range_source.hpp>

#include "split.hpp"

namespace {

using namespace sluice_fuzz;
namespace csv = sluice::csv;

enum class mode { strict, relaxed, skip };

/// Reads `pieces` with `o` and returns the log of rows and errors.
std::string run(std::vector<std::string_view> pieces, csv::read_options o, mode m) {
    std::string log;
    if (m == mode::relaxed) {
        o.lenient_quotes = true;
        o.ragged = csv::ragged::fit;
        o.utf8 = csv::utf8_mode::replace;
    } else if (m == mode::skip) {
        o.errors = sluice::on_error::dead_letter([&log](sluice::dead_letter_record&& d) {
            if (d.error.code() != sluice::errc::bad_input || d.stage != "csv") __builtin_trap();
            put_error(log, d.error);
            log += "skipped ";
            put(log, d.raw);
            log += '\n';
        });
    }
    try {
        auto reader = sluice::from_range(std::move(pieces)) | csv::read(o);
        while (auto r = reader.next()) {
            const csv::row& row = *r;
            // A field listed with doubled quotes is its listed text undoubled (asked for
            // first by column: undoubled on access, before the loop below takes them all).
            std::size_t last_column = 0;
            for (std::size_t k = 0; k < row.doubled_quotes().size(); ++k) {
                const auto& d = row.doubled_quotes()[k];
                if (d.column >= row.size() || (k && d.column <= last_column)) __builtin_trap();
                last_column = d.column;
                std::string undoubled;
                for (std::size_t i = 0; i < d.text.size(); ++i) {
                    if (d.text[i] == '"' && (i + 1 == d.text.size() || d.text[++i] != '"')) __builtin_trap();
                    undoubled += d.text[i];
                }
                if (undoubled != row[d.column]) __builtin_trap();
            }
            log += "R ";
            put(log, row.line());
            put(log, row.byte_offset());
            put(log, row.index());
            put(log, static_cast<std::uint64_t>(row.size()));
            for (std::string_view f : row) put(log, f);
            log += '\n';
            if (m == mode::relaxed && o.header && row.size() != reader.header().size()) __builtin_trap();
            // Every 8th row: the owning copy must hold the same fields.
            if ((row.index() & 7) == 0) {
                auto owned = row.to_owned();
                if (owned.size() != row.size()) __builtin_trap();
                for (std::size_t i = 0; i < row.size(); ++i)
                    if (owned[i] != row[i]) __builtin_trap();
            }
        }
        log += "H ";
        for (const std::string& h : reader.header()) put(log, h);
        log += "\nEND\n";
    } catch (const sluice::error& e) {
        if (e.code() != sluice::errc::bad_input) __builtin_trap();
        put_error(log, e);
    }
    return log;
}

/// Whether `s` is UTF-8 per RFC 3629 (no overlongs, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            ++i;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return false;
        }
        if (i + len > s.size()) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
        }
        i += len;
    }
    return true;
}

/// A byte-at-a-time model of the strict reader, written from the documented dialect (see
/// csv/read.hpp), for whole inputs. Returns the same log as `run` for an accepted input, or
/// "error" (positions and messages are not modelled).
std::string reference(std::string_view in, const csv::read_options& o) {
    const char d = o.delimiter, q = o.quote;
    std::size_t pos = in.starts_with("\xEF\xBB\xBF") ? 3 : 0;
    if (!valid_utf8(in.substr(pos))) return "error";
    const std::size_t n = in.size();
    std::string log;
    std::vector<std::string> header;
    bool have_header = false;
    std::size_t expected = std::size_t(-1);
    std::uint64_t index = 0;
    while (pos < n) {
        const std::size_t start = pos;
        std::vector<std::string> fields;
        bool first_quoted = false;
        for (;;) {  // one field per turn
            std::string f;
            bool end_of_record = false;
            if (pos < n && in[pos] == q) {
                if (fields.empty()) first_quoted = true;
                ++pos;
                for (;;) {
                    if (pos >= n) return "error";  // unterminated
                    if (in[pos] == q) {
                        if (pos + 1 < n && in[pos + 1] == q) {
                            f += q;
                            pos += 2;
                            continue;
                        }
                        ++pos;
                        break;
                    }
                    f += in[pos++];
                }
                if (pos >= n) {
                    end_of_record = true;
                } else if (in[pos] == d) {
                    ++pos;
                } else if (in[pos] == '\n') {
                    ++pos;
                    end_of_record = true;
                } else if (in[pos] == '\r' && (pos + 1 == n || in[pos + 1] == '\n')) {
                    pos += pos + 1 == n ? 1 : 2;
                    end_of_record = true;
                } else {
                    return "error";  // text after a closing quote
                }
            } else {
                while (pos < n && in[pos] != d && in[pos] != '\n') {
                    if (in[pos] == q) return "error";  // a quote inside an unquoted field
                    f += in[pos++];
                }
                if (pos >= n || in[pos] == '\n') {
                    // A CR is part of the line end before an LF, and before the input's end.
                    if (!f.empty() && f.back() == '\r') f.pop_back();
                    end_of_record = true;
                }
                if (pos < n) ++pos;
            }
            fields.push_back(std::move(f));
            if (end_of_record) break;
            if (pos >= n) {  // a delimiter right before the end: one more, empty field
                fields.emplace_back();
                break;
            }
        }
        if (fields.size() == 1 && fields[0].empty() && !first_quoted) continue;  // blank line
        if (o.header && !have_header) {
            header = std::move(fields);
            have_header = true;
            expected = header.size();
            continue;
        }
        if (expected == std::size_t(-1)) expected = fields.size();
        if (fields.size() != expected) return "error";
        log += "R ";
        put(log, 1 + static_cast<std::uint64_t>(std::count(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(start), '\n')));
        put(log, static_cast<std::uint64_t>(start));
        put(log, index++);
        put(log, static_cast<std::uint64_t>(fields.size()));
        for (const std::string& f : fields) put(log, f);
        log += '\n';
    }
    log += "H ";
    for (const std::string& h : header) put(log, h);
    log += "\nEND\n";
    return log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* p, std::size_t n) {
    control c = take_control(p, n);
    static constexpr char delimiters[] = {',', '\t', ';', '|'};
    csv::read_options o;
    o.delimiter = delimiters[c.flags & 3];
    o.header = (c.flags & 4) != 0;
    o.quote = (c.flags & 8) ? '\'' : '"';
    const std::size_t width = 1 + ((c.flags >> 4) & 7);

    std::string strict_log;
    for (mode m : {mode::strict, mode::relaxed, mode::skip}) {
        std::string whole = run(one_piece(c.data), o, m);
        std::string cut = run(seeded_pieces(c.data, c.seed), o, m);
        if (cut != whole) mismatch("csv: seeded split changed the result", whole, cut);
        if (c.data.size() <= 1024) {
            std::string fixed = run(fixed_pieces(c.data, width), o, m);
            if (fixed != whole) mismatch("csv: fixed-width split changed the result", whole, fixed);
        }
        if (m == mode::strict) {
            // The strict reader agrees with the model on acceptance and on every row.
            std::string model = reference(c.data, o);
            const bool accepted = whole.ends_with("END\n");
            if (accepted != (model != "error") || (accepted && model != whole))
                mismatch("csv: the strict reader differs from the reference model", model, whole);
            strict_log = std::move(whole);
        } else if (strict_log.ends_with("END\n") && whole != strict_log) {
            mismatch("csv: a relaxed option set changed input the strict reader accepts", strict_log, whole);
        }
    }
    return 0;
}
