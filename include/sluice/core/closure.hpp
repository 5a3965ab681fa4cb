#pragma once
/// \file
/// The one pipe mechanism. `source | closure` applies a stage, `closure | closure` composes
/// two stages into one closure, `source | sink` runs the pipeline there and then and returns
/// the sink's result, `closure | sink` is a sink that first applies the stages.
///
/// Anything iterable on the left (a container, a std::views or range-v3 view) is wrapped
/// with `from_range` first, so `v | sluice::filter(p) | sluice::count()` works as it reads.

#include <concepts>
#include <tuple>
#include <type_traits>
#include <utility>

#include "config.hpp"
#include "range_source.hpp"
#include "stage.hpp"

namespace sluice {

namespace detail {
struct closure_tag {};
struct terminal_tag {};
}  // namespace detail

/// Stage closures: the result of partially applying an adaptor, e.g. `filter(pred)`.
template <class T>
concept closure_like = std::derived_from<std::remove_cvref_t<T>, detail::closure_tag>;

/// Terminals: sinks and closures bound to a sink.
template <class T>
concept terminal_like = std::derived_from<std::remove_cvref_t<T>, detail::terminal_tag>;

/// What may stand left of `|`: a source, or any iterable range that is not a closure.
template <class T>
concept pipeable_input =
    !closure_like<T> && !terminal_like<T> &&
    (source<std::remove_cvref_t<T>> || detail::iterable<std::remove_reference_t<T>>);

/// The source a pipe uses for `x`: an rvalue source is moved in, an lvalue source is
/// referenced (it must outlive the pipeline), a range goes through `from_range`.
template <class T>
    requires pipeable_input<T>
auto as_source(T&& x) {
    using S = std::remove_cvref_t<T>;
    if constexpr (source<S>) {
        if constexpr (std::is_lvalue_reference_v<T>) {
            static_assert(!std::is_const_v<std::remove_reference_t<T>>,
                          "sluice: a const pipeline cannot be pulled; pipe a non-const one");
            return source_ref<S>(x);
        } else {
            return S(std::move(x));
        }
    } else {
        return from_range(std::forward<T>(x));
    }
}

/// A stage closure: holds a callable that turns a source into a stage.
template <class F>
class closure : public detail::closure_tag {
public:
    explicit closure(F f) : f_(std::move(f)) {}

    /// Applies the stage(s) to `src` (already a source).
    template <class S>
    auto apply(S&& src) const& {
        return f_(std::forward<S>(src));
    }
    template <class S>
    auto apply(S&& src) && {
        return std::move(f_)(std::forward<S>(src));
    }

private:
    F f_;
};

namespace detail {

/// Partial application: the adaptor function object `Fn` with all arguments but the source.
template <class Fn, class... Args>
class partial {
public:
    template <class... A>
    explicit partial(std::in_place_t, A&&... a) : args_(std::forward<A>(a)...) {}

    template <class S>
    auto operator()(S&& s) const& {
        return std::apply([&](const Args&... a) { return Fn{}(std::forward<S>(s), a...); },
                          args_);
    }
    template <class S>
    auto operator()(S&& s) && {
        return std::apply(
            [&](Args&... a) { return Fn{}(std::forward<S>(s), std::move(a)...); }, args_);
    }

private:
    std::tuple<Args...> args_;
};

/// Two closures applied one after the other.
template <class A, class B>
class composed {
public:
    composed(A a, B b) : a_(std::move(a)), b_(std::move(b)) {}
    template <class S>
    auto operator()(S&& s) const& {
        return b_.apply(a_.apply(std::forward<S>(s)));
    }
    template <class S>
    auto operator()(S&& s) && {
        return std::move(b_).apply(std::move(a_).apply(std::forward<S>(s)));
    }

private:
    A a_;
    B b_;
};

/// A closure bound to a sink: a terminal that applies the stages, then runs into the sink.
template <class C, class K>
class bound_terminal : public terminal_tag {
public:
    bound_terminal(C c, K k) : c_(std::move(c)), k_(std::move(k)) {}
    template <class S>
    decltype(auto) run_on(S&& src) && {
        return terminal_run(std::move(c_).apply(std::forward<S>(src)), std::move(k_));
    }
    /// A named terminal may be used for several runs: each run gets a fresh copy of the sink.
    template <class S>
    decltype(auto) run_on(S&& src) const& {
        return terminal_run(c_.apply(std::forward<S>(src)), K(k_));
    }

private:
    C c_;
    K k_;
};

/// Runs `src` into the terminal `k` (declared here, defined in run.hpp).
template <class S, class K>
decltype(auto) terminal_run(S&& src, K&& k);

}  // namespace detail

/// `make_closure<Fn>(args...)`: the partial call of an adaptor `Fn` - a closure that later
/// calls `Fn{}(source, args...)`.
template <class Fn, class... Args>
auto make_closure(Args&&... args) {
    using P = detail::partial<Fn, std::decay_t<Args>...>;
    return closure<P>(P(std::in_place, std::forward<Args>(args)...));
}

/// `source | closure`: applies the stage.
template <class S, class C>
    requires pipeable_input<S> && closure_like<C>
auto operator|(S&& s, C&& c) {
    return std::forward<C>(c).apply(as_source(std::forward<S>(s)));
}

/// `closure | closure`: a closure applying both, left first.
template <class A, class B>
    requires closure_like<A> && closure_like<B>
auto operator|(A&& a, B&& b) {
    using D = detail::composed<std::remove_cvref_t<A>, std::remove_cvref_t<B>>;
    return closure<D>(D(std::forward<A>(a), std::forward<B>(b)));
}

/// `closure | sink`: a sink that applies the closure to its source first.
template <class C, class K>
    requires closure_like<C> && terminal_like<K>
auto operator|(C&& c, K&& k) {
    return detail::bound_terminal<std::remove_cvref_t<C>, std::remove_cvref_t<K>>(
        std::forward<C>(c), std::forward<K>(k));
}

/// `source | sink`: runs the pipeline now and returns the sink's result.
template <class S, class K>
    requires pipeable_input<S> && terminal_like<K>
decltype(auto) operator|(S&& s, K&& k) {
    return detail::terminal_run(as_source(std::forward<S>(s)), std::forward<K>(k));
}

}  // namespace sluice
