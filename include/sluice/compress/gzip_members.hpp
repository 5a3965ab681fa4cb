#pragma once
/// \file
/// The multi-member framing shared by the gzip decompressors (zlib, ISA-L): one or more
/// concatenated gzip members (RFC 1952 section 2.2), the magic-number check between
/// members, and the errors for trailing garbage, truncated and empty input. Each backend
/// supplies only its inflate step.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/error.hpp"

namespace sluice::gzip::detail {

/// What one inflate call of a backend did.
struct inflate_step {
    std::size_t took = 0;     ///< compressed bytes consumed
    bool member_end = false;  ///< the member's trailer was read (and checked)
};

/// CRTP base of a gzip decompressor. `Backend` provides
/// - `inflate_step step(std::string_view in, chunk& out, std::uint64_t at)`: one inflate
///   call into `out`'s spare capacity; throws (through `fail`) on corrupt data, `at` being
///   the compressed offset of `in`;
/// - `void restart()`: ready for the next member.
template <class Backend>
class member_reader {
public:
    /// Consumes a prefix of `in`; decompressed bytes go into `out`'s spare capacity.
    std::size_t process(std::string_view in, chunk& out) {
        std::size_t used = 0;
        while (used < in.size() && out.spare() != 0) {
            if (!in_member_) start_member(in[used], consumed_ + used);
            const std::size_t before = out.size();
            const inflate_step r = backend().step(in.substr(used), out, consumed_ + used);
            used += r.took;
            if (r.member_end)
                end_member();
            else if (r.took == 0 && out.size() == before)
                break;  // no progress possible: the inflater wants more output space
        }
        consumed_ += used;
        return used;
    }

    /// Drains what the inflater still holds; an unfinished member here means truncated
    /// input, no member at all means empty input.
    bool finish(chunk& out) {
        if (!in_member_) {
            if (members_ == 0) fail("empty input: no gzip member", consumed_);
            return true;
        }
        while (out.spare() != 0) {
            const std::size_t before = out.size();
            if (backend().step({}, out, consumed_).member_end) {
                end_member();
                return true;
            }
            if (out.size() == before)
                fail("truncated gzip stream: input ends inside a member", consumed_);
        }
        return false;
    }

    /// Complete members decoded so far.
    std::uint64_t members() const noexcept { return members_; }

protected:
    /// `bad_input` from stage "gzip" at compressed byte `offset`.
    [[noreturn]] static void fail(std::string msg, std::uint64_t offset) {
        position where;
        where.byte_offset = offset;
        throw error(errc::bad_input, "gzip", std::move(msg), where);
    }

private:
    Backend& backend() noexcept { return static_cast<Backend&>(*this); }

    /// Between members only another member may follow. Checking the first magic byte here
    /// gives a clear message for trailing garbage; the inflater checks the rest.
    void start_member(char first, std::uint64_t at) {
        if (static_cast<unsigned char>(first) != 0x1f)
            fail(members_ == 0 ? "not gzip data (bad magic number)"
                               : "trailing data after the last gzip member is not a gzip member",
                 at);
        if (members_ != 0) backend().restart();
        in_member_ = true;
    }
    void end_member() noexcept {
        in_member_ = false;
        ++members_;
    }

    std::uint64_t consumed_ = 0;  // compressed bytes consumed before the current call
    std::uint64_t members_ = 0;
    bool in_member_ = false;
};

}  // namespace sluice::gzip::detail
