#pragma once
/// \file
/// Which compression a byte stream uses: the `format` enum, detection by magic bytes, by
/// file extension and by name (`--compress gzip|zstd|none`). Dependency-free, so the CLI
/// can parse options without pulling in zlib or libzstd.
///
/// Lives in namespace `sluice::compression` (not `sluice::compress`): `sluice::compress` is
/// already the `compress(codec)` adaptor object, and a namespace may not share its name.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "../core/ascii.hpp"

namespace sluice::compression {

/// A compressed-stream format sluice can read and write.
enum class format : std::uint8_t {
    none,  ///< not compressed (or not recognised): bytes pass through
    gzip,  ///< RFC 1952 gzip, one or more members
    zstd,  ///< Zstandard frames (RFC 8878)
};

/// The leading bytes of a gzip member: ID1 ID2 (RFC 1952 section 2.3.1).
inline constexpr std::array<unsigned char, 2> gzip_magic{0x1f, 0x8b};
/// The leading bytes of a zstd frame, 0xFD2FB528 little-endian (RFC 8878 section 3.1.1).
inline constexpr std::array<unsigned char, 4> zstd_magic{0x28, 0xb5, 0x2f, 0xfd};
/// How many leading bytes `detect` needs to tell every format apart.
inline constexpr std::size_t detect_bytes = zstd_magic.size();

/// "gzip", "zstd" or "none".
constexpr std::string_view to_string(format f) noexcept {
    switch (f) {
        case format::gzip:
            return "gzip";
        case format::zstd:
            return "zstd";
        case format::none:
            return "none";
    }
    return "none";
}

/// The conventional file extension with its dot (".gz", ".zst"), empty for `none`.
constexpr std::string_view extension(format f) noexcept {
    switch (f) {
        case format::gzip:
            return ".gz";
        case format::zstd:
            return ".zst";
        case format::none:
            return "";
    }
    return "";
}

namespace detail {
constexpr bool starts_with_bytes(std::string_view s, const unsigned char* magic,
                                 std::size_t n) noexcept {
    if (s.size() < n)
        return false;
    for (std::size_t i = 0; i < n; ++i)
        if (static_cast<unsigned char>(s[i]) != magic[i])
            return false;
    return true;
}
}  // namespace detail

/// The format whose magic number `first_bytes` starts with; `none` when neither matches.
/// Give it at least `detect_bytes` bytes when the stream has that many: a shorter prefix
/// can only be recognised when it already holds a whole magic number.
constexpr format detect(std::string_view first_bytes) noexcept {
    if (detail::starts_with_bytes(first_bytes, gzip_magic.data(), gzip_magic.size()))
        return format::gzip;
    if (detail::starts_with_bytes(first_bytes, zstd_magic.data(), zstd_magic.size()))
        return format::zstd;
    return format::none;
}

/// A file-name ending that names a compression format.
struct extension_name {
    std::string_view suffix;  ///< with its dot: ".gz"
    format f;
};

/// Every compression extension sluice recognises in a name (the one list: the CLI, the
/// record-format dispatch and `auto_decompress` all read it), case-insensitively.
inline constexpr std::array<extension_name, 6> known_extensions{{
    {".gz", format::gzip},
    {".gzip", format::gzip},
    {".tgz", format::gzip},
    {".zst", format::zstd},
    {".zstd", format::zstd},
    {".tzst", format::zstd},
}};

/// The compression extension `path` ends with (".gz", ".ZST"), as spelled; empty if none.
constexpr std::string_view compression_extension(std::string_view path) noexcept {
    for (const auto& e : known_extensions)
        if (ascii::iends_with(path, e.suffix))
            return path.substr(path.size() - e.suffix.size());
    return {};
}

/// The format a path's last extension names, case-insensitively: `.gz`/`.gzip`/`.tgz` ->
/// gzip, `.zst`/`.zstd`/`.tzst` -> zstd, anything else -> none. Only the name is looked at;
/// prefer `detect` on the content when it is available (files are misnamed).
constexpr format format_from_extension(std::string_view path) noexcept {
    for (const auto& e : known_extensions)
        if (ascii::iends_with(path, e.suffix))
            return e.f;
    return format::none;
}

/// `path` without its compression extension: "data.csv.gz" -> "data.csv"; other paths as
/// they are.
constexpr std::string_view strip_extension(std::string_view path) noexcept {
    return path.substr(0, path.size() - compression_extension(path).size());
}

/// Parses a format name as a user types it (`--compress`), case-insensitively:
/// "gzip"/"gz", "zstd"/"zst", "none"/"identity". Anything else -> nullopt.
constexpr std::optional<format> parse_format(std::string_view name) noexcept {
    using ascii::iequals;
    if (iequals(name, "gzip") || iequals(name, "gz"))
        return format::gzip;
    if (iequals(name, "zstd") || iequals(name, "zst"))
        return format::zstd;
    if (iequals(name, "none") || iequals(name, "identity"))
        return format::none;
    return std::nullopt;
}

/// The level a format uses when none is given: gzip 6 (as gzip(1)), zstd 3 (as zstd(1)).
constexpr int default_level(format f) noexcept {
    switch (f) {
        case format::gzip:
            return 6;
        case format::zstd:
            return 3;
        case format::none:
            return 0;
    }
    return 0;
}

}  // namespace sluice::compression
