#pragma once
/// \file
/// The source model. A *source* yields records one pull at a time (`next()`) and can also
/// push them into a callback (`for_each_while`), which is the path sinks drive so that a
/// whole pipeline compiles into one loop. A *stage* is a source that owns its upstream.
///
/// Every source and stage derives from `source_base`, which makes it a std::ranges input
/// view (begin()/end() over `next()`), so std::views and range-v3 can consume pipelines.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "config.hpp"
#include "context.hpp"
#include "maybe.hpp"

namespace sluice {

namespace detail {
/// Marks sluice sources; interop headers (range-v3) key their specialisations on it.
struct source_tag {};
}  // namespace detail

/// A source: names the type of one pull (`reference`), returns `maybe<reference>` from
/// `next()` (empty once exhausted) and accepts the run's context through `bind`.
template <class S>
concept source = std::move_constructible<S> && requires(S& s, run_context& ctx) {
    typename S::reference;
    { s.next() } -> std::same_as<maybe<typename S::reference>>;
    s.bind(ctx);
};

/// What one pull of `S` yields (often a reference or a view valid until the next pull).
template <class S>
using reference_t = typename std::remove_cvref_t<S>::reference;

/// The plain value type of `S`'s records.
template <class S>
using value_t = std::remove_cvref_t<reference_t<S>>;

/// A source that can start over: `s.rewind()` puts it back at its first record. Sources
/// over data that can be read again (`from_range` over a container or a forward view,
/// `iota`) have it, and so do the stages whose only state can be reset (filter, map, tap,
/// take) when their upstream has it. Every other source is single-pass.
template <class S>
concept rewindable = requires(S& s) { s.rewind(); };

namespace detail {

/// Hands a pulled record on with the category the source declared (a value is moved).
template <class R>
SLUICE_ALWAYS_INLINE decltype(auto) unwrap(maybe<R>& m) {
    if constexpr (std::is_lvalue_reference_v<R>)
        return *m;
    else if constexpr (std::is_rvalue_reference_v<R>)
        return static_cast<R>(*m);
    else
        return static_cast<R&&>(*m);
}

/// Lambdas are not assignable, so a stage that stores one directly would not be
/// `std::movable` and not a std::ranges::view. This box restores assignment by
/// re-constructing, as libstdc++'s own views do.
template <class F>
class movable_box {
public:
    template <class... A>
    explicit movable_box(std::in_place_t, A&&... a) : f_(std::in_place, std::forward<A>(a)...) {}
    movable_box(const movable_box&) = default;
    movable_box(movable_box&&) = default;
    movable_box& operator=(const movable_box& o) {
        if (this != &o) {
            f_.reset();
            if (o.f_) f_.emplace(*o.f_);
        }
        return *this;
    }
    movable_box& operator=(movable_box&& o) noexcept(std::is_nothrow_move_constructible_v<F>) {
        if (this != &o) {
            f_.reset();
            if (o.f_) f_.emplace(std::move(*o.f_));
        }
        return *this;
    }
    F& operator*() noexcept { return *f_; }
    const F& operator*() const noexcept { return *f_; }

private:
    std::optional<F> f_;
};

/// Assignable callables are stored as they are; the rest in a `movable_box`.
template <class F>
class callable_box {
public:
    template <class... A>
    explicit callable_box(std::in_place_t, A&&... a) : f_(std::forward<A>(a)...) {}
    F& operator*() noexcept { return f_; }
    const F& operator*() const noexcept { return f_; }

private:
    [[no_unique_address]] F f_;
};

template <class F>
using box_t = std::conditional_t<std::movable<F>, callable_box<F>, movable_box<F>>;

}  // namespace detail

/// The downstream callback of a stage's push loop, remembering whether it asked to stop.
/// A stage that pushes from inside its upstream's `for_each_while` must tell "my
/// downstream stopped me" (return false at once) from "my upstream ran dry" (flush what it
/// holds, then return true); call the downstream through this and ask `stopped()` after.
template <class F>
class downstream {
public:
    explicit downstream(F& f) noexcept : f_(f) {}

    /// Hands `x` on; false (and `stopped()` from now on) when the downstream asks to stop.
    template <class X>
    SLUICE_ALWAYS_INLINE bool operator()(X&& x) {
        if (f_(SLUICE_FWD(x))) [[likely]]
            return true;
        stopped_ = true;
        return false;
    }

    /// True once the downstream has asked to stop.
    bool stopped() const noexcept { return stopped_; }

private:
    F& f_;
    bool stopped_ = false;
};

/// Input iterator over a source's pulls; the sentinel is std::default_sentinel.
/// Dereferencing twice gives the same record; advancing pulls the next one.
template <class S>
class source_base;

template <class S>
class pull_iterator {
    using ref = reference_t<S>;

public:
    using value_type = value_t<S>;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::input_iterator_tag;
    using reference_type =
        std::conditional_t<std::is_reference_v<ref>, ref, std::add_lvalue_reference_t<ref>>;

    pull_iterator() = default;
    explicit pull_iterator(S* s) : s_(s) { pull(); }

    reference_type operator*() const noexcept {
        if constexpr (std::is_rvalue_reference_v<ref>)
            return static_cast<ref>(*cur_);
        else
            return *cur_;
    }
    pull_iterator& operator++() {
        pull();
        return *this;
    }
    void operator++(int) { pull(); }
    friend bool operator==(const pull_iterator& it, std::default_sentinel_t) noexcept {
        return !it.cur_.has_value();
    }

private:
    void pull() {
        cur_.reset();
        if (auto r = s_->next()) {
            if constexpr (std::is_reference_v<ref>)
                cur_.emplace(*r);
            else
                cur_.emplace(std::move(*r));
        } else {
            static_cast<source_base<S>*>(s_)->pass_ = source_base<S>::pass_state::exhausted;
        }
    }

    S* s_ = nullptr;
    mutable maybe<ref> cur_;
};

template <source S>
class source_ref;

/// Base of every source (CRTP). Provides the range interface over `next()` and, for
/// sources that do not write their own, a push loop over `next()`.
///
/// It also decides what a second pass does (a second `begin()`, or another run of an lvalue
/// pipeline into a sink or into more stages). After a pass that stopped early, the next
/// one resumes where it stopped, as with any input range. After a pass that read the
/// pipeline to its end, a `rewindable` pipeline starts over; any other (it reads a file, a
/// socket, a database) throws `errc::usage`: never a silently empty second pass.
template <class Derived>
class source_base : public std::ranges::view_base, public detail::source_tag {
public:
    /// Pushes records into `f` until `f` returns false (then returns false) or the source
    /// is exhausted (then returns true). Stages override this with a fused loop.
    template <class F>
    bool for_each_while(F&& f) {
        auto& self = static_cast<Derived&>(*this);
        while (auto r = self.next())
            if (!f(detail::unwrap(r))) return false;
        return true;
    }

    /// Starts pulling: the first record is read here. Called again after the end, it starts
    /// over when the pipeline is `rewindable` and throws when it is single-pass.
    auto begin() {
        start_pass();
        return pull_iterator<Derived>(static_cast<Derived*>(this));
    }
    std::default_sentinel_t end() const noexcept { return {}; }

private:
    template <class>
    friend class pull_iterator;
    template <source>
    friend class source_ref;

    enum class pass_state : std::uint8_t { fresh, started, exhausted };

    /// The entry of a pass from outside the pipeline (begin(), or a source_ref's first pull).
    void start_pass() {
        if (pass_ != pass_state::exhausted) {
            pass_ = pass_state::started;  // a first pass, or resuming one that stopped early
            return;
        }
        if constexpr (rewindable<Derived>) {
            static_cast<Derived&>(*this).rewind();
            pass_ = pass_state::started;
        } else {
            throw error(errc::usage, "pipeline",
                        "this pipeline was already read to its end and its source cannot be "
                        "read again (a file, a stream, a database, a single-pass view): build "
                        "the pipeline again for a second pass, or collect the records first "
                        "(sluice::to_vector)");
        }
    }

    pass_state pass_ = pass_state::fresh;
};

/// Base of sources that have no upstream: keeps the run's stop token for them to check.
template <class Derived>
class root_source : public source_base<Derived> {
public:
    void bind(run_context& ctx) { stop_ = ctx.stop; }

protected:
    /// Throws `cancelled` if the run was stopped (call between records or blocks).
    void check_stop(const char* stage) const { throw_if_stopped(stop_, stage); }
    std::stop_token stop_;
};

/// Base of stages: owns the upstream by value and forwards `bind` to it.
template <class Derived, class Up>
class stage_base : public source_base<Derived> {
public:
    /// The upstream's type (`buffer_bound_v` walks the stage chain through it).
    using upstream_type = Up;

    explicit stage_base(Up up) : up_(std::move(up)) {}
    void bind(run_context& ctx) { up_.bind(ctx); }
    /// The stage this one pulls from.
    Up& upstream() noexcept { return up_; }

protected:
    Up up_;
};

/// A non-owning handle on a pipeline that lives elsewhere (an lvalue piped into a stage or
/// run into a sink). Its first pull is a pass over that pipeline: a second one (another
/// source_ref, or a begin()) starts it over or throws, as `source_base` describes.
template <source S>
class source_ref : public source_base<source_ref<S>> {
public:
    using reference = reference_t<S>;
    explicit source_ref(S& s) noexcept : s_(std::addressof(s)) {}
    maybe<reference> next() {
        if (!entered_) [[unlikely]]
            enter();
        auto r = s_->next();
        if (!r) note_end();
        return r;
    }
    template <class F>
    bool for_each_while(F&& f) {
        if (!entered_) enter();
        const bool done = s_->for_each_while(SLUICE_FWD(f));
        if (done) note_end();
        return done;
    }
    void bind(run_context& ctx) { s_->bind(ctx); }
    /// Starts the referenced pipeline over (when it can).
    void rewind()
        requires rewindable<S>
    {
        s_->rewind();
        entered_ = true;
        if constexpr (tracked) s_->source_base<S>::pass_ = source_base<S>::pass_state::started;
    }

private:
    static constexpr bool tracked = std::derived_from<S, source_base<S>>;
    void enter() {
        entered_ = true;
        if constexpr (tracked) s_->source_base<S>::start_pass();
    }
    void note_end() {
        if constexpr (tracked) s_->source_base<S>::pass_ = source_base<S>::pass_state::exhausted;
    }

    S* s_;
    bool entered_ = false;
};

}  // namespace sluice
