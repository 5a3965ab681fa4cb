// docs/reference.md, "generate" + "batch" + "meter": a coroutine source, grouped into
// batches, metered on both sides of the batch stage, with one snapshot of the whole run.
#include <sluice/sluice.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

// A user source written as a coroutine: the integers [0, n).
sluice::generator<int> numbers(int n) {
    for (int i = 0; i < n; ++i) co_yield i;
}

int main() {
    sluice::metrics registry;  // every meter of the run registers here, in pipeline order
    std::vector<std::size_t> sizes;
    long long sum = 0;

    auto batches = sluice::run(
        numbers(10) | sluice::meter("numbers") | sluice::batch(4) | sluice::meter("batches"),
        sluice::for_each([&](std::vector<int>& b) {  // valid until the next pull
            sizes.push_back(b.size());
            for (int x : b) sum += x;
        }),
        {.metrics = &registry});

    const auto snap = registry.snapshot();
    std::printf("%s\n", registry.to_json().c_str());

    bool ok = batches == 3 && sizes == std::vector<std::size_t>{4, 4, 2} && sum == 45 &&
              snap.size() == 2 && snap[0].name == "numbers" && snap[0].in == 10 &&
              snap[0].out == 10 && snap[1].name == "batches" && snap[1].out == 3 &&
              snap[0].errors == 0 && snap[1].errors == 0;
    std::printf("%s\n", ok ? "ok" : "unexpected output");
    return ok ? 0 : 1;
}
