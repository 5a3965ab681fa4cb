#pragma once
/// \file
/// The records of the CSV reader: `csv::row`, a view of one record's fields valid until the
/// next pull, and `csv::owned_row`, its owning copy (`row.to_owned()`). Both give access by
/// index and by header name, typed access through from_chars (`row.get<std::int64_t>("id")`)
/// and the record's position in the input. `csv::header` holds the column names.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../record/convert.hpp"

namespace sluice::csv {

/// Column names from a header line. Lookup by name is a linear scan: headers are short
/// and a scan of a few dozen small strings beats hashing; callers that look up a column on
/// every row should resolve its index once (`index_of`) and use that.
class header {
public:
    header() = default;
    explicit header(std::vector<std::string> names) : names_(std::move(names)) {}

    std::size_t size() const noexcept { return names_.size(); }
    bool empty() const noexcept { return names_.empty(); }
    const std::string& operator[](std::size_t i) const noexcept { return names_[i]; }
    const std::vector<std::string>& names() const noexcept { return names_; }
    auto begin() const noexcept { return names_.begin(); }
    auto end() const noexcept { return names_.end(); }

    /// The index of the first column called `name`, or `npos`.
    std::size_t index_of(std::string_view name) const noexcept {
        for (std::size_t i = 0; i < names_.size(); ++i)
            if (names_[i] == name) return i;
        return npos;
    }
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

private:
    std::vector<std::string> names_;
};

namespace detail {

/// The accessors `row` and `owned_row` share. `D` provides `size()`, `field(i)` (a
/// string_view), `header_ptr()` and the position members.
template <class D>
class row_access {
public:
    /// The field at `i` (unchecked; see `at`).
    std::string_view operator[](std::size_t i) const noexcept { return self().field(i); }
    /// The field in the column called `name`; throws `errc::usage` if there is none.
    std::string_view operator[](std::string_view name) const { return self().field(column(name)); }
    /// The field at `i`; throws `errc::usage` if `i >= size()`.
    std::string_view at(std::size_t i) const {
        if (i >= self().size())
            throw error(errc::usage, "csv",
                        "field index " + std::to_string(i) + " out of range (the record has " +
                            std::to_string(self().size()) + " fields)",
                        where(i));
        return self().field(i);
    }

    /// The field at `i` converted to `T` (std::from_chars for numbers; see record/convert.hpp).
    /// A field that does not convert is `errc::bad_input`, naming the column and line.
    template <class T = std::string_view>
    T get(std::size_t i) const {
        std::string_view s = at(i);
        T v{};
        if (!sluice::from_text(s, v)) conversion_failed(i, s, type_name_for_text<T>());
        return v;
    }
    /// The field in the column `name` converted to `T`.
    template <class T = std::string_view>
    T get(std::string_view name) const {
        return get<T>(column(name));
    }
    /// Whether a column is called `name`.
    bool contains(std::string_view name) const noexcept {
        const csv::header* h = self().header_ptr();
        return h && h->index_of(name) != csv::header::npos;
    }

    /// The column names (empty when the reader ran without a header).
    const csv::header& header() const noexcept {
        static const csv::header none;
        const csv::header* h = self().header_ptr();
        return h ? *h : none;
    }

    /// The position of this record, `column` set to `i + 1`, for error messages.
    position where(std::size_t i = position::unknown) const noexcept {
        position p;
        p.record = self().index();
        p.line = self().line();
        p.byte_offset = self().byte_offset();
        if (i != position::unknown) p.column = i + 1;
        return p;
    }

    /// The error for field `i` not converting to a value of type `type` (names the column
    /// and the line); `as<T>()` throws it too.
    error conversion_error(std::size_t i, std::string_view type) const {
        std::string_view s = i < self().size() ? self().field(i) : std::string_view();
        std::string col = "column " + std::to_string(i + 1);
        const csv::header* h = self().header_ptr();
        if (h && i < h->size()) col += " ('" + (*h)[i] + "')";
        std::string shown(s.substr(0, 64));
        if (s.size() > 64) shown += "...";
        return error(errc::bad_input, "csv",
                     col + ": cannot convert '" + shown + "' to " + std::string(type), where(i));
    }

private:
    const D& self() const noexcept { return static_cast<const D&>(*this); }

    std::size_t column(std::string_view name) const {
        const csv::header* h = self().header_ptr();
        std::size_t i = h ? h->index_of(name) : csv::header::npos;
        if (i == csv::header::npos)
            throw error(errc::usage, "csv",
                        h ? "no column named '" + std::string(name) + "'"
                          : "no header: cannot look up column '" + std::string(name) + "'",
                        where());
        if (i >= self().size())
            throw error(errc::bad_input, "csv",
                        "column '" + std::string(name) + "' missing from this record", where(i));
        return i;
    }

    [[noreturn]] void conversion_failed(std::size_t i, std::string_view,
                                        std::string_view type) const {
        throw conversion_error(i, type);
    }
};

}  // namespace detail

class owned_row;

/// One record from `csv::read`: a view of its fields, valid until the next pull.
/// Unquoted fields point into the reader's buffer, unescaped quoted ones into its scratch
/// buffer; keep a record with `to_owned()`.
/// A field read from quotes that held doubled quotes (`"say ""hi"""`): its column and its
/// text as it stands in the input between the outer quotes (`say ""hi""`), each `""` one
/// quote. An encoder can write that text without undoubling it first:
/// json::write_undoubled_string turns `""` into `\"`, the same length.
struct doubled_quote_field {
    std::size_t column;
    std::string_view text;
};

namespace detail {

/// The reader's side of a record whose fields with doubled quotes are undoubled on first
/// access: `fields[c]` of a pending one still views its text in the input (the same
/// pointer as its `doubled` entry); `undouble` writes the undoubled text into room the
/// reader reserved for the record (no allocation, so access stays noexcept) and returns it.
/// A consumer that writes those fields from their text (json::jsonl_encoder) never pays for
/// undoubling them: 40 % of the CSV reader's record building on JSON-in-CSV data.
struct lazy_undoubling {
    std::string_view* fields = nullptr;
    std::span<const doubled_quote_field> doubled;
    std::size_t pending = 0;
    void* reader = nullptr;
    std::string_view (*undouble)(void* reader, std::string_view text) noexcept = nullptr;

    /// Undoubles field `column` if it is pending.
    void resolve(std::size_t column) noexcept {
        for (const doubled_quote_field& d : doubled) {
            if (d.column > column) return;
            if (d.column == column) {
                resolve_one(d);
                return;
            }
        }
    }
    void resolve_all() noexcept {
        for (const doubled_quote_field& d : doubled) resolve_one(d);
    }

private:
    void resolve_one(const doubled_quote_field& d) noexcept {
        std::string_view& f = fields[d.column];
        if (f.data() != d.text.data()) return;  // done already
        f = undouble(reader, d.text);
        --pending;
    }
};

}  // namespace detail

class row : public detail::row_access<row> {
public:
    row() = default;
    /// A view of `fields`; `h` points at the reader's header holder (may be null or empty).
    /// `raw` is the record's text in the input (see `raw()`); `doubled` the fields read from
    /// quotes with doubled `"` inside, by column (see `doubled_quotes()`).
    /// `lazy` (the reader's): fields of `doubled` not undoubled yet (see lazy_undoubling).
    row(std::span<const std::string_view> fields, const std::shared_ptr<const csv::header>* h,
        std::uint64_t line, std::uint64_t byte_offset, std::uint64_t index,
        std::string_view raw = {}, std::span<const doubled_quote_field> doubled = {},
        detail::lazy_undoubling* lazy = nullptr) noexcept
        : fields_(fields), doubled_(doubled), lazy_(lazy), header_(h), raw_(raw), line_(line),
          offset_(byte_offset), index_(index) {}

    /// The number of fields.
    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    std::string_view field(std::size_t i) const noexcept {
        if (lazy_ != nullptr && lazy_->pending != 0) [[unlikely]]
            lazy_->resolve(i);
        return fields_[i];
    }
    /// All fields.
    std::span<const std::string_view> fields() const noexcept {
        resolve_all();
        return fields_;
    }
    auto begin() const noexcept {
        resolve_all();
        return fields_.begin();
    }
    auto end() const noexcept { return fields_.end(); }

    /// 1-based physical line where the record starts (every line counts: blank ones, the
    /// header, and lines inside quoted fields).
    std::uint64_t line() const noexcept { return line_; }
    /// 0-based byte offset of the record's first byte in the input (a BOM counts).
    std::uint64_t byte_offset() const noexcept { return offset_; }
    /// 0-based number of the record among the yielded ones (the header is not counted).
    std::uint64_t index() const noexcept { return index_; }
    const csv::header* header_ptr() const noexcept { return header_ ? header_->get() : nullptr; }
    /// The record's original text as read: its bytes in the input, quoting and line end
    /// included (what a dead letter keeps); empty for a row not made by the reader. For a
    /// record with invalid UTF-8 under `utf8_mode::replace`, the bytes before replacement.
    std::string_view raw() const noexcept { return raw_; }

    /// The fields that were read from quotes with doubled `"` inside (quote character `"`),
    /// in column order, with their text as it stands in the input: `field(c)` is that text
    /// with each `""` undoubled - on first access, so a consumer that writes the text
    /// itself never pays for undoubling it (that first access writes into the reader's
    /// buffer: a row, a view valid until the next pull, is read by one thread at a time).
    /// Empty for a row not made by the reader, and for fields the reader rewrote (invalid
    /// UTF-8 replaced), which are then only in `field()`.
    std::span<const doubled_quote_field> doubled_quotes() const noexcept { return doubled_; }

    /// An owning copy (defined below; it shares the header and copies the raw text).
    owned_row to_owned() const;

private:
    void resolve_all() const noexcept {
        if (lazy_ != nullptr && lazy_->pending != 0) [[unlikely]]
            lazy_->resolve_all();
    }

    std::span<const std::string_view> fields_;
    std::span<const doubled_quote_field> doubled_;
    detail::lazy_undoubling* lazy_ = nullptr;
    const std::shared_ptr<const csv::header>* header_ = nullptr;
    std::string_view raw_;
    std::uint64_t line_ = 0;
    std::uint64_t offset_ = 0;
    std::uint64_t index_ = 0;
};

/// An owning record: the fields as strings, sharing the header with the reader.
class owned_row : public detail::row_access<owned_row> {
public:
    owned_row() = default;
    /// A row of the given fields (e.g. to encode), with an optional header.
    explicit owned_row(std::vector<std::string> fields,
                       std::shared_ptr<const csv::header> h = nullptr)
        : fields_(std::move(fields)), header_(std::move(h)) {}
    owned_row(std::vector<std::string> fields, std::shared_ptr<const csv::header> h,
              std::uint64_t line, std::uint64_t byte_offset, std::uint64_t index,
              std::string raw = {})
        : fields_(std::move(fields)), header_(std::move(h)), raw_(std::move(raw)), line_(line),
          offset_(byte_offset), index_(index) {}

    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    std::string_view field(std::size_t i) const noexcept { return fields_[i]; }
    /// All fields (mutable: an owned row may be edited before it is encoded).
    std::vector<std::string>& fields() noexcept { return fields_; }
    const std::vector<std::string>& fields() const noexcept { return fields_; }
    auto begin() const noexcept { return fields_.begin(); }
    auto end() const noexcept { return fields_.end(); }

    std::uint64_t line() const noexcept { return line_; }
    std::uint64_t byte_offset() const noexcept { return offset_; }
    std::uint64_t index() const noexcept { return index_; }
    const csv::header* header_ptr() const noexcept { return header_.get(); }
    /// The shared header (may be null).
    const std::shared_ptr<const csv::header>& shared_header() const noexcept { return header_; }
    /// The record's original text (see `row::raw()`); empty for a row made from fields.
    std::string_view raw() const noexcept { return raw_; }

    /// Already owning: a copy.
    owned_row to_owned() const { return *this; }

    friend bool operator==(const owned_row& a, const owned_row& b) noexcept {
        return a.fields_ == b.fields_;
    }

private:
    std::vector<std::string> fields_;
    std::shared_ptr<const csv::header> header_;
    std::string raw_;
    std::uint64_t line_ = 0;
    std::uint64_t offset_ = 0;
    std::uint64_t index_ = 0;
};

inline owned_row row::to_owned() const {
    std::vector<std::string> f;
    f.reserve(fields_.size());
    for (std::string_view s : fields()) f.emplace_back(s);
    return owned_row(std::move(f), header_ ? *header_ : nullptr, line_, offset_, index_,
                     std::string(raw_));
}

}  // namespace sluice::csv
