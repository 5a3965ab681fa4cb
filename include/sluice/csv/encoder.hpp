#pragma once
/// \file
/// `csv::encoder`: writes records as CSV lines, for `sluice::encode`:
/// \code
/// rows | sluice::encode(sluice::csv::encoder{}) | sluice::to_file("out.csv");
/// orders | sluice::encode(sluice::csv::encoder{{.crlf = true}}) | sluice::to_stdout();
/// \endcode
/// A record may be a `csv::row` / `csv::owned_row`, a range of values (std::vector of
/// std::string, std::string_view, std::optional<std::string>, numbers...), a tuple-like
/// (std::tuple, std::pair, std::array), or a struct with a field list (record/fields.hpp).
/// Values: strings as they are; numbers through std::to_chars (shortest round-trip form);
/// bool as true/false; an empty std::optional and nullptr as `null_text`.
///
/// A field is quoted only when it must be: it holds the delimiter, the quote, CR or LF
/// (quotes inside are doubled). An empty string that is a record's only field is written
/// `""`, since an empty line would read back as a blank line. Lines end with LF, or CRLF
/// with `crlf`. The header line is `write_options::header` (written by `begin`), else the
/// names from the first record (a struct's field names, a CSV row's header).

#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../record/convert.hpp"
#include "../record/fields.hpp"
#include "options.hpp"
#include "row.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::csv {

namespace detail {

template <class T>
concept tuple_like = requires { std::tuple_size<std::remove_cvref_t<T>>::value; };

template <class T>
concept csv_row_like = std::same_as<std::remove_cvref_t<T>, row> ||
                       std::same_as<std::remove_cvref_t<T>, owned_row>;

/// Whether `s` holds a byte that forces quoting. 16 bytes per step with SSE2 (the
/// x86-64 baseline); the same predicate byte by byte elsewhere.
inline bool needs_quotes(std::string_view s, char delim, char quote) noexcept {
    const char* p = s.data();
    std::size_t n = s.size();
    std::size_t i = 0;
#if defined(__SSE2__)
    const __m128i d = _mm_set1_epi8(delim), q = _mm_set1_epi8(quote);
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, d), _mm_cmpeq_epi8(v, q)),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
        if (_mm_movemask_epi8(hit)) return true;
    }
#endif
    for (; i < n; ++i) {
        char c = p[i];
        if (c == delim || c == quote || c == '\n' || c == '\r') return true;
    }
    return false;
}

/// Copies `n` bytes with fixed-size moves: a short field costs a few instructions rather
/// than a memcpy call (long ones still go to memcpy).
inline void copy_bytes(char* dst, const char* src, std::size_t n) noexcept {
    if (n > 64) {
        std::memcpy(dst, src, n);
        return;
    }
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) std::memcpy(dst + i, src + i, 16);
    if (i + 8 <= n) {
        std::memcpy(dst + i, src + i, 8);
        i += 8;
    }
    if (i + 4 <= n) {
        std::memcpy(dst + i, src + i, 4);
        i += 4;
    }
    for (; i < n; ++i) dst[i] = src[i];
}

}  // namespace detail

/// The CSV encoder (see the file comment). Keeps whether the header is written, so use
/// one encoder per output.
class encoder {
public:
    explicit encoder(write_options o = {}) : opt_(std::move(o)) {
        if (opt_.delimiter == opt_.quote || opt_.delimiter == '\n' || opt_.delimiter == '\r' ||
            opt_.quote == '\n' || opt_.quote == '\r')
            throw error(errc::usage, "csv",
                        "the delimiter and the quote must differ and be neither CR nor LF");
        eol_ = opt_.crlf ? std::string_view("\r\n") : std::string_view("\n");
        quote2_[0] = quote2_[1] = opt_.quote;
    }

    /// An encoder whose header is `T`'s field names (written even when no record follows).
    template <class T>
        requires has_fields<T>
    static encoder for_record(write_options o = {}) {
        o.header.clear();
        for (std::string_view n : field_names<T>()) o.header.emplace_back(n);
        return encoder(std::move(o));
    }

    const write_options& options() const noexcept { return opt_; }

    /// Writes the explicit header line, if any (called once by `encode` before any record).
    void begin(chunk& out) {
        if (header_done_ || !opt_.write_header || opt_.header.empty()) return;
        header_done_ = true;
        write_names(opt_.header, out);
    }

    /// Appends one record as a CSV line.
    template <class R>
    void encode(const R& r, chunk& out) {
        using V = std::remove_cvref_t<R>;
        if (!header_done_) {
            header_done_ = true;
            if (opt_.write_header) write_header_of(r, out);
        }
        const std::size_t start = out.size();
        std::size_t count = 0;
        auto one = [&](const auto& v) {
            if (count++) out.push_back(opt_.delimiter);
            write_value(v, out);
        };
        if constexpr (detail::csv_row_like<V>) {
            if constexpr (requires { r.doubled_quotes(); }) {
                if (opt_.quote == '"' && !r.doubled_quotes().empty()) {
                    write_row_with_doubled(r, out);
                    count = r.size();
                } else {
                    for (std::string_view f : r) one(f);
                }
            } else {
                for (std::string_view f : r) one(f);
            }
        } else if constexpr (has_fields<V>) {
            for_each_field(r, [&](std::string_view, const auto& m) { one(m); });
        } else if constexpr (detail::tuple_like<V>) {
            std::apply([&](const auto&... v) { (one(v), ...); }, r);
        } else if constexpr (std::ranges::input_range<const V> &&
                             !std::convertible_to<const V&, std::string_view>) {
            for (const auto& v : r) one(v);
        } else {
            static_assert(sizeof(V) == 0,
                          "sluice::csv::encoder: a record must be a csv row, a struct with "
                          "sluice_fields, a tuple-like or a range of values (a lone string is "
                          "ambiguous: wrap it, e.g. std::array{s})");
        }
        // A lone empty field would make a blank line, which readers skip.
        if (count == 1 && out.size() == start) out.append(empty_quoted());
        out.append(eol_);
    }

    /// Appends one value as a field (quoted if needed); no delimiter, no line end.
    template <class T>
    void write_value(const T& v, chunk& out) const {
        if constexpr (is_optional_v<T>) {
            if (v)
                write_value(*v, out);
            else
                out.append(opt_.null_text);
        } else if constexpr (std::same_as<T, std::nullptr_t> || std::same_as<T, std::nullopt_t>) {
            out.append(opt_.null_text);
        } else if constexpr (std::convertible_to<const T&, std::string_view>) {
            write_string(std::string_view(v), out);
        } else if constexpr (std::is_arithmetic_v<T>) {
            if constexpr (std::same_as<T, char>)
                write_string(std::string_view(&v, 1), out);
            else
                append_text(out, v);
        } else {
            static_assert(sizeof(T) == 0,
                          "sluice::csv::encoder: unsupported field type (use strings, numbers, "
                          "bool, std::optional of those, or nullptr)");
        }
    }

    /// Appends `s` as a field: as it is, or quoted with inner quotes doubled.
    void write_string(std::string_view s, chunk& out) const {
        if (s.empty()) {
            if (opt_.quote_empty_strings) out.append(empty_quoted());
            return;
        }
        if (!detail::needs_quotes(s, opt_.delimiter, opt_.quote)) {
            detail::copy_bytes(out.extend(s.size()), s.data(), s.size());
            return;
        }
        // Worst case every byte is a quote: 2n + 2.
        const std::size_t worst = 2 * s.size() + 2;
        char* p = out.extend(worst);
        char* o = p;
        *o++ = opt_.quote;
        const char q = opt_.quote;
        const char* src = s.data();
        const std::size_t n = s.size();
        std::size_t i = 0;
#if defined(__SSE2__)
        // Store as you scan: 16 bytes are stored, then the output advances to just past the
        // first quote among them (doubled) or by 16. The stores stay within the worst case:
        // before each, o - p <= 1 + i + (quotes so far) <= 1 + 2i and i + 16 <= n.
        const __m128i qv = _mm_set1_epi8(q);
        while (i + 16 <= n) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o), v);
            const auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, qv)));
            if (mask == 0) {
                o += 16;
                i += 16;
                continue;
            }
            const std::size_t k = static_cast<std::size_t>(std::countr_zero(mask)) + 1;
            o += k;
            *o++ = q;  // double it
            i += k;
        }
#endif
        for (; i < n; ++i) {
            const char c = src[i];
            *o++ = c;
            if (c == q) *o++ = q;  // double it
        }
        *o++ = opt_.quote;
        out.shrink(worst - static_cast<std::size_t>(o - p));
    }

private:
    /// A CSV reader's row with fields read from quotes with doubled quotes inside
    /// (`row::doubled_quotes()`): with `"` as the quote here too, such a field's text as read
    /// is already its quoted form's inside, so it is copied between quotes - not undoubled
    /// by the row and doubled again here.
    template <class R>
    void write_row_with_doubled(const R& r, chunk& out) const {
        auto doubled = r.doubled_quotes();
        const std::size_t n = r.size();
        for (std::size_t i = 0; i < n; ++i) {
            if (i) out.push_back(opt_.delimiter);
            if (doubled.empty() || doubled.front().column != i) {
                write_string(std::string_view(r[i]), out);
                continue;
            }
            const std::string_view t = doubled.front().text;
            doubled = doubled.subspan(1);
            char* p = out.extend(t.size() + 2);
            p[0] = '"';
            detail::copy_bytes(p + 1, t.data(), t.size());
            p[t.size() + 1] = '"';
        }
    }

    std::string_view empty_quoted() const noexcept {
        return std::string_view(quote2_, 2);
    }

    template <class Names>
    void write_names(const Names& names, chunk& out) {
        std::size_t count = 0;
        const std::size_t start = out.size();
        for (const auto& n : names) {
            if (count++) out.push_back(opt_.delimiter);
            write_string(std::string_view(n), out);
        }
        if (count == 1 && out.size() == start) out.append(empty_quoted());
        out.append(eol_);
    }

    template <class R>
    void write_header_of(const R& r, chunk& out) {
        using V = std::remove_cvref_t<R>;
        if (!opt_.header.empty()) {
            write_names(opt_.header, out);
        } else if constexpr (detail::csv_row_like<V>) {
            if (!r.header().empty()) write_names(r.header().names(), out);
        } else if constexpr (has_fields<V>) {
            write_names(field_names<V>(), out);
        }
    }

    write_options opt_;
    std::string_view eol_;
    char quote2_[2] = {'"', '"'};
    bool header_done_ = false;
};

}  // namespace sluice::csv
