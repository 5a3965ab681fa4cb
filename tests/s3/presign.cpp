// Presigned GET URLs: fetched with curl (an independent client) they return the object;
// tampered with, the proxy refuses them.
#include "support.hpp"

using namespace s3test;

namespace {
std::string curl_status(const std::string& url) {
    auto [rc, out] = shell("curl -s -o /dev/null -w '%{http_code}' '" + url + "'");
    return rc == 0 ? out : "curl failed";
}
}  // namespace

TEST_CASE("presign rejects out-of-range expiries", "[s3][presign]") {
    auto c = test_config();
    c.endpoint = "http://127.0.0.1:9";
    CHECK_THROWS_WITH(s3::presign(c, "b", "k", std::chrono::seconds(0)), Catch::Contains("between 1 and 604800"));
    CHECK_THROWS_WITH(s3::presign(c, "b", "k", std::chrono::seconds(604801)), Catch::Contains("7 days"));
    CHECK_NOTHROW(s3::presign(c, "b", "k", std::chrono::seconds(604800)));
    std::string url = s3::presign(c, "b", "dir/a b.txt");
    CHECK(url.starts_with("http://127.0.0.1:9/b/dir/a%20b.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"));
    CHECK(url.find("X-Amz-Expires=3600") != std::string::npos);
    c.credentials = {};
    CHECK_THROWS_WITH(s3::presign(c, "b", "k"), Catch::Contains("no AWS credentials"));
}

TEST_CASE("a presigned URL fetched with curl returns the object; a tampered one is refused",
          "[s3][presign]") {
    S3_REQUIRE_SERVER();
    std::string key = unique_key("presign/obj") + " with space";
    std::string body = test_data::all(200'000, 7);
    sluice::run(std::vector<std::string>{body}, s3::upload(test_config(), bucket(), key));

    std::string url = s3::presign(test_config(), bucket(), key, std::chrono::seconds(600));
    auto [rc, fetched] = shell("curl -sf '" + url + "'");
    CHECK(rc == 0);
    CHECK(fetched == body);

    auto tamper = [&](const std::string& from, const std::string& to) {
        std::string u = url;
        auto p = u.find(from);
        REQUIRE(p != std::string::npos);
        u.replace(p, from.size(), to);
        return u;
    };
    CHECK(curl_status(tamper("X-Amz-Expires=600", "X-Amz-Expires=6000")) == "403");
    CHECK(curl_status(tamper("with%20space", "with%20spade")) == "403");
    std::string sig = url.substr(url.find("X-Amz-Signature=") + 16, 4);
    CHECK(curl_status(tamper("X-Amz-Signature=" + sig, "X-Amz-Signature=" +
                                                         std::string(sig[0] == 'a' ? "b" : "a") +
                                                         sig.substr(1))) == "403");
    // An expired URL (signed two hours ago, valid one hour).
    std::string old = s3::presign(test_config(), bucket(), key, std::chrono::seconds(3600),
                                  std::chrono::system_clock::now() - std::chrono::hours(2));
    CHECK(curl_status(old) == "403");
}
