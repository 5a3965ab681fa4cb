#pragma once
// Shared by the tests of threaded adaptors: counting this process's threads, to prove that
// no thread outlives a run.
#include <dirent.h>

#include <chrono>
#include <thread>

namespace {
/// Threads of this process now (entries of /proc/self/task).
inline int thread_count() {
    // A sanitizer may start a helper thread with the first thread: start one first, so the
    // baseline already counts it.
    static const bool warmed = (std::thread([] {}).join(), true);
    (void)warmed;
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/task")) {
        while (dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') ++n;
        ::closedir(d);
    }
    return n;
}
/// True once the process is back to `n` threads: a joined thread leaves /proc/self/task a
/// moment after join() returns, so poll briefly instead of racing the kernel.
inline bool threads_back_to(int n) {
    for (int i = 0; i < 200; ++i) {
        if (thread_count() == n) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}
}  // namespace
