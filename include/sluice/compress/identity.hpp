#pragma once
/// \file
/// `identity_codec`: copies bytes unchanged. The reference implementation of the codec
/// contract, and the `--compress none` of the CLI.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>

#include "../core/chunk.hpp"

namespace sluice {

struct identity_codec {
    std::size_t process(std::string_view in, chunk& out) const noexcept {
        std::size_t n = std::min(in.size(), out.spare());
        if (n) std::memcpy(out.tail(), in.data(), n);
        out.commit(n);
        return n;
    }
    bool finish(chunk&) const noexcept { return true; }
    /// The codec stage may hand the input's chunks on as they are (no copy).
    bool passes_through() const noexcept { return true; }
};

}  // namespace sluice
