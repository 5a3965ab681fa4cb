#pragma once
/// \file
/// The one error policy: what a stage does with a record it cannot process (a *reject*).
/// Every stage that can reject a record takes one: the CSV reader (`read_options::errors`),
/// the JSON readers (`jsonl_options::errors`, `array_options::errors`), `validate`,
/// `try_map`, `parallel_map` and the Postgres loader (`copy_in_options::errors`). A policy is
///
/// - `on_error::fail` (the default everywhere): the first reject fails the run;
/// - `on_error::skip`: the record is dropped and counted;
/// - `on_error::dead_letter(h)`: the record goes to `h`, then is dropped and counted. `h` is
///   a callable or a sink (anything with `push`; an lvalue sink is referenced, so you call
///   its `finish()` after the run) taking either
///     * a `dead_letter_record`: `{stage, line|record, error, raw}` with `raw` the record's
///       original text (a CSV record's bytes with their quoting and line end, a JSON line,
///       the row as sent to COPY); every stage can deliver it (a stage over records without
///       a text - plain structs - only when they have `raw()`), or
///     * a `poison<R>` (the record itself, owned, and the error), for the typed stages
///       (`validate`, `try_map`, `parallel_map`); `R` is the stage's owning record type
///       (`csv::owned_row` for CSV rows). A handler that takes neither is a compile error
///       naming the `poison<R>` it must accept.
///
/// The reject limit has one meaning everywhere: none by default (`unlimited_rejects`);
/// `.max_rejects(n)` makes the (n+1)-th reject of that stage an `errc::limit` failure
/// (nothing is dead-lettered for it), so a file that is mostly garbage still fails loudly.
/// `.within(budget)` draws from a `reject_budget` that several stages share: one cap for a
/// whole run (a CSV reader, a `validate` and a loader given policies within one budget of
/// 100 deliver exactly 100 dead letters together, then the run fails).
///
/// Every reject bumps its stage's `rejects` counter in the run's `metrics`: the counters
/// named after the stage ("csv", "jsonl", "json", "validate", "try_map", the parallel_map's
/// name, "postgres") or `.counted_as(name)` (give a `meter` the same name to see in, out and
/// rejects of one stage together). Cancellation, out-of-memory and limit failures are never
/// rejects: they always propagate.

#include <atomic>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
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

/// A rejected record for the typed stages: an owning copy of the record and why it was
/// rejected (the error's message is the reason, its position says where: at least the
/// 0-based record index).
template <class R>
struct poison {
    R record;
    sluice::error error;
};

/// The dead-letter record every rejecting stage can deliver: `{stage, line|record, error,
/// raw}`. `where()` holds what the stage knows: the 1-based physical line (readers), the
/// 0-based record index (all), the column and byte offset (readers).
struct dead_letter_record {
    std::string stage;    ///< the stage that rejected the record ("csv", "validate", ...)
    sluice::error error;  ///< why (message, position; a `pg::pg_error` for the loader's rejects)
    std::string raw;      ///< the record's original text (see the file comment)
    std::string code{};   ///< the source's own error code when it has one (a SQLSTATE)

    const position& where() const noexcept { return error.where(); }
};

/// "No limit" for `max_rejects` and `reject_budget`: the default.
inline constexpr std::uint64_t unlimited_rejects = std::numeric_limits<std::uint64_t>::max();

/// A cap on rejects shared by the stages whose policies are `.within(budget)`: copies share
/// the count, so one budget object per run makes one cap for all its stages. Thread-safe
/// (stages may run on different threads).
class reject_budget {
public:
    /// A budget that fails the reject after the `max`-th.
    explicit reject_budget(std::uint64_t max = unlimited_rejects)
        : s_(std::make_shared<state>(max)) {}

    /// Counts one reject; false when it is beyond the cap (the caller then fails).
    bool take() noexcept { return s_->used.fetch_add(1, std::memory_order_relaxed) < s_->max; }
    /// Rejects taken within the cap so far.
    std::uint64_t used() const noexcept {
        const std::uint64_t u = s_->used.load(std::memory_order_relaxed);
        return u < s_->max ? u : s_->max;
    }
    std::uint64_t max() const noexcept { return s_->max; }

private:
    struct state {
        explicit state(std::uint64_t m) : max(m) {}
        std::atomic<std::uint64_t> used{0};
        std::uint64_t max;
    };
    std::shared_ptr<state> s_;
};

namespace on_error {
/// Policy actions (use the `fail`, `skip`, `dead_letter` objects below).
struct fail_t {};
struct skip_t {};
template <class H>
struct dead_letter_t {
    H handler;
};
}  // namespace on_error

/// An error policy: an action plus a reject limit, an optional shared budget and a counters
/// name (owned).
template <class Action>
class error_policy {
public:
    error_policy() = default;
    explicit error_policy(Action a) : action_(std::move(a)) {}

    /// This policy, failing with `errc::limit` once more than `n` records were rejected by
    /// the stage that holds it.
    error_policy max_rejects(std::uint64_t n) const& {
        error_policy p = *this;
        p.max_ = n;
        return p;
    }
    error_policy max_rejects(std::uint64_t n) && {
        max_ = n;
        return std::move(*this);
    }
    /// This policy, drawing every reject from `b` (shared with the other stages within it).
    error_policy within(reject_budget b) const& {
        error_policy p = *this;
        p.budget_ = std::move(b);
        return p;
    }
    error_policy within(reject_budget b) && {
        budget_ = std::move(b);
        return std::move(*this);
    }
    /// This policy, counting rejects into the run's counters named `name`. The policy keeps
    /// its own copy of the name, so a temporary (`stage + "-rejects"`) is fine.
    error_policy counted_as(std::string_view name) const& {
        error_policy p = *this;
        p.name_.assign(name);
        return p;
    }
    error_policy counted_as(std::string_view name) && {
        name_.assign(name);
        return std::move(*this);
    }

    std::uint64_t max_rejects() const noexcept { return max_; }
    /// The shared budget, if any.
    const std::optional<reject_budget>& budget() const noexcept { return budget_; }
    /// The counters name (empty: the stage's own name); valid as long as the policy.
    std::string_view counters_name() const noexcept { return name_; }
    const Action& action() const noexcept { return action_; }
    Action& action() noexcept { return action_; }

    /// True for the fail policy: stages may then skip keeping raw records.
    static constexpr bool fails = std::is_same_v<Action, on_error::fail_t>;

private:
    template <class>
    friend class error_policy;

    [[no_unique_address]] Action action_{};
    std::uint64_t max_ = unlimited_rejects;
    std::optional<reject_budget> budget_{};
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

/// The first bad record fails the run with its error (the default).
inline const error_policy<fail_t> fail{};
/// Bad records are dropped and counted.
inline const error_policy<skip_t> skip{};

/// Bad records go to `h` and are counted (see the file comment for what `h` may take). An
/// lvalue sink is held by reference (it must outlive the run; finish it yourself), anything
/// else is copied in.
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

template <class H>
H& unwrap_handler(H& h) noexcept {
    return h;
}
template <class H>
H& unwrap_handler(std::reference_wrapper<H>& h) noexcept {
    return h.get();
}

/// `h` takes a `P` rvalue, as a call or as a sink's `push`.
template <class H, class P>
concept letter_handler_for =
    std::invocable<H&, P&&> || requires(H& h, P&& p) { h.push(std::move(p)); };

template <class H, class P>
void hand_to(H& h, P&& p) {
    if constexpr (requires { h.push(std::move(p)); })
        (void)h.push(std::move(p));
    else
        std::invoke(h, std::move(p));
}

}  // namespace detail

namespace on_error {
/// Instantiated (and failing) when a dead-letter handler `H` takes neither what the stage
/// delivers (`Letter`: a `poison<R>`) nor a `dead_letter_record`: the compiler's
/// "required from" line names both types.
template <class Letter, class H>
struct handler_must_accept {
    static_assert(detail::letter_handler_for<H, Letter>,
                  "sluice::on_error::dead_letter: the handler cannot take this stage's rejects: "
                  "it must accept the poison<R> named in handler_must_accept<poison<R>, H> "
                  "below (R is the stage's owning record type, e.g. csv::owned_row for CSV "
                  "rows), or a sluice::dead_letter_record");
    static constexpr bool value = false;
};
}  // namespace on_error

/// An error policy whose dead-letter handler takes `dead_letter_record`s, stored without its
/// type: what the option structs of the readers and the loader hold. Any `error_policy`
/// converts to it; a dead-letter handler that cannot take a `dead_letter_record` is a
/// compile error saying so.
class any_error_policy {
public:
    enum class mode : std::uint8_t { fail, skip, dead_letter };

    /// `on_error::fail`.
    any_error_policy() = default;

    template <class A>
    any_error_policy(error_policy<A> p)  // NOLINT(google-explicit-constructor): a conversion
        : max_(p.max_rejects()), budget_(p.budget()), name_(p.counters_name()) {
        if constexpr (std::is_same_v<A, on_error::fail_t>) {
            mode_ = mode::fail;
        } else if constexpr (std::is_same_v<A, on_error::skip_t>) {
            mode_ = mode::skip;
        } else {
            using H = std::remove_reference_t<decltype(detail::unwrap_handler(p.action().handler))>;
            static_assert(detail::letter_handler_for<H, dead_letter_record>,
                          "sluice::on_error::dead_letter: this stage delivers "
                          "sluice::dead_letter_record: the handler must accept one (by value, "
                          "const& or &&) or be a sink whose push takes one");
            mode_ = mode::dead_letter;
            handler_ = [a = std::move(p.action())](dead_letter_record&& r) mutable {
                detail::hand_to(detail::unwrap_handler(a.handler), std::move(r));
            };
        }
    }

    mode kind() const noexcept { return mode_; }
    bool fails() const noexcept { return mode_ == mode::fail; }
    std::uint64_t max_rejects() const noexcept { return max_; }
    const std::optional<reject_budget>& budget() const noexcept { return budget_; }
    std::string_view counters_name() const noexcept { return name_; }
    /// Hands `r` to the handler (dead-letter mode only).
    void deliver(dead_letter_record&& r) {
        if (handler_) handler_(std::move(r));
    }

private:
    mode mode_ = mode::fail;
    std::uint64_t max_ = unlimited_rejects;
    std::optional<reject_budget> budget_{};
    std::string name_{};
    std::function<void(dead_letter_record&&)> handler_{};
};

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

/// A record's original text, when it has one: bytes are their own text; rows and JSON
/// records keep theirs (`raw()`).
template <class R>
concept has_raw_text = byte_like<R> || requires(const R& r) {
    { r.raw() } -> std::convertible_to<std::string_view>;
};

template <class R>
std::string_view raw_text(const R& r) {
    if constexpr (byte_like<R>)
        return bytes_of(r);
    else
        return std::string_view(r.raw());
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

/// True for failures that must never become rejects.
inline bool is_fatal(errc c) noexcept {
    return c == errc::cancelled || c == errc::out_of_memory || c == errc::limit;
}

/// The accounting every rejecting stage shares: the stage's reject count and `rejects`
/// counter, its own limit and the shared budget. `admit` counts one reject or throws the
/// `errc::limit` failure that ends the run.
class reject_accounting {
public:
    reject_accounting(std::string stage, std::uint64_t max, std::optional<reject_budget> b,
                      std::string_view counters_name)
        : stage_(std::move(stage)), name_(counters_name), max_(max), budget_(std::move(b)) {}

    /// Resolves the counters: the run's registry entry named after the policy or the stage.
    void bind(run_context& ctx) {
        if (ctx.metrics) counters_ = ctx.metrics->counters(name_.empty() ? stage_ : name_);
    }

    /// Counts the reject `why`, or throws when it is one too many (for this stage or for the
    /// shared budget); fatal errors are rethrown as they are.
    void admit(const error& why) {
        if (is_fatal(why.code())) throw why;
        if (rejects_ >= max_)
            throw error(errc::limit, stage_,
                        "too many rejected records (max_rejects " + std::to_string(max_) +
                            "); the last: " + why.what(),
                        why.where());
        if (budget_ && !budget_->take())
            throw error(errc::limit, stage_,
                        "too many rejected records (the run's reject budget of " +
                            std::to_string(budget_->max()) + " is spent); the last: " + why.what(),
                        why.where());
        ++rejects_;
        if (counters_) counters_->add_reject();
    }

    std::uint64_t rejects() const noexcept { return rejects_; }
    const std::string& stage() const noexcept { return stage_; }

private:
    std::string stage_;
    std::string name_;
    std::uint64_t max_;
    std::optional<reject_budget> budget_;
    std::shared_ptr<stage_counters> counters_;
    std::uint64_t rejects_ = 0;
};

/// The run-time side of a typed error policy inside one stage: counts rejects, enforces the
/// limits, delivers dead letters (`poison<R>` or `dead_letter_record`, whichever the handler
/// takes). Used from the stage's consumer thread only.
template <class Action>
class rejecter {
public:
    rejecter(error_policy<Action> p, std::string stage)
        : acct_(std::move(stage), p.max_rejects(), p.budget(), p.counters_name()),
          action_(std::move(p.action())) {}

    void bind(run_context& ctx) {
        if constexpr (!error_policy<Action>::fails) acct_.bind(ctx);
    }

    /// Handles a failure raised while processing `raw` (record number `index`): rethrows it
    /// under `fail` (and when fatal), else counts, checks the limits and dead-letters.
    template <class R>
    void reject(const R& raw, std::exception_ptr e, std::uint64_t index) {
        if constexpr (error_policy<Action>::fails) {
            (void)raw;
            (void)index;
            std::rethrow_exception(e);
        } else {
            position where;
            where.record = index;
            reject(raw, as_poison_error(std::move(e), acct_.stage(), where));
        }
    }

    /// Handles a record found bad (by `validate`, say) with the error `why`.
    template <class R>
    void reject(const R& raw, error why) {
        if constexpr (error_policy<Action>::fails) {
            (void)raw;
            throw why;
        } else {
            acct_.admit(why);
            if constexpr (!std::is_same_v<Action, on_error::skip_t>) deliver(raw, std::move(why));
        }
    }

    /// Records rejected so far by this stage.
    std::uint64_t rejects() const noexcept { return acct_.rejects(); }
    const std::string& stage() const noexcept { return acct_.stage(); }

private:
    template <class R>
    void deliver(const R& raw, error why) {
        using P = poison<crossing_t<const R&>>;
        auto& h = unwrap_handler(action_.handler);
        using H = std::remove_reference_t<decltype(h)>;
        if constexpr (letter_handler_for<H, P>) {
            hand_to(h, P{copy_record(raw), std::move(why)});
        } else if constexpr (has_raw_text<R> && letter_handler_for<H, dead_letter_record>) {
            hand_to(h, dead_letter_record{acct_.stage(), std::move(why),
                                          std::string(raw_text(raw))});
        } else {
            (void)sizeof(on_error::handler_must_accept<P, H>);  // its static_assert explains
        }
    }

    reject_accounting acct_;
    [[no_unique_address]] Action action_;
};

/// The run-time side of an `any_error_policy` inside a reader or a loader, whose rejects are
/// text: counts, enforces the limits, delivers `dead_letter_record`s.
class text_rejecter {
public:
    text_rejecter(any_error_policy p, std::string stage)
        : acct_(std::move(stage), p.max_rejects(), p.budget(), p.counters_name()),
          p_(std::move(p)) {}

    void bind(run_context& ctx) {
        if (!p_.fails()) acct_.bind(ctx);
    }
    /// True when a reject fails the run (the stage need not keep what it would deliver).
    bool fails() const noexcept { return p_.fails(); }

    /// Handles the record whose text is `raw`, rejected for `why`: throws under `fail` (and
    /// for fatal errors or a spent limit), else counts and dead-letters. `code` is the
    /// source's own error code, if any.
    void reject(std::string_view raw, const error& why, std::string code = {}) {
        if (p_.fails()) throw why;
        acct_.admit(why);
        if (p_.kind() == any_error_policy::mode::dead_letter)
            p_.deliver(dead_letter_record{acct_.stage(), why, std::string(raw), std::move(code)});
    }
    std::uint64_t rejects() const noexcept { return acct_.rejects(); }
    const std::string& stage() const noexcept { return acct_.stage(); }

private:
    reject_accounting acct_;
    any_error_policy p_;
};

}  // namespace detail

}  // namespace sluice
