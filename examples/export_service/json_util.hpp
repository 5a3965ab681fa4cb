// A tiny JSON object builder for the service's answers (escaping by sluice::json).
#pragma once

#include <sluice/core/chunk.hpp>
#include <sluice/core/json_escape.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace export_service {

class json_object {
public:
    json_object& str(std::string_view k, std::string_view v) {
        key(k);
        sluice::json::write_string(v, out_);
        return *this;
    }
    json_object& num(std::string_view k, std::uint64_t v) { return raw(k, std::to_string(v)); }
    json_object& boolean(std::string_view k, bool v) { return raw(k, v ? "true" : "false"); }
    json_object& null(std::string_view k) { return raw(k, "null"); }
    json_object& raw(std::string_view k, std::string_view json) {
        key(k);
        out_.append(json);
        return *this;
    }
    std::string done() {
        out_.append(first_ ? std::string_view("{}") : std::string_view("}"));
        first_ = true;
        std::string s(out_.view());
        out_.clear();
        return s + "\n";
    }

private:
    void key(std::string_view k) {
        out_.append(first_ ? std::string_view("{") : std::string_view(","));
        first_ = false;
        sluice::json::write_string(k, out_);
        out_.push_back(':');
    }
    sluice::chunk out_;
    bool first_ = true;
};

/// {"error": message}
inline std::string json_error(std::string_view message) {
    return json_object().str("error", message).done();
}

}  // namespace export_service
