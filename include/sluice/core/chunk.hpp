#pragma once
/// \file
/// `chunk`: the unit of the byte layer - a reusable, growable byte buffer. Byte stages
/// yield `chunk&` into a buffer they own and refill; a consumer that needs the bytes
/// later may move the chunk out (the producer then allocates afresh), which is how
/// chunks cross threads without a copy.

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace sluice {

/// Default size of the chunks that `encode` and `compress` hand downstream.
inline constexpr std::size_t default_chunk_size = 64 * 1024;

/// A contiguous byte buffer with a size and a capacity. Uninitialised beyond `size()`.
class chunk {
public:
    chunk() = default;
    explicit chunk(std::size_t capacity) { reserve(capacity); }
    chunk(chunk&& o) noexcept
        : data_(std::move(o.data_)), size_(std::exchange(o.size_, 0)),
          cap_(std::exchange(o.cap_, 0)) {}
    chunk& operator=(chunk&& o) noexcept {
        data_ = std::move(o.data_);
        size_ = std::exchange(o.size_, 0);
        cap_ = std::exchange(o.cap_, 0);
        return *this;
    }
    /// Copies are explicit: `chunk c = other.clone();`.
    chunk(const chunk&) = delete;
    chunk& operator=(const chunk&) = delete;
    chunk clone() const {
        chunk c(size_);
        c.append(view());
        return c;
    }
    /// An owned copy for collecting sinks (`to_vector`, `batch`): the same as `clone()`.
    chunk to_owned() const { return clone(); }

    char* data() noexcept { return data_.get(); }
    const char* data() const noexcept { return data_.get(); }
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return cap_; }
    /// Bytes that can be written after the content without growing.
    std::size_t spare() const noexcept { return cap_ - size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::string_view view() const noexcept { return {data_.get(), size_}; }
    std::span<const std::byte> bytes() const noexcept {
        return {reinterpret_cast<const std::byte*>(data_.get()), size_};
    }

    /// Forgets the content, keeps the capacity.
    void clear() noexcept { size_ = 0; }
    /// Ensures a capacity of at least `n`, keeping the content.
    void reserve(std::size_t n) {
        if (n <= cap_) return;
        auto fresh = std::make_unique_for_overwrite<char[]>(n);
        if (size_) std::memcpy(fresh.get(), data_.get(), size_);
        data_ = std::move(fresh);
        cap_ = n;
    }
    /// Ensures `n` spare bytes, growing geometrically so appends stay amortised O(1).
    void reserve_spare(std::size_t n) {
        if (n > spare()) [[unlikely]]
            grow(n);
    }
    /// The writable area after the content; `commit(k)` then adds k written bytes.
    char* tail() noexcept { return data_.get() + size_; }
    void commit(std::size_t n) noexcept { size_ += n; }
    /// Makes room for `n` bytes, counts them as content and returns where they go.
    char* extend(std::size_t n) {
        reserve_spare(n);
        char* p = tail();
        size_ += n;
        return p;
    }
    /// Drops content from the end (n <= size()).
    void shrink(std::size_t n) noexcept { size_ -= n; }
    void resize(std::size_t n) {
        reserve(n);
        size_ = n;
    }
    void append(std::string_view s) {
        reserve_spare(s.size());
        if (!s.empty()) std::memcpy(data_.get() + size_, s.data(), s.size());
        size_ += s.size();
    }
    void append(const char* p, std::size_t n) { append(std::string_view(p, n)); }
    void push_back(char c) {
        reserve_spare(1);
        data_[size_++] = c;
    }
    /// Removes the first `n` bytes, moving the rest to the front (for carry-over buffers).
    void erase_front(std::size_t n) noexcept {
        if (n >= size_) {
            size_ = 0;
            return;
        }
        std::memmove(data_.get(), data_.get() + n, size_ - n);
        size_ -= n;
    }

private:
    void grow(std::size_t n) {
        std::size_t want = size_ + n;
        std::size_t next = cap_ < 64 ? 64 : cap_ + cap_ / 2;
        reserve(next > want ? next : want);
    }

    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0;
    std::size_t cap_ = 0;
};

namespace detail {
template <class T>
concept has_view_member = requires(const T& t) {
    { t.view() } -> std::convertible_to<std::string_view>;
};
}  // namespace detail

/// Records that are bytes: chunks, strings, string_views and anything with `view()`.
template <class T>
concept byte_like = detail::has_view_member<std::remove_cvref_t<T>> ||
                    std::convertible_to<const std::remove_cvref_t<T>&, std::string_view>;

/// The bytes of a byte-like record, as a view.
template <byte_like T>
std::string_view bytes_of(const T& x) noexcept {
    if constexpr (detail::has_view_member<T>)
        return x.view();
    else
        return std::string_view(x);
}

}  // namespace sluice
