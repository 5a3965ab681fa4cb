#pragma once
/// \file
/// The field-list customization point: how a user struct tells sluice's record formats
/// (CSV, JSON) its fields, so reading and writing structs needs no per-field code.
///
/// A type describes itself in one of two ways (checked in this order):
///
/// 1. a static member, either a constexpr tuple or a static member function returning one:
/// \code
/// struct order {
///     std::int64_t id;
///     std::string customer;
///     std::optional<double> total;
///     static constexpr auto sluice_fields = std::make_tuple(
///         sluice::field("id", &order::id), sluice::field("customer", &order::customer),
///         sluice::field("total", &order::total));
/// };
/// \endcode
/// 2. for a type you cannot change, a free function found by argument-dependent lookup:
/// \code
/// constexpr auto sluice_fields(sluice::type_tag<point>) {
///     return std::make_tuple(sluice::field("x", &point::x), sluice::field("y", &point::y));
/// }
/// \endcode
///
/// Consumers use `fields_of<T>()`, `field_count_v<T>`, `field_names<T>()` and
/// `for_each_field(obj, f)`.

#include <array>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace sluice {

/// One field of a record type: its external name and a pointer to the data member.
template <class C, class M>
struct field_ref {
    using class_type = C;
    using member_type = M;
    std::string_view name;
    M C::*member;

    /// The member of `obj` this field refers to.
    constexpr M& of(C& obj) const noexcept { return obj.*member; }
    constexpr const M& of(const C& obj) const noexcept { return obj.*member; }
};

/// `field("id", &order::id)`: names a data member for the record formats.
template <class C, class M>
constexpr field_ref<C, M> field(std::string_view name, M C::*member) noexcept {
    return {name, member};
}

/// A field keeps its name as a view, so the name must outlive it (a string literal): a
/// temporary std::string would dangle once the full expression ends. Rejected here.
template <class S, class C, class M>
    requires std::same_as<S, std::string>
field_ref<C, M> field(S&& name, M C::*member) {
    static_assert(sizeof(S) == 0,
                  "sluice::field: the name is kept as a view and must outlive the field list "
                  "(use a string literal); a temporary std::string would dangle");
    return {name, member};
}

/// The tag argument of the ADL form `sluice_fields(sluice::type_tag<T>)`.
template <class T>
struct type_tag {};

namespace detail {
template <class T>
concept has_static_fields_member = requires { T::sluice_fields; } &&
                                   !std::is_function_v<decltype(T::sluice_fields)>;
template <class T>
concept has_static_fields_function = requires { T::sluice_fields(); };
template <class T>
concept has_adl_fields = requires { sluice_fields(type_tag<T>{}); };
}  // namespace detail

/// Types that describe their fields (a `sluice_fields` member or an ADL `sluice_fields`).
template <class T>
concept has_fields = detail::has_static_fields_function<std::remove_cvref_t<T>> ||
                     detail::has_static_fields_member<std::remove_cvref_t<T>> ||
                     detail::has_adl_fields<std::remove_cvref_t<T>>;

/// The tuple of `field_ref`s of `T`, in declaration order.
template <has_fields T>
constexpr auto fields_of() {
    using U = std::remove_cvref_t<T>;
    if constexpr (detail::has_static_fields_function<U>)
        return U::sluice_fields();
    else if constexpr (detail::has_static_fields_member<U>)
        return U::sluice_fields;
    else
        return sluice_fields(type_tag<U>{});
}

/// The number of fields of `T`.
template <has_fields T>
inline constexpr std::size_t field_count_v = std::tuple_size_v<decltype(fields_of<T>())>;

/// The names of `T`'s fields, in order (e.g. a CSV header).
template <has_fields T>
constexpr std::array<std::string_view, field_count_v<T>> field_names() {
    return std::apply(
        [](const auto&... f) { return std::array<std::string_view, sizeof...(f)>{f.name...}; },
        fields_of<T>());
}

/// Calls `f(name, member)` for each field of `obj` in order; `member` is a reference with
/// `obj`'s constness. `f` may also take a third argument, the field's index as
/// `std::integral_constant<std::size_t, I>`.
template <class T, class F>
    requires has_fields<T>
constexpr void for_each_field(T&& obj, F&& f) {
    constexpr auto fs = fields_of<T>();
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        auto one = [&](auto index) {
            const auto& fr = std::get<decltype(index)::value>(fs);
            if constexpr (std::is_invocable_v<F&, std::string_view, decltype(obj.*(fr.member))&,
                                              decltype(index)>)
                f(fr.name, obj.*(fr.member), index);
            else
                f(fr.name, obj.*(fr.member));
        };
        (one(std::integral_constant<std::size_t, I>{}), ...);
    }(std::make_index_sequence<std::tuple_size_v<decltype(fs)>>{});
}

}  // namespace sluice
