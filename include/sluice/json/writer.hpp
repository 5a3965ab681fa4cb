#pragma once
/// \file
/// `json::writer`: appends compact JSON to a `sluice::chunk`, one value at a time.
///
///     json::writer w(out);
///     w.begin_object().key("id").number(42).key("name").string("Ann").end_object();
///
/// The writer keeps no stack and allocates nothing: after a key no comma is due, after any
/// value or closed container one is, and a container that was just opened needs none. So
/// one flag places every comma. The writer does not check the shape (a key inside an array
/// is written as asked); encoders built on it produce well-formed output by construction.

#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "../core/chunk.hpp"
#include "../core/json_escape.hpp"

namespace sluice::json {

/// Writes JSON tokens into a chunk it does not own. Cheap to construct: make one per record.
class writer {
public:
    /// Appends to `out` (whatever `out` already holds is kept).
    explicit writer(chunk& out) noexcept : out_(&out) {}

    /// `{`
    writer& begin_object() { return open('{'); }
    /// `}`
    writer& end_object() { return close('}'); }
    /// `[`
    writer& begin_array() { return open('['); }
    /// `]`
    writer& end_array() { return close(']'); }

    /// An object key (escaped) and its colon; the next call writes the value.
    writer& key(std::string_view k) {
        comma();
        write_string(k, *out_);
        out_->push_back(':');
        need_comma_ = false;
        return *this;
    }

    /// A string value, escaped as RFC 8259 requires.
    writer& string(std::string_view s) {
        comma();
        write_string(s, *out_);
        return *this;
    }

    /// An integer value (std::to_chars).
    template <class T>
        requires std::integral<T> && (!std::same_as<T, bool>) && (!std::same_as<T, char>)
    writer& number(T v) {
        comma();
        out_->reserve_spare(24);
        auto r = std::to_chars(out_->tail(), out_->tail() + 24, v);
        out_->commit(static_cast<std::size_t>(r.ptr - out_->tail()));
        return *this;
    }

    /// A floating-point value in the shortest form that reads back exactly. JSON has no
    /// NaN or infinity: those are written as `null`.
    writer& number(double v) {
        if (!std::isfinite(v)) return null();
        comma();
        out_->reserve_spare(32);
        auto r = std::to_chars(out_->tail(), out_->tail() + 32, v);
        out_->commit(static_cast<std::size_t>(r.ptr - out_->tail()));
        return *this;
    }
    /// A float, as a double.
    writer& number(float v) { return number(static_cast<double>(v)); }

    /// A number given as text, copied verbatim (keeps exact digits such as
    /// `12345678901234567890` or `1.0`). The caller vouches that it is a valid JSON number.
    writer& raw_number(std::string_view digits) { return raw(digits); }

    /// `true` or `false`.
    writer& boolean(bool b) {
        comma();
        out_->append(b ? std::string_view("true") : std::string_view("false"));
        return *this;
    }

    /// `null`.
    writer& null() {
        comma();
        out_->append("null");
        return *this;
    }

    /// A complete JSON value given as text, copied verbatim (the caller vouches for it).
    writer& raw(std::string_view json) {
        comma();
        out_->append(json);
        return *this;
    }

    /// Forgets the comma state, e.g. to start an independent top-level value.
    void reset() noexcept { need_comma_ = false; }

    /// The chunk being written.
    chunk& out() noexcept { return *out_; }

private:
    void comma() {
        if (need_comma_) out_->push_back(',');
        need_comma_ = true;
    }
    writer& open(char c) {
        comma();
        out_->push_back(c);
        need_comma_ = false;
        return *this;
    }
    writer& close(char c) {
        out_->push_back(c);
        need_comma_ = true;
        return *this;
    }

    chunk* out_;
    bool need_comma_ = false;
};

}  // namespace sluice::json
