#pragma once
/// \file
/// Text conversions shared by the record formats (CSV, JSON): `from_text(s, value)` parses
/// a field's text into a value and `append_text(out, value)` writes a value's text. Numbers go
/// through std::from_chars / std::to_chars, so they are locale-free and round-trip exactly.
///
/// Supported types: integers, floating point, bool (`true`/`false`, any case, or `1`/`0`),
/// `char`, std::string, std::string_view (a view into the source text) and std::optional<T>
/// of any of them (empty text is `std::nullopt`). Text is never trimmed: " 1" is not an int.

#include <charconv>
#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "../core/ascii.hpp"
#include "../core/chunk.hpp"
#include "../core/type_traits.hpp"

namespace sluice {

/// Types `from_text` and `append_text` handle.
template <class T>
concept text_convertible =
    std::is_arithmetic_v<T> || std::same_as<T, std::string> || std::same_as<T, std::string_view> ||
    (is_optional_v<T> && (std::is_arithmetic_v<typename T::value_type> ||
                          std::same_as<typename T::value_type, std::string> ||
                          std::same_as<typename T::value_type, std::string_view>));

/// A short name of a value type for error messages ("int64", "double", "bool", ...).
template <class T>
constexpr std::string_view type_name_for_text() noexcept {
    using U = std::remove_cvref_t<T>;
    if constexpr (is_optional_v<U>)
        return type_name_for_text<typename U::value_type>();
    else if constexpr (std::same_as<U, bool>)
        return "bool";
    else if constexpr (std::same_as<U, char>)
        return "char";
    else if constexpr (std::is_integral_v<U>)
        return std::is_signed_v<U> ? (sizeof(U) == 8 ? "int64" : sizeof(U) == 4 ? "int32" : "int")
                                   : (sizeof(U) == 8 ? "uint64" : sizeof(U) == 4 ? "uint32" : "uint");
    else if constexpr (std::is_floating_point_v<U>)
        return sizeof(U) == 4 ? "float" : "double";
    else
        return "string";
}

/// Parses the whole of `s` into `out`. Returns false (leaving `out` unspecified) when `s` is
/// not a valid value of the type, is out of range, or has trailing characters.
template <text_convertible T>
bool from_text(std::string_view s, T& out) {
    if constexpr (is_optional_v<T>) {
        if (s.empty()) {
            out.reset();
            return true;
        }
        typename T::value_type v{};
        if (!from_text(s, v)) return false;
        out = std::move(v);
        return true;
    } else if constexpr (std::same_as<T, std::string>) {
        out.assign(s.data(), s.size());
        return true;
    } else if constexpr (std::same_as<T, std::string_view>) {
        out = s;
        return true;
    } else if constexpr (std::same_as<T, bool>) {
        if (s == "1" || ascii::iequals(s, "true")) return out = true, true;
        if (s == "0" || ascii::iequals(s, "false")) return out = false, true;
        return false;
    } else if constexpr (std::same_as<T, char>) {
        if (s.size() != 1) return false;
        out = s[0];
        return true;
    } else {
        const char* first = s.data();
        const char* last = s.data() + s.size();
        auto [end, ec] = std::from_chars(first, last, out);
        return ec == std::errc() && end == last && first != last;
    }
}

/// Appends the text of an arithmetic value or a string to `out` (shortest round-trip form
/// for floating point; `true`/`false` for bool). Strings are appended as they are.
template <class T>
    requires std::is_arithmetic_v<T> || std::convertible_to<const T&, std::string_view>
void append_text(chunk& out, const T& v) {
    if constexpr (std::same_as<T, bool>) {
        out.append(v ? std::string_view("true") : std::string_view("false"));
    } else if constexpr (std::same_as<T, char>) {
        out.push_back(v);
    } else if constexpr (std::is_arithmetic_v<T>) {
        // 64 bytes hold any integer and the shortest form of any double.
        out.reserve_spare(64);
        auto [end, ec] = std::to_chars(out.tail(), out.tail() + 64, v);
        out.commit(static_cast<std::size_t>(end - out.tail()));
    } else {
        out.append(std::string_view(v));
    }
}

}  // namespace sluice
