#pragma once
/// \file
/// `line_encoder`: the simplest encoder - each record as one line of text. Strings and
/// string views are written as they are, numbers through std::to_chars (shortest form).

#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "../core/chunk.hpp"

namespace sluice {

/// Encodes byte-like records and arithmetic values, each followed by `terminator`.
struct line_encoder {
    char terminator = '\n';

    template <class R>
        requires byte_like<R> || std::is_arithmetic_v<std::remove_cvref_t<R>>
    void encode(const R& r, chunk& out) const {
        if constexpr (byte_like<R>) {
            std::string_view s = bytes_of(r);
            char* p = out.extend(s.size() + 1);
            if (!s.empty()) std::memcpy(p, s.data(), s.size());
            p[s.size()] = terminator;
        } else if constexpr (std::is_same_v<std::remove_cvref_t<R>, bool>) {
            out.append(r ? "true" : "false");
            out.push_back(terminator);
        } else {
            out.reserve_spare(64);
            auto [end, ec] = std::to_chars(out.tail(), out.tail() + 63, r);
            *end++ = terminator;
            out.commit(static_cast<std::size_t>(end - out.tail()));
        }
    }
};

}  // namespace sluice
