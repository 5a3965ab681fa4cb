#pragma once
/// \file
/// The records the JSON readers yield: `json_record`, a view of one JSON value (usually an
/// object) valid until the next pull, and `json_owned_record`, its owning copy.
///
/// A record keeps the RAW TEXT of every value next to its type, so nothing is lost in a
/// round trip: `12345678901234567890` and `1.0` stay exactly that, nested objects and arrays
/// keep their text. String values are also available unescaped. For an object record the
/// top-level members are listed in document order; a duplicate key keeps its first position
/// and takes the last value. This header needs no simdjson (only the readers do).

#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "compact.hpp"
#include "write_value.hpp"
#include "writer.hpp"

namespace sluice::json {

/// The type of a JSON value.
enum class json_type : std::uint8_t { null, boolean, number, string, array, object };

/// "null", "boolean", "number", "string", "array" or "object".
constexpr std::string_view to_string(json_type t) noexcept {
    switch (t) {
        case json_type::null: return "null";
        case json_type::boolean: return "boolean";
        case json_type::number: return "number";
        case json_type::string: return "string";
        case json_type::array: return "array";
        case json_type::object: return "object";
    }
    return "?";
}

/// One JSON value inside a record: its type, its raw text and, for strings, the unescaped
/// content. A view: valid as long as the record it came from.
class json_value {
public:
    json_value() = default;
    /// `raw` is the value's JSON text; `unescaped` the content of a string value.
    constexpr json_value(json_type t, std::string_view raw, std::string_view unescaped = {}) noexcept
        : raw_(raw), str_(unescaped), type_(t) {}

    /// The value's type.
    constexpr json_type type() const noexcept { return type_; }
    /// The JSON text as written in the input: a string with its quotes and escapes, a number
    /// with its exact digits, an object or array as written (inner whitespace included).
    constexpr std::string_view raw() const noexcept { return raw_; }
    /// The unescaped content of a string value; empty for other types.
    constexpr std::string_view str() const noexcept { return str_; }
    /// The value as plain text, as a CSV field would hold it: a string unescaped, `null`
    /// empty, anything else its raw JSON text (numbers keep their digits).
    constexpr std::string_view text() const noexcept {
        return type_ == json_type::string ? str_ : type_ == json_type::null ? std::string_view{} : raw_;
    }

    constexpr bool is_null() const noexcept { return type_ == json_type::null; }
    constexpr bool is_boolean() const noexcept { return type_ == json_type::boolean; }
    constexpr bool is_number() const noexcept { return type_ == json_type::number; }
    constexpr bool is_string() const noexcept { return type_ == json_type::string; }
    constexpr bool is_array() const noexcept { return type_ == json_type::array; }
    constexpr bool is_object() const noexcept { return type_ == json_type::object; }

    /// The value converted to `T`: a number to an arithmetic type (std::from_chars over the
    /// whole text; out of range is an error), a boolean to `bool`, a string to a
    /// std::string_view or std::string. Throws `bad_input` when it does not fit.
    template <class T>
    T get() const {
        using U = std::remove_cvref_t<T>;
        if constexpr (std::same_as<U, bool>) {
            if (type_ != json_type::boolean) mismatch("a boolean");
            return raw_ == "true";
        } else if constexpr (std::same_as<U, std::string_view> || std::same_as<U, std::string>) {
            if (type_ != json_type::string) mismatch("a string");
            return U(str_);
        } else {
            static_assert(std::is_arithmetic_v<U>, "json_value::get<T>: unsupported type");
            if (type_ != json_type::number) mismatch("a number");
            U v{};
            auto [end, ec] = std::from_chars(raw_.data(), raw_.data() + raw_.size(), v);
            if (ec != std::errc{} || end != raw_.data() + raw_.size())
                mismatch(std::is_integral_v<U> ? "an integer in range" : "a number in range");
            return v;
        }
    }

private:
    [[noreturn]] void mismatch(const char* wanted) const {
        std::string m = "value ";
        m.append(raw_.substr(0, 64));
        m += " is not ";
        m += wanted;
        throw error(errc::bad_input, "json", m);
    }

    std::string_view raw_;
    std::string_view str_;
    json_type type_ = json_type::null;
};

/// A member of an object record: its unescaped key and its value.
struct json_field {
    std::string_view key;
    json_value value;
};

class json_owned_record;

/// One record from a JSON reader: any JSON value, with the members of an object listed for
/// access by key and in document order. Every view in it (keys, values, `raw()`) is valid
/// until the reader's next pull; keep `to_owned()` to hold on to it.
class json_record : public detail::custom_write_tag {
public:
    using const_iterator = const json_field*;

    json_record() = default;
    /// A record over `fields` (for objects), with the whole value's `raw` text.
    json_record(json_type t, std::string_view raw, const json_field* fields, std::size_t n,
                std::uint64_t line = position::unknown) noexcept
        : raw_(raw), fields_(fields), size_(n), line_(line), type_(t) {}

    /// The type of the whole record (usually object).
    json_type type() const noexcept { return type_; }
    /// The record's JSON text as read (without the line end).
    std::string_view raw() const noexcept { return raw_; }
    /// The whole record as a value (e.g. to handle non-object records uniformly).
    json_value value() const noexcept { return json_value(type_, raw_, scalar_str_); }
    /// The 1-based input line where the record starts (`position::unknown` if not known).
    std::uint64_t line() const noexcept { return line_; }

    /// Number of distinct keys (0 unless the record is an object).
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    /// Members in document order (duplicates merged: first position, last value).
    const_iterator begin() const noexcept { return fields_; }
    const_iterator end() const noexcept { return fields_ + size_; }
    /// The i-th member.
    const json_field& field(std::size_t i) const noexcept { return fields_[i]; }
    /// The i-th key.
    std::string_view name(std::size_t i) const noexcept { return fields_[i].key; }

    /// The value of `key`, or nullptr when the record has no such key. A scan: linear in the
    /// record's keys, so a caller visiting every key of a wide record should iterate the
    /// members (or index them once) rather than look each one up.
    const json_value* get(std::string_view key) const noexcept {
        // Records are usually narrow: a linear scan comparing sizes first beats hashing.
        for (std::size_t i = 0; i < size_; ++i)
            if (fields_[i].key.size() == key.size() && fields_[i].key == key) return &fields_[i].value;
        return nullptr;
    }
    /// Whether the record has `key`.
    bool contains(std::string_view key) const noexcept { return get(key) != nullptr; }
    /// The value of `key`; throws `bad_input` when it is missing.
    const json_value& operator[](std::string_view key) const {
        if (const json_value* v = get(key)) return *v;
        std::string m = "no key \"";
        m.append(key);
        m += '"';
        position p;
        p.line = line_;
        throw error(errc::bad_input, "json", m, p);
    }

    /// An owning copy, valid after the reader moves on.
    json_owned_record to_owned() const;

    /// For a string record (a top-level string), its unescaped content.
    void set_scalar_string(std::string_view s) noexcept { scalar_str_ = s; }

protected:
    std::string_view raw_;
    std::string_view scalar_str_;
    const json_field* fields_ = nullptr;
    std::size_t size_ = 0;
    std::uint64_t line_ = position::unknown;
    json_type type_ = json_type::null;
};

/// An owning `json_record`: the same accessors, with the text held in one buffer.
class json_owned_record : public json_record {
public:
    json_owned_record() = default;
    /// Copies every view of `r` into this record's own storage.
    explicit json_owned_record(const json_record& r) { assign(r); }
    json_owned_record(const json_owned_record& o) : json_record() { assign(o); }
    json_owned_record& operator=(const json_owned_record& o) {
        if (this != &o) assign(o);
        return *this;
    }
    // Moving the buffers keeps their addresses, so the views stay valid in the new owner.
    json_owned_record(json_owned_record&& o) noexcept
        : json_record(o), buf_(std::move(o.buf_)), fields_storage_(std::move(o.fields_storage_)) {
        static_cast<json_record&>(o) = json_record();
    }
    json_owned_record& operator=(json_owned_record&& o) noexcept {
        if (this != &o) {
            static_cast<json_record&>(*this) = o;
            buf_ = std::move(o.buf_);
            fields_storage_ = std::move(o.fields_storage_);
            static_cast<json_record&>(o) = json_record();
        }
        return *this;
    }

    /// A copy (an owned record is already owned).
    json_owned_record to_owned() const { return *this; }

private:
    void assign(const json_record& r) {
        std::size_t total = r.raw().size() + r.value().str().size();
        for (const json_field& f : r) total += f.key.size() + f.value.raw().size() + f.value.str().size();
        auto buf = std::make_unique<char[]>(total == 0 ? 1 : total);
        char* p = buf.get();
        auto copy = [&p](std::string_view s) {
            if (!s.empty()) std::memcpy(p, s.data(), s.size());
            std::string_view out(p, s.size());
            p += s.size();
            return out;
        };
        std::vector<json_field> fields;
        fields.reserve(r.size());
        std::string_view raw = copy(r.raw());
        std::string_view scalar = copy(r.value().str());
        for (const json_field& f : r) {
            std::string_view k = copy(f.key);
            std::string_view v = copy(f.value.raw());
            std::string_view s = copy(f.value.str());
            fields.push_back({k, json_value(f.value.type(), v, s)});
        }
        buf_ = std::move(buf);
        fields_storage_ = std::move(fields);
        static_cast<json_record&>(*this) =
            json_record(r.type(), raw, fields_storage_.data(), fields_storage_.size(), r.line());
        scalar_str_ = scalar;
    }

    std::unique_ptr<char[]> buf_;
    std::vector<json_field> fields_storage_;
};

inline json_owned_record json_record::to_owned() const { return json_owned_record(*this); }

namespace detail {
/// Writes raw JSON text compacted (whitespace between tokens removed, everything else as
/// written), so a pretty-printed nested value stays on its record's line.
inline void write_raw_one_line(writer& w, std::string_view raw) {
    w.raw({});  // the comma, if one is due
    write_compact(raw, w.out());
}
}  // namespace detail

/// A value as its raw JSON text, compacted (number text, key order, escapes kept).
inline void write_value(writer& w, const json_value& v) {
    if (v.is_array() || v.is_object())
        detail::write_raw_one_line(w, v.raw());
    else
        w.raw(v.raw());
}

/// A record re-emitted: an object member by member (duplicates merged, numbers and nested
/// values as written but compacted), anything else as its raw text compacted: one line.
inline void write_value(writer& w, const json_record& r) {
    if (r.type() != json_type::object) {
        detail::write_raw_one_line(w, r.raw());
        return;
    }
    w.begin_object();
    for (const json_field& f : r) {
        w.key(f.key);
        write_value(w, f.value);
    }
    w.end_object();
}

}  // namespace sluice::json
