// http::response_sink against a recording writer: bytes pass through, a client that goes
// away stops the run within one chunk and requests the stop, failures abort the response.
#include <catch2/catch.hpp>

#include <sluice/http/response_sink.hpp>
#include <sluice/sluice.hpp>

#include <string>
#include <vector>

namespace http = sluice::http;

namespace {

struct recording_writer : http::response_writer {
    std::vector<std::string> chunks;
    std::size_t accept = static_cast<std::size_t>(-1);  // writes accepted before "hang-up"
    bool finished = false, aborted = false;
    bool write(std::string_view d) override {
        if (chunks.size() >= accept) return false;
        chunks.emplace_back(d);
        return true;
    }
    void finish() override { finished = true; }
    void abort() noexcept override { aborted = true; }
};

}  // namespace

TEST_CASE("response_sink writes every chunk and finishes", "[http][response_sink]") {
    recording_writer w;
    std::vector<std::string> in{"a,b\n", "", "1,2\n", "3,4\n"};
    auto n = sluice::run(in, http::to_response(w));
    CHECK(n == 12);
    CHECK(w.finished);
    CHECK_FALSE(w.aborted);
    // The empty record is not sent: an empty chunk would end a chunked body.
    CHECK(w.chunks == std::vector<std::string>{"a,b\n", "1,2\n", "3,4\n"});
}

TEST_CASE("a client that goes away cancels the run within one chunk", "[http][response_sink]") {
    recording_writer w;
    w.accept = 2;
    std::stop_source cancel;
    std::size_t pulled = 0;
    auto src = sluice::iota(0, 1000000) | sluice::map([&](int i) {
                   ++pulled;
                   return std::to_string(i);
               });
    REQUIRE_THROWS_MATCHES(sluice::run(src, http::to_response(w, &cancel), {.stop = cancel.get_token()}),
                           sluice::error,
                           Catch::Predicate<sluice::error>([](const sluice::error& e) {
                               return e.code() == sluice::errc::cancelled;
                           }));
    CHECK(cancel.stop_requested());
    CHECK(pulled == 3);  // the third chunk's write failed; nothing more was pulled
    CHECK(w.aborted);
    CHECK_FALSE(w.finished);
}

TEST_CASE("without a stop source a hang-up fails finish with an I/O error", "[http][response_sink]") {
    recording_writer w;
    w.accept = 1;
    std::vector<std::string> in{"x", "y", "z"};
    try {
        sluice::run(in, http::to_response(w));
        FAIL("no error");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::io);
        CHECK(std::string(e.what()).find("disconnected after 1 bytes") != std::string::npos);
    }
    CHECK(w.aborted);
}

TEST_CASE("a failing pipeline aborts the response", "[http][response_sink]") {
    recording_writer w;
    auto src = sluice::iota(0, 10) | sluice::map([](int i) {
                   if (i == 5) throw sluice::error(sluice::errc::bad_input, "test", "boom");
                   return std::string(1, static_cast<char>('a' + i));
               });
    CHECK_THROWS_AS(sluice::run(src, http::to_response(w)), sluice::error);
    CHECK(w.aborted);
    CHECK_FALSE(w.finished);
    CHECK(w.chunks.size() == 5);
}
