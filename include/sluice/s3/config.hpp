#pragma once
/// \file
/// `s3::config`: credentials, region, endpoint, addressing style, timeouts, retry policy and
/// circuit breaker settings. `config::from_env()` reads them the way the AWS CLI does:
///
/// | setting      | source, first found wins                                                 |
/// |--------------|--------------------------------------------------------------------------|
/// | credentials  | AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); else     |
/// |              | the profile AWS_PROFILE (default "default") of the shared credentials file |
/// |              | AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials)                  |
/// | region       | AWS_REGION, AWS_DEFAULT_REGION, else us-east-1                            |
/// | endpoint     | AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS (https://s3.REGION.amazonaws.com) |
/// | path style   | path style when an endpoint is given, virtual-hosted for AWS; overridable |

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "../policy/circuit_breaker.hpp"
#include "../policy/retry.hpp"
#include "../core/error.hpp"
#include "sigv4.hpp"

namespace sluice::s3 {

/// Everything a client needs to reach and authenticate to S3.
struct config {
    s3::credentials credentials;
    std::string region = "us-east-1";
    /// Base URL of an S3-compatible service ("http://127.0.0.1:9000"); empty means AWS.
    std::string endpoint;
    /// Path style ("endpoint/bucket/key") or virtual-hosted ("bucket.endpoint/key");
    /// unset: path style iff `endpoint` is set.
    std::optional<bool> path_style;

    /// Time allowed to establish a connection (TCP + TLS).
    std::chrono::milliseconds connect_timeout{10'000};
    /// The low-speed timeout: a transfer that moves no byte for this long is dropped (and
    /// retried). Time spent waiting for a slow consumer of a GET does not count.
    std::chrono::milliseconds stall_timeout{30'000};
    /// Verify TLS certificates and host names (https only). Keep on outside tests.
    bool verify_tls = true;
    /// A CA bundle to trust instead of the system's (empty: the system's).
    std::string ca_file;

    /// Retries of every request (attempts in all, default 5; exponential backoff from 1 s,
    /// capped at 20 s, equal jitter: the default waits 7.5 to 15 s in all before giving up,
    /// longer than a typical S3 brown-out). Its `stop` and `retryable` fields are set per
    /// request by the client. Tests lower `base_delay` to stay fast.
    retry_policy retry{.max_attempts = 5,
                       .base_delay = std::chrono::milliseconds(1000),
                       .max_delay = std::chrono::milliseconds(20'000)};
    /// The settings of the endpoint's two breakers (connection failures, server errors),
    /// shared by every request of one client (one client = one endpoint). The threshold
    /// counts failed *calls* (after their retries), not attempts.
    circuit_breaker_options breaker{};

    /// Whether requests use path-style addressing.
    bool uses_path_style() const noexcept { return path_style.value_or(!endpoint.empty()); }

    /// The endpoint requests go to: `endpoint`, or AWS's regional endpoint.
    std::string effective_endpoint() const {
        if (!endpoint.empty()) {
            std::string e = endpoint;
            while (!e.empty() && e.back() == '/') e.pop_back();
            return e;
        }
        return "https://s3." + region + ".amazonaws.com";
    }

    /// A configuration from the environment and the shared credentials file (see the
    /// table above). Missing credentials are not an error here: the first request fails
    /// with a message that says where credentials are looked for.
    static config from_env();
};

namespace detail {

inline std::string env_or(const char* name, std::string fallback = {}) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

inline std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(" \t\r");
    return std::string(s.substr(b, e - b + 1));
}

/// Reads one profile of an INI-style AWS credentials file; empty credentials when the file
/// or the profile does not exist.
inline credentials read_credentials_file(const std::string& path, const std::string& profile) {
    credentials c;
    std::ifstream in(path);
    if (!in) return c;
    std::string line;
    bool in_profile = false;
    while (std::getline(in, line)) {
        std::string t = trim(line);
        if (t.empty() || t[0] == '#' || t[0] == ';') continue;
        if (t.front() == '[' && t.back() == ']') {
            std::string name = trim(std::string_view(t).substr(1, t.size() - 2));
            // The config file spells profiles "[profile x]"; accept both forms.
            if (name.starts_with("profile ")) name = trim(std::string_view(name).substr(8));
            in_profile = name == profile;
            continue;
        }
        if (!in_profile) continue;
        auto eq = t.find('=');
        if (eq == std::string::npos) continue;
        std::string k = trim(std::string_view(t).substr(0, eq));
        std::string v = trim(std::string_view(t).substr(eq + 1));
        if (k == "aws_access_key_id") c.access_key_id = v;
        else if (k == "aws_secret_access_key") c.secret_access_key = v;
        else if (k == "aws_session_token") c.session_token = v;
    }
    return c;
}

}  // namespace detail

inline config config::from_env() {
    config c;
    c.region = detail::env_or("AWS_REGION", detail::env_or("AWS_DEFAULT_REGION", "us-east-1"));
    c.endpoint = detail::env_or("AWS_ENDPOINT_URL_S3", detail::env_or("AWS_ENDPOINT_URL"));
    c.credentials.access_key_id = detail::env_or("AWS_ACCESS_KEY_ID");
    c.credentials.secret_access_key = detail::env_or("AWS_SECRET_ACCESS_KEY");
    c.credentials.session_token = detail::env_or("AWS_SESSION_TOKEN");
    if (c.credentials.empty()) {
        std::string file = detail::env_or("AWS_SHARED_CREDENTIALS_FILE");
        if (file.empty()) {
            std::string home = detail::env_or("HOME");
            if (!home.empty()) file = home + "/.aws/credentials";
        }
        if (!file.empty())
            c.credentials =
                detail::read_credentials_file(file, detail::env_or("AWS_PROFILE", "default"));
    }
    return c;
}

}  // namespace sluice::s3
