#pragma once
/// \file
/// `any_byte_sink`: a type-erased byte sink (file, stdout, object upload, HTTP response), so
/// the destination can be chosen at run time. One virtual call per chunk.

#include <cstdint>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/context.hpp"
#include "../core/sink.hpp"
#include "../core/run.hpp"  // `source | sink` runs through terminal_run

namespace sluice {

/// Holds any sink accepting byte chunks; `finish()` returns the bytes written.
class any_byte_sink : public sink_base {
public:
    template <class K>
        requires(!std::same_as<std::remove_cvref_t<K>, any_byte_sink> &&
                 std::derived_from<std::remove_cvref_t<K>, sink_base>)
    any_byte_sink(K&& k)  // NOLINT(google-explicit-constructor): erasure is the point
        : impl_(std::make_unique<model<std::remove_cvref_t<K>>>(std::forward<K>(k))) {}
    any_byte_sink(any_byte_sink&&) noexcept = default;
    any_byte_sink& operator=(any_byte_sink&&) noexcept = default;

    bool push(chunk& c) {
        written_ += c.size();
        return impl_->push(c);
    }
    bool push(std::string_view s) {
        scratch_.clear();
        scratch_.append(s);
        return push(scratch_);
    }
    std::uint64_t finish() {
        impl_->finish();
        return written_;
    }
    void abort(const error& e) noexcept { impl_->abort(e); }
    void bind(run_context& ctx) { impl_->bind(ctx); }

private:
    struct concept_t {
        virtual ~concept_t() = default;
        virtual bool push(chunk&) = 0;
        virtual void finish() = 0;
        virtual void abort(const error&) noexcept = 0;
        virtual void bind(run_context&) = 0;
    };
    template <class K>
    struct model final : concept_t {
        explicit model(K k) : sink(std::move(k)) {}
        bool push(chunk& c) override { return sink.push(c); }
        void finish() override { (void)sink.finish(); }
        void abort(const error& e) noexcept override { sink.abort(e); }
        void bind(run_context& ctx) override {
            if constexpr (requires { sink.bind(ctx); }) sink.bind(ctx);
        }
        K sink;
    };

    std::unique_ptr<concept_t> impl_;
    chunk scratch_;
    std::uint64_t written_ = 0;
};

}  // namespace sluice
