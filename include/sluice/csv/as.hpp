#pragma once
/// \file
/// `csv::as<T>()`: turns CSV rows into records of a user type `T` that lists its fields
/// (see record/fields.hpp). `csv::read<T>()` is `csv::read() | csv::as<T>()`.
/// \code
/// struct order {
///     std::int64_t id;
///     std::string customer;
///     std::optional<double> total;
///     static constexpr auto sluice_fields = std::make_tuple(
///         sluice::field("id", &order::id), sluice::field("customer", &order::customer),
///         sluice::field("total", &order::total));
/// };
/// for (order& o : sluice::read_file("orders.csv") | sluice::csv::read<order>()) ...
/// \endcode
/// Columns are matched by header name (extra columns are ignored; a missing one is
/// `errc::bad_input`), or by position when the reader has no header. Values convert with
/// `sluice::from_text` (std::from_chars; an empty field makes an std::optional empty); a
/// field that does not convert is `errc::bad_input` naming the column and the line.
/// The stage yields `T&` to one object it reuses (string members keep their capacity),
/// valid until the next pull; copy or move from it to keep a record.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../core/adaptor.hpp"
#include "../core/error.hpp"
#include "../core/stage.hpp"
#include "../record/convert.hpp"
#include "../record/fields.hpp"
#include "row.hpp"

namespace sluice::csv {

namespace detail {

template <class Up, class T>
class as_stage : public stage_base<as_stage<Up, T>, Up> {
    using base = stage_base<as_stage<Up, T>, Up>;
    static constexpr std::size_t n_fields = field_count_v<T>;

public:
    using reference = T&;

    explicit as_stage(Up up) : base(std::move(up)) {}

    maybe<T&> next() {
        auto r = this->up_.next();
        if (!r) return {};
        fill(*r);
        return obj_;
    }

    template <class F>
    bool for_each_while(F&& f) {
        return this->up_.for_each_while([&](const auto& r) -> bool {
            fill(r);
            return f(obj_);
        });
    }

private:
    template <class R>
    void fill(const R& r) {
        if (!mapped_) map_columns(r);
        for_each_field(obj_, [&](std::string_view, auto& member, auto index) {
            using M = std::remove_cvref_t<decltype(member)>;
            const std::size_t c = cols_[decltype(index)::value];
            if (c >= r.size())
                throw error(errc::bad_input, "csv",
                            "record has no column " + std::to_string(c + 1), r.where(c));
            if (!sluice::from_text(r[c], member)) [[unlikely]]
                throw r.conversion_error(c, type_name_for_text<M>());
        });
    }

    /// Resolves each field's column once, from the first row's header.
    template <class R>
    void map_columns(const R& r) {
        const csv::header& h = r.header();
        constexpr auto names = field_names<T>();
        for (std::size_t i = 0; i < n_fields; ++i) {
            if (h.empty()) {
                cols_[i] = i;
                continue;
            }
            cols_[i] = h.index_of(names[i]);
            if (cols_[i] == header::npos) {
                position p;
                p.line = 1;
                throw error(errc::bad_input, "csv",
                            "the header has no column '" + std::string(names[i]) + "'", p);
            }
        }
        mapped_ = true;
    }

    T obj_{};
    std::array<std::size_t, n_fields> cols_{};
    bool mapped_ = false;
};

/// What `as` needs of its upstream's records: CSV rows (a header, positions, fields).
template <class R>
concept csv_rows = requires(const R& r) {
    r.header();
    r.where(0);
    r[std::size_t{0}];
};

/// The function object behind `csv::as<T>`.
template <class T>
struct as_fn : adaptor<as_fn<T>> {
    static_assert(has_fields<T>,
                  "sluice::csv::as<T>: T must list its fields (a static sluice_fields member or "
                  "an ADL sluice_fields(sluice::type_tag<T>); see sluice/record/fields.hpp)");

    template <class Up, class... O>
    using rules = adaptor_rules<rule<csv_rows<value_t<Up>>,
                                     "sluice::csv::as<T>: the upstream must yield CSV rows (pipe "
                                     "csv::read() into it)">>;
    template <class Up>
    static auto make(Up up) {
        return as_stage<Up, T>(std::move(up));
    }
};

}  // namespace detail

/// `rows | csv::as<T>()` yields `T&` per row (see the file comment).
template <class T>
inline constexpr detail::as_fn<T> as{};

}  // namespace sluice::csv
