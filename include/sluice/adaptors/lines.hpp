#pragma once
/// \file
/// `lines()`: splits a byte stream into lines (LF or CRLF), yielding `std::string_view`s
/// valid until the next pull. A final line without a line end is yielded too.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/adaptor.hpp"
#include "../core/error.hpp"
#include "../core/stage.hpp"

namespace sluice {

/// Options of `lines()`.
struct lines_options {
    /// Keep a trailing '\r' (by default CRLF line ends are treated as line ends).
    bool keep_cr = false;
    /// A longer line is an error (it bounds the carry-over buffer, so memory stays flat).
    std::size_t max_line_length = 64 * 1024 * 1024;
};

namespace detail {

template <class Up>
class lines_stage : public stage_base<lines_stage<Up>, Up> {
    using base = stage_base<lines_stage<Up>, Up>;

public:
    using reference = std::string_view;

    lines_stage(Up up, lines_options o) : base(std::move(up)), opt_(o) {}

    maybe<std::string_view> next() {
        if (clear_carry_) {
            carry_.clear();
            clear_carry_ = false;
        }
        for (;;) {
            if (!cur_.empty()) {
                if (auto line = split(cur_)) return line;
            }
            if (up_done_) {
                if (carry_.empty()) return {};
                clear_carry_ = true;
                return finish_line(carry_.view());
            }
            auto r = this->up_.next();
            if (!r)
                up_done_ = true;
            else
                cur_ = bytes_of(*r);
        }
    }

    template <class F>
    bool for_each_while(F&& f) {
        if (clear_carry_) {
            carry_.clear();
            clear_carry_ = false;
        }
        // Lines left from pulls made before switching to the push path.
        while (!cur_.empty())
            if (auto line = split(cur_)) {
                if (!f(std::string_view(*line))) return false;
                carry_.clear();
            }
        if (!up_done_) {
            downstream out(f);
            this->up_.for_each_while([&](auto&& bytes) -> bool {
                std::string_view s = bytes_of(bytes);
                while (!s.empty()) {
                    auto line = split(s);
                    if (!line) break;
                    if (!out(std::string_view(*line))) {
                        cur_ = s;  // keep the rest for a later pull
                        return false;
                    }
                    if (!carry_.empty()) carry_.clear();
                }
                return true;
            });
            if (out.stopped()) return false;
            up_done_ = true;
        }
        if (!carry_.empty()) {
            std::string_view last = finish_line(carry_.view());
            clear_carry_ = true;
            return f(last);
        }
        return true;
    }

    /// The 1-based number of the line last yielded.
    std::uint64_t line_number() const noexcept { return line_; }

private:
    /// Takes one complete line off the front of `s`, or moves an incomplete tail into the
    /// carry-over buffer and returns nothing.
    maybe<std::string_view> split(std::string_view& s) {
        const void* nl = std::memchr(s.data(), '\n', s.size());
        if (!nl) {
            if (carry_.size() + s.size() > opt_.max_line_length) too_long();
            carry_.append(s);
            s = {};
            return {};
        }
        std::size_t len = static_cast<std::size_t>(static_cast<const char*>(nl) - s.data());
        std::string_view piece = s.substr(0, len);
        s.remove_prefix(len + 1);
        if (carry_.empty()) return finish_line(piece);
        if (carry_.size() + piece.size() > opt_.max_line_length) too_long();
        carry_.append(piece);
        clear_carry_ = true;
        return finish_line(carry_.view());
    }
    std::string_view finish_line(std::string_view line) {
        ++line_;
        if (!opt_.keep_cr && !line.empty() && line.back() == '\r') line.remove_suffix(1);
        return line;
    }
    [[noreturn]] void too_long() const {
        position p;
        p.line = line_ + 1;
        throw error(errc::bad_input, "lines",
                    "line longer than " + std::to_string(opt_.max_line_length) + " bytes", p);
    }

    lines_options opt_;
    std::string_view cur_;
    chunk carry_;
    bool clear_carry_ = false;
    bool up_done_ = false;
    std::uint64_t line_ = 0;
};

}  // namespace detail

/// `bytes | lines()` yields each line without its line end.
struct lines_fn : adaptor<lines_fn, lines_options> {
    template <class Up, class... O>
    using rules = adaptor_rules<rule<byte_like<reference_t<Up>>,
                                     "sluice::lines: the upstream must yield bytes (chunks or "
                                     "strings)">>;
    template <class Up>
    static auto make(Up up, lines_options o = {}) {
        return detail::lines_stage<Up>(std::move(up), o);
    }
};
inline constexpr lines_fn lines{};

}  // namespace sluice
