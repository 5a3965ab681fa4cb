// The HTTP routes of the export service.
#pragma once

#include <httplib.h>

#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "destinations.hpp"
#include "http_server.hpp"
#include "jobs.hpp"

namespace export_service {

/// What the routes need.
struct service_config {
    std::string dsn;
    std::string token;                        // the Bearer token (SLUICE_SERVICE_TOKEN)
    std::vector<std::string> allowed_tables;  // the only tables that can be exported
    std::vector<destination> destinations;    // where jobs may write; empty: no jobs
    std::stop_token shutdown;                 // closes open downloads
    std::function<void(const std::string&)> log;
};

/// Registers the routes (and the Bearer check in front of them) on `svr`.
void install_routes(guarded_server& svr, const service_config& cfg, job_manager& jobs);

/// Constant-time comparison of the Authorization header with "Bearer <token>": both sides
/// are hashed (SHA-256) first, so neither the content nor the length leaks through timing.
bool bearer_matches(const std::string& header, const std::string& token);

}  // namespace export_service
