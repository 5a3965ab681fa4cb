#pragma once
/// \file
/// `validate(rules...)` / `validate(policy, rules...)`: passes on the records that satisfy
/// every rule; a record that breaks one becomes a poison record (an `errc::bad_input` error,
/// stage "validate", whose message is the reason, e.g. `email: does not match /.+@.+/`, at
/// the record's 0-based index) handled by the error policy (default `on_error::fail`).
///
/// Rules (namespace `sluice::rules`) look at a field through a *projection*: a pointer to a
/// data member, `rules::column("email")` (a CSV row's field by header name, or
/// `column(2)` by 0-based index), or any callable taking the record
/// (`[](auto& row) { return row[2]; }`). The `name` labels the field in reasons; with a
/// column projection the column's name is the label and may be left out. Missing values
/// (an empty optional, a null pointer, a column the record lacks) pass every rule but
/// `required`. Rules are checked in order; the first failure is the reason.
///
///     records | sluice::validate(sluice::on_error::skip,
///                                sluice::rules::required("id", &user::id),
///                                sluice::rules::max_len("name", &user::name, 64),
///                                sluice::rules::matches("email", &user::email, ".+@.+"),
///                                sluice::rules::in_range("age", &user::age, 0, 150),
///                                sluice::rules::check("adult", [](const user& u) { ... }))
///
///     rows | sluice::validate(policy, rules::required(rules::column("id")),
///                             rules::integer(rules::column("id")),
///                             rules::decimal(rules::column("amount"), 10, 2),
///                             rules::at_least(rules::column("qty"), 1),
///                             rules::contains(rules::column("email"), "@"))
///
/// Numbers in text fields: `in_range`, `at_least` and `at_most` parse the text as a number
/// (surrounding spaces and a leading `+` allowed); `integer` wants an optional sign and
/// digits that fit in 64 bits; `decimal(p, s)` a plain decimal (`-12.50`, no exponent) with at
/// most `p` digits, `s` of them after the point, as SQL's NUMERIC(p, s) stores without
/// rounding. On arithmetic fields `integer` accepts whole values and `decimal` checks the
/// shortest text of the value.

#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../core/adaptor.hpp"
#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../core/stage.hpp"
#include "../core/type_traits.hpp"
#include "../policy/error_policy.hpp"

namespace sluice {

namespace rules {

namespace detail {

/// Calls `f(value)` with the projected value, looking through std::optional and pointers;
/// a missing value calls nothing and returns true (only `required` cares about presence).
template <class V, class F>
bool with_present(const V& v, F&& f) {
    if constexpr (is_optional_v<V>) {
        return !v.has_value() || with_present(*v, f);
    } else if constexpr (std::is_pointer_v<V>) {
        return v == nullptr || with_present(*v, f);
    } else {
        return f(v);
    }
}

template <class V>
bool is_missing(const V& v) {
    if constexpr (is_optional_v<V>)
        return !v.has_value() || is_missing(*v);
    else if constexpr (std::is_pointer_v<V>)
        return v == nullptr;
    else if constexpr (byte_like<V>)
        return bytes_of(v).empty();
    else if constexpr (requires { v.empty(); })
        return v.empty();
    else
        return false;
}

/// `s` without surrounding spaces.
inline std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

/// Parses a number from text for `in_range` on text fields (CSV cells, JSON strings).
inline std::optional<double> parse_number(std::string_view s) {
    s = trim(s);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return d;
}

template <class N>
std::string number_text(N n) {
    if constexpr (std::is_floating_point_v<N>) {
        char buf[64];
        auto [p, ec] = std::to_chars(buf, buf + sizeof buf, n);
        (void)ec;
        return std::string(buf, p);
    } else {
        return std::to_string(n);
    }
}

}  // namespace detail

/// `column(name)` / `column(i)`: the projection to one field of a CSV row (anything with
/// `header_ptr()`, `size()` and `field(i)`, like `csv::row` and `csv::owned_row`) by header
/// name or 0-based index. A record without that field yields a missing value (only
/// `required` fails on it); a header without the named column is a usage error.
struct column {
    explicit column(std::string name) : name_(std::move(name)) {}
    explicit column(const char* name) : name_(name) {}
    explicit column(std::size_t index) : index_(index), name_("column " + std::to_string(index + 1)) {}

    /// The label reasons use: the column's name, or "column N" (1-based) for an index.
    const std::string& label() const noexcept { return name_; }

    template <class Row>
        requires requires(const Row& r, std::size_t i) {
            { r.size() } -> std::convertible_to<std::size_t>;
            { r.field(i) } -> std::convertible_to<std::string_view>;
            r.header_ptr();
        }
    std::optional<std::string_view> operator()(const Row& r) const {
        std::size_t i = index_;
        if (i == npos) {
            const auto* h = r.header_ptr();
            if (h) i = h->index_of(name_);
            if (!h || i == npos)
                throw error(errc::usage, "validate",
                            h ? "no column named '" + name_ + "' in the header"
                              : "no header: cannot look up column '" + name_ + "'");
        }
        if (i >= static_cast<std::size_t>(r.size())) return std::nullopt;
        return std::string_view(r.field(i));
    }

private:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    std::size_t index_ = npos;
    std::string name_;
};

/// `required(name, proj)`: the field is present and not empty (non-empty text, engaged
/// optional holding a non-empty value, non-null pointer, non-empty container, a column the
/// record has and that is not empty).
template <class Proj>
struct required_rule {
    std::string name;
    Proj proj;
    template <class R>
    bool check(const R& r, std::string& why) const {
        if (!detail::is_missing(std::invoke(proj, r))) return true;
        why = name + ": required";
        return false;
    }
};

/// `max_len(name, proj, n)`: the field's text has at most `n` bytes.
template <class Proj>
struct max_len_rule {
    std::string name;
    Proj proj;
    std::size_t max;
    template <class R>
    bool check(const R& r, std::string& why) const {
        return detail::with_present(std::invoke(proj, r), [&](const auto& v) {
            const std::size_t n = bytes_of(v).size();
            if (n <= max) return true;
            why = name + ": longer than " + std::to_string(max) + " bytes (" +
                  std::to_string(n) + ")";
            return false;
        });
    }
};

/// `matches(name, proj, pattern)`: the whole field matches the ECMAScript regex `pattern`.
template <class Proj>
struct matches_rule {
    std::string name;
    Proj proj;
    std::string pattern;
    // Compiled once and shared by copies; std::regex matching is const and thread-safe.
    std::shared_ptr<const std::regex> re;
    template <class R>
    bool check(const R& r, std::string& why) const {
        return detail::with_present(std::invoke(proj, r), [&](const auto& v) {
            const std::string_view s = bytes_of(v);
            if (std::regex_match(s.begin(), s.end(), *re)) return true;
            why = name + ": does not match /" + pattern + "/";
            return false;
        });
    }
};

/// `in_range(name, proj, lo, hi)`: lo <= field <= hi; text fields are parsed as numbers.
/// NaN and the infinities fail (NaN compares false with everything, so a plain
/// `!(x < lo) && !(hi < x)` would let it through); `.allow_non_finite()` lets NaN pass and
/// compares the infinities with the bounds.
template <class Proj, class N>
struct in_range_rule {
    /// Which bounds are checked: both (`in_range`), only `lo` (`at_least`), only `hi`
    /// (`at_most`).
    enum class sides : std::uint8_t { both, lower, upper };

    std::string name;
    Proj proj;
    N lo, hi;
    bool non_finite_allowed = false;
    sides side = sides::both;

    /// This rule, accepting NaN and checking +-infinity against the bounds (so an infinite
    /// bound admits it) instead of rejecting every value that is not finite.
    in_range_rule allow_non_finite() const& {
        in_range_rule r = *this;
        r.non_finite_allowed = true;
        return r;
    }
    in_range_rule allow_non_finite() && {
        non_finite_allowed = true;
        return std::move(*this);
    }

    template <class R>
    bool check(const R& r, std::string& why) const {
        return detail::with_present(std::invoke(proj, r), [&](const auto& v) {
            using V = std::remove_cvref_t<decltype(v)>;
            std::string shown;
            bool ok;
            if constexpr (std::is_arithmetic_v<V>) {
                shown = detail::number_text(v);
                if constexpr (std::is_floating_point_v<V>) {
                    if (!std::isfinite(v)) return non_finite(v, shown, why);
                }
                ok = inside(v);
            } else {
                const std::string_view s = bytes_of(v);
                auto d = detail::parse_number(s);
                if (!d) {
                    why = name + ": not a number: \"" + std::string(s.substr(0, 64)) + "\"";
                    return false;
                }
                shown = std::string(s);
                if (!std::isfinite(*d)) return non_finite(*d, shown, why);
                ok = inside(*d);
            }
            if (ok) return true;
            why = name + ": " + shown + outside_text();
            return false;
        });
    }

private:
    template <class X>
    bool inside(X x) const {
        using C = std::common_type_t<X, N>;
        const bool above_lo = side == sides::upper || !(static_cast<C>(x) < static_cast<C>(lo));
        const bool below_hi = side == sides::lower || !(static_cast<C>(hi) < static_cast<C>(x));
        return above_lo && below_hi;
    }
    std::string outside_text() const {
        switch (side) {
            case sides::lower: return " is less than " + detail::number_text(lo);
            case sides::upper: return " is greater than " + detail::number_text(hi);
            case sides::both: break;
        }
        return " is outside [" + detail::number_text(lo) + ", " + detail::number_text(hi) + "]";
    }

    template <class F>
    bool non_finite(F x, const std::string& shown, std::string& why) const {
        if (non_finite_allowed) {
            if (std::isnan(x)) return true;
            // An infinity is inside only when the bound on its side is infinite too.
            if (inside(x)) return true;
            why = name + ": " + shown + outside_text();
            return false;
        }
        why = name + ": " + shown + " is not a finite number (NaN and infinities are outside "
              "every range unless the rule says .allow_non_finite())";
        return false;
    }
};

/// `integer(name, proj)`: the field is a whole number: text is an optional sign and digits
/// (surrounding spaces allowed) that fit in a 64-bit integer; an arithmetic value is whole.
template <class Proj>
struct integer_rule {
    std::string name;
    Proj proj;
    template <class R>
    bool check(const R& r, std::string& why) const {
        return detail::with_present(std::invoke(proj, r), [&](const auto& v) {
            using V = std::remove_cvref_t<decltype(v)>;
            if constexpr (std::is_integral_v<V>) {
                return true;
            } else if constexpr (std::is_floating_point_v<V>) {
                if (std::isfinite(v) && std::trunc(v) == v) return true;
                why = name + ": " + detail::number_text(v) + " is not an integer";
                return false;
            } else {
                const std::string_view s = bytes_of(v);
                std::string_view t = detail::trim(s);
                const bool neg = !t.empty() && t.front() == '-';
                if (!t.empty() && (t.front() == '+' || t.front() == '-')) t.remove_prefix(1);
                bool ok = !t.empty() && t.find_first_not_of("0123456789") == std::string_view::npos;
                if (ok) {
                    // Fits in 64 bits: signed, or unsigned for a positive value.
                    std::uint64_t u = 0;
                    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), u);
                    ok = ec == std::errc() &&
                         (neg ? u <= std::uint64_t{1} << 63 : true);
                    (void)p;
                }
                if (ok) return true;
                why = name + ": not an integer: \"" + std::string(s.substr(0, 64)) + "\"";
                return false;
            }
        });
    }
};

/// `decimal(name, proj, precision, scale)`: the field is a plain decimal number (optional
/// sign, digits, optionally a point and digits; no exponent) that NUMERIC(precision, scale)
/// holds without rounding: at most `precision - scale` digits before the point (leading
/// zeros do not count) and at most `scale` after it (as written: trailing zeros count).
template <class Proj>
struct decimal_rule {
    std::string name;
    Proj proj;
    unsigned precision, scale;
    template <class R>
    bool check(const R& r, std::string& why) const {
        return detail::with_present(std::invoke(proj, r), [&](const auto& v) {
            using V = std::remove_cvref_t<decltype(v)>;
            if constexpr (std::is_arithmetic_v<V>) {
                if constexpr (std::is_floating_point_v<V>) {
                    if (!std::isfinite(v)) {
                        why = name + ": " + detail::number_text(v) + " is not a finite number";
                        return false;
                    }
                }
                return check_text(detail::number_text(v), why);
            } else {
                return check_text(bytes_of(v), why);
            }
        });
    }

private:
    bool check_text(std::string_view s, std::string& why) const {
        std::string_view t = detail::trim(s);
        if (!t.empty() && (t.front() == '+' || t.front() == '-')) t.remove_prefix(1);
        const std::size_t dot = t.find('.');
        std::string_view whole = t.substr(0, dot);
        std::string_view frac = dot == std::string_view::npos ? std::string_view{} : t.substr(dot + 1);
        auto digits = [](std::string_view d) {
            return d.find_first_not_of("0123456789") == std::string_view::npos;
        };
        if (whole.empty() && frac.empty()) return fail_not_decimal(s, why);
        if (!digits(whole) || !digits(frac) || (dot != std::string_view::npos && frac.empty() && whole.empty()))
            return fail_not_decimal(s, why);
        while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
        if (whole == "0") whole = {};
        const std::string shown(s.substr(0, 64));
        if (frac.size() > scale) {
            why = name + ": " + shown + " has " + std::to_string(frac.size()) +
                  " digits after the point (at most " + std::to_string(scale) + ")";
            return false;
        }
        if (whole.size() > precision - scale) {
            why = name + ": " + shown + " has " + std::to_string(whole.size()) +
                  " digits before the point (at most " + std::to_string(precision - scale) + ")";
            return false;
        }
        return true;
    }
    bool fail_not_decimal(std::string_view s, std::string& why) const {
        why = name + ": not a decimal number: \"" + std::string(s.substr(0, 64)) + "\"";
        return false;
    }
};

/// `contains(name, proj, needle)`: the field's text contains `needle`.
template <class Proj>
struct contains_rule {
    std::string name;
    Proj proj;
    std::string needle;
    template <class R>
    bool check(const R& r, std::string& why) const {
        return detail::with_present(std::invoke(proj, r), [&](const auto& v) {
            if (bytes_of(v).find(needle) != std::string_view::npos) return true;
            why = name + ": does not contain \"" + needle + "\"";
            return false;
        });
    }
};

/// `check(reason, pred)`: a user predicate on the whole record; `reason` when it is false.
template <class Pred>
struct check_rule {
    std::string reason;
    Pred pred;
    template <class R>
    bool check(const R& r, std::string& why) const {
        if (std::invoke(pred, r)) return true;
        why = reason;
        return false;
    }
};

/// The field is present and not empty.
template <class Proj>
auto required(std::string name, Proj proj) {
    return required_rule<Proj>{std::move(name), std::move(proj)};
}
/// The field's text is at most `n` bytes long.
template <class Proj>
auto max_len(std::string name, Proj proj, std::size_t n) {
    return max_len_rule<Proj>{std::move(name), std::move(proj), n};
}
/// The whole field matches `pattern` (ECMAScript syntax; compiled here, once).
/// Throws `errc::usage` for an invalid pattern.
template <class Proj>
auto matches(std::string name, Proj proj, std::string pattern) {
    std::shared_ptr<const std::regex> re;
    try {
        re = std::make_shared<const std::regex>(pattern);
    } catch (const std::regex_error& e) {
        throw error(errc::usage, "validate", name + ": invalid pattern /" + pattern + "/: " +
                                                 e.what());
    }
    return matches_rule<Proj>{std::move(name), std::move(proj), std::move(pattern),
                              std::move(re)};
}
/// lo <= field <= hi (text is parsed as a number; non-numbers fail; NaN and infinities
/// fail unless `.allow_non_finite()`).
template <class Proj, class N>
    requires std::is_arithmetic_v<N>
auto in_range(std::string name, Proj proj, N lo, N hi) {
    return in_range_rule<Proj, N>{std::move(name), std::move(proj), lo, hi};
}
/// At least `lo` (text is parsed as a number, as for `in_range`).
template <class Proj, class N>
    requires std::is_arithmetic_v<N>
auto at_least(std::string name, Proj proj, N lo) {
    in_range_rule<Proj, N> r{std::move(name), std::move(proj), lo, lo};
    r.side = in_range_rule<Proj, N>::sides::lower;
    return r;
}
/// At most `hi` (text is parsed as a number, as for `in_range`).
template <class Proj, class N>
    requires std::is_arithmetic_v<N>
auto at_most(std::string name, Proj proj, N hi) {
    in_range_rule<Proj, N> r{std::move(name), std::move(proj), hi, hi};
    r.side = in_range_rule<Proj, N>::sides::upper;
    return r;
}
/// A whole number (see `integer_rule`).
template <class Proj>
auto integer(std::string name, Proj proj) {
    return integer_rule<Proj>{std::move(name), std::move(proj)};
}
/// A decimal with at most `precision` digits, `scale` after the point (see `decimal_rule`).
/// Throws `errc::usage` when `scale > precision` or `precision` is 0.
template <class Proj>
auto decimal(std::string name, Proj proj, unsigned precision, unsigned scale = 0) {
    if (precision == 0 || scale > precision)
        throw error(errc::usage, "validate",
                    name + ": decimal(" + std::to_string(precision) + ", " +
                        std::to_string(scale) + "): need 0 < precision and scale <= precision");
    return decimal_rule<Proj>{std::move(name), std::move(proj), precision, scale};
}
/// The field's text contains `needle`.
template <class Proj>
auto contains(std::string name, Proj proj, std::string needle) {
    return contains_rule<Proj>{std::move(name), std::move(proj), std::move(needle)};
}

// The same rules on a column, labelled with the column's name.
inline auto required(column c) {
    std::string n = c.label();
    return required(std::move(n), std::move(c));
}
inline auto max_len(column c, std::size_t n) {
    std::string l = c.label();
    return max_len(std::move(l), std::move(c), n);
}
inline auto matches(column c, std::string pattern) {
    std::string l = c.label();
    return matches(std::move(l), std::move(c), std::move(pattern));
}
template <class N>
    requires std::is_arithmetic_v<N>
auto in_range(column c, N lo, N hi) {
    std::string l = c.label();
    return in_range(std::move(l), std::move(c), lo, hi);
}
template <class N>
    requires std::is_arithmetic_v<N>
auto at_least(column c, N lo) {
    std::string l = c.label();
    return at_least(std::move(l), std::move(c), lo);
}
template <class N>
    requires std::is_arithmetic_v<N>
auto at_most(column c, N hi) {
    std::string l = c.label();
    return at_most(std::move(l), std::move(c), hi);
}
inline auto integer(column c) {
    std::string l = c.label();
    return integer(std::move(l), std::move(c));
}
inline auto decimal(column c, unsigned precision, unsigned scale = 0) {
    std::string l = c.label();
    return decimal(std::move(l), std::move(c), precision, scale);
}
inline auto contains(column c, std::string needle) {
    std::string l = c.label();
    return contains(std::move(l), std::move(c), std::move(needle));
}

/// A user predicate on the record; `reason` names the failure.
template <class Pred>
auto check(std::string reason, Pred pred) {
    return check_rule<Pred>{std::move(reason), std::move(pred)};
}

/// The projection for records that are the value themselves (`lines() | validate(...)`).
inline constexpr std::identity self{};

}  // namespace rules

namespace detail {

template <class Up, class Action, class... Rules>
class validate_stage : public stage_base<validate_stage<Up, Action, Rules...>, Up> {
    using base = stage_base<validate_stage<Up, Action, Rules...>, Up>;

public:
    using reference = reference_t<Up>;

    validate_stage(Up up, error_policy<Action> p, std::tuple<Rules...> rules)
        : base(std::move(up)), rej_(std::move(p), "validate"), rules_(std::move(rules)) {}

    void bind(run_context& ctx) {
        this->up_.bind(ctx);
        rej_.bind(ctx);
    }

    maybe<reference> next() {
        while (auto r = this->up_.next())
            if (admit(*r)) return r;
        return {};
    }

    template <class F>
    bool for_each_while(F&& f) {
        return this->up_.for_each_while([&](auto&& x) -> bool {
            if (!admit(x)) return true;
            return f(SLUICE_FWD(x));
        });
    }

    /// Records rejected so far.
    std::uint64_t rejects() const noexcept { return rej_.rejects(); }

private:
    template <class X>
    bool admit(const X& x) {
        const std::uint64_t index = index_++;
        std::string why;
        const bool ok = std::apply(
            [&](const auto&... rule) { return (rule.check(x, why) && ...); }, rules_);
        if (ok) return true;
        position where;
        where.record = index;
        // Records that know their line (CSV rows, JSON records) name it: a dead letter's
        // position then points into the input.
        if constexpr (requires { { x.line() } -> std::convertible_to<std::uint64_t>; })
            where.line = x.line();
        rej_.reject(x, error(errc::bad_input, "validate", std::move(why), where));
        return false;
    }

    rejecter<Action> rej_;
    std::tuple<Rules...> rules_;
    std::uint64_t index_ = 0;
};

}  // namespace detail

/// `validate(rules...)` (failures fail the run) or `validate(policy, rules...)`.
struct validate_fn : adaptor<validate_fn> {
    template <class Up, class A, class... Rules>
    static auto make(Up up, error_policy<A> p, Rules... rules) {
        return detail::validate_stage<Up, A, Rules...>(std::move(up), std::move(p),
                                                       std::tuple<Rules...>(std::move(rules)...));
    }
    template <class Up, class... Rules>
        requires(!error_policy_like<Rules> && ...)
    static auto make(Up up, Rules... rules) {
        return make(std::move(up), on_error::fail, std::move(rules)...);
    }
};
inline constexpr validate_fn validate{};

}  // namespace sluice
