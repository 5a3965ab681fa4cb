#pragma once
/// \file
/// ASCII case folding, the one copy: HTTP header names (net/, s3 SigV4), file extensions
/// (compress/, formats/) and CSV/record spellings such as `TRUE`. Only A-Z fold; bytes
/// past 0x7F are compared as they are, whatever the C locale says.

#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::ascii {

/// `c` with A-Z folded to a-z.
constexpr char to_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Equal but for ASCII case.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (to_lower(a[i]) != to_lower(b[i])) return false;
    return true;
}

/// `s` ends with `suffix`, but for ASCII case.
constexpr bool iends_with(std::string_view s, std::string_view suffix) noexcept {
    return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

/// A copy of `s` with A-Z folded to a-z.
inline std::string lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = to_lower(c);
    return out;
}

}  // namespace sluice::ascii
