// docs/reference.md, "try_run" + "to_file": a run cancelled through its stop token comes
// back as an `errc::cancelled` error value, and `to_file` leaves no file behind: no
// temporary file, and an existing destination keeps its old content.
#include <sluice/sluice.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stop_token>
#include <string>

namespace fs = std::filesystem;

static std::string slurp(const char* path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Files in the current directory whose name mentions `out.txt` (the destination and any
// temporary file `to_file` made beside it).
static int files_named_like_out() {
    int n = 0;
    for (const auto& e : fs::directory_iterator("."))
        if (e.path().filename().string().find("out.txt") != std::string::npos) ++n;
    return n;
}

int main() {
    fs::remove("out.txt");
    std::stop_source stop;
    // An endless source; the tap asks for a stop after 100,000 records, as a signal handler
    // or another thread would. The source sees it within `stop_check_interval` records.
    auto r = sluice::try_run(sluice::iota(0) | sluice::tap([&](int i) {
                                 if (i == 100'000) stop.request_stop();
                             }) | sluice::encode(sluice::line_encoder{}),
                             sluice::to_file("out.txt"), {.stop = stop.get_token()});
    if (!r) std::printf("first run: %s\n", r.error().what());
    bool ok = !r && r.error().code() == sluice::errc::cancelled && files_named_like_out() == 0;

    // An existing destination is left untouched by a cancelled run.
    std::ofstream("out.txt") << "old\n";
    std::stop_source stop2;
    auto r2 = sluice::try_run(sluice::iota(0) | sluice::tap([&](int i) {
                                  if (i == 100'000) stop2.request_stop();
                              }) | sluice::encode(sluice::line_encoder{}),
                              sluice::to_file("out.txt"), {.stop = stop2.get_token()});
    ok = ok && !r2 && r2.error().code() == sluice::errc::cancelled &&
         slurp("out.txt") == "old\n" && files_named_like_out() == 1;

    // The same pipeline without a stop commits: the value is the bytes written.
    auto r3 = sluice::try_run(sluice::iota(0, 3) | sluice::encode(sluice::line_encoder{}),
                              sluice::to_file("out.txt"));
    ok = ok && r3 && *r3 == 6 && slurp("out.txt") == "0\n1\n2\n" && files_named_like_out() == 1;

    std::printf("%s\n", ok ? "ok" : "unexpected output");
    return ok ? 0 : 1;
}
