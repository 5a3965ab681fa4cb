// The memory budget: plan arithmetic (fixed buffers, requests, water filling), the refusal
// and its breakdown, run() resolving before the first record, buffer_bound_v.
#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <array>
#include <string>
#include <vector>

namespace {

constexpr std::size_t mib = std::size_t{1} << 20;

/// A source that reports a fixed buffer and counts its pulls.
struct reporting_source : sluice::root_source<reporting_source> {
    using reference = int;
    std::size_t bytes = 0;
    int* pulls = nullptr;
    int left = 3;
    void bind(sluice::run_context& ctx) {
        root_source::bind(ctx);
        ctx.memory.hold("test.source", bytes, "read block");
    }
    sluice::maybe<int> next() {
        ++*pulls;
        if (left == 0)
            return {};
        return left--;
    }
};

/// A sink that asks for between `minimum` and `preferred` bytes and remembers its grant.
struct adaptive_sink : sluice::sink_base {
    std::size_t minimum = 0, preferred = 0;
    std::size_t* granted = nullptr;
    int* pushes = nullptr;
    void bind(sluice::run_context& ctx) {
        ctx.memory.request("test.sink", "parts", minimum, preferred,
                           [this](std::size_t g, std::string& what) {
                               *granted = g;
                               what = "parts (granted)";
                               return g;
                           });
    }
    bool push(int) {
        ++*pushes;
        return true;
    }
    int finish() { return *pushes; }
};

}  // namespace

TEST_CASE("a plan without a budget keeps every request at its preferred size and calls no apply",
          "[core][memory_budget]") {
    sluice::memory_plan plan;
    bool applied = false;
    plan.hold("a", 100, "block");
    plan.hold("zero", 0, "nothing");  // not listed
    plan.request("b", "parts", 10, 50, [&](std::size_t g, std::string&) {
        applied = true;
        return g;
    });
    REQUIRE(plan.items().size() == 2);
    CHECK(plan.minimum() == 110);
    CHECK(plan.total() == 150);
    plan.resolve();
    CHECK_FALSE(applied);
    CHECK(plan.total() == 150);
}

TEST_CASE("a budget below fixed buffers plus minima refuses with a breakdown by stage",
          "[core][memory_budget]") {
    sluice::memory_plan plan(std::size_t{2} * mib);
    plan.hold("read_file", 256 * 1024, "read block");
    plan.request("s3.upload", "parts in flight", 10 * mib, 40 * mib,
                 [](std::size_t g, std::string&) { return g; });
    try {
        plan.resolve();
        FAIL("an over-budget plan resolved");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::limit);
        const std::string m = e.what();
        CHECK_THAT(m, Catch::Contains("memory budget of 2.0 MiB exceeded"));
        CHECK_THAT(m, Catch::Contains("read_file"));
        CHECK_THAT(m, Catch::Contains("256.0 KiB  read block"));
        CHECK_THAT(m, Catch::Contains("s3.upload"));
        CHECK_THAT(m, Catch::Contains("10.0 MiB  parts in flight"));
        CHECK_THAT(m, Catch::Contains("10.2 MiB of a budget of 2.0 MiB"));
    }
}

TEST_CASE("a budget is shared out in equal shares capped at what each request prefers",
          "[core][memory_budget]") {
    // 100 fixed, requests: a 10..20 (extra 10), b 10..1000, c 10..1000; budget 400:
    // left 400 - 130 = 270: a takes its 10, b and c split 260 -> 130 each.
    sluice::memory_plan plan(400);
    std::size_t ga = 0, gb = 0, gc = 0;
    plan.hold("fixed", 100, "block");
    plan.request("a", "x", 10, 20, [&](std::size_t g, std::string&) { return ga = g; });
    plan.request("b", "x", 10, 1000, [&](std::size_t g, std::string&) { return gb = g; });
    plan.request("c", "x", 10, 1000, [&](std::size_t g, std::string& w) {
        gc = g;
        w = "adapted c";
        return g / 2;  // a stage may hold less than it was granted
    });
    plan.resolve();
    CHECK(ga == 20);
    CHECK(gb == 140);
    CHECK(gc == 140);
    CHECK(plan.items()[3].bytes == 70);
    CHECK(plan.items()[3].what == "adapted c");
    CHECK(plan.total() == 100 + 20 + 140 + 70);
    CHECK(plan.total() <= 400);
    CHECK_THAT(plan.breakdown(), Catch::Contains("of a budget of 400 B"));
}

TEST_CASE("headroom requests get what the throughput requests leave, unused grants included",
          "[core][memory_budget]") {
    // Budget 100, minima 10 + 10: left 80. Throughput first: t wants 10..70 and is granted
    // 70, takes 50 (it adapts in steps): 20 left plus the 20 it did not take -> headroom h.
    sluice::memory_plan plan(100);
    std::size_t gt = 0, gh = 0;
    plan.request(
        "h", "record room", 10, 1000, [&](std::size_t g, std::string&) { return gh = g; },
        sluice::memory_use::headroom);
    plan.request("t", "threads", 10, 70, [&](std::size_t g, std::string&) {
        gt = g;
        return std::size_t{50};
    });
    plan.resolve();
    CHECK(gt == 70);
    CHECK(gh == 50);
    CHECK(plan.total() == 100);
}

TEST_CASE("request_record_room lowers a reader's record limit to its grant",
          "[core][memory_budget]") {
    std::size_t limit = 64 * mib;
    sluice::memory_plan plan(8 * mib);
    sluice::request_record_room(plan, "csv.read", 2 * mib, 2, mib, limit);
    CHECK(plan.minimum() == 4 * mib);
    plan.resolve();
    CHECK(limit == 3 * mib);  // (8 - 2) / 2
    CHECK(plan.total() == 8 * mib);
}

TEST_CASE("run refuses an over-budget pipeline before the first pull and aborts the sink",
          "[core][memory_budget][run]") {
    int pulls = 0, pushes = 0;
    std::size_t granted = 0;
    sluice::run_options o;
    o.memory_budget = 5 * mib;
    reporting_source src;
    src.bytes = 2 * mib;
    src.pulls = &pulls;
    adaptive_sink sink{{}, 4 * mib, 16 * mib, &granted, &pushes};
    auto r = sluice::try_run(src, sink, o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::limit);
    CHECK_THAT(std::string(r.error().what()), Catch::Contains("test.source"));
    CHECK_THAT(std::string(r.error().what()), Catch::Contains("test.sink"));
    CHECK(pulls == 0);
    CHECK(pushes == 0);
    CHECK(granted == 0);
}

TEST_CASE("run grants an adaptive sink what the budget leaves and shows the plan",
          "[core][memory_budget][run]") {
    int pulls = 0, pushes = 0;
    std::size_t granted = 0;
    std::string shown;
    reporting_source src;
    src.bytes = 2 * mib;
    src.pulls = &pulls;
    adaptive_sink sink{{}, 4 * mib, 16 * mib, &granted, &pushes};
    int n = sluice::run(
        src, sink, {.memory_budget = 10 * mib, .on_memory_plan = [&](const sluice::memory_plan& p) {
                        CHECK(pulls == 0);  // before the first record
                        shown = p.breakdown();
                    }});
    CHECK(n == 3);
    CHECK(granted == 8 * mib);
    CHECK_THAT(shown, Catch::Contains("parts (granted)"));
    CHECK_THAT(shown, Catch::Contains("10.0 MiB of a budget of 10.0 MiB"));
}

TEST_CASE("without a budget run collects the reports and adapts nothing",
          "[core][memory_budget][run]") {
    int pulls = 0, pushes = 0;
    std::size_t granted = 0;
    std::size_t total = 0;
    reporting_source src;
    src.bytes = 2 * mib;
    src.pulls = &pulls;
    adaptive_sink sink{{}, 4 * mib, 16 * mib, &granted, &pushes};
    sluice::run_options o;
    o.on_memory_plan = [&](const sluice::memory_plan& p) { total = p.total(); };
    sluice::run(src, sink, o);
    CHECK(granted == 0);
    CHECK(total == 18 * mib);
}

TEST_CASE("library stages report their buffers when bound", "[core][memory_budget][run]") {
    // read_file's block and encode's chunk, before the (missing) file is opened.
    sluice::run_options o;
    o.memory_budget = 64 * 1024;
    auto r = sluice::try_run(
        sluice::read_file("/nonexistent/sluice-memory-test", {.block_size = 1 * mib}),
        sluice::count(), o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::limit);  // not io: the file was never opened
    CHECK_THAT(std::string(r.error().what()), Catch::Contains("read_file"));
    CHECK_THAT(std::string(r.error().what()), Catch::Contains("1.0 MiB  read block"));
}

// buffer_bound_v: stages that buffer nothing across records state 0, so a pipeline of them
// has a compile-time bound; a stage sized at run time (read_file's block) makes it unbounded.
namespace {
constexpr std::array<int, 4> numbers{1, 2, 3, 4};
using core_pipeline =
    decltype(sluice::from_range(numbers) | sluice::filter([](int x) { return x > 1; })
             | sluice::map([](int x) { return x * 2; }) | sluice::take(2));
static_assert(sluice::buffer_bound_v<core_pipeline> == 0);
static_assert(sluice::buffer_bound_v<core_pipeline> <= 4096, "a user's bound");
static_assert(sluice::bounded_buffering<core_pipeline>);
using iota_pipeline = decltype(sluice::iota(0, 10) | sluice::tap([](int) {}) | sluice::drainable());
static_assert(sluice::buffer_bound_v<iota_pipeline> == 0);
using file_pipeline = decltype(sluice::read_file("x") | sluice::take(1));
static_assert(sluice::buffer_bound_v<file_pipeline> == sluice::unbounded_buffer);
static_assert(!sluice::bounded_buffering<file_pipeline>);
using owning_pipeline = decltype(sluice::from_range(std::vector<int>{1, 2}) | sluice::take(1));
static_assert(!sluice::bounded_buffering<owning_pipeline>);
}  // namespace

/// A stage with a compile-time buffer: its constant adds to the sum.
namespace {
template <class Up>
struct fixed_window : sluice::stage_base<fixed_window<Up>, Up> {
    using reference = sluice::reference_t<Up>;
    static constexpr std::size_t buffer_bound = 4096;
    explicit fixed_window(Up up) : sluice::stage_base<fixed_window<Up>, Up>(std::move(up)) {}
    sluice::maybe<reference> next() { return this->up_.next(); }
};
using windowed = fixed_window<fixed_window<decltype(sluice::iota(0, 3) | sluice::take(2))>>;
static_assert(sluice::buffer_bound_v<windowed> == 8192);
}  // namespace

TEST_CASE("buffer_bound_v sums the stages' constants", "[core][memory_budget]") {
    CHECK(sluice::buffer_bound_v<windowed> == 8192);
    CHECK(sluice::buffer_bound_v<file_pipeline> == sluice::unbounded_buffer);
}
