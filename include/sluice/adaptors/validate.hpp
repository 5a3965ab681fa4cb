#pragma once
/// \file
/// `validate(rules...)` / `validate(policy, rules...)`: passes on the records that satisfy
/// every rule; a record that breaks one becomes a poison record (an `errc::bad_input` error,
/// stage "validate", whose message is the reason, e.g. `email: does not match /.+@.+/`, at
/// the record's 0-based index) handled by the error policy (default `on_error::fail`).
///
/// Rules (namespace `sluice::rules`) look at a field through a *projection*: a pointer to a
/// data member, or any callable taking the record (`[](auto& row) { return row[2]; }`). The
/// `name` labels the field in reasons. Missing optional values pass every rule but
/// `required`. Rules are checked in order; the first failure is the reason.
///
///     records | sluice::validate(sluice::on_error::skip,
///                                sluice::rules::required("id", &user::id),
///                                sluice::rules::max_len("name", &user::name, 64),
///                                sluice::rules::matches("email", &user::email, ".+@.+"),
///                                sluice::rules::in_range("age", &user::age, 0, 150),
///                                sluice::rules::check("adult", [](const user& u) { ... }))

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

#include "../core/chunk.hpp"
#include "../core/closure.hpp"
#include "../core/error.hpp"
#include "../core/stage.hpp"
#include "../policy/error_policy.hpp"

namespace sluice {

namespace rules {

namespace detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

/// Calls `f(value)` with the projected value, looking through std::optional and pointers;
/// a missing value calls nothing and returns true (only `required` cares about presence).
template <class V, class F>
bool with_present(const V& v, F&& f) {
    if constexpr (is_optional<V>::value) {
        return !v.has_value() || with_present(*v, f);
    } else if constexpr (std::is_pointer_v<V>) {
        return v == nullptr || with_present(*v, f);
    } else {
        return f(v);
    }
}

template <class V>
bool is_missing(const V& v) {
    if constexpr (is_optional<V>::value)
        return !v.has_value();
    else if constexpr (std::is_pointer_v<V>)
        return v == nullptr;
    else if constexpr (byte_like<V>)
        return bytes_of(v).empty();
    else if constexpr (requires { v.empty(); })
        return v.empty();
    else
        return false;
}

/// Parses a number from text for `in_range` on text fields (CSV cells, JSON strings).
inline std::optional<double> parse_number(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
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

/// `required(name, proj)`: the field is present and not empty (non-empty text, engaged
/// optional, non-null pointer, non-empty container).
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
    std::string name;
    Proj proj;
    N lo, hi;
    bool non_finite_allowed = false;

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
                ok = !(v < lo) && !(hi < v);
            } else {
                const std::string_view s = bytes_of(v);
                auto d = detail::parse_number(s);
                if (!d) {
                    why = name + ": not a number: \"" + std::string(s.substr(0, 64)) + "\"";
                    return false;
                }
                shown = std::string(s);
                if (!std::isfinite(*d)) return non_finite(*d, shown, why);
                ok = !(*d < static_cast<double>(lo)) && !(static_cast<double>(hi) < *d);
            }
            if (ok) return true;
            why = name + ": " + shown + " is outside [" + detail::number_text(lo) + ", " +
                  detail::number_text(hi) + "]";
            return false;
        });
    }

private:
    template <class F>
    bool non_finite(F x, const std::string& shown, std::string& why) const {
        if (non_finite_allowed) {
            if (std::isnan(x)) return true;
            // An infinity is inside only when the bound on its side is infinite too.
            if (!(x < lo) && !(hi < x)) return true;
            why = name + ": " + shown + " is outside [" + detail::number_text(lo) + ", " +
                  detail::number_text(hi) + "]";
            return false;
        }
        why = name + ": " + shown + " is not a finite number (NaN and infinities are outside "
              "every range unless the rule says .allow_non_finite())";
        return false;
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
        rej_.reject(x, error(errc::bad_input, "validate", std::move(why), where));
        return false;
    }

    rejecter<Action> rej_;
    std::tuple<Rules...> rules_;
    std::uint64_t index_ = 0;
};

template <class A, class... Rules>
struct validate_closure {
    error_policy<A> policy;
    std::tuple<Rules...> rules;
    template <class S>
    auto operator()(S&& s) const {
        auto up = as_source(std::forward<S>(s));
        return validate_stage<decltype(up), A, Rules...>(std::move(up), policy, rules);
    }
};

}  // namespace detail

/// `validate(rules...)` (failures fail the run) or `validate(policy, rules...)`.
struct validate_fn {
    template <class A, class... Rules>
    auto operator()(error_policy<A> p, Rules... rules) const {
        using C = detail::validate_closure<A, Rules...>;
        return closure<C>(C{std::move(p), std::tuple<Rules...>(std::move(rules)...)});
    }
    template <class... Rules>
        requires(!error_policy_like<Rules> && ...)
    auto operator()(Rules... rules) const {
        return (*this)(on_error::fail, std::move(rules)...);
    }
};
inline constexpr validate_fn validate{};

}  // namespace sluice
