#pragma once
/// \file
/// Poison records: what a stage does with a record it cannot process. An error policy is
/// one of
///
/// - `on_error::fail` (the default everywhere): the first bad record fails the run;
/// - `on_error::skip`: the record is dropped and counted as a reject;
/// - `on_error::dead_letter(h)`: the record goes to `h` as a `poison<R>` (the raw record,
///   owned, and the `sluice::error` with its reason and position), then is dropped; `h` is
///   a callable taking `poison<R>&&` or a sink (anything with `push(poison<R>)`; an lvalue
///   sink is referenced, so you call its `finish()` after the run);
///
/// and `.max_rejects(n)` turns the (n+1)-th reject into an `errc::limit` failure, so a file
/// that is mostly garbage still fails loudly. `.counted_as(name)` names the counters (in the
/// run's `metrics`) whose `rejects` the policy bumps; give a `meter` the same name to see
/// in, out and rejects of one stage together.
///
/// Stages taking a policy: `try_map(fn, policy)` (this header: an exception thrown by `fn`
/// becomes a poison record instead of ending the run), `parallel_map(fn, opts, policy)`,
/// `validate(policy, rules...)`. Cancellation and out-of-memory are never poison: they
/// always propagate.

#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/closure.hpp"
#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/metrics.hpp"
#include "../core/owned.hpp"
#include "../core/stage.hpp"

namespace sluice {

/// A rejected record: an owning copy of the raw record and why it was rejected (the error's
/// message is the reason, its position says where: at least the 0-based record index).
template <class R>
struct poison {
    R record;
    sluice::error error;
};

/// "No limit" for `max_rejects`.
inline constexpr std::uint64_t unlimited_rejects = std::numeric_limits<std::uint64_t>::max();

namespace on_error {
/// Policy actions (use the `fail`, `skip`, `dead_letter` objects below).
struct fail_t {};
struct skip_t {};
template <class H>
struct dead_letter_t {
    H handler;
};
}  // namespace on_error

/// An error policy: an action plus a reject limit and a counters name (owned).
template <class Action>
class error_policy {
public:
    constexpr error_policy() = default;
    constexpr explicit error_policy(Action a) : action_(std::move(a)) {}

    /// This policy, failing with `errc::limit` once more than `n` records were rejected.
    constexpr error_policy max_rejects(std::uint64_t n) const& {
        error_policy p = *this;
        p.max_ = n;
        return p;
    }
    constexpr error_policy max_rejects(std::uint64_t n) && {
        max_ = n;
        return std::move(*this);
    }
    /// This policy, counting rejects into the run's counters named `name`. The policy keeps
    /// its own copy of the name, so a temporary (`stage + "-rejects"`) is fine.
    constexpr error_policy counted_as(std::string_view name) const& {
        error_policy p = *this;
        p.name_.assign(name);
        return p;
    }
    constexpr error_policy counted_as(std::string_view name) && {
        name_.assign(name);
        return std::move(*this);
    }

    std::uint64_t max_rejects() const noexcept { return max_; }
    /// The counters name (empty: the stage's own name); valid as long as the policy.
    std::string_view counters_name() const noexcept { return name_; }
    const Action& action() const noexcept { return action_; }
    Action& action() noexcept { return action_; }

    /// True for the fail policy: stages may then skip keeping raw records.
    static constexpr bool fails = std::is_same_v<Action, on_error::fail_t>;

private:
    [[no_unique_address]] Action action_{};
    std::uint64_t max_ = unlimited_rejects;
    std::string name_{};  // owned: a view would dangle once the caller's string is gone
};

namespace detail {
template <class T>
struct is_error_policy : std::false_type {};
template <class A>
struct is_error_policy<error_policy<A>> : std::true_type {};
}  // namespace detail

/// Matches the `error_policy` types.
template <class T>
concept error_policy_like = detail::is_error_policy<std::remove_cvref_t<T>>::value;

namespace on_error {

/// The first bad record fails the run with its exception (the default).
inline constexpr error_policy<fail_t> fail{};
/// Bad records are dropped and counted.
inline constexpr error_policy<skip_t> skip{};

/// Bad records go to `h` as `poison<R>` and are counted. `h` is a callable taking the poison
/// by value or rvalue reference, or a sink with `push`; an lvalue sink is held by reference
/// (it must outlive the run; finish it yourself), anything else is copied in.
template <class H>
auto dead_letter(H&& h) {
    if constexpr (std::is_lvalue_reference_v<H> &&
                  std::derived_from<std::remove_cvref_t<H>, detail::terminal_tag>)
        return error_policy<dead_letter_t<std::reference_wrapper<std::remove_reference_t<H>>>>(
            {std::ref(h)});
    else
        return error_policy<dead_letter_t<std::decay_t<H>>>({std::forward<H>(h)});
}

}  // namespace on_error

namespace detail {

/// An owning copy of a record that stays where it is (for dead letters): chunks are cloned,
/// never moved, since the stage still passes nothing on but the producer may reuse them.
template <class R>
crossing_t<R> copy_record(const R& r) {
    if constexpr (std::is_same_v<std::remove_cvref_t<R>, chunk>)
        return r.clone();
    else
        return sluice::to_owned(r);
}

/// `e` as a sluice error with `stage` filled in when blank and `where` completing its position.
inline error as_poison_error(std::exception_ptr e, std::string_view stage,
                             const position& where) {
    error err = [&] {
        try {
            std::rethrow_exception(e);
        } catch (...) {
            return current_error();
        }
    }();
    if (err.stage().empty())
        err = error(err.code(), std::string(stage), err.message(), err.where());
    return err.with_position(where);
}

/// True for failures that must never become poison records.
inline bool is_fatal(errc c) noexcept {
    return c == errc::cancelled || c == errc::out_of_memory || c == errc::limit;
}

/// The run-time side of an error policy inside one stage: counts rejects, enforces the
/// limit, delivers dead letters. Used from the stage's consumer thread only.
template <class Action>
class rejecter {
public:
    rejecter(error_policy<Action> p, std::string stage)
        : p_(std::move(p)), stage_(std::move(stage)) {}

    /// Resolves the counters: the run's registry entry named after the policy or the stage.
    void bind(run_context& ctx) {
        if (error_policy<Action>::fails) return;
        std::string name = p_.counters_name().empty() ? stage_ : std::string(p_.counters_name());
        if (ctx.metrics) counters_ = ctx.metrics->counters(name);
    }

    /// Handles a failure raised while processing `raw` (record number `index`): rethrows it
    /// under `fail` (and when fatal), else counts, checks the limit and dead-letters.
    template <class R>
    void reject(const R& raw, std::exception_ptr e, std::uint64_t index) {
        if constexpr (error_policy<Action>::fails) {
            (void)raw;
            (void)index;
            std::rethrow_exception(e);
        } else {
            position where;
            where.record = index;
            reject(raw, as_poison_error(std::move(e), stage_, where));
        }
    }

    /// Handles a record found bad (by `validate`, say) with the error `why`.
    template <class R>
    void reject(const R& raw, error why) {
        if (is_fatal(why.code())) throw why;
        if constexpr (error_policy<Action>::fails) {
            (void)raw;
            throw why;
        } else {
            ++rejects_;
            if (counters_) counters_->add_reject();
            if (rejects_ > p_.max_rejects())
                throw error(errc::limit, stage_,
                            "too many rejected records (max_rejects " +
                                std::to_string(p_.max_rejects()) + "); the last: " + why.what(),
                            why.where());
            if constexpr (!std::is_same_v<Action, on_error::skip_t>) deliver(raw, std::move(why));
        }
    }

    /// Records rejected so far by this stage.
    std::uint64_t rejects() const noexcept { return rejects_; }
    const std::string& stage() const noexcept { return stage_; }

private:
    template <class R>
    void deliver(const R& raw, error why) {
        using P = poison<crossing_t<const R&>>;
        P p{copy_record(raw), std::move(why)};
        auto& h = unwrap_ref(p_.action().handler);
        if constexpr (requires { h.push(std::move(p)); })
            (void)h.push(std::move(p));
        else
            std::invoke(h, std::move(p));
    }
    template <class H>
    static H& unwrap_ref(H& h) noexcept {
        return h;
    }
    template <class H>
    static H& unwrap_ref(std::reference_wrapper<H>& h) noexcept {
        return h.get();
    }

    error_policy<Action> p_;
    std::string stage_;
    std::shared_ptr<stage_counters> counters_;
    std::uint64_t rejects_ = 0;
};

template <class Up, class Fn, class Action>
class try_map_stage : public stage_base<try_map_stage<Up, Fn, Action>, Up> {
    using base = stage_base<try_map_stage<Up, Fn, Action>, Up>;

    // `fn` gets the record as an lvalue: the raw record must survive a throw.
    using arg_t = std::remove_reference_t<reference_t<Up>>&;

public:
    using reference = std::invoke_result_t<Fn&, arg_t>;

    try_map_stage(Up up, Fn fn, error_policy<Action> p)
        : base(std::move(up)), fn_(std::in_place, std::move(fn)), rej_(std::move(p), "try_map") {}

    void bind(run_context& ctx) {
        this->up_.bind(ctx);
        rej_.bind(ctx);
    }

    maybe<reference> next() {
        while (auto r = this->up_.next()) {
            maybe<reference> out;
            if (apply(*r, out)) return out;
        }
        return {};
    }

    template <class F>
    bool for_each_while(F&& f) {
        return this->up_.for_each_while([&](auto&& x) -> bool {
            maybe<reference> out;
            // `f` runs outside the try: a downstream failure is not this record's fault.
            if (!apply(x, out)) return true;
            return f(detail::unwrap(out));
        });
    }

    /// Records rejected so far.
    std::uint64_t rejects() const noexcept { return rej_.rejects(); }

private:
    template <class X>
    bool apply(X& x, maybe<reference>& out) {
        const std::uint64_t index = index_++;
        try {
            out.emplace(std::invoke(*fn_, x));
            return true;
        } catch (...) {
            rej_.reject(x, std::current_exception(), index);
            return false;
        }
    }

    box_t<Fn> fn_;
    rejecter<Action> rej_;
    std::uint64_t index_ = 0;
};

}  // namespace detail

/// `try_map(fn, policy)`: `map(fn)` where an exception thrown by `fn` makes the record a
/// poison record handled by `policy` (see the file comment) instead of failing the run.
/// `fn` sees the record as an lvalue (so the raw record is still there to dead-letter).
struct try_map_fn {
    template <class S, class Fn, class A = on_error::fail_t>
        requires pipeable_input<S>
    auto operator()(S&& s, Fn fn, error_policy<A> p = {}) const {
        auto up = as_source(std::forward<S>(s));
        using Up = decltype(up);
        using arg = std::remove_reference_t<reference_t<Up>>&;
        static_assert(std::invocable<Fn&, arg> && !std::is_void_v<std::invoke_result_t<Fn&, arg>>,
                      "sluice::try_map: the function must be callable with the upstream "
                      "record and return a value");
        return detail::try_map_stage<Up, Fn, A>(std::move(up), std::move(fn), std::move(p));
    }
    template <class Fn, class A = on_error::fail_t>
        requires(!pipeable_input<Fn>)
    auto operator()(Fn fn, error_policy<A> p = {}) const {
        return make_closure<try_map_fn>(std::move(fn), std::move(p));
    }
};
inline constexpr try_map_fn try_map{};

}  // namespace sluice
