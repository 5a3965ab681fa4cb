#pragma once
/// \file
/// `json::object_writer`: writes one flat JSON object member by member into a std::string
/// or a `chunk`, with keys and string values escaped by core/json_escape.hpp. The one JSON
/// object builder: the metrics' JSON, the dead-letter records and the export service's
/// answers use it.
///
///     std::string out;
///     json::object_writer(out).string("stage", "csv").number("line", 3).close();
///     // {"stage":"csv","line":3}

#include <cstdint>
#include <string>
#include <string_view>

#include "json_escape.hpp"

namespace sluice::json {

/// Writes `{`, then one member per call, then `}` at `close()`. `Out` is std::string or
/// `sluice::chunk` (anything `write_string` takes with `append` and `push_back`).
template <class Out>
class object_writer {
public:
    /// Starts the object at the end of `out`, which must outlive the writer.
    explicit object_writer(Out& out) : out_(out) { out_.push_back('{'); }

    /// `"key":"value"` (the value escaped).
    object_writer& string(std::string_view key, std::string_view value) {
        member(key);
        write_string(value, out_);
        return *this;
    }
    /// `"key":123`.
    object_writer& number(std::string_view key, std::uint64_t value) {
        return raw(key, std::to_string(value));
    }
    /// `"key":true` / `false`.
    object_writer& boolean(std::string_view key, bool value) {
        return raw(key, value ? "true" : "false");
    }
    /// `"key":null`.
    object_writer& null(std::string_view key) { return raw(key, "null"); }
    /// `"key":` followed by `json`, which must already be a JSON value.
    object_writer& raw(std::string_view key, std::string_view json) {
        member(key);
        out_.append(json);
        return *this;
    }
    /// Ends the object; nothing may be added after.
    void close() { out_.push_back('}'); }

private:
    void member(std::string_view key) {
        if (!first_) out_.push_back(',');
        first_ = false;
        write_string(key, out_);
        out_.push_back(':');
    }

    Out& out_;
    bool first_ = true;
};

}  // namespace sluice::json
