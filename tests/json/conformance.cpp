// JSONTestSuite (tests/data/JSONTestSuite/test_parsing, vendored unchanged): every y_ file is
// accepted, every n_ file rejected with a sluice::error, every i_ file handled without a crash.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <sluice/json/document_reader.hpp>
#include <sluice/json/jsonl_encoder.hpp>
#include <sluice/sluice.hpp>

namespace fs = std::filesystem;

namespace {

fs::path suite_dir() {
    return fs::path(SLUICE_TEST_DATA_DIR) / "JSONTestSuite" / "test_parsing";
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Missing files fail every test case (never a skip): the suite is part of the checkout.
std::vector<fs::path> files_with_prefix(char prefix) {
    if (!fs::is_directory(suite_dir()))
        throw std::runtime_error("JSONTestSuite is missing: no directory " + suite_dir().string());
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(suite_dir()))
        if (e.path().filename().string().front() == prefix) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("JSONTestSuite: y_ files are accepted", "[json][conformance]") {
    REQUIRE(fs::is_directory(suite_dir()));
    auto files = files_with_prefix('y');
    REQUIRE(files.size() > 90);
    for (const auto& f : files) {
        INFO(f.filename().string());
        std::string text = slurp(f);
        CHECK_NOTHROW(sluice::json::parse_document(text));
        // Re-emitting the record gives JSON the parser accepts again (on one line).
        sluice::json::json_owned_record rec;
        try {
            rec = sluice::json::parse_document(text);
        } catch (...) {
            continue;
        }
        sluice::chunk out;
        sluice::json::jsonl_encoder{}.encode(rec, out);
        std::string_view line = out.view();
        CHECK(line.find('\n') == line.size() - 1);
        CHECK_NOTHROW(sluice::json::parse_document(line));
    }
}

TEST_CASE("JSONTestSuite: n_ files are rejected with a bad_input error", "[json][conformance]") {
    auto files = files_with_prefix('n');
    REQUIRE(files.size() > 150);
    for (const auto& f : files) {
        INFO(f.filename().string());
        std::string text = slurp(f);
        bool rejected = false;
        try {
            (void)sluice::json::parse_document(text);
        } catch (const sluice::error& e) {
            rejected = e.code() == sluice::errc::bad_input && e.where().has_line();
        }
        CHECK(rejected);
    }
}

TEST_CASE("JSONTestSuite: i_ files never crash", "[json][conformance]") {
    auto files = files_with_prefix('i');
    REQUIRE(files.size() > 20);
    for (const auto& f : files) {
        INFO(f.filename().string());
        std::string text = slurp(f);
        try {
            (void)sluice::json::parse_document(text);
        } catch (const sluice::error& e) {
            CHECK(e.code() == sluice::errc::bad_input);
        }
    }
}

TEST_CASE("JSONTestSuite files read through the read_document stage", "[json][conformance]") {
    // The stage path (file bytes in small blocks) agrees with parse_document on every file.
    for (char prefix : {'y', 'n'}) {
        for (const auto& f : files_with_prefix(prefix)) {
            INFO(f.filename().string());
            bool ok = true;
            try {
                auto p = sluice::read_file(f.string(), {.block_size = 7}) | sluice::json::read_document();
                std::size_t n = 0;
                for (const auto& rec : p) {
                    (void)rec;
                    ++n;
                }
                CHECK(n == 1);
            } catch (const sluice::error&) {
                ok = false;
            }
            CHECK(ok == (prefix == 'y'));
        }
    }
}
