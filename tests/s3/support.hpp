// Shared helpers of the tests/s3 integration tests: the server from the environment
// (scripts/lib/s3.sh exports it), the proxy's admin API, deterministic test data, and an
// independent reader (python3 boto3). Tests SKIP (pass with a warning) when
// SLUICE_TEST_S3_ENDPOINT is unset.
#pragma once

#include <catch2/catch.hpp>

#include <sluice/s3/s3.hpp>
#include <sluice/sluice.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace s3test {

namespace s3 = sluice::s3;

/// The test endpoint, or "" (the test then skips).
inline std::string endpoint() {
    const char* e = std::getenv("SLUICE_TEST_S3_ENDPOINT");
    return e ? e : "";
}

#define S3_REQUIRE_SERVER()                                                            \
    do {                                                                               \
        if (s3test::endpoint().empty()) {                                              \
            WARN("SKIPPED: SLUICE_TEST_S3_ENDPOINT is unset (run through scripts/test, " \
                 "or source scripts/lib/s3.sh and call s3_start)");                    \
            return;                                                                    \
        }                                                                              \
    } while (0)

inline std::string bucket() {
    const char* b = std::getenv("SLUICE_TEST_S3_BUCKET");
    return b && *b ? b : "sluice-test";
}

/// A config for the test stack with quick retries (tests should not sleep for seconds).
inline s3::config test_config() {
    s3::config c;
    c.endpoint = endpoint();
    c.region = "us-east-1";
    c.credentials = {"S3RVER", "S3RVER", ""};
    c.retry.max_attempts = 5;
    c.retry.base_delay = std::chrono::milliseconds(10);
    c.retry.max_delay = std::chrono::milliseconds(200);
    c.connect_timeout = std::chrono::milliseconds(2000);
    c.stall_timeout = std::chrono::milliseconds(5000);
    return c;
}

/// A key unique to this process and call, so parallel test executables do not collide.
inline std::string unique_key(const std::string& stem) {
    static std::mt19937_64 rng{std::random_device{}()};
    return stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(rng() % 1000000000);
}

/// Calls the proxy's admin API; returns the body (JSON).
inline std::string admin(const std::string& method, const std::string& path,
                         const std::string& json = {}) {
    sluice::net::curl_transport t;
    auto r = t.request(method, endpoint() + path, {{"Content-Type", "application/json"}}, json);
    if (r.status != 200) FAIL("admin " << path << " answered " << r.status << ": " << r.body);
    return r.body;
}

/// Part sizes, by part number, of every upload of keys starting with `prefix`, plus states.
struct upload_view {
    std::vector<std::string> states;
    std::vector<std::vector<std::pair<int, std::uint64_t>>> parts;  // per upload
    int open = 0;
};
inline upload_view uploads(const std::string& prefix) {
    std::string j = admin("GET", "/__admin/uploads?key_prefix=" + s3::sigv4::uri_encode(prefix));
    upload_view v;
    std::regex upload_re(R"re(\{"upload_id":"[^"]*","bucket":"[^"]*","key":"[^"]*","state":"(\w+)","parts":\[([^\]]*)\])re");
    std::regex part_re(R"re("number":(\d+),"size":(\d+))re");
    for (auto it = std::sregex_iterator(j.begin(), j.end(), upload_re); it != std::sregex_iterator(); ++it) {
        v.states.push_back((*it)[1]);
        if ((*it)[1] == "open") ++v.open;
        std::vector<std::pair<int, std::uint64_t>> ps;
        std::string list = (*it)[2];
        for (auto p = std::sregex_iterator(list.begin(), list.end(), part_re); p != std::sregex_iterator(); ++p)
            ps.emplace_back(std::stoi((*p)[1]), std::stoull((*p)[2]));
        v.parts.push_back(std::move(ps));
    }
    return v;
}

/// Injects a fault (see tests/s3/proxy/proxy.js), scoped to keys starting with `prefix`.
inline void fault(const std::string& prefix, const std::string& fields) {
    admin("POST", "/__admin/faults", "{\"key_prefix\":\"" + prefix + "\"," + fields + "}");
}

/// Deterministic pseudo-random bytes (xorshift), so data is incompressible and checkable.
class test_data : public sluice::root_source<test_data> {
public:
    using reference = sluice::chunk&;
    /// `total` bytes in blocks of `block`; throws std::runtime_error once `fail_at` bytes
    /// have been produced (if set).
    test_data(std::uint64_t total, std::size_t block = 64 * 1024, std::uint64_t seed = 1,
              std::uint64_t fail_at = UINT64_MAX)
        : total_(total), block_(block), state_(seed * 0x9E3779B97F4A7C15ull + 1), fail_at_(fail_at) {}

    sluice::maybe<sluice::chunk&> next() {
        check_stop("test_data");
        if (made_ >= fail_at_) throw std::runtime_error("injected pipeline failure");
        if (made_ >= total_) return {};
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(block_, total_ - made_));
        buf_.clear();
        char* p = buf_.extend(n);
        for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>(byte());
        made_ += n;
        return buf_;
    }

    /// The whole stream as a string (for small comparisons).
    static std::string all(std::uint64_t total, std::uint64_t seed = 1) {
        test_data d(total, 1 << 20, seed);
        std::string s;
        while (auto c = d.next()) s.append((*c).view());
        return s;
    }

private:
    unsigned char byte() {
        state_ ^= state_ << 13;
        state_ ^= state_ >> 7;
        state_ ^= state_ << 17;
        return static_cast<unsigned char>(state_ >> 24);
    }
    std::uint64_t total_, made_ = 0;
    std::size_t block_;
    std::uint64_t state_;
    std::uint64_t fail_at_;
    sluice::chunk buf_;
};

/// SHA-256 (hex) of a test_data stream, computed incrementally.
inline std::string sha256_of_stream(std::uint64_t total, std::uint64_t seed = 1) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
    test_data d(total, 1 << 20, seed);
    while (auto c = d.next()) EVP_DigestUpdate(ctx, (*c).data(), (*c).size());
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    return s3::sigv4::hex(md, 32);
}

/// Runs a shell command, returns (exit status, stdout).
inline std::pair<int, std::string> shell(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return {-1, {}};
    std::array<char, 4096> buf;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    int st = ::pclose(p);
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

/// Reads an object with boto3 (an independent client); returns "<size> <sha256>" or "" when
/// python3-boto3 is not installed.
inline std::string boto3_size_and_sha256(const std::string& key) {
    std::string py =
        "import boto3,hashlib,sys\n"
        "s=boto3.client('s3',endpoint_url='" + endpoint() + "',region_name='us-east-1',"
        "aws_access_key_id='S3RVER',aws_secret_access_key='S3RVER')\n"
        "b=s.get_object(Bucket='" + bucket() + "',Key=sys.argv[1])['Body']\n"
        "h=hashlib.sha256();n=0\n"
        "for c in iter(lambda: b.read(1<<20), b''):\n  h.update(c);n+=len(c)\n"
        "print(n,h.hexdigest())\n";
    auto [rc, out] = shell("python3 -c \"import boto3\" 2>/dev/null && python3 -c \"" + py +
                           "\" '" + key + "'");
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return rc == 0 ? out : "";
}

/// True if `s` contains nothing secret: the secret key, a signature, a session token.
inline bool leaks_nothing(const std::string& s, const s3::credentials& c) {
    return s.find(c.secret_access_key) == std::string::npos &&
           (c.session_token.empty() || s.find(c.session_token) == std::string::npos) &&
           s.find("Signature=") == std::string::npos && s.find("Authorization") == std::string::npos;
}

}  // namespace s3test
