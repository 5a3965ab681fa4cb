// sluice_demo: writes a realistic sample CSV (quotes, commas, newlines, unicode, empty
// fields) through a sluice pipeline: a generator of records -> CSV encoder -> atomic file.
//
//     sluice_demo OUTPUT.csv [ROWS]
#include <sluice/csv/csv.hpp>
#include <sluice/sluice.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

/// One generated row; the field list lets the CSV encoder write it with no per-field code.
struct order {
    std::int64_t id = 0;
    std::string customer;
    std::string city;
    std::string created_at;
    double amount = 0;
    bool paid = false;
    std::string note;

    static constexpr auto sluice_fields = std::make_tuple(
        sluice::field("id", &order::id), sluice::field("customer", &order::customer),
        sluice::field("city", &order::city), sluice::field("created_at", &order::created_at),
        sluice::field("amount", &order::amount), sluice::field("paid", &order::paid),
        sluice::field("note", &order::note));
};

constexpr std::array<const char*, 10> names{"Ann Smith", "José Álvarez", "Zoë O'Brien",
                                            "李小龙", "Grüber, Hans", "Ørjan Nilsen",
                                            "\"Big\" Jim", "Åsa Öberg", "Ngọc Trâm", "Ali"};
constexpr std::array<const char*, 8> cities{"Paris", "São Paulo", "Zürich", "Kraków",
                                            "Tōkyō", "New York, NY", "Reykjavík", "Cairo"};
constexpr std::array<const char*, 8> notes{
    "", "deliver to the back door", "fragile, handle with care", "said \"thanks!\"",
    "multi-line\nnote here", "emoji ok 🚚", "tab\tseparated bits", "call before 9am; gate 4"};

/// A deterministic stream of orders (xorshift), so every run writes the same file.
sluice::generator<order&> orders(std::uint64_t rows) {
    order o;
    std::uint64_t s = 88172645463325252ull;
    auto next = [&s] {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    };
    for (std::uint64_t i = 0; i < rows; ++i) {
        std::uint64_t r = next();
        o.id = static_cast<std::int64_t>(i + 1);
        o.customer = names[r % names.size()];
        o.city = cities[(r >> 8) % cities.size()];
        char ts[32];
        std::snprintf(ts, sizeof ts, "2026-%02u-%02uT%02u:%02u:%02uZ", unsigned(1 + (r >> 16) % 12),
                      unsigned(1 + (r >> 20) % 28), unsigned((r >> 25) % 24),
                      unsigned((r >> 30) % 60), unsigned((r >> 36) % 60));
        o.created_at = ts;
        o.amount = static_cast<double>((r >> 40) % 100000) / 100.0;
        o.paid = (r >> 59) & 1;
        o.note = notes[(r >> 44) % notes.size()];
        co_yield o;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: sluice_demo OUTPUT.csv [ROWS]\n");
        return 2;
    }
    std::uint64_t rows = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 2'000'000;
    auto t0 = std::chrono::steady_clock::now();
    auto bytes = sluice::try_run(orders(rows) | sluice::encode(sluice::csv::encoder::for_record<order>({})),
                                 sluice::to_file(argv[1]));
    if (!bytes) {
        std::fprintf(stderr, "sluice_demo: %s\n", bytes.error().what());
        return 1;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("generated %s: %llu rows, %.1f MB in %.2f s\n", argv[1],
                static_cast<unsigned long long>(rows), static_cast<double>(*bytes) / 1e6, secs);
    return 0;
}
