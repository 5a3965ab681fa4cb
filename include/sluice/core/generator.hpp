#pragma once
/// \file
/// `generator<T>`: write a source as a coroutine with `co_yield` (GCC 12 has no
/// std::generator). Handy for user sources; built-in stages stay hand-written because a
/// coroutine resumption per record does not fuse into the surrounding loop.
///
///     sluice::generator<int> evens(int n) { for (int i = 0; i < n; i += 2) co_yield i; }
///     auto total = evens(10) | sluice::fold(0, std::plus<>{});

#include <coroutine>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

#include "stage.hpp"

namespace sluice {

/// A lazily evaluated sequence of `T` produced by a coroutine; a single-pass source.
/// A yielded value lives until the next pull, so yielding a local or a temporary is fine.
template <class T>
class generator : public root_source<generator<T>> {
    using value = std::remove_cvref_t<T>;

public:
    /// Yields `T&` for value types (the coroutine's object, movable from by the consumer).
    using reference = std::conditional_t<std::is_reference_v<T>, T, value&>;

    struct promise_type {
        value* current = nullptr;
        std::exception_ptr error;

        generator get_return_object() {
            return generator(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }
        std::suspend_always yield_value(value& v) noexcept {
            current = std::addressof(v);
            return {};
        }
        std::suspend_always yield_value(value&& v) noexcept {
            current = std::addressof(v);
            return {};
        }
        template <class U>
            requires(!std::is_same_v<std::remove_cvref_t<U>, value> &&
                     std::is_constructible_v<value, U &&>)
        auto yield_value(U&& u) {
            // Converting yields materialise the value in the awaiter, which lives in the
            // coroutine frame until the coroutine is resumed.
            struct awaiter {
                value v;
                promise_type* p;
                bool await_ready() const noexcept { return false; }
                void await_suspend(std::coroutine_handle<>) noexcept { p->current = &v; }
                void await_resume() const noexcept {}
            };
            return awaiter{value(std::forward<U>(u)), this};
        }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { error = std::current_exception(); }
        template <class U>
        U&& await_transform(U&&) = delete;  // a generator cannot co_await
    };

    generator(generator&& o) noexcept
        : root_source<generator>(std::move(o)), h_(std::exchange(o.h_, {})) {}
    generator& operator=(generator&& o) noexcept {
        if (this != &o) {
            destroy();
            root_source<generator>::operator=(std::move(o));
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    ~generator() { destroy(); }

    maybe<reference> next() {
        if (!h_ || h_.done()) return {};
        this->check_stop("generator");
        h_.promise().current = nullptr;
        h_.resume();
        if (h_.promise().error) std::rethrow_exception(std::exchange(h_.promise().error, {}));
        if (h_.done()) return {};
        return static_cast<reference>(*h_.promise().current);
    }

private:
    explicit generator(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
    void destroy() noexcept {
        if (h_) h_.destroy();
        h_ = {};
    }
    std::coroutine_handle<promise_type> h_;
};

}  // namespace sluice
