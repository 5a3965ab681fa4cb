// A cpp-httplib server on 127.0.0.1 for the tests/net cases (a real HTTP server on a
// loopback port, no mocks): register handlers, then `start()`.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace nettest {

struct loopback_server {
    httplib::Server svr;
    std::thread t;
    int port = 0;

    void start() {
        port = svr.bind_to_any_port("127.0.0.1");
        t = std::thread([this] { svr.listen_after_bind(); });
        // httplib 0.11's stop() does nothing before the accept loop runs: wait for it, or
        // the destructor's join could hang.
        while (!svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port) + path;
    }
    ~loopback_server() {
        if (t.joinable()) {
            svr.stop();
            t.join();
        }
    }
};

/// A TCP port on 127.0.0.1 that was free a moment ago and is closed now (connections to
/// it are refused).
inline int closed_port() {
    loopback_server s;
    s.start();
    return s.port;
}

}  // namespace nettest
