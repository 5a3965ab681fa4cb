// s3::upload against the real test stack (s3rver behind the verifying proxy): multipart
// streaming, part numbering and growth, PutObject for small and empty streams, cleanup on
// failure and cancellation, the memory budget.
#include "support.hpp"

#include <chrono>
#include <stop_token>
#include <thread>

using namespace s3test;
using namespace std::chrono_literals;

TEST_CASE("60 MB through the sink, read back byte-identical by boto3", "[s3][upload]") {
    S3_REQUIRE_SERVER();
    const std::uint64_t size = 60'000'000;
    std::string key = unique_key("upload/60mb");
    auto t0 = std::chrono::steady_clock::now();
    auto r = sluice::run(test_data(size), s3::upload(test_config(), bucket(), key));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    WARN("60 MB upload (8 MiB parts, 4 in flight, through the proxy): " << secs << " s, "
         << (size / 1e6 / secs) << " MB/s");
    CHECK(r.bytes == size);
    CHECK(r.multipart);
    CHECK(r.parts == 8);  // 7 x 8 MiB + 1,279,744 bytes

    auto v = uploads(key);
    REQUIRE(v.states == std::vector<std::string>{"completed"});
    REQUIRE(v.parts[0].size() == 8);
    for (int i = 0; i < 7; ++i) {
        CHECK(v.parts[0][static_cast<std::size_t>(i)].first == i + 1);
        CHECK(v.parts[0][static_cast<std::size_t>(i)].second == 8 * s3::mib);
    }
    CHECK(v.parts[0][7].second == size - 7 * 8 * s3::mib);

    std::string independent = boto3_size_and_sha256(key);
    if (independent.empty()) {
        WARN("python3-boto3 not installed: reading back with s3::read instead");
        std::string h;
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
        sluice::run(s3::read(test_config(), bucket(), key),
                    sluice::for_each([&](sluice::chunk& c) { EVP_DigestUpdate(ctx, c.data(), c.size()); }));
        unsigned char md[32];
        unsigned len = 0;
        EVP_DigestFinal_ex(ctx, md, &len);
        EVP_MD_CTX_free(ctx);
        CHECK(s3::sigv4::hex(md, 32) == sha256_of_stream(size));
    } else {
        CHECK(independent == std::to_string(size) + " " + sha256_of_stream(size));
    }
}

TEST_CASE("parts are numbered 1..N and grow by doubling", "[s3][upload]") {
    S3_REQUIRE_SERVER();
    admin("POST", "/__admin/config", R"({"min_part_size":1})");
    std::string key = unique_key("upload/growth");
    s3::upload_options o;
    o.part_size = 64 * 1024;
    o.allow_small_parts_for_testing = true;
    o.growth_interval = 3;
    o.concurrency = 3;
    // 3 x 64 KiB + 3 x 128 KiB + 3 x 256 KiB = 1,376,256 bytes in parts 1-9, then a last
    // part of 123,744 bytes (part 10 would be 512 KiB).
    const std::uint64_t size = 1'500'000;
    auto r = sluice::run(test_data(size, 10'000), s3::upload(test_config(), bucket(), key, o));
    CHECK(r.parts == 10);

    auto v = uploads(key);
    REQUIRE(v.states == std::vector<std::string>{"completed"});
    std::vector<std::pair<int, std::uint64_t>> expected;
    for (int n = 1; n <= 9; ++n)
        expected.emplace_back(n, std::uint64_t(64 * 1024) << ((n - 1) / 3));
    expected.emplace_back(10, size - 1'376'256);
    CHECK(v.parts[0] == expected);

    // The stored object is the stream, in order.
    std::string back;
    sluice::run(s3::read(test_config(), bucket(), key, {100'000, 2}),
                sluice::for_each([&](sluice::chunk& c) { back.append(c.view()); }));
    CHECK(back == test_data::all(size));
}

TEST_CASE("part size arithmetic survives part 10,001", "[s3][upload]") {
    // Pure arithmetic: with 5 MiB doubling every 1,000 parts, 10,000 parts hold ~4.9 TiB.
    std::uint64_t total = 0;
    for (std::uint32_t n = 1; n <= s3::max_parts; ++n)
        total += s3::detail::part_size_for(5 * s3::mib, 1000, n);
    CHECK(total > 4ull * 1024 * 1024 * s3::mib);
    CHECK(s3::detail::part_size_for(8 * s3::mib, 1000, 1000) == 8 * s3::mib);
    CHECK(s3::detail::part_size_for(8 * s3::mib, 1000, 1001) == 16 * s3::mib);
    CHECK(s3::detail::part_size_for(8 * s3::mib, 1000, 10000) == 4096 * s3::mib);
}

TEST_CASE("small output is one PutObject; an empty stream an empty object", "[s3][upload]") {
    S3_REQUIRE_SERVER();
    std::string small = unique_key("upload/small");
    auto r = sluice::run(test_data(100'000), s3::upload(test_config(), bucket(), small));
    CHECK_FALSE(r.multipart);
    CHECK(r.parts == 1);
    CHECK(r.bytes == 100'000);
    CHECK(uploads(small).states.empty());
    CHECK(s3::client(test_config()).head_object(bucket(), small).header("Content-Length") == "100000");

    // Exactly one part's worth is still a single PutObject.
    s3::upload_options o;
    o.part_size = 256 * 1024;
    o.allow_small_parts_for_testing = true;
    std::string exact = unique_key("upload/exact");
    CHECK_FALSE(sluice::run(test_data(256 * 1024, 1000), s3::upload(test_config(), bucket(), exact, o)).multipart);

    std::string empty = unique_key("upload/empty");
    auto e = sluice::run(std::vector<std::string>{}, s3::upload(test_config(), bucket(), empty));
    CHECK(e.bytes == 0);
    CHECK_FALSE(e.multipart);
    CHECK(e.parts == 1);  // one PutObject of nothing
    CHECK(uploads(empty).states.empty());
    CHECK(s3::client(test_config()).head_object(bucket(), empty).header("Content-Length") == "0");
}

// Issue 10: a .jsonl.gz object could not carry Content-Encoding, and `parts` was 0 for the
// single PutObject it is.
TEST_CASE("content type and encoding reach the object on both upload paths", "[s3][upload]") {
    S3_REQUIRE_SERVER();
    s3::upload_options o;
    o.content_type = "application/x-ndjson";
    o.content_encoding = "gzip";
    s3::client cli(test_config());

    std::string single = unique_key("upload/typed-single.jsonl.gz");
    auto r = sluice::run(test_data(10'000), s3::upload(test_config(), bucket(), single, o));
    CHECK_FALSE(r.multipart);
    CHECK(r.parts == 1);
    auto h = cli.head_object(bucket(), single);
    CHECK(h.header("Content-Type") == "application/x-ndjson");
    CHECK(h.header("Content-Encoding") == "gzip");

    admin("POST", "/__admin/config", R"({"min_part_size":1})");
    o.part_size = 64 * 1024;
    o.allow_small_parts_for_testing = true;
    std::string multi = unique_key("upload/typed-multi.jsonl.gz");
    auto m = sluice::run(test_data(200'000, 10'000), s3::upload(test_config(), bucket(), multi, o));
    CHECK(m.multipart);
    CHECK(m.parts == 4);
    auto hm = cli.head_object(bucket(), multi);
    CHECK(hm.header("Content-Type") == "application/x-ndjson");
    CHECK(hm.header("Content-Encoding") == "gzip");

    // Without the options neither header is invented.
    std::string plain = unique_key("upload/untyped");
    CHECK(sluice::run(test_data(1'000), s3::upload(test_config(), bucket(), plain)).parts == 1);
    CHECK(cli.head_object(bucket(), plain).header("Content-Encoding").empty());
}

namespace {
void require_gone(const std::string& key) {
    auto v = uploads(key);
    CHECK(v.open == 0);
    for (const auto& s : v.states) CHECK(s == "aborted");
    try {
        s3::client(test_config()).head_object(bucket(), key);
        FAIL("object exists: " << key);
    } catch (const s3::s3_error& e) {
        CHECK(e.status() == 404);
    }
}
}  // namespace

TEST_CASE("an exception in the pipeline leaves no object and no upload", "[s3][upload]") {
    S3_REQUIRE_SERVER();
    admin("POST", "/__admin/config", R"({"min_part_size":1})");
    s3::upload_options o;
    o.part_size = 256 * 1024;
    o.allow_small_parts_for_testing = true;

    std::string key = unique_key("upload/fail-mid");
    auto res = sluice::try_run(test_data(10'000'000, 50'000, 1, 1'000'000),
                               s3::upload(test_config(), bucket(), key, o));
    REQUIRE_FALSE(res.has_value());
    CHECK(std::string(res.error().what()).find("injected pipeline failure") != std::string::npos);
    auto v = uploads(key);
    // A multipart upload had been created (parts were in flight), and was aborted; parts
    // still in flight were cancelled, so how many reached the server varies.
    CHECK(v.states == std::vector<std::string>{"aborted"});
    require_gone(key);

    // Failing before the first part fills: no upload was ever created, nothing stored.
    std::string early = unique_key("upload/fail-early");
    CHECK_FALSE(sluice::try_run(test_data(10'000'000, 50'000, 1, 100'000),
                                s3::upload(test_config(), bucket(), early, o))
                    .has_value());
    CHECK(uploads(early).states.empty());
    require_gone(early);
}

TEST_CASE("cancellation aborts the upload", "[s3][upload]") {
    S3_REQUIRE_SERVER();
    admin("POST", "/__admin/config", R"({"min_part_size":1})");
    s3::upload_options o;
    o.part_size = 128 * 1024;
    o.allow_small_parts_for_testing = true;
    std::string key = unique_key("upload/cancel");
    std::stop_source stop;
    std::uint64_t seen = 0;
    auto src = test_data(50'000'000, 16'384) | sluice::tap([&](const sluice::chunk& c) {
                   seen += c.size();
                   if (seen > 2'000'000) stop.request_stop();
               });
    auto res = sluice::try_run(std::move(src), s3::upload(test_config(), bucket(), key, o),
                               sluice::run_options{stop.get_token(), nullptr});
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error().code() == sluice::errc::cancelled);
    require_gone(key);
}

TEST_CASE("the memory budget fails early and names itself", "[s3][upload]") {
    s3::upload_options o;
    o.memory_budget = 10 * s3::mib;  // below 2 x 8 MiB
    try {
        (void)s3::upload(s3::client(test_config()), "b", "k", o);
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::out_of_memory);
        CHECK(std::string(e.what()).find("memory budget of 10 MiB") != std::string::npos);
    }
    o.memory_budget = 2048 * s3::mib;
    o.part_size = 1024;
    CHECK_THROWS_WITH(s3::upload(s3::client(test_config()), "b", "k", o),
                      Catch::Contains("below S3's minimum of 5 MiB"));
}

TEST_CASE("growth past the memory budget fails with a clear error, and cleans up", "[s3][upload]") {
    S3_REQUIRE_SERVER();
    admin("POST", "/__admin/config", R"({"min_part_size":1})");
    s3::upload_options o;
    o.part_size = 1 * s3::mib;
    o.allow_small_parts_for_testing = true;
    o.growth_interval = 2;
    o.memory_budget = 5 * s3::mib;  // 1, 1, 2, 2 MiB fit (2 x 2 <= 5); a 4 MiB part does not
    std::string key = unique_key("upload/budget");
    auto res = sluice::try_run(test_data(20 * s3::mib, 65'536),
                               s3::upload(test_config(), bucket(), key, o));
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error().code() == sluice::errc::out_of_memory);
    CHECK(std::string(res.error().what()).find("memory budget of 5 MiB") != std::string::npos);
    require_gone(key);
}

TEST_CASE("session tokens are signed and accepted", "[s3][upload]") {
    S3_REQUIRE_SERVER();
    auto c = test_config();
    c.credentials.session_token = "SLUICE-TEST-SESSION-TOKEN-7f3a";
    std::string key = unique_key("upload/token");
    auto r = sluice::run(test_data(1000), s3::upload(c, bucket(), key));
    CHECK(r.bytes == 1000);
}
