#pragma once
/// \file
/// Small type traits shared by the record layers (validate, record conversion, CSV and
/// Postgres fields), one copy each.

#include <optional>
#include <type_traits>

namespace sluice {

namespace detail {
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
}  // namespace detail

/// True for `std::optional<U>` (cv and references ignored): a field that may be null.
template <class T>
inline constexpr bool is_optional_v = detail::is_optional<std::remove_cvref_t<T>>::value;

}  // namespace sluice
