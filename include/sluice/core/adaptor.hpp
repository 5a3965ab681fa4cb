#pragma once
/// \file
/// `adaptor<X_fn>`: the one way to define a pipeable stage. A stage's function object
/// derives from it and says only how to build the stage and what it requires:
///
///     struct map_fn : adaptor<map_fn> {
///         template <class Up, class Fn>
///         using rules = adaptor_rules<
///             rule<map_function<Fn, reference_t<Up>>, "sluice::map: the function must ...">>;
///         template <class Up, class Fn>
///         static auto make(Up up, Fn fn) { return detail::map_stage<Up, Fn>(...); }
///     };
///     inline constexpr map_fn map{};
///
/// The base supplies the rest, the same for every stage:
/// - the full call `map(source, fn)`: the source goes through `as_source`, the rules are
///   checked against the upstream's records, then `make` builds the stage;
/// - the partial call `map(fn)`: a closure (`make_closure`) that makes the full call once it
///   is applied to a source, so `src | map(fn)` and `map(fn) | filter(p)` work;
/// - the constraint that tells the two apart (the first argument is a pipeable input or not,
///   and `make` takes the arguments);
/// - a readable failure: the first rule that does not hold stops the build with its text in
///   the first line of the diagnostic, and nothing else is instantiated after it.
///
/// GCC prints a rule's text as a string literal with `'` escaped, so rule texts avoid
/// apostrophes where they can.
///
/// `adaptor<X_fn, Options>` also accepts a braced options argument (`lines({.keep_cr =
/// true})`, `encode(e, {.chunk_size = 4096})`), which a forwarding call cannot deduce.

#include <concepts>
#include <cstddef>
#include <functional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "closure.hpp"

namespace sluice {

/// A string usable as a template argument: the text of an adaptor rule.
template <std::size_t N>
struct fixed_string {
    char text[N];
    consteval fixed_string(const char (&s)[N]) {
        for (std::size_t i = 0; i < N; ++i) text[i] = s[i];
    }
};

/// One requirement of a stage: `Ok` must hold, else the build fails saying `Why`.
template <bool Ok, fixed_string Why>
struct rule {};

/// The requirements of a stage, checked in order.
template <class... Rules>
struct adaptor_rules {};

/// Instantiated only for a rule that failed: its text is the type's template argument, so
/// GCC and Clang print it on the first line ("In instantiation of ... requirement<false,
/// {"sluice::map: the function must ..."}>").
template <bool Ok, fixed_string Why>
struct requirement {
    static_assert(Ok, "sluice: a stage cannot take this argument or this upstream; the "
                      "requirement it breaks is quoted in the instantiation above");
    static constexpr bool value = Ok;
};

namespace detail {

/// True when every rule holds; instantiates `requirement` (a static_assert) for the first
/// one that does not.
constexpr bool enforce(adaptor_rules<>) { return true; }
template <bool Ok, fixed_string Why, class... Rest>
constexpr bool enforce(adaptor_rules<rule<Ok, Why>, Rest...>) {
    if constexpr (!Ok)
        return requirement<Ok, Why>::value;
    else
        return enforce(adaptor_rules<Rest...>{});
}

/// The rules `Def` states for an upstream `Up` and arguments `A...`. A rule that cannot
/// even be formed is a hard error there, never a silently dropped rule.
template <class Def, class Up, class... A>
constexpr bool stage_rules_hold() {
    return enforce(typename Def::template rules<Up, A...>{});
}

/// The rules `Def` states for the arguments of a partial call (e.g. "a callable object").
template <class Def, class... A>
constexpr bool argument_rules_hold() {
    return enforce(typename Def::template argument_rules<A...>{});
}

template <class... A>
struct first_arg {
    using type = void;
};
template <class A0, class... A>
struct first_arg<A0, A...> {
    using type = A0;
};

/// A string given first to a stage that declares `names_first = true` (it takes a name
/// there, e.g. `auto_decompress("data.csv.gz")`) is that name, never a source of chars.
template <class Def, class A>
concept names_first = requires {
    requires Def::names_first;
} && std::convertible_to<A, std::string_view>;

/// The partial call applies when the first argument is not itself a source, or is the
/// stage's options or its name (a name is a string, and a string is a range).
template <class Def, class Options, class... A>
concept partial_arguments = sizeof...(A) == 0 ||
                            !pipeable_input<typename first_arg<A...>::type> ||
                            std::convertible_to<typename first_arg<A...>::type, Options> ||
                            names_first<Def, typename first_arg<A...>::type>;

/// `make` builds a stage from `Up` and `A...` (the constraint of the full call).
template <class Def, class S, class... A>
concept makes_stage = pipeable_input<S> && !names_first<Def, S> && requires(S&& s, A&&... a) {
    Def::make(as_source(std::forward<S>(s)), std::forward<A>(a)...);
};

}  // namespace detail

/// `F` called with `X` returns a value (not void); false, not an error, when it cannot be
/// called at all.
template <class F, class X>
concept returns_value = std::invocable<F, X> && !std::is_void_v<std::invoke_result_t<F, X>>;

/// A callable object: what `filter`, `map`, `tap`, ... take (not a value or a string).
template <class F>
concept callable_object =
    std::is_class_v<std::decay_t<F>> || std::is_pointer_v<std::decay_t<F>> ||
    std::is_member_pointer_v<std::decay_t<F>>;

namespace detail {

/// The full and partial calls, shared by both forms of `adaptor`.
template <class Def, class Options>
struct adaptor_calls {
    /// The stage's options type (void: none), which may be given as a braced list.
    using options_type = Options;

    /// No rules unless the stage states some (its own `rules` / `argument_rules` hide
    /// these). Rules take the upstream and the decayed arguments; end their parameter list
    /// with a pack (`class... O`) so that optional arguments fit.
    template <class Up, class... A>
    using rules = adaptor_rules<>;
    template <class... A>
    using argument_rules = adaptor_rules<>;

    /// The full call: `stage(source, args...)`.
    template <class S, class... A>
        requires makes_stage<Def, S, A...>
    auto operator()(S&& s, A&&... a) const {
        auto up = as_source(std::forward<S>(s));
        using Up = decltype(up);
        if constexpr (stage_rules_hold<Def, Up, std::decay_t<A>...>())
            return Def::make(std::move(up), std::forward<A>(a)...);
    }

    /// The partial call: `stage(args...)`, a closure to pipe a source into.
    template <class... A>
        requires partial_arguments<Def, Options, A...>
    auto operator()(A&&... a) const {
        return partial(std::forward<A>(a)...);
    }

protected:
    template <class... A>
    static auto partial(A&&... a) {
        if constexpr (argument_rules_hold<Def, std::decay_t<A>...>())
            return make_closure<Def>(capture(std::forward<A>(a))...);
    }

    /// How a closure keeps an argument: a copy (decayed), unless `Def::capture(a)` says
    /// otherwise (e.g. the address of a controller that must outlive the pipeline).
    template <class A>
    static decltype(auto) capture(A&& a) {
        if constexpr (requires { Def::capture(std::forward<A>(a)); })
            return Def::capture(std::forward<A>(a));
        else
            return std::forward<A>(a);
    }
};

}  // namespace detail

/// The base of every stage function object `Def` (see the file comment).
template <class Def, class Options = void>
struct adaptor : detail::adaptor_calls<Def, Options> {};

/// `adaptor<Def, Options>`: as `adaptor<Def>`, and the options may be a braced list, after
/// at most one leading argument: `stage({...})`, `stage(x, {...})`, `stage(x, {...}, more...)`.
template <class Def, class Options>
    requires(!std::is_void_v<Options>)
struct adaptor<Def, Options> : detail::adaptor_calls<Def, Options> {
    using calls = detail::adaptor_calls<Def, Options>;
    using calls::operator();

    auto operator()(Options o) const { return calls::partial(std::move(o)); }
    template <class L, class... T>
        requires detail::partial_arguments<Def, Options, L>
    auto operator()(L&& lead, Options o, T&&... rest) const {
        return calls::partial(std::forward<L>(lead), std::move(o), std::forward<T>(rest)...);
    }
    template <class S>
        requires detail::makes_stage<Def, S, Options>
    auto operator()(S&& s, Options o) const {
        return calls::operator()(std::forward<S>(s), std::move(o));
    }
    template <class S, class L, class... T>
        requires detail::makes_stage<Def, S, L, Options, T...>
    auto operator()(S&& s, L&& lead, Options o, T&&... rest) const {
        return calls::operator()(std::forward<S>(s), std::forward<L>(lead), std::move(o),
                                 std::forward<T>(rest)...);
    }
};

}  // namespace sluice
