// The destination allow-list (see destinations.hpp).
#include "destinations.hpp"

#include <sluice/core/error.hpp>
#include <sluice/s3/url.hpp>

namespace export_service {

std::optional<std::string> normalize_key(std::string_view key) {
    std::vector<std::string_view> segs;
    bool trailing = key.empty() || key.back() == '/';
    std::size_t b = 0;
    while (b <= key.size()) {
        std::size_t e = key.find('/', b);
        if (e == std::string_view::npos) e = key.size();
        std::string_view seg = key.substr(b, e - b);
        if (seg == "..") {
            if (segs.empty()) return std::nullopt;
            segs.pop_back();
        } else if (!seg.empty() && seg != ".") {
            segs.push_back(seg);
        }
        if (e == key.size() && (seg == "." || seg == "..")) trailing = true;
        b = e + 1;
    }
    std::string out;
    for (auto s : segs) {
        if (!out.empty()) out += '/';
        out += s;
    }
    if (trailing && !out.empty()) out += '/';
    return out;
}

std::string percent_decode(std::string_view s) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

namespace {

/// `key` as a folder prefix: normalised, '/' added when not empty.
std::optional<std::string> as_folder(std::string_view key) {
    auto n = normalize_key(key);
    if (n && !n->empty() && n->back() != '/') *n += '/';
    return n;
}

}  // namespace

std::vector<destination> parse_destinations(const std::string& list) {
    std::vector<destination> out;
    std::size_t b = 0;
    while (b <= list.size()) {
        std::size_t e = list.find(',', b);
        if (e == std::string::npos) e = list.size();
        std::string item = list.substr(b, e - b);
        b = e + 1;
        if (item.empty()) continue;
        auto loc = sluice::s3::parse_url(item, false);  // throws usage errors
        auto prefix = as_folder(loc.key);
        if (!prefix || prefix != as_folder(percent_decode(loc.key)))
            throw sluice::error(sluice::errc::usage, "export_service",
                                "--allow-destinations: '" + item + "' is not a plain s3://bucket/prefix/");
        out.push_back({loc.bucket, *prefix});
    }
    if (out.empty())
        throw sluice::error(sluice::errc::usage, "export_service", "--allow-destinations: no destination given");
    return out;
}

std::optional<std::string> allowed_prefix(const std::vector<destination>& allow,
                                          const std::string& bucket, const std::string& key) {
    auto raw = as_folder(key);
    auto decoded = as_folder(percent_decode(key));
    if (!raw || !decoded) return std::nullopt;
    for (const auto& d : allow)
        if (d.bucket == bucket && raw->starts_with(d.prefix) && decoded->starts_with(d.prefix))
            return raw;
    return std::nullopt;
}

}  // namespace export_service
