// s3::read: a streaming GET with a bounded buffer, resumed with Range + If-Match after a
// dropped connection.
#include "../adaptors/thread_support.hpp"
#include "support.hpp"

using namespace s3test;

namespace {
std::string read_all(const s3::config& c, const std::string& key, s3::read_object_options o = {}) {
    std::string back;
    sluice::run(s3::read(c, bucket(), key, o),
                sluice::for_each([&](sluice::chunk& ch) {
                    CHECK(ch.size() <= o.block_size);
                    back.append(ch.view());
                }));
    return back;
}
}  // namespace

TEST_CASE("reads an object back in bounded blocks", "[s3][read]") {
    S3_REQUIRE_SERVER();
    std::string key = unique_key("read/plain");
    const std::uint64_t size = 3'000'000;
    sluice::run(test_data(size), s3::upload(test_config(), bucket(), key));
    CHECK(read_all(test_config(), key, {65'536, 2}) == test_data::all(size));
    // Lines straight off S3.
    std::string text_key = unique_key("read/lines");
    sluice::run(std::vector<std::string>{"a\nbb\n", "ccc\n"}, s3::upload(test_config(), bucket(), text_key));
    auto lines = sluice::run(s3::read(test_config(), bucket(), text_key) | sluice::lines(),
                             sluice::count());
    CHECK(lines == 3);
}

TEST_CASE("a dropped GET resumes where it stopped", "[s3][read]") {
    S3_REQUIRE_SERVER();
    std::string key = unique_key("read/resume");
    const std::uint64_t size = 4'000'000;
    sluice::run(test_data(size), s3::upload(test_config(), bucket(), key));
    fault(key, R"("drop_mid_get":3,"after_bytes":700000)");
    auto c = test_config();
    int retries = 0;
    c.retry.on_retry = [&](int, const sluice::error&, std::chrono::milliseconds) { ++retries; };
    CHECK(read_all(c, key, {100'000, 3}) == test_data::all(size));
}

TEST_CASE("a missing object fails at once with NoSuchKey", "[s3][read]") {
    S3_REQUIRE_SERVER();
    auto res = sluice::try_run(s3::read(test_config(), bucket(), "no/such/key"), sluice::count());
    REQUIRE_FALSE(res.has_value());
    std::string m = res.error().what();
    CHECK(m.find("GetObject s3://" + bucket() + "/no/such/key: HTTP 404 NoSuchKey") != std::string::npos);
}

TEST_CASE("stopping a read early ends the GET", "[s3][read]") {
    S3_REQUIRE_SERVER();
    std::string key = unique_key("read/early");
    sluice::run(test_data(5'000'000), s3::upload(test_config(), bucket(), key));
    auto n = sluice::run(s3::read(test_config(), bucket(), key, {65'536, 1}) | sluice::take(2),
                         sluice::count());
    CHECK(n == 2);
}

TEST_CASE("the GET thread of a read stopped early is joined when the run ends", "[s3][read]") {
    S3_REQUIRE_SERVER();
    std::string key = unique_key("read/joined");
    sluice::run(test_data(3'000'000), s3::upload(test_config(), bucket(), key));
    const int before = thread_count();
    // An lvalue pipeline outlives the run: its GET thread must not.
    auto p = s3::read(test_config(), bucket(), key, {65'536, 1}) | sluice::take(1);
    CHECK(sluice::run(p, sluice::count()) == 1);
    CHECK(threads_back_to(before));
}
