#pragma once
/// \file
/// `any_codec`: a type-erased `sluice::codec`, so a program can choose gzip, zstd or
/// nothing at run time and still build one pipeline type. Dependency-free: the concrete
/// codecs come from their own headers (see compress/codecs.hpp for factories).
///
/// The erasure costs one indirect call per `process`/`finish`, i.e. per chunk (64 KiB by
/// default), never per byte, which is noise next to the codec's own work.

#include <cstddef>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../adaptors/compress.hpp"
#include "../core/chunk.hpp"
#include "../core/context.hpp"

namespace sluice {

/// Owns any `codec` behind a small table of function pointers. Move-only; a
/// default-constructed or moved-from `any_codec` must not be used.
class any_codec {
public:
    any_codec() = default;

    /// Takes ownership of `c` (moved to the heap, so moving an `any_codec` is a pointer copy).
    template <class C>
    requires(!std::same_as<std::remove_cvref_t<C>, any_codec> && codec<std::remove_cvref_t<C>>)
        any_codec(C&& c)  // NOLINT(google-explicit-constructor): a codec *is* an any_codec
        : obj_(new std::remove_cvref_t<C>(std::forward<C>(c)),
               &table_for<std::remove_cvref_t<C>>::destroy),
          vt_(&table_for<std::remove_cvref_t<C>>::value) {}

    any_codec(any_codec&&) noexcept = default;
    any_codec& operator=(any_codec&&) noexcept = default;

    /// See the `codec` concept: consumes a prefix of `in`, writes into `out`'s spare space.
    std::size_t process(std::string_view in, chunk& out) {
        return vt_->process(obj_.get(), in, out);
    }
    /// See the `codec` concept: flushes; true once all output is out.
    bool finish(chunk& out) { return vt_->finish(obj_.get(), out); }
    /// Hands the run's context to a codec that takes one (a codec with threads joins them at
    /// the end of the run); a no-op for the others.
    void bind(run_context& ctx) {
        if (vt_) vt_->bind(obj_.get(), ctx);
    }
    /// Reports the held codec's buffers to a run's memory plan, when it reports any.
    void plan_memory(memory_plan& plan, std::string_view stage) {
        if (vt_) vt_->plan(obj_.get(), plan, stage);
    }

    /// True when a codec is held.
    explicit operator bool() const noexcept { return obj_ != nullptr; }

    /// The held codec if it is a `C`, else nullptr (for tests and diagnostics).
    template <class C>
    C* target() noexcept {
        return vt_ == &table_for<C>::value ? static_cast<C*>(obj_.get()) : nullptr;
    }

private:
    struct table {
        std::size_t (*process)(void*, std::string_view, chunk&);
        bool (*finish)(void*, chunk&);
        void (*bind)(void*, run_context&);
        void (*plan)(void*, memory_plan&, std::string_view);
    };
    template <class C>
    struct table_for {
        static void destroy(void* p) noexcept { delete static_cast<C*>(p); }
        static std::size_t process(void* p, std::string_view in, chunk& out) {
            return static_cast<C*>(p)->process(in, out);
        }
        static bool finish(void* p, chunk& out) { return static_cast<C*>(p)->finish(out); }
        static void bind(void* p, run_context& ctx) {
            if constexpr (requires(C& c, run_context& x) { c.bind(x); }) static_cast<C*>(p)->bind(ctx);
        }
        static void plan(void* p, memory_plan& m, std::string_view stage) {
            if constexpr (requires(C& c) { c.plan_memory(m, stage); })
                static_cast<C*>(p)->plan_memory(m, stage);
        }
        static constexpr table value{&process, &finish, &bind, &plan};
    };

    std::unique_ptr<void, void (*)(void*) noexcept> obj_{nullptr, nullptr};
    const table* vt_ = nullptr;
};

}  // namespace sluice
