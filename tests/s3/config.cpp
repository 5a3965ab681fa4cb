// Configuration from the environment and the shared credentials file, s3:// URLs, and
// request addressing (path style vs virtual-hosted). No server needed.
#include <catch2/catch.hpp>

#include <sluice/s3/addressing.hpp>
#include <sluice/s3/config.hpp>
#include <sluice/s3/url.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

namespace s3 = sluice::s3;

namespace {
/// Sets (or with nullptr unsets) an environment variable for the scope.
class scoped_env {
public:
    scoped_env(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old, had_ = true;
        if (value)
            ::setenv(name, value, 1);
        else
            ::unsetenv(name);
    }
    ~scoped_env() {
        if (had_)
            ::setenv(name_, old_.c_str(), 1);
        else
            ::unsetenv(name_);
    }

private:
    const char* name_;
    std::string old_;
    bool had_ = false;
};
}  // namespace

TEST_CASE("s3:// URLs", "[s3][config]") {
    auto l = s3::parse_url("s3://my-bucket/dir/file.csv.gz");
    CHECK(l.bucket == "my-bucket");
    CHECK(l.key == "dir/file.csv.gz");
    CHECK(s3::to_string(l) == "s3://my-bucket/dir/file.csv.gz");
    CHECK(s3::parse_url("s3://bkt/a%20b").key == "a%20b");  // verbatim
    CHECK(s3::is_s3_url("s3://x/y"));
    CHECK_FALSE(s3::is_s3_url("/tmp/s3://x"));
    CHECK_THROWS_WITH(s3::parse_url("http://b/k"), Catch::Contains("missing the s3:// scheme"));
    CHECK_THROWS_WITH(s3::parse_url("s3:///k"), Catch::Contains("no bucket"));
    CHECK_THROWS_WITH(s3::parse_url("s3://bucket"), Catch::Contains("no object key"));
    CHECK(s3::parse_url("s3://bucket/", false).key.empty());
    CHECK_THROWS_AS(s3::parse_url("s3://b!d/k"), sluice::error);
}

TEST_CASE("environment and defaults", "[s3][config]") {
    scoped_env a("AWS_ACCESS_KEY_ID", "AKIDENV"), b("AWS_SECRET_ACCESS_KEY", "secretenv"),
        t("AWS_SESSION_TOKEN", "tok"), r("AWS_REGION", nullptr), dr("AWS_DEFAULT_REGION", nullptr),
        e("AWS_ENDPOINT_URL", nullptr), e3("AWS_ENDPOINT_URL_S3", nullptr);
    auto c = s3::config::from_env();
    CHECK(c.credentials.access_key_id == "AKIDENV");
    CHECK(c.credentials.secret_access_key == "secretenv");
    CHECK(c.credentials.session_token == "tok");
    CHECK(c.region == "us-east-1");
    CHECK(c.endpoint.empty());
    CHECK_FALSE(c.uses_path_style());
    {
        scoped_env d("AWS_DEFAULT_REGION", "eu-west-1");
        CHECK(s3::config::from_env().region == "eu-west-1");
        scoped_env r2("AWS_REGION", "ap-south-1");
        CHECK(s3::config::from_env().region == "ap-south-1");
    }
    {
        scoped_env g("AWS_ENDPOINT_URL", "http://general:1");
        CHECK(s3::config::from_env().endpoint == "http://general:1");
        scoped_env s("AWS_ENDPOINT_URL_S3", "http://s3only:2/");
        auto c2 = s3::config::from_env();
        CHECK(c2.endpoint == "http://s3only:2/");
        CHECK(c2.effective_endpoint() == "http://s3only:2");
        CHECK(c2.uses_path_style());
    }
}

TEST_CASE("shared credentials file and AWS_PROFILE", "[s3][config]") {
    std::string path = "sluice_test_credentials";
    {
        std::ofstream f(path);
        f << "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key=sdefault\n\n"
             "[profile ci]\naws_access_key_id=AKIDCI\naws_secret_access_key = sci\naws_session_token = tci\n";
    }
    scoped_env a("AWS_ACCESS_KEY_ID", nullptr), b("AWS_SECRET_ACCESS_KEY", nullptr),
        t("AWS_SESSION_TOKEN", nullptr), f("AWS_SHARED_CREDENTIALS_FILE", path.c_str()),
        p("AWS_PROFILE", nullptr);
    auto c = s3::config::from_env();
    CHECK(c.credentials.access_key_id == "AKIDDEFAULT");
    CHECK(c.credentials.secret_access_key == "sdefault");
    {
        scoped_env ci("AWS_PROFILE", "ci");
        auto c2 = s3::config::from_env();
        CHECK(c2.credentials.access_key_id == "AKIDCI");
        CHECK(c2.credentials.session_token == "tci");
    }
    {
        scoped_env none("AWS_PROFILE", "missing");
        CHECK(s3::config::from_env().credentials.empty());
    }
    std::remove(path.c_str());
}

TEST_CASE("addressing: virtual-hosted for AWS, path style for endpoints", "[s3][config]") {
    s3::config aws;
    aws.region = "eu-west-1";
    auto t = s3::target(aws, "bucket", "dir/a b+c.txt");
    CHECK(t.origin == "https://bucket.s3.eu-west-1.amazonaws.com");
    CHECK(t.host == "bucket.s3.eu-west-1.amazonaws.com");
    CHECK(t.path == "/dir/a%20b%2Bc.txt");
    // Dotted bucket names do not match the wildcard certificate: path style.
    auto d = s3::target(aws, "my.bucket", "k");
    CHECK(d.url() == "https://s3.eu-west-1.amazonaws.com/my.bucket/k");

    s3::config local;
    local.endpoint = "http://127.0.0.1:9000";
    CHECK(s3::target(local, "b", "k/x").url("uploads=") == "http://127.0.0.1:9000/b/k/x?uploads=");
    local.path_style = false;
    CHECK(s3::target(local, "b", "k").url() == "http://b.127.0.0.1:9000/k");
    aws.path_style = true;
    CHECK(s3::target(aws, "b", "k").url() == "https://s3.eu-west-1.amazonaws.com/b/k");
    s3::config bad;
    bad.endpoint = "localhost:9000";
    CHECK_THROWS_WITH(s3::target(bad, "b", "k"), Catch::Contains("has no scheme"));
}
