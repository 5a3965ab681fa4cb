// The service's JSON answers, on sluice::json::object_writer.
#pragma once

#include <sluice/core/json_object.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace export_service {

/// A JSON object answer, built with sluice::json::object_writer; `done()` ends it with
/// a line end.
class json_object {
public:
    json_object() = default;
    json_object(const json_object&) = delete;  // the writer points into this object
    json_object& operator=(const json_object&) = delete;

    json_object& str(std::string_view k, std::string_view v) {
        w_.string(k, v);
        return *this;
    }
    json_object& num(std::string_view k, std::uint64_t v) {
        w_.number(k, v);
        return *this;
    }
    json_object& boolean(std::string_view k, bool v) {
        w_.boolean(k, v);
        return *this;
    }
    json_object& null(std::string_view k) {
        w_.null(k);
        return *this;
    }
    json_object& raw(std::string_view k, std::string_view json) {
        w_.raw(k, json);
        return *this;
    }
    /// The object and a line end; the builder is spent.
    std::string done() {
        w_.close();
        return std::move(out_) + "\n";
    }

private:
    std::string out_;
    sluice::json::object_writer<std::string> w_{out_};
};

/// {"error": message}
inline std::string json_error(std::string_view message) {
    return json_object().str("error", message).done();
}

}  // namespace export_service
