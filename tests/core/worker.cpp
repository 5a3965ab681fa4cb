#include <catch2/catch.hpp>

#include "../adaptors/thread_support.hpp"

#include <sluice/core/worker.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

TEST_CASE("bounded_queue holds at most its capacity and hands items out in order",
          "[core][worker]") {
    sluice::bounded_queue<int> q(2);
    std::stop_source stop;
    CHECK(q.push(1, stop.get_token()) == 1);
    CHECK(q.push(2, stop.get_token()) == 2);
    int three = 3;
    CHECK_FALSE(q.try_push(std::move(three)));  // full
    std::optional<int> out;
    REQUIRE(q.try_pop(out));
    CHECK(*out == 1);
    CHECK(q.try_push(3));
    REQUIRE(q.pop(out, stop.get_token()));
    CHECK(*out == 2);
    REQUIRE(q.pop(out, stop.get_token()));
    CHECK(*out == 3);
    CHECK_FALSE(q.try_pop(out));
    CHECK(q.size() == 0);
}

TEST_CASE("a closed bounded_queue drains, then ends", "[core][worker]") {
    sluice::bounded_queue<std::string> q(4);
    std::stop_source stop;
    q.push("a", stop.get_token());
    q.close();
    CHECK(q.closed());
    CHECK(q.push("b", stop.get_token()) == 0);  // no pushes after close
    std::optional<std::string> out;
    REQUIRE(q.pop(out, stop.get_token()));
    CHECK(*out == "a");
    CHECK_FALSE(q.pop(out, stop.get_token()));
}

TEST_CASE("a stop wakes a waiting push and a waiting pop", "[core][worker]") {
    sluice::bounded_queue<int> q(1);
    std::stop_source stop;
    q.push(0, stop.get_token());
    std::uint64_t waited = 0;
    std::thread t([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        stop.request_stop();
    });
    CHECK(q.push(1, stop.get_token(), &waited) == 0);  // full until the stop
    t.join();
    CHECK(waited > 0);
    CHECK(q.size() == 1);

    sluice::bounded_queue<int> empty(1);
    std::stop_source stop2;
    std::thread t2([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        stop2.request_stop();
    });
    std::optional<int> out;
    CHECK_FALSE(empty.pop(out, stop2.get_token()));
    t2.join();
    // Items already queued are handed out after a stop.
    CHECK(q.pop(out, stop.get_token()));
    CHECK(*out == 0);
}

TEST_CASE("a worker feeding a queue: records in order, then the parked error",
          "[core][worker]") {
    sluice::bounded_queue<int> q(3);
    sluice::worker w("test");
    w.spawn(
        [&](std::stop_token st) {
            for (int i = 0; i < 100; ++i)
                if (q.push(int(i), st) == 0) return;
            throw std::runtime_error("producer failed at 100");
        },
        [&] { q.close(); });
    std::vector<int> got;
    std::optional<int> x;
    while (q.pop(x, w.token())) got.push_back(*x);
    REQUIRE(got.size() == 100);
    for (int i = 0; i < 100; ++i) CHECK(got[static_cast<std::size_t>(i)] == i);
    REQUIRE(w.failed());
    CHECK_THROWS_WITH(w.rethrow_if_failed(), "producer failed at 100");
    CHECK_THROWS_WITH(w.rethrow_if_failed(), "producer failed at 100");  // stays parked
    CHECK(w.stop_requested());  // a failure stops the worker
}

TEST_CASE("the first parked error wins", "[core][worker]") {
    sluice::worker w("test");
    w.park(std::make_exception_ptr(std::runtime_error("first")));
    w.park(std::make_exception_ptr(std::runtime_error("second")));
    CHECK_THROWS_WITH(w.rethrow_if_failed(), "first");
    CHECK_FALSE(w.stop_requested());  // parking by hand does not stop the threads
}

TEST_CASE("a bound worker stops with the run's token and is joined at the run's end",
          "[core][worker]") {
    const int before = thread_count();
    sluice::worker w("test");
    std::stop_source run_stop;
    std::atomic<bool> saw_stop{false};
    {
        sluice::bounded_queue<int> never(1);
        sluice::run_options o;
        o.stop = run_stop.get_token();
        sluice::run_context ctx(o);
        w.bind(ctx);
        for (int i = 0; i < 2; ++i)
            w.spawn([&](std::stop_token st) {
                std::optional<int> x;
                never.pop(x, st);  // waits until stopped
                saw_stop = true;
            });
        CHECK(w.started());
        CHECK_FALSE(w.cancelled());
        run_stop.request_stop();
        CHECK(w.cancelled());
        CHECK_THROWS_AS(w.throw_if_cancelled(), sluice::error);
        CHECK(w.stop_requested());
    }  // ~run_context joins the threads (before `never` goes)
    CHECK(saw_stop);
    CHECK(threads_back_to(before));
}

TEST_CASE("the end of a run joins a worker that outlives it", "[core][worker]") {
    const int before = thread_count();
    sluice::bounded_queue<int> q(1);
    sluice::worker w("test");
    {
        sluice::run_context ctx;
        w.bind(ctx);
        w.spawn([&](std::stop_token st) {
            std::optional<int> x;
            while (q.pop(x, st)) {
            }
        });
        CHECK(thread_count() == before + 1);
    }  // the run ends: stop + join, though `w` lives on
    CHECK(threads_back_to(before));
    CHECK(w.stop_requested());
}
