#pragma once
// Random CSV for the block tests (tests/core/text_block.cpp, tests/csv/record_blocks.cpp):
// quoted fields holding delimiters, LF, CRLF and doubled quotes, UTF-8, blank lines, a BOM,
// long fields; and the same input with one defect put in (for the error tests).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/core/range_source.hpp>
#include <sluice/csv/read.hpp>

namespace csv_gen {

/// The shape of a random input.
struct shape {
    std::size_t records = 20;
    std::size_t columns = 3;
    bool header = true;
    bool bom = false;
    char delimiter = ',';
    char quote = '"';
    unsigned blank_percent = 10;  ///< chance of a blank line (LF or CRLF) before a record
    unsigned long_percent = 3;    ///< chance of a long field (100..400 bytes)
    bool final_line_end = true;   ///< the last record ends with a line end
};

inline std::size_t pick(std::mt19937& rng, std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
}

/// One field's text as written (quoted or not), for `s`.
inline std::string field(std::mt19937& rng, const shape& s) {
    const std::string q(1, s.quote);
    static const char* const words[] = {"a", "bc", "hello", "x1", "42", "-3.5", "caf\xC3\xA9",
                                        "\xE6\xBC\xA2\xE5\xAD\x97", "\xF0\x9F\x98\x80", "z z"};
    auto word = [&] { return std::string(words[pick(rng, 0, std::size(words) - 1)]); };
    if (pick(rng, 0, 99) < s.long_percent) {
        std::string f;
        const std::size_t n = pick(rng, 100, 400);
        const bool quoted = pick(rng, 0, 1) == 1;
        while (f.size() < n) {
            f += word();
            if (quoted && pick(rng, 0, 9) == 0) f += pick(rng, 0, 1) ? "\n" : "\r\n";
            if (quoted && pick(rng, 0, 15) == 0) f += q + q;
        }
        return quoted ? q + f + q : f;
    }
    switch (pick(rng, 0, 11)) {
        case 0: return "";
        case 1: return q + q;                                            // "" : empty, quoted
        case 2: return q + word() + s.delimiter + word() + q;            // a delimiter inside
        case 3: return q + word() + "\n" + word() + q;                   // LF inside
        case 4: return q + word() + "\r\n" + word() + "\n\n" + q;        // CRLF, blank lines inside
        case 5: return q + word() + q + q + word() + q + q + q;          // doubled quotes
        case 6: return q + "\n" + q;                                     // only a line feed
        case 7: return q + q + q + q;                                    // one quote character
        default: return word();
    }
}

/// A record's text (without its line end).
inline std::string record(std::mt19937& rng, const shape& s, std::size_t columns) {
    std::string r;
    for (std::size_t c = 0; c < columns; ++c) {
        if (c) r += s.delimiter;
        std::string f = field(rng, s);
        // A one-column record that is an empty unquoted field would be a blank line.
        if (columns == 1 && f.empty()) f = "e";
        r += f;
    }
    return r;
}

/// A valid input of shape `s`; `record_starts` (if given) gets the byte offset of each data
/// record's first byte (after the header).
inline std::string make(std::mt19937& rng, const shape& s,
                        std::vector<std::size_t>* record_starts = nullptr) {
    std::string in = s.bom ? "\xEF\xBB\xBF" : "";
    auto blank = [&] {
        while (pick(rng, 0, 99) < s.blank_percent) in += pick(rng, 0, 1) ? "\n" : "\r\n";
    };
    const std::size_t total = s.records + (s.header ? 1 : 0);
    for (std::size_t i = 0; i < total; ++i) {
        blank();
        if (record_starts && (i > 0 || !s.header)) record_starts->push_back(in.size());
        in += record(rng, s, s.columns);
        if (i + 1 < total || s.final_line_end) in += pick(rng, 0, 3) == 0 ? "\r\n" : "\n";
    }
    if (s.final_line_end) blank();
    return in;
}

/// The defects the strict reader rejects.
enum class defect { ragged, stray_quote, bad_utf8, unterminated_quote, text_after_quote };

/// A valid input of shape `s` (at least one record) with `d` put into one data record.
inline std::string make_bad(std::mt19937& rng, shape s, defect d) {
    if (s.records == 0) s.records = 1;
    if (d == defect::unterminated_quote) {
        // The quote opens in the last record and is never closed.
        s.final_line_end = false;
        std::string in = make(rng, s);
        std::string tail(1, s.delimiter);
        tail += s.quote;
        tail += "open\nrest\r\nof the input";
        return in + tail;
    }
    std::vector<std::size_t> starts;
    std::string in = make(rng, s, &starts);
    const std::size_t at = starts[pick(rng, 0, starts.size() - 1)];
    const std::string q(1, s.quote);
    switch (d) {
        case defect::ragged:
            // One more field (the record's field count no longer matches).
            in.insert(at, std::string("extra") + s.delimiter);
            break;
        case defect::stray_quote: in.insert(at, "x" + q + "y" + s.delimiter); break;
        case defect::bad_utf8: in.insert(at, std::string("b\xFF") + s.delimiter); break;
        case defect::text_after_quote:
            in.insert(at, q + "ab" + q + "c" + s.delimiter);
            break;
        case defect::unterminated_quote: break;
    }
    return in;
}

/// `in` cut into pieces of random sizes (1..max_piece, sometimes empty, sometimes the rest
/// unless `bounded`).
inline std::vector<std::string> random_pieces(std::mt19937& rng, std::string_view in,
                                              std::size_t max_piece, bool bounded = false) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at < in.size()) {
        std::size_t n;
        switch (pick(rng, 0, 15)) {
            case 0: n = 0; break;
            case 1: n = bounded ? max_piece : in.size() - at; break;
            default: n = pick(rng, 1, max_piece);
        }
        n = std::min(n, in.size() - at);
        out.emplace_back(in.substr(at, n));
        at += n;
    }
    return out;
}

/// The records of `in` (read with the default options) as owned rows, which carry no
/// `doubled_quotes()`: the reference the encoders' doubled-quote paths are compared with.
/// `doubled` counts the fields the reader listed there.
inline std::vector<sluice::csv::owned_row> read_owned(const std::string& in, std::size_t& doubled) {
    std::vector<sluice::csv::owned_row> owned;
    for (const sluice::csv::row& r : sluice::from_range(std::vector<std::string>{in}) | sluice::csv::read()) {
        owned.push_back(r.to_owned());
        doubled += r.doubled_quotes().size();
    }
    return owned;
}

}  // namespace csv_gen
