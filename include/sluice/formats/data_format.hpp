#pragma once
/// \file
/// Which record format a name means: `data_format` (CSV, TSV, JSON lines, a JSON array, Parquet),
/// parsed from a flag (`--from jsonl`) or implied by a file name or URL (`data.tsv.gz`,
/// `s3://bucket/day.jsonl.zst`), with the compression extension looked through. Standard
/// library only: a command line can choose its readers and writers without including them.

#include <cstdint>
#include <optional>
#include <string_view>

#include "../compress/format.hpp"

namespace sluice {

/// A record format sluice reads and writes.
enum class data_format : std::uint8_t {
    csv,    ///< RFC 4180 comma-separated values
    tsv,    ///< the same with tab delimiters
    jsonl,  ///< one JSON value per line (JSON lines, NDJSON)
    json,   ///< one JSON array of values
    parquet,  ///< Apache Parquet (columnar; read with random access: a file or an S3 object)
};

/// "csv", "tsv", "jsonl", "json" or "parquet".
constexpr std::string_view to_string(data_format f) noexcept {
    switch (f) {
        case data_format::csv:
            return "csv";
        case data_format::tsv:
            return "tsv";
        case data_format::jsonl:
            return "jsonl";
        case data_format::json:
            return "json";
        case data_format::parquet:
            return "parquet";
    }
    return "csv";
}

/// Parses a format name as a user types it: "csv", "tsv", "jsonl" (or "ndjson"), "json",
/// "parquet".
/// Anything else (other spellings too: names are exact) -> nullopt.
constexpr std::optional<data_format> parse_data_format(std::string_view name) noexcept {
    if (name == "csv")
        return data_format::csv;
    if (name == "tsv")
        return data_format::tsv;
    if (name == "jsonl" || name == "ndjson")
        return data_format::jsonl;
    if (name == "json")
        return data_format::json;
    if (name == "parquet")
        return data_format::parquet;
    return std::nullopt;
}

namespace detail {

/// The last path segment of a name: after a URL's scheme and authority (so the bucket of
/// `s3://my.bucket` is never read as an extension) and after the last '/'.
constexpr std::string_view file_name_part(std::string_view name) noexcept {
    if (auto scheme = name.find("://"); scheme != std::string_view::npos) {
        auto path = name.find('/', scheme + 3);
        name = path == std::string_view::npos ? std::string_view{} : name.substr(path);
    }
    auto slash = name.find_last_of('/');
    return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

}  // namespace detail

/// The format a file name or URL implies, from its extension, case-insensitively and
/// looking through a compression extension (`compression::known_extensions`):
/// `.csv` -> csv, `.tsv`/`.tab` -> tsv, `.jsonl`/`.ndjson` -> jsonl, `.json` -> json,
/// `.parquet` -> parquet.
/// Anything else (no extension, `-`) -> nullopt.
constexpr std::optional<data_format> data_format_from_path(std::string_view path) noexcept {
    std::string_view name = compression::strip_extension(detail::file_name_part(path));
    auto dot = name.find_last_of('.');
    if (dot == std::string_view::npos)
        return std::nullopt;
    std::string_view ext = name.substr(dot + 1);
    using ascii::iequals;
    if (iequals(ext, "tab"))
        return data_format::tsv;
    for (data_format f :
         {data_format::csv, data_format::tsv, data_format::jsonl, data_format::json, data_format::parquet})
        if (iequals(ext, to_string(f)))
            return f;
    if (iequals(ext, "ndjson"))
        return data_format::jsonl;
    return std::nullopt;
}

}  // namespace sluice
