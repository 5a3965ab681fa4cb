// csv stage one: the run-time dispatched AVX2 + PCLMUL variant (scan.hpp) yields exactly what
// the variant the build targets yields - indices, the quote state carried between calls, the
// "line feed inside quotes" mark and the blocks reported for non-ASCII bytes - on random
// inputs cut into random segments.
#include <catch2/catch.hpp>

#include <sluice/csv/scan.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace d = sluice::csv::detail;

namespace {
struct scan_result {
    std::vector<std::uint32_t> idx;
    std::vector<std::pair<std::size_t, std::uint64_t>> non_ascii;
    std::vector<std::uint64_t> carries;
    std::size_t quoted_lf_end = 0;
};

template <class Scan>
scan_result run(const std::string& buf, const std::vector<std::size_t>& cuts, Scan scan) {
    scan_result r;
    std::vector<std::uint32_t> out(buf.size() + 64);
    std::uint32_t* end = out.data();
    std::uint64_t in_quote = 0;
    std::size_t from = 0;
    for (std::size_t to : cuts) {
        end = scan(buf.data(), from, to, in_quote, end, r.quoted_lf_end,
                   [&](std::size_t pos, std::uint64_t high) { r.non_ascii.emplace_back(pos, high); });
        r.carries.push_back(in_quote);
        from = to;
    }
    r.idx.assign(out.data(), end);
    return r;
}
}  // namespace

TEST_CASE("stage one: the AVX2 variant agrees with the built-in one", "[csv][scan]") {
#if defined(SLUICE_CSV_DISPATCH_AVX2)
    if (!d::cpu_has_avx2_clmul()) {
        WARN("this CPU has no AVX2 + PCLMUL: only the built-in variant runs");
        return;
    }
    std::mt19937_64 rng(15);
    const char alphabet[] = {'a', 'b', ',', ';', '"', '\n', '\r', ' ', '\xc3', '\xa9', '\xff', '0'};
    for (int round = 0; round < 300; ++round) {
        const std::size_t blocks = 1 + rng() % 40;
        std::string buf(blocks * d::block_size, 'x');
        // Sparse or dense structure: some rounds mostly letters, some mostly specials.
        const unsigned density = 1 + static_cast<unsigned>(rng() % 8);
        for (char& c : buf)
            if (rng() % 8 < density) c = alphabet[rng() % sizeof alphabet];
        std::vector<std::size_t> cuts;
        for (std::size_t b = 1; b <= blocks; ++b)
            if (b == blocks || rng() % 3 == 0) cuts.push_back(b * d::block_size);
        const char delim = round % 2 ? ',' : ';';
        auto base = run(buf, cuts, [&](const char* p, std::size_t f, std::size_t t, std::uint64_t& q,
                                       std::uint32_t* o, std::size_t& lf, auto&& na) {
            return d::scan_blocks(p, f, t, '"', delim, q, o, lf, na, [] { return false; });
        });
        auto fast = run(buf, cuts, [&](const char* p, std::size_t f, std::size_t t, std::uint64_t& q,
                                       std::uint32_t* o, std::size_t& lf, auto&& na) {
            return d::scan_blocks_avx2(p, f, t, '"', delim, q, o, lf, na, [] { return false; });
        });
        INFO("round " << round);
        REQUIRE(fast.idx == base.idx);
        REQUIRE(fast.carries == base.carries);
        REQUIRE(fast.quoted_lf_end == base.quoted_lf_end);
        REQUIRE(fast.non_ascii == base.non_ascii);
    }
#else
    WARN("built for AVX2 (or not x86-64): there is no run-time dispatched variant");
#endif
}
