#pragma once
/// \file
/// `json::write_value(writer&, const T&)`: the customization point that says how a value
/// becomes JSON. The JSON encoders call it unqualified, so a type opts in by declaring
/// `void write_value(sluice::json::writer&, const my_type&)` in its own namespace (found by
/// argument-dependent lookup). This header provides it for:
///   - strings (anything convertible to std::string_view) -> JSON strings,
///   - bool, integers and floating point -> `true`/`false` and numbers (std::to_chars),
///   - std::nullptr_t, std::nullopt_t -> `null`; std::optional<T> -> the value or `null`,
///   - ranges of (key, value) pairs (std::vector<std::pair<std::string, V>>, std::map) ->
///     objects in iteration order; other ranges -> arrays,
///   - *string records* (see `string_record`): a CSV row or any dynamic record with named
///     string fields -> an object whose values are all JSON strings,
///   - user structs that describe their fields (sluice/record/fields.hpp: `sluice_fields`)
///     -> an object with one member per field, each written by `write_value`.
/// `json_record` (the reader's record) has its overload in record.hpp.

#include <charconv>
#include <concepts>
#include <cstddef>
#include <optional>
#include <ranges>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../record/fields.hpp"
#include "writer.hpp"

namespace sluice::json {

namespace detail {

template <class T>
concept string_like = std::convertible_to<const T&, std::string_view>;

template <class T>
concept has_name_at = requires(const T& r, std::size_t i) {
    { r.name(i) } -> std::convertible_to<std::string_view>;
};
template <class T>
concept has_header = requires(const T& r, std::size_t i) {
    { r.header()[i] } -> std::convertible_to<std::string_view>;
    { r.header().size() } -> std::convertible_to<std::size_t>;
};

/// Types deriving from this have their own `write_value` overload taking a base class (so a
/// derived type would otherwise prefer the generic range overloads below): those skip them.
struct custom_write_tag {};

template <class T>
concept generic_range = std::ranges::input_range<T> && !string_like<T> &&
                        !std::derived_from<std::remove_cvref_t<T>, custom_write_tag>;

/// Pair-like with a string first member: an element of a key-value range.
template <class T>
concept key_value_pair = requires(const T& p) {
    { p.first } -> std::convertible_to<std::string_view>;
    p.second;
};

}  // namespace detail

/// A record of named string fields, such as a CSV row: `size()`, `r[i]` -> string_view and
/// the names as `r.name(i)` or `r.header()[i]`. Encoded as an object of JSON strings, keys
/// in field order - the CSV -> JSON mapping, which keeps each field's exact content.
template <class R>
concept string_record =
    !detail::string_like<R> && requires(const R& r, std::size_t i) {
        { r.size() } -> std::convertible_to<std::size_t>;
        { r[i] } -> std::convertible_to<std::string_view>;
    } && (detail::has_name_at<R> || detail::has_header<R>);

// Declarations first, so that the templates below see each other (an optional inside a
// vector, a vector inside a map, ...) whatever order they are defined in.

/// A JSON string.
template <detail::string_like S>
void write_value(writer& w, const S& s);
/// `true` / `false`.
inline void write_value(writer& w, bool b);
/// An integer.
template <class T>
    requires std::integral<T> && (!std::same_as<T, bool>) && (!std::same_as<T, char>)
void write_value(writer& w, T v);
/// A floating-point number (`null` for NaN and infinities, which JSON lacks).
template <std::floating_point T>
void write_value(writer& w, T v);
/// `null`.
inline void write_value(writer& w, std::nullptr_t);
/// `null`.
inline void write_value(writer& w, std::nullopt_t);
/// The value, or `null` when empty.
template <class T>
void write_value(writer& w, const std::optional<T>& o);
/// An object: each element is a (key, value) pair, keys written in iteration order.
template <detail::generic_range R>
    requires(detail::key_value_pair<std::ranges::range_value_t<R>> &&
             !string_record<R>)
void write_value(writer& w, const R& r);
/// An array of the elements.
template <detail::generic_range R>
    requires(!detail::key_value_pair<std::ranges::range_value_t<R>> &&
             !string_record<R>)
void write_value(writer& w, const R& r);
/// An object of JSON strings, one per field.
template <string_record R>
void write_value(writer& w, const R& r);
/// An object with a member per described field (`sluice::has_fields`), in field order.
template <class T>
    requires sluice::has_fields<T> && (!string_record<T>) && (!std::ranges::range<T>)
void write_value(writer& w, const T& obj);

template <detail::string_like S>
void write_value(writer& w, const S& s) {
    w.string(std::string_view(s));
}
inline void write_value(writer& w, bool b) { w.boolean(b); }
template <class T>
    requires std::integral<T> && (!std::same_as<T, bool>) && (!std::same_as<T, char>)
void write_value(writer& w, T v) {
    w.number(v);
}
template <std::floating_point T>
void write_value(writer& w, T v) {
    w.number(static_cast<double>(v));
}
inline void write_value(writer& w, std::nullptr_t) { w.null(); }
inline void write_value(writer& w, std::nullopt_t) { w.null(); }
template <class T>
void write_value(writer& w, const std::optional<T>& o) {
    if (o)
        write_value(w, *o);
    else
        w.null();
}
template <detail::generic_range R>
    requires(detail::key_value_pair<std::ranges::range_value_t<R>> &&
             !string_record<R>)
void write_value(writer& w, const R& r) {
    w.begin_object();
    for (const auto& kv : r) {
        w.key(std::string_view(kv.first));
        write_value(w, kv.second);
    }
    w.end_object();
}
template <detail::generic_range R>
    requires(!detail::key_value_pair<std::ranges::range_value_t<R>> &&
             !string_record<R>)
void write_value(writer& w, const R& r) {
    w.begin_array();
    for (const auto& v : r) write_value(w, v);
    w.end_array();
}
template <string_record R>
void write_value(writer& w, const R& r) {
    w.begin_object();
    const std::size_t n = static_cast<std::size_t>(r.size());
    for (std::size_t i = 0; i < n; ++i) {
        if constexpr (detail::has_name_at<R>) {
            w.key(std::string_view(r.name(i)));
        } else if (i < static_cast<std::size_t>(r.header().size())) {
            w.key(std::string_view(r.header()[i]));
        } else {
            // No name for this column (a CSV read without a header): its 1-based number.
            char num[24];
            auto res = std::to_chars(num, num + sizeof num, i + 1);
            w.key(std::string_view(num, static_cast<std::size_t>(res.ptr - num)));
        }
        w.string(std::string_view(r[i]));
    }
    w.end_object();
}
template <class T>
    requires sluice::has_fields<T> && (!string_record<T>) && (!std::ranges::range<T>)
void write_value(writer& w, const T& obj) {
    w.begin_object();
    sluice::for_each_field(obj, [&w](std::string_view name, const auto& member) {
        w.key(name);
        write_value(w, member);
    });
    w.end_object();
}

/// Types the JSON encoders accept: those with a `write_value` overload (here or found by
/// argument-dependent lookup).
template <class T>
concept json_writable = requires(writer& w, const std::remove_cvref_t<T>& v) { write_value(w, v); };

}  // namespace sluice::json
