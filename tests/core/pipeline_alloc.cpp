// Zero allocations per record in steady state: the number of allocations a pipeline makes
// must not depend on how many records flow through it. Counted by replacing the global
// operator new (this file is built without sanitizers for that reason).
#include <catch2/catch.hpp>

#include <sluice/sluice.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <string>
#include <string_view>

namespace {
std::atomic<std::size_t> g_allocations{0};
}

void* operator new(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {
/// Allocations made while running `f`.
template <class F>
std::size_t allocations_during(F&& f) {
    std::size_t before = g_allocations.load();
    f();
    return g_allocations.load() - before;
}

/// Encodes an integer as a small text record without allocating.
struct record_encoder {
    void encode(long x, sluice::chunk& out) const {
        out.append("{\"id\":");
        sluice::line_encoder{}.encode(x, out);
    }
};

std::size_t encode_pipeline(int n) {
    std::size_t bytes = 0;
    auto total = allocations_during([&] {
        bytes = sluice::iota(0, n) | sluice::filter([](int x) { return x % 3 != 0; }) |
                sluice::map([](int x) { return static_cast<long>(x) * 7; }) |
                sluice::encode(record_encoder{}) |
                sluice::fold(std::size_t{0},
                             [](std::size_t a, sluice::chunk& c) { return a + c.size(); });
    });
    CHECK(bytes > static_cast<std::size_t>(n));
    return total;
}
}  // namespace

TEST_CASE("filter | map | encode allocates nothing per record", "[core][alloc]") {
    std::size_t small = encode_pipeline(100'000);
    std::size_t large = encode_pipeline(2'000'000);
    INFO("allocations for 1e5 records: " << small << ", for 2e6 records: " << large);
    CHECK(large == small);
    CHECK(small <= 4);  // the chunk buffer, nothing else
}

TEST_CASE("file -> lines -> filter -> map -> encode -> file: flat allocations", "[core][alloc]") {
    namespace fs = std::filesystem;
    auto make_input = [](const std::string& path, int rows) {
        std::ofstream out(path, std::ios::binary);
        for (int i = 0; i < rows; ++i) out << "row " << i << ",value " << i * 3 << "\n";
    };
    make_input("alloc_small.txt", 50'000);
    make_input("alloc_large.txt", 1'000'000);
    auto run = [](const std::string& in, const std::string& out) {
        return allocations_during([&] {
            sluice::read_file(in) | sluice::lines() |
                sluice::filter([](std::string_view l) { return !l.empty(); }) |
                sluice::map([](std::string_view l) { return l.substr(0, l.find(',')); }) |
                sluice::encode(sluice::line_encoder{}) | sluice::to_file(out);
        });
    };
    std::size_t small = run("alloc_small.txt", "alloc_small.out");
    std::size_t large = run("alloc_large.txt", "alloc_large.out");
    INFO("allocations for 5e4 rows: " << small << ", for 1e6 rows: " << large);
    CHECK(large == small);
    CHECK(fs::file_size("alloc_large.out") > fs::file_size("alloc_small.out"));
}
