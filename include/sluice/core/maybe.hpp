#pragma once
/// \file
/// `maybe<T>`: the result of one pull. Like std::optional, but it may hold a reference
/// (stored as a pointer), because most stages yield references into buffers they own.

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace sluice {

/// An optional record as returned by `next()`: empty means "exhausted".
template <class T>
class maybe {
public:
    using value_type = T;

    constexpr maybe() noexcept = default;
    constexpr maybe(std::nullopt_t) noexcept {}
    template <class U = T>
        requires std::constructible_from<T, U&&> &&
                 (!std::same_as<std::remove_cvref_t<U>, maybe>) &&
                 (!std::same_as<std::remove_cvref_t<U>, std::nullopt_t>)
    constexpr maybe(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>)
        : v_(std::in_place, std::forward<U>(v)) {}

    constexpr explicit operator bool() const noexcept { return v_.has_value(); }
    constexpr bool has_value() const noexcept { return v_.has_value(); }
    constexpr T& operator*() & noexcept { return *v_; }
    constexpr const T& operator*() const& noexcept { return *v_; }
    constexpr T&& operator*() && noexcept { return std::move(*v_); }
    constexpr T* operator->() noexcept { return std::addressof(*v_); }
    constexpr const T* operator->() const noexcept { return std::addressof(*v_); }
    template <class... A>
    constexpr T& emplace(A&&... a) {
        return v_.emplace(std::forward<A>(a)...);
    }
    constexpr void reset() noexcept { v_.reset(); }

private:
    std::optional<T> v_;
};

/// Reference specialisation: a nullable pointer, so pulling a reference never copies.
template <class T>
class maybe<T&> {
public:
    using value_type = T&;

    constexpr maybe() noexcept = default;
    constexpr maybe(std::nullopt_t) noexcept {}
    constexpr maybe(T& v) noexcept : p_(std::addressof(v)) {}

    constexpr explicit operator bool() const noexcept { return p_ != nullptr; }
    constexpr bool has_value() const noexcept { return p_ != nullptr; }
    constexpr T& operator*() const noexcept { return *p_; }
    constexpr T* operator->() const noexcept { return p_; }
    constexpr T& emplace(T& v) noexcept { p_ = std::addressof(v); return v; }
    constexpr void reset() noexcept { p_ = nullptr; }

private:
    T* p_ = nullptr;
};

/// An rvalue reference is yielded as an lvalue reference; the consumer may still move from it.
template <class T>
class maybe<T&&> : public maybe<T&> {
    using maybe<T&>::maybe;
};

}  // namespace sluice
