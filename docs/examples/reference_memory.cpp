// docs/reference.md, "memory budget": a run with `memory_budget` is refused before its first
// record when its stages need more (the message is the breakdown by stage), a user stage
// reports its buffer from `bind`, and `buffer_bound_v` bounds a pipeline at compile time.
#include <sluice/sluice.hpp>

#include <cstdio>
#include <string>
#include <vector>

/// A user stage that keeps a window of the last 1,000 records: it reports that buffer.
template <class Up>
class last_thousand : public sluice::stage_base<last_thousand<Up>, Up> {
public:
    using reference = sluice::reference_t<Up>;
    explicit last_thousand(Up up) : sluice::stage_base<last_thousand<Up>, Up>(std::move(up)) {}
    void bind(sluice::run_context& ctx) {
        this->up_.bind(ctx);
        ctx.memory.hold("last_thousand", 1000 * sizeof(long), "window of records");
    }
    sluice::maybe<reference> next() { return this->up_.next(); }
};

int main() {
    // Stages that buffer nothing across records: a bound the compiler checks.
    using fused =
        decltype(sluice::iota(0L, 100L) | sluice::filter([](long x) { return x % 3 == 0; })
                 | sluice::map([](long x) { return x * x; }));
    static_assert(sluice::buffer_bound_v<fused> == 0);
    // A stage sized at run time makes the bound unknown (never a silent 0).
    static_assert(!sluice::bounded_buffering<decltype(sluice::read_file("x"))>);

    // 1 MiB read blocks do not fit a 512 KiB budget: refused before the file is opened.
    auto refused = sluice::try_run(sluice::read_file("/no/such/file", {.block_size = 1 << 20}),
                                   sluice::count(), {.memory_budget = 512 * 1024});
    if (refused)
        return 1;
    std::printf("%s\n", refused.error().what());  // run: memory budget of 512.0 KiB exceeded ...

    // Within the budget: the plan, shown before the first record, lists the user stage.
    last_thousand<decltype(sluice::iota(0L, 5000L))> window(sluice::iota(0L, 5000L));
    std::string plan;
    auto n = sluice::run(
        window, sluice::count(),
        {.memory_budget = 64 * 1024,
         .on_memory_plan = [&](const sluice::memory_plan& p) { plan = p.breakdown(); }});
    std::printf("%llu records\n%s\n", static_cast<unsigned long long>(n), plan.c_str());
    return n == 5000 && refused.error().code() == sluice::errc::limit
                   && plan.find("last_thousand") != std::string::npos
               ? 0
               : 1;
}
