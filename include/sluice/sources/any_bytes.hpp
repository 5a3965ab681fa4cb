#pragma once
/// \file
/// `any_byte_source`: a type-erased byte source (anything yielding byte-like records), so a
/// program can pick a file, stdin or an object store at run time and still build one
/// pipeline type. One virtual call per chunk, never per byte.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/stage.hpp"

namespace sluice {

/// Holds any source whose records are byte-like; yields `chunk&` (valid until the next pull).
/// Counts the bytes that passed, readable from another thread (for progress percentages).
class any_byte_source : public source_base<any_byte_source> {
public:
    using reference = chunk&;

    template <class S>
        requires(!std::same_as<std::remove_cvref_t<S>, any_byte_source> &&
                 std::derived_from<std::remove_cvref_t<S>, detail::source_tag>)
    any_byte_source(S&& s)  // NOLINT(google-explicit-constructor): erasure is the point
        : impl_(std::make_unique<model<std::remove_cvref_t<S>>>(std::forward<S>(s))) {
        static_assert(byte_like<reference_t<std::remove_cvref_t<S>>>,
                      "sluice::any_byte_source: the source must yield bytes");
    }

    maybe<chunk&> next() {
        chunk* c = impl_->next();
        if (!c) return {};
        bytes_.store(bytes_.load(std::memory_order_relaxed) + c->size(),
                     std::memory_order_relaxed);
        return *c;
    }
    void bind(run_context& ctx) { impl_->bind(ctx); }

    /// Bytes yielded so far (a relaxed read: safe from a progress thread).
    std::uint64_t bytes() const noexcept { return bytes_.load(std::memory_order_relaxed); }
    /// A shared counter handle, so a progress probe can outlive moves of this source.
    const std::atomic<std::uint64_t>& counter() const noexcept { return bytes_; }

    any_byte_source(any_byte_source&& o) noexcept
        : impl_(std::move(o.impl_)), bytes_(o.bytes_.load()) {}
    any_byte_source& operator=(any_byte_source&& o) noexcept {
        impl_ = std::move(o.impl_);
        bytes_.store(o.bytes_.load());
        return *this;
    }

private:
    struct concept_t {
        virtual ~concept_t() = default;
        virtual chunk* next() = 0;
        virtual void bind(run_context&) = 0;
    };
    template <class S>
    struct model final : concept_t {
        explicit model(S s) : src(std::move(s)) {}
        chunk* next() override {
            auto r = src.next();
            if (!r) return nullptr;
            if constexpr (std::is_same_v<reference_t<S>, chunk&>) {
                return &*r;
            } else {
                // Other byte-like records are copied into a chunk owned here.
                buf.clear();
                buf.append(bytes_of(*r));
                return &buf;
            }
        }
        void bind(run_context& ctx) override { src.bind(ctx); }
        S src;
        chunk buf;
    };

    std::unique_ptr<concept_t> impl_;
    std::atomic<std::uint64_t> bytes_{0};
};

}  // namespace sluice
