#pragma once
/// \file
/// `json::detail::byte_window`: the bounded, padded input buffer of the streaming JSON
/// readers. Upstream chunks are copied in at most `batch` bytes at a time (a copy costs a
/// small fraction of parsing, and simdjson needs padding after each document that the
/// upstream's buffers do not promise). Before each refill the consumed prefix is dropped,
/// so the window holds at most one batch plus the record being assembled.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include <simdjson.h>

#include "../../core/chunk.hpp"
#include "../../core/stage.hpp"

namespace sluice::json::detail {

class byte_window {
public:
    /// The buffered bytes; `[0, size())`, followed by at least SIMDJSON_PADDING readable bytes.
    const char* data() const noexcept { return buf_.data(); }
    std::size_t size() const noexcept { return buf_.size(); }
    /// Readable bytes from offset `i` to the end of the allocation (padding included).
    std::size_t readable_from(std::size_t i) const noexcept { return buf_.capacity() - i; }
    /// Stream offset of `data()[0]`.
    std::uint64_t base() const noexcept { return base_; }
    /// Whether the upstream is exhausted and everything it gave is in the window.
    bool exhausted() const noexcept { return up_done_ && pending_.empty(); }

    /// Drops the bytes before `keep_from` and appends up to `batch` more bytes from `up`.
    /// Returns how many bytes were dropped (callers shift their offsets by it), and sets
    /// `got` to false if no byte could be added because the input is exhausted.
    template <class Up>
    std::size_t refill(Up& up, std::size_t keep_from, std::size_t batch, bool& got) {
        buf_.erase_front(keep_from);
        base_ += keep_from;
        got = false;
        while (pending_.empty() && !up_done_) {
            auto r = up.next();
            if (!r)
                up_done_ = true;
            else
                pending_ = bytes_of(*r);  // valid until the next pull of `up`
        }
        if (!pending_.empty()) {
            // Grow in batch steps; a record longer than a batch just takes several refills.
            std::size_t carry = buf_.size();
            std::size_t room = batch > carry ? batch - carry : batch;
            std::size_t take = pending_.size() < room ? pending_.size() : room;
            buf_.reserve_spare(take + simdjson::SIMDJSON_PADDING);  // geometric: long lines stay linear
            std::memcpy(buf_.tail(), pending_.data(), take);
            buf_.commit(take);
            pending_.remove_prefix(take);
            got = true;
        } else {
            buf_.reserve_spare(simdjson::SIMDJSON_PADDING);
        }
        // simdjson may read the padding (it never uses it): keep those bytes defined.
        std::memset(buf_.tail(), 0, simdjson::SIMDJSON_PADDING);
        return keep_from;
    }

private:
    chunk buf_;
    std::string_view pending_;
    std::uint64_t base_ = 0;
    bool up_done_ = false;
};

}  // namespace sluice::json::detail
