// run / try_run: the two-phase sink protocol, error propagation and cancellation.
#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

namespace {
/// A sink that records what happened to it.
struct recording_sink : sluice::sink_base {
    std::vector<int>* seen;
    int* finished;
    std::string* aborted_with;
    bool push(int x) {
        seen->push_back(x);
        return true;
    }
    int finish() {
        ++*finished;
        return static_cast<int>(seen->size());
    }
    void abort(const sluice::error& e) noexcept { *aborted_with = e.what(); }
};
}  // namespace

TEST_CASE("a successful run finishes the sink and returns its result", "[core][run]") {
    std::vector<int> seen;
    int finished = 0;
    std::string aborted;
    int n = sluice::iota(0, 5) | recording_sink{{}, &seen, &finished, &aborted};
    CHECK(n == 5);
    CHECK(finished == 1);
    CHECK(aborted.empty());
}

TEST_CASE("a failing run aborts the sink before the error leaves run", "[core][run]") {
    std::vector<int> seen;
    int finished = 0;
    std::string aborted;
    auto failing = sluice::iota(0, 10) | sluice::map([](int x) {
                       if (x == 3) throw std::runtime_error("bad record 3");
                       return x;
                   });
    CHECK_THROWS_WITH(sluice::run(failing, recording_sink{{}, &seen, &finished, &aborted}),
                      "bad record 3");
    CHECK(seen == std::vector<int>{0, 1, 2});
    CHECK(finished == 0);
    CHECK(aborted == "bad record 3");
}

TEST_CASE("try_run returns errors as values", "[core][run]") {
    auto r = sluice::try_run(sluice::iota(0, 10) | sluice::map([](int x) {
                                 if (x == 7) throw sluice::error(sluice::errc::bad_input, "map",
                                                                 "seven", sluice::position{7});
                                 return x;
                             }),
                             sluice::count());
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::bad_input);
    CHECK(r.error().where().record == 7);
    auto ok = sluice::try_run(sluice::iota(0, 10), sluice::count());
    REQUIRE(ok);
    CHECK(*ok == 10);
}

TEST_CASE("a stop token cancels a run and reports cancelled", "[core][run][cancel]") {
    std::stop_source stop;
    std::vector<int> seen;
    int finished = 0;
    std::string aborted;
    sluice::run_options opts;
    opts.stop = stop.get_token();
    auto p = sluice::iota(0, 100'000'000) | sluice::tap([&](int x) {
                 if (x == 10) stop.request_stop();
             });
    auto r = sluice::try_run(p, recording_sink{{}, &seen, &finished, &aborted}, opts);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::cancelled);
    // Sources check between blocks of records: the run stops within one block.
    CHECK(seen.size() <= 10 + sluice::stop_check_interval);
    CHECK(finished == 0);
    CHECK_FALSE(aborted.empty());
}

TEST_CASE("a stop requested before the run starts stops it at once", "[core][run][cancel]") {
    std::stop_source stop;
    stop.request_stop();
    sluice::run_options opts;
    opts.stop = stop.get_token();
    std::vector<int> v{1, 2, 3};
    auto r = sluice::try_run(sluice::from_range(v), sluice::count(), opts);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == sluice::errc::cancelled);
}

TEST_CASE("a sink may stop the run early and still commit", "[core][run]") {
    int calls = 0;
    auto n = sluice::iota(0, 1000) | sluice::for_each([&](int x) {
                 ++calls;
                 return x < 4;
             });
    CHECK(n == 5);
    CHECK(calls == 5);
}

TEST_CASE("run accepts plain ranges", "[core][run]") {
    std::vector<int> v{1, 2, 3};
    CHECK(sluice::run(v, sluice::count()) == 3);
    CHECK(sluice::run(v, sluice::to_vector()) == v);
}
