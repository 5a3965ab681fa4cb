#pragma once
/// \file
/// `to_owned(x)`: an owning copy of a record that may be a view into a reused buffer.
/// Collecting sinks (`to_vector`, `batch`) store owned copies, so nothing they keep dangles
/// when the source refills its buffer.

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "chunk.hpp"

namespace sluice {

namespace detail {
template <class T>
concept has_member_to_owned = requires(const T& t) { t.to_owned(); };
}  // namespace detail

/// The owning form of a record: `x.to_owned()` when the type offers it, `std::string` for
/// a string_view, otherwise a plain copy (or move) of the value.
template <class T>
auto to_owned(T&& x) {
    using V = std::remove_cvref_t<T>;
    if constexpr (detail::has_member_to_owned<V>)
        return x.to_owned();
    else if constexpr (std::is_same_v<V, std::string_view>)
        return std::string(x);
    else
        return V(std::forward<T>(x));
}

/// The type `to_owned` produces for a record of type `T`.
template <class T>
using owned_t = decltype(sluice::to_owned(std::declval<T>()));

namespace detail {

/// A record type that owns its bytes and is meant to be handed on, not copied (a
/// `text_block`): it says so with a member `using moves_across = void;`.
template <class T>
concept moves_across = requires { typename T::moves_across; };

/// The owning form of a record about to be kept beyond the next pull or moved to another
/// thread: chunks (and records that say `moves_across`) are moved out (the producer
/// allocates afresh, as chunk.hpp allows), views become owning copies (`to_owned`), values
/// are copied or moved as they come.
template <class R, bool Moved = std::is_same_v<std::remove_cvref_t<R>, chunk> ||
                                moves_across<std::remove_cvref_t<R>>>
struct crossing {
    using type = owned_t<R>;
};
template <class R>
struct crossing<R, true> {
    using type = std::remove_cvref_t<R>;
};
template <class R>
using crossing_t = typename crossing<R>::type;

template <class R>
crossing_t<R> take_across(R&& r) {
    if constexpr (std::is_same_v<std::remove_cvref_t<R>, chunk>) {
        if constexpr (std::is_const_v<std::remove_reference_t<R>>)
            return r.clone();
        else
            return chunk(std::move(r));
    } else if constexpr (moves_across<std::remove_cvref_t<R>>) {
        static_assert(!std::is_const_v<std::remove_reference_t<R>>,
                      "a moves_across record must reach take_across as a non-const reference");
        return std::remove_cvref_t<R>(std::move(r));
    } else {
        return sluice::to_owned(std::forward<R>(r));
    }
}

}  // namespace detail

}  // namespace sluice
