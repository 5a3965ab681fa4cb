// s3::upload under a run's memory budget (fewer parts in flight, 5 MiB parts, parts sent
// from the pipeline thread, a refused run that sends nothing), and resuming an upload: the
// sink opened on an existing upload with its stored parts, on_part_stored after each part.
// Against the real test stack (s3rver behind the verifying proxy).
#include "support.hpp"

#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

using namespace s3test;

namespace {

/// The proxy's count of S3 requests (admin calls are not counted).
long s3_requests() {
    std::smatch m;
    const std::string j = admin("GET", "/__admin/stats");
    REQUIRE(std::regex_search(j, m, std::regex(R"("requests":(\d+))")));
    return std::stol(m[1]);
}

/// The object's bytes, read back with s3::read.
std::string object(const std::string& key) {
    std::string out;
    sluice::run(s3::read(test_config(), bucket(), key),
                sluice::for_each([&](sluice::chunk& c) { out.append(c.view()); }));
    return out;
}

/// Deterministic bytes: `n` of them from offset `at` of one fixed stream.
std::string bytes_at(std::size_t at, std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>(((at + i) * 2654435761u) >> 13);
    return s;
}

/// Yields `blocks` in order, then throws (a failure after them) when `fail_after` is set.
struct blocks_source : sluice::root_source<blocks_source> {
    using reference = const std::string&;
    std::vector<std::string> blocks;
    bool fail_after = false;
    std::size_t i = 0;
    sluice::maybe<const std::string&> next() {
        if (i < blocks.size())
            return blocks[i++];
        if (fail_after)
            throw std::runtime_error("the source failed after its blocks");
        return {};
    }
};

std::string plan_text;
sluice::run_options with_budget(std::size_t bytes) {
    sluice::run_options o;
    o.memory_budget = bytes;
    o.on_memory_plan = [](const sluice::memory_plan& p) { plan_text = p.breakdown(); };
    return o;
}

}  // namespace

TEST_CASE("a budget lowers the upload to 5 MiB parts and fewer in flight", "[s3][upload][memory]") {
    S3_REQUIRE_SERVER();
    const std::string key = unique_key("upload/budget-mid");
    const std::size_t size = 23 * s3::mib;
    // Default 4 x 8 MiB in flight + 1 filling (41 MiB) does not fit 16 MiB: 2 x 5 MiB does.
    auto r = sluice::run(test_data(size), s3::upload(test_config(), bucket(), key),
                         with_budget(16 * s3::mib));
    CHECK_THAT(plan_text, Catch::Contains("parts in flight: 2 x 5 MiB + 1 filling"));
    CHECK(r.bytes == size);
    auto v = uploads(key);
    REQUIRE(v.states == std::vector<std::string>{"completed"});
    REQUIRE(v.parts[0].size() == 5);
    for (std::size_t i = 0; i + 1 < v.parts[0].size(); ++i)
        CHECK(v.parts[0][i].second == 5 * s3::mib);
    CHECK(v.parts[0][4].second == size - 4 * 5 * s3::mib);
    std::string h;
    {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
        const std::string back = object(key);
        EVP_DigestUpdate(ctx, back.data(), back.size());
        unsigned char md[32];
        unsigned len = 0;
        EVP_DigestFinal_ex(ctx, md, &len);
        EVP_MD_CTX_free(ctx);
        h = s3::sigv4::hex(md, 32);
    }
    CHECK(h == sha256_of_stream(size));
}

TEST_CASE("with room for no part in flight, parts go out from the pipeline thread",
          "[s3][upload][memory]") {
    S3_REQUIRE_SERVER();
    const std::string key = unique_key("upload/budget-inline");
    const std::string data = bytes_at(0, 12 * s3::mib + 777);
    blocks_source src;
    for (std::size_t at = 0; at < data.size(); at += 1 << 20)
        src.blocks.push_back(data.substr(at, 1 << 20));
    auto r = sluice::run(src, s3::upload(test_config(), bucket(), key), with_budget(6 * s3::mib));
    CHECK_THAT(plan_text, Catch::Contains("parts in flight: 0 x 5 MiB + 1 filling"));
    CHECK(r.parts == 3);
    CHECK(object(key) == data);
}

TEST_CASE("a run refused for its budget sends no S3 request", "[s3][upload][memory]") {
    S3_REQUIRE_SERVER();
    const std::string key = unique_key("upload/budget-refused");
    const long before = s3_requests();
    auto res = sluice::try_run(test_data(12 * s3::mib), s3::upload(test_config(), bucket(), key),
                               with_budget(4 * s3::mib));
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error().code() == sluice::errc::limit);
    CHECK_THAT(std::string(res.error().what()), Catch::Contains("s3.upload"));
    CHECK(s3_requests() == before);
    CHECK(uploads(key).states.empty());
}

TEST_CASE("an upload kept on abort is resumed after its stored parts", "[s3][upload][resume]") {
    S3_REQUIRE_SERVER();
    const std::string key = unique_key("upload/resume");
    const std::string data = bytes_at(7, 13 * s3::mib + 12345);
    const std::size_t cut = 10 * s3::mib + 1;  // parts 1 and 2 are stored before the failure

    // First session: parts sent inline (a budget with no part in flight), so a part is
    // stored as soon as the bytes after it arrive; the source then fails.
    std::vector<s3::stored_part> stored;
    std::string upload_id;
    {
        s3::upload_options o;
        o.keep_upload_on_abort = true;
        o.on_multipart_created = [&](const std::string& id) { upload_id = id; };
        o.on_part_stored = [&](const s3::stored_part& p) { stored.push_back(p); };
        blocks_source src;
        src.blocks = {data.substr(0, 5 * s3::mib), data.substr(5 * s3::mib, 5 * s3::mib),
                      data.substr(10 * s3::mib, cut - 10 * s3::mib)};
        src.fail_after = true;
        auto res = sluice::try_run(src, s3::upload(test_config(), bucket(), key, o),
                                   with_budget(6 * s3::mib));
        REQUIRE_FALSE(res.has_value());
    }
    REQUIRE_FALSE(upload_id.empty());
    REQUIRE(stored.size() == 2);  // reported in order, each once
    CHECK(stored[0].number == 1);
    CHECK(stored[1].number == 2);
    CHECK(stored[0].size == 5 * s3::mib);
    auto v = uploads(key);
    REQUIRE(v.states == std::vector<std::string>{"open"});  // kept, not aborted
    s3::client c(test_config());
    auto listed = c.list_parts(bucket(), key, upload_id);
    REQUIRE(listed.size() == 2);
    CHECK(listed[1].etag == stored[1].etag);

    // Second session: the same upload, continued after part 2 with the rest of the data.
    std::vector<s3::stored_part> more;
    s3::upload_options o;
    o.resume = s3::resume_point{upload_id, stored};
    o.on_part_stored = [&](const s3::stored_part& p) { more.push_back(p); };
    blocks_source rest;
    rest.blocks = {data.substr(10 * s3::mib)};
    auto r = sluice::run(rest, s3::upload(test_config(), bucket(), key, o));
    CHECK(r.bytes == data.size());
    CHECK(r.parts == 3);
    REQUIRE(more.size() == 1);  // the resumed parts are not reported again
    CHECK(more[0].number == 3);
    v = uploads(key);
    REQUIRE(v.states == std::vector<std::string>{"completed"});
    CHECK(object(key) == data);
}
