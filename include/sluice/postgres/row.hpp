#pragma once
/// \file
/// `pg::row`: a view of one result row (column names, type OIDs, text values, typed
/// `get<T>`), valid until the source's next pull, and `pg::owned_row`, its owning copy.

#include <libpq-fe.h>

#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/type_traits.hpp"

namespace sluice::pg {

/// A result column: its name, type OID (see pg_type) and type modifier.
struct column {
    std::string name;
    Oid type = 0;
    int type_mod = -1;
};

/// The columns of a result, shared by every row of it (and by owned copies of rows).
using column_list = std::vector<column>;

namespace detail {

/// Typed access shared by `row` and `owned_row` (CRTP): Derived provides `size()`,
/// `is_null(i)`, `value(i)` and `columns()`.
template <class Derived>
class row_access {
public:
    /// The name of column `i`.
    const std::string& name(int i) const { return self().columns()[static_cast<std::size_t>(i)].name; }
    /// The type OID of column `i`.
    Oid type(int i) const { return self().columns()[static_cast<std::size_t>(i)].type; }
    /// The index of the column named `name`; throws `usage` if there is none.
    int index_of(std::string_view name) const {
        const auto& cols = self().columns();
        for (std::size_t i = 0; i < cols.size(); ++i)
            if (cols[i].name == name) return static_cast<int>(i);
        throw sluice::error(errc::usage, "postgres",
                            "no column named '" + std::string(name) + "' in the result");
    }

    /// Column `i` converted from its text form: `std::string_view` (valid until the next
    /// pull), `std::string`, `bool`, an integer or floating-point type (NaN and
    /// +-Infinity included), or `std::optional<T>` of those, which is empty for NULL.
    /// Throws `bad_input` for NULL into a non-optional or a value that does not convert.
    template <class T>
    T get(int i) const {
        if constexpr (is_optional_v<T>) {
            if (self().is_null(i)) return std::nullopt;
            return get<typename T::value_type>(i);
        } else {
            if (self().is_null(i)) fail(i, "is NULL");
            std::string_view v = self().value(i);
            if constexpr (std::is_same_v<T, std::string_view>) {
                return v;
            } else if constexpr (std::is_same_v<T, std::string>) {
                return std::string(v);
            } else if constexpr (std::is_same_v<T, bool>) {
                if (v == "t" || v == "true") return true;
                if (v == "f" || v == "false") return false;
                fail(i, "is not a boolean: '" + std::string(v) + "'");
            } else if constexpr (std::is_integral_v<T>) {
                T out{};
                auto r = std::from_chars(v.data(), v.data() + v.size(), out);
                if (r.ec != std::errc() || r.ptr != v.data() + v.size())
                    fail(i, "does not fit the requested integer type: '" + std::string(v) + "'");
                return out;
            } else if constexpr (std::is_floating_point_v<T>) {
                // Postgres spells the specials NaN, Infinity, -Infinity.
                if (v == "NaN") return std::numeric_limits<T>::quiet_NaN();
                if (v == "Infinity") return std::numeric_limits<T>::infinity();
                if (v == "-Infinity") return -std::numeric_limits<T>::infinity();
                T out{};
                auto r = std::from_chars(v.data(), v.data() + v.size(), out);
                if (r.ec != std::errc() || r.ptr != v.data() + v.size())
                    fail(i, "is not a number: '" + std::string(v) + "'");
                return out;
            } else {
                static_assert(std::is_same_v<T, void>,
                              "pg::row::get<T>: T must be a string, string_view, bool, "
                              "arithmetic type or std::optional of one");
            }
        }
    }
    /// `get<T>` by column name.
    template <class T>
    T get(std::string_view name) const {
        return get<T>(index_of(name));
    }

private:
    const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
    [[noreturn]] void fail(int i, std::string what) const {
        position p;
        p.column = static_cast<std::uint64_t>(i) + 1;
        throw sluice::error(errc::bad_input, "postgres", "column '" + name(i) + "' " + what, p);
    }
};

}  // namespace detail

/// An owning copy of a row (`row::to_owned()`), for callers that keep rows.
class owned_row : public detail::row_access<owned_row> {
public:
    owned_row(std::shared_ptr<const column_list> cols, std::vector<std::optional<std::string>> v,
              std::uint64_t index)
        : cols_(std::move(cols)), values_(std::move(v)), index_(index) {}
    int size() const noexcept { return static_cast<int>(values_.size()); }
    bool is_null(int i) const noexcept { return !values_[static_cast<std::size_t>(i)]; }
    /// The text of column `i` ("" for NULL).
    std::string_view value(int i) const noexcept {
        const auto& v = values_[static_cast<std::size_t>(i)];
        return v ? std::string_view(*v) : std::string_view();
    }
    const column_list& columns() const noexcept { return *cols_; }
    const std::shared_ptr<const column_list>& shared_columns() const noexcept { return cols_; }
    /// 0-based index of the row in its result.
    std::uint64_t index() const noexcept { return index_; }

private:
    std::shared_ptr<const column_list> cols_;
    std::vector<std::optional<std::string>> values_;
    std::uint64_t index_;
};

/// One row of a result, in text format. A view: valid until the source's next pull
/// (`to_owned()` copies it).
class row : public detail::row_access<row> {
public:
    row() = default;
    row(const PGresult* res, int r, const std::shared_ptr<const column_list>* cols,
        std::uint64_t index) noexcept
        : res_(res), r_(r), cols_(cols), index_(index) {}

    /// Number of columns.
    int size() const noexcept { return static_cast<int>((*cols_)->size()); }
    /// True when column `i` is SQL NULL.
    bool is_null(int i) const noexcept { return PQgetisnull(res_, r_, i); }
    /// The text of column `i` as Postgres prints it ("" for NULL).
    std::string_view value(int i) const noexcept {
        return {PQgetvalue(res_, r_, i), static_cast<std::size_t>(PQgetlength(res_, r_, i))};
    }
    /// Same as `value(i)`.
    std::string_view operator[](int i) const noexcept { return value(i); }
    /// The result's columns (names, type OIDs).
    const column_list& columns() const noexcept { return **cols_; }
    /// The columns as a shared pointer: the same object for every row of one result, so
    /// encoders can cache per-column decisions keyed on it.
    const std::shared_ptr<const column_list>& shared_columns() const noexcept { return *cols_; }
    /// 0-based index of the row in its result.
    std::uint64_t index() const noexcept { return index_; }

    /// An owning copy.
    owned_row to_owned() const {
        std::vector<std::optional<std::string>> v;
        v.reserve(static_cast<std::size_t>(size()));
        for (int i = 0; i < size(); ++i) {
            if (is_null(i))
                v.emplace_back();
            else
                v.emplace_back(std::string(value(i)));
        }
        return owned_row(*cols_, std::move(v), index_);
    }

private:
    const PGresult* res_ = nullptr;
    int r_ = 0;
    const std::shared_ptr<const column_list>* cols_ = nullptr;
    std::uint64_t index_ = 0;
};

/// What `pg::json_encoder` and other row consumers accept: `row` and `owned_row`.
template <class R>
concept row_like = requires(const R& r, int i) {
    { r.size() } -> std::convertible_to<int>;
    { r.is_null(i) } -> std::convertible_to<bool>;
    { r.value(i) } -> std::convertible_to<std::string_view>;
    { r.shared_columns() } -> std::convertible_to<const std::shared_ptr<const column_list>&>;
};

}  // namespace sluice::pg
