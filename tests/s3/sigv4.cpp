// SigV4 against the worked examples of AWS's S3 documentation ("Signature Calculations for
// the Authorization Header" and "Authenticating Requests: Using Query Parameters"), all
// signed with the documentation's example key at 20130524T000000Z in us-east-1. The
// expected signatures were cross-checked with botocore's signer.
#include <catch2/catch.hpp>

#include <sluice/s3/sigv4.hpp>

#include <chrono>
#include <string>

namespace s3 = sluice::s3;
using s3::sigv4::request_parts;

namespace {

const s3::credentials example_key{"AKIAIOSFODNN7EXAMPLE",
                                  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
// 2013-05-24T00:00:00Z
const auto example_time = std::chrono::system_clock::time_point(std::chrono::seconds(1369353600));

std::string signature_of(const std::string& authorization) {
    return authorization.substr(authorization.find("Signature=") + 10);
}

}  // namespace

TEST_CASE("hashes and encoding", "[s3][sigv4]") {
    CHECK(s3::sigv4::sha256_hex("") == s3::empty_payload_sha256);
    CHECK(s3::sigv4::sha256_hex("Welcome to Amazon S3.") ==
          "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    CHECK(s3::sigv4::uri_encode("a b/c~d*e$") == "a%20b%2Fc~d%2Ae%24");
    CHECK(s3::sigv4::uri_encode("a b/c", true) == "a%20b/c");
    // Each segment once: a key that already contains "%20" is not decoded, it is encoded.
    CHECK(s3::sigv4::object_path("bucket", "dir/a%20b.txt") == "/bucket/dir/a%2520b.txt");
    CHECK(s3::sigv4::object_path("", "test$file.text") == "/test%24file.text");
    CHECK(s3::sigv4::amz_date(example_time) == "20130524T000000Z");
}

TEST_CASE("GET Object example", "[s3][sigv4]") {
    request_parts r{"GET", "/test.txt", {}, {{"Host", "examplebucket.s3.amazonaws.com"},
                                           {"Range", "bytes=0-9"}},
                    std::string(s3::empty_payload_sha256)};
    std::string auth = s3::sign_headers(r, example_key, "us-east-1", example_time);
    CHECK(auth ==
          "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
          "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
          "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    auto d = s3::sigv4::compute(r, example_key, "us-east-1", "20130524T000000Z");
    CHECK(d.canonical_request ==
          "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
          "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
          "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(d.string_to_sign ==
          "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
          "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
}

TEST_CASE("PUT Object example", "[s3][sigv4]") {
    std::string body = "Welcome to Amazon S3.";
    request_parts r{"PUT", s3::sigv4::object_path("", "test$file.text"), {},
                    {{"Host", "examplebucket.s3.amazonaws.com"},
                     {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                     {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                    s3::sigv4::sha256_hex(body)};
    std::string auth = s3::sign_headers(r, example_key, "us-east-1", example_time);
    CHECK(auth.find("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
                    "x-amz-storage-class,") != std::string::npos);
    CHECK(signature_of(auth) ==
          "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_CASE("GET Bucket Lifecycle and List Objects examples (query strings)", "[s3][sigv4]") {
    request_parts lifecycle{"GET", "/", {{"lifecycle", ""}},
                            {{"Host", "examplebucket.s3.amazonaws.com"}},
                            std::string(s3::empty_payload_sha256)};
    CHECK(signature_of(s3::sign_headers(lifecycle, example_key, "us-east-1", example_time)) ==
          "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");

    // Query parameters are sorted whatever order they come in.
    request_parts list{"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}},
                       {{"Host", "examplebucket.s3.amazonaws.com"}},
                       std::string(s3::empty_payload_sha256)};
    CHECK(signature_of(s3::sign_headers(list, example_key, "us-east-1", example_time)) ==
          "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("presigned URL example", "[s3][sigv4]") {
    request_parts r{"GET", "/test.txt", {}, {{"Host", "examplebucket.s3.amazonaws.com"}}, ""};
    std::string q = s3::presign_query(r, example_key, "us-east-1", example_time, 86400);
    CHECK(q ==
          "X-Amz-Algorithm=AWS4-HMAC-SHA256"
          "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
          "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
          "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST_CASE("session tokens are signed", "[s3][sigv4]") {
    s3::credentials temp = example_key;
    temp.session_token = "FQoGZXIvYXdzEXAMPLETOKEN";
    request_parts r{"GET", "/test.txt", {}, {{"Host", "examplebucket.s3.amazonaws.com"}},
                    std::string(s3::empty_payload_sha256)};
    std::string auth = s3::sign_headers(r, temp, "us-east-1", example_time);
    CHECK(auth.find("x-amz-security-token") != std::string::npos);
    bool has_token = false;
    for (const auto& h : r.headers)
        has_token |= h.first == "x-amz-security-token" && h.second == temp.session_token;
    CHECK(has_token);
    CHECK(auth.find(temp.session_token) == std::string::npos);
    CHECK(auth.find(temp.secret_access_key) == std::string::npos);

    request_parts p{"GET", "/test.txt", {}, {{"Host", "examplebucket.s3.amazonaws.com"}}, ""};
    std::string q = s3::presign_query(p, temp, "us-east-1", example_time, 3600);
    CHECK(q.find("X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLETOKEN") != std::string::npos);
}
