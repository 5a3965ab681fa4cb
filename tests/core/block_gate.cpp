// block_gate<T> (core/block_gate.hpp): what the first blocks learn (a CSV header) reaches the
// later blocks; a block waits only for earlier ones; the first learner in input order wins
// whatever order the blocks finish in; fail() releases the waiters with errc::cancelled.
#include <catch2/catch.hpp>

#include <sluice/core/block_gate.hpp>
#include <sluice/core/error.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

/// Whether `f` is still not ready after a short while (it is waiting).
template <class T>
bool still_waiting(std::future<T>& f) {
    return f.wait_for(50ms) == std::future_status::timeout;
}

template <class T>
bool ready_soon(std::future<T>& f) {
    return f.wait_for(5s) == std::future_status::ready;
}

}  // namespace

TEST_CASE("block_gate: block 0 never waits; what it learned reaches the later blocks",
          "[core][block_gate]") {
    sluice::block_gate<std::string> gate;
    CHECK_FALSE(gate.wait(0).has_value());  // nothing before block 0: learn it yourself
    const std::string header = "id,name";
    gate.done(0, &header);
    for (std::uint64_t k : {1u, 2u, 7u, 1000u}) {
        auto v = gate.wait(k);
        REQUIRE(v.has_value());
        CHECK(*v == "id,name");
    }
}

TEST_CASE("block_gate: blocks 0 and 1 learn nothing, block 2 learns it", "[core][block_gate]") {
    sluice::block_gate<std::string> gate;
    CHECK_FALSE(gate.wait(0).has_value());
    gate.done(0, nullptr);  // blank lines only
    CHECK_FALSE(gate.wait(1).has_value());
    gate.done(1, nullptr);
    CHECK_FALSE(gate.wait(2).has_value());  // blocks 0 and 1 finished without it
    const std::string header = "a,b";
    gate.done(2, &header);
    CHECK(gate.wait(3) == std::optional<std::string>("a,b"));
    CHECK(gate.wait(50) == std::optional<std::string>("a,b"));
}

TEST_CASE("block_gate: blocks given the value may finish in any order", "[core][block_gate]") {
    sluice::block_gate<int> gate;
    const int v = 5;
    gate.done(0, &v);
    CHECK(gate.wait(2) == std::optional<int>(5));
    gate.done(2, nullptr);  // block 2 (given the value) finishes before block 1
    CHECK(gate.wait(1) == std::optional<int>(5));
    gate.done(1, nullptr);
    CHECK(gate.wait(3) == std::optional<int>(5));
}

TEST_CASE("block_gate: a wait blocks until the earlier blocks finish", "[core][block_gate]") {
    sluice::block_gate<int> gate;
    auto w2 = std::async(std::launch::async, [&] { return gate.wait(2); });
    auto w1 = std::async(std::launch::async, [&] { return gate.wait(1); });
    CHECK(still_waiting(w1));
    CHECK(still_waiting(w2));
    gate.done(0, nullptr);
    REQUIRE(ready_soon(w1));
    CHECK_FALSE(w1.get().has_value());  // block 1 learns it itself
    CHECK(still_waiting(w2));           // block 1 is still running
    const int learned = 42;
    gate.done(1, &learned);
    REQUIRE(ready_soon(w2));
    CHECK(w2.get() == std::optional<int>(42));
}

TEST_CASE("block_gate: the first learner in input order wins, not the first to finish",
          "[core][block_gate]") {
    // Blocks 1 and 2 both read a header (block 0 had blank lines only): block 2 finishes
    // first, but only block 1 asked the gate and got nothing; block 2 was given block 1's
    // value in the real flow. A block learns only when wait() said nothing; then at most
    // one block can learn (the earliest that got nothing): check the gate keeps the first.
    sluice::block_gate<int> gate;
    gate.done(0, nullptr);
    CHECK_FALSE(gate.wait(1).has_value());
    const int first = 1, later = 2;
    gate.done(1, &first);
    gate.done(2, &later);  // a learner after the first changes nothing
    CHECK(gate.wait(3) == std::optional<int>(1));

    // Blocks 2 and 3 wait while block 1 learns; they finish in reverse order, and a block
    // after them that (wrongly) reports a value too does not replace it.
    sluice::block_gate<int> g2;
    g2.done(0, nullptr);
    auto w2 = std::async(std::launch::async, [&] { return g2.wait(2); });
    auto w3 = std::async(std::launch::async, [&] { return g2.wait(3); });
    CHECK_FALSE(g2.wait(1).has_value());
    CHECK(still_waiting(w2));
    CHECK(still_waiting(w3));
    g2.done(1, &first);
    REQUIRE(ready_soon(w3));
    REQUIRE(ready_soon(w2));
    CHECK(w3.get() == std::optional<int>(1));
    CHECK(w2.get() == std::optional<int>(1));
    g2.done(3, nullptr);
    g2.done(2, nullptr);
    g2.done(4, &later);
    CHECK(g2.wait(9) == std::optional<int>(1));
}

TEST_CASE("block_gate: fail() wakes every waiter with errc::cancelled", "[core][block_gate]") {
    sluice::block_gate<int> gate;
    std::vector<std::future<sluice::errc>> waiters;
    for (std::uint64_t k = 1; k <= 4; ++k)
        waiters.push_back(std::async(std::launch::async, [&gate, k] {
            try {
                gate.wait(k);
            } catch (const sluice::error& e) {
                return e.code();
            }
            return sluice::errc::failed;  // not expected: nothing was learned
        }));
    for (auto& w : waiters) CHECK(still_waiting(w));
    gate.fail();  // block 0's job threw
    for (auto& w : waiters) {
        REQUIRE(ready_soon(w));
        CHECK(w.get() == sluice::errc::cancelled);
    }
    // Later waits fail at once, unless a value was learned before the failure.
    CHECK_THROWS_AS(gate.wait(9), sluice::error);
    CHECK_THROWS_AS(gate.wait(0), sluice::error);
    sluice::block_gate<int> learned_first;
    const int v = 3;
    learned_first.done(0, &v);
    learned_first.fail();
    CHECK(learned_first.wait(1) == std::optional<int>(3));
}

TEST_CASE("block_gate: many blocks on many threads agree on the first learner", "[core][block_gate]") {
    // Blocks 0..k-1 have nothing to learn, block k and later do (each its own index). Every
    // block gets nothing (and then learns) only if it is block k; all later blocks get k.
    for (int round = 0; round < 20; ++round) {
        const std::uint64_t n = 24, k = static_cast<std::uint64_t>(round) % 7;
        sluice::block_gate<std::uint64_t> gate;
        std::atomic<std::uint64_t> next{0};
        std::vector<std::optional<std::uint64_t>> seen(n);
        std::vector<char> learned(n, 0);  // not vector<bool>: written from several threads
        auto worker = [&] {
            for (std::uint64_t b; (b = next++) < n;) {
                auto v = gate.wait(b);
                seen[b] = v;
                if (!v && b >= k) {
                    learned[b] = 1;
                    gate.done(b, &b);
                } else {
                    gate.done(b, nullptr);
                }
            }
        };
        std::vector<std::thread> pool;
        for (int t = 0; t < 4; ++t) pool.emplace_back(worker);
        for (auto& t : pool) t.join();
        for (std::uint64_t b = 0; b < n; ++b) {
            INFO("round " << round << " block " << b);
            if (b <= k) CHECK_FALSE(seen[b].has_value());
            else CHECK(seen[b] == std::optional<std::uint64_t>(k));
            CHECK((learned[b] != 0) == (b == k));
        }
    }
}
