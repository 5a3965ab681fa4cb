#pragma once
/// \file
/// Options of the CSV reader (`csv::read_options`) and writer (`csv::write_options`), and
/// the dialect chosen from a file name (`csv::delimiter_for_path`: `.tsv` means tab).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../compress/format.hpp"
#include "../core/ascii.hpp"
#include "../core/error.hpp"
#include "../policy/error_policy.hpp"

namespace sluice::csv {

class header;

/// What the reader does with a record whose field count differs from the header's (or,
/// without a header, from the first record's).
enum class ragged : std::uint8_t {
    error,     ///< a bad-input error (the default)
    pad,       ///< short records get empty fields; long ones are still an error
    truncate,  ///< long records lose their extra fields; short ones are still an error
    fit,       ///< pad short records and truncate long ones
    keep,      ///< accept any field count as it is
};

/// What the reader does with bytes that are not valid UTF-8.
enum class utf8_mode : std::uint8_t {
    validate,  ///< a bad-input error naming the line (the default)
    replace,   ///< each maximal invalid subsequence becomes U+FFFD (as WHATWG decoders do)
    ignore,    ///< pass the bytes through unchecked (fastest; for non-UTF-8 encodings)
};

/// Options of `csv::read`. The defaults read RFC 4180 CSV with a header, strictly.
struct read_options {
    /// Field separator: usually ',', '\t', ';' or '|'. Must not be the quote, CR, LF or NUL.
    char delimiter = ',';
    /// Quote character (doubled inside a quoted field to stand for itself).
    char quote = '"';
    /// The first non-blank record names the columns and is not yielded as a row.
    bool header = true;
    /// Accept stray quotes: a quote inside an unquoted field is a literal character, and
    /// text after a closing quote is appended to the field (`"x"y` reads as `xy`).
    /// Records with such quotes are parsed by a slower byte-at-a-time path.
    bool lenient_quotes = false;
    /// Field-count mismatches: see `ragged`.
    csv::ragged ragged = csv::ragged::error;
    /// Invalid UTF-8: see `utf8_mode`.
    utf8_mode utf8 = utf8_mode::validate;
    /// A record longer than this is an error. This bounds the carry-over buffer that holds a
    /// record spanning input blocks, so memory stays flat even when a quote never closes.
    std::size_t max_record_size = 64 * 1024 * 1024;
    /// A record (the header too) with more fields than this is an error, raised as soon as
    /// the reader has seen that many delimiters in it, before its end is read: a runaway
    /// header (megabytes of separators) fails at once instead of building millions of
    /// columns. At least 1.
    std::size_t max_columns = 10000;
    /// Two header columns with the same name are an error (naming both columns), for
    /// consumers that key fields by name (JSON objects, database columns). Off by default:
    /// by index, duplicate names are harmless.
    bool unique_header = false;
    /// What a bad record does (see policy/error_policy.hpp): fail the run (the default),
    /// or be skipped / dead-lettered and reading goes on. A dead letter's `raw` is the
    /// record's bytes as read, quoting and line end included; its error names the line,
    /// column, byte offset and record. Rejects count in the counters named "csv" (or the
    /// policy's `counted_as` name). An exceeded `max_record_size` or `max_columns` and an
    /// error in the header always fail: they are never rejects.
    sluice::any_error_policy errors{};
    /// Where the bytes start in the whole input (see `input_origin` in core/error.hpp; a
    /// `text_block` from `csv::record_blocks` gives it). A byte-order mark is
    /// looked for only at offset 0. Record indices still count from 0: a reader of a piece
    /// cannot know the records before it (`unpack_blocks` adds them to its errors).
    input_origin origin{};
    /// The header read from an earlier piece of the input: with `header` set, no header
    /// line is read and records are checked against this one's field count.
    std::shared_ptr<const csv::header> known_header{};

    /// Options for a file name: `.tsv`/`.tab` select tab, `.psv` a pipe (see
    /// `delimiter_for_path`); everything else is left at its default.
    static read_options for_path(std::string_view path);
};

/// Options of `csv::encoder`.
struct write_options {
    /// Field separator (see `read_options::delimiter`).
    char delimiter = ',';
    /// Quote character.
    char quote = '"';
    /// End lines with CRLF (RFC 4180) instead of LF.
    bool crlf = false;
    /// Text written, unquoted, for a null value (an empty std::optional, nullptr).
    std::string null_text{};
    /// Quote every empty string (`""`), so that it differs from a null written as empty
    /// text. An empty string that is a row's only field is always quoted, otherwise the
    /// line would be blank and readers would skip it.
    bool quote_empty_strings = false;
    /// Write a header line. It is `header` when given (written in `begin`, even for no
    /// records); otherwise the first record's field names (a struct's field list, or a
    /// CSV row's header), written just before that record.
    bool write_header = true;
    /// Explicit column names for the header line.
    std::vector<std::string> header{};

    /// Options for a file name (see `delimiter_for_path`).
    static write_options for_path(std::string_view path);
};

/// The delimiter a file name implies: '\t' for `.tsv` and `.tab`, '|' for `.psv`, ','
/// otherwise. A trailing compression extension (`compression::known_extensions`: `.gz`,
/// `.zst`, ...) is looked through, so `data.tsv.gz` is tab-separated. Case-insensitive.
inline char delimiter_for_path(std::string_view path) {
    path = compression::strip_extension(path);
    std::size_t slash = path.find_last_of('/');
    std::size_t dot = path.find_last_of('.');
    std::string ext;
    if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash))
        ext = ascii::lowered(path.substr(dot + 1));
    if (ext == "tsv" || ext == "tab") return '\t';
    if (ext == "psv") return '|';
    return ',';
}

inline read_options read_options::for_path(std::string_view path) {
    read_options o;
    o.delimiter = delimiter_for_path(path);
    return o;
}

inline write_options write_options::for_path(std::string_view path) {
    write_options o;
    o.delimiter = delimiter_for_path(path);
    return o;
}

}  // namespace sluice::csv
