// The S3 destinations background exports may write to (--allow-destinations, issue 16).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace export_service {

/// One allowed destination: a bucket and a key prefix ("" for the whole bucket, else
/// normalised and ending in '/': "exports/daily/").
struct destination {
    std::string bucket;
    std::string prefix;
};

/// Parses "s3://bucket/prefix/[,s3://...]". A prefix is a folder: "s3://b/exports" allows
/// "exports/..." but not "exports-old/...". Throws sluice::error (usage) for a bad entry.
std::vector<destination> parse_destinations(const std::string& list);

/// Resolves "." and ".." segments and collapses repeated slashes; a trailing '/' stays.
/// Nothing when ".." climbs above the bucket's root.
std::optional<std::string> normalize_key(std::string_view key);

/// %XX sequences decoded (invalid ones kept as they are).
std::string percent_decode(std::string_view s);

/// The prefix to write under (normalised, ending in '/' unless empty) when `key` in
/// `bucket` lies under an allowed destination, else nothing. The key is checked as
/// written and percent-decoded (a server or proxy on the way might decode it): both
/// spellings must normalise to a place under the same allowed prefix.
std::optional<std::string> allowed_prefix(const std::vector<destination>& allow,
                                          const std::string& bucket, const std::string& key);

}  // namespace export_service
