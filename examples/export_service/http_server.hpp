// The service's HTTP server: cpp-httplib with limits an Internet-facing service needs and
// httplib 0.11 does not have (issue 16).
//
// What stock httplib does, and what this changes:
//   - A fixed pool of N workers, one per *connection* for its whole keep-alive life, and a
//     read timeout per recv() only (5 s), so a client sending one header byte every few
//     seconds holds a worker for as long as it likes: 40 such clients locked every valid
//     client out of 32 workers. Here each connection gets its own light thread (up to
//     `max_connections`), the request line and headers must arrive within
//     `header_timeout` of the request's first byte, and the `threads` handler slots are
//     taken only once a request's headers are in: slow clients never hold a slot.
//   - No payload limit by default (CPPHTTPLIB_PAYLOAD_MAX_LENGTH = SIZE_MAX), and a body
//     over set_payload_max_length() is still read to the end to skip it; chunked bodies
//     have no limit at all. Here a Content-Length over `max_body` is answered 413 before
//     any byte of the body is read, a chunked request body 411, and the connection is
//     closed after an unread body.
//   - Header lines are limited to 8 KiB each, their number not at all. Here the request
//     line and headers together are capped at `max_header_bytes` (431).
//   - The listening socket gets SO_REUSEPORT, so a second instance could bind the same
//     port and take half the connections. Here only SO_REUSEADDR (restart while old
//     connections linger in TIME_WAIT), SO_REUSEPORT only when asked for.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <semaphore>
#include <string>

namespace export_service {

/// The limits of `guarded_server`.
struct server_limits {
    std::size_t max_body = 64 * 1024;             ///< request body bytes (413 beyond)
    std::size_t max_header_bytes = 16 * 1024;     ///< request line + headers (431 beyond)
    std::chrono::milliseconds header_timeout{10'000};  ///< to send the line and headers
    unsigned threads = 32;                        ///< requests handled at once
    unsigned max_connections = 1024;              ///< open connections served at once
    bool reuse_port = false;                      ///< SO_REUSEPORT on the listening socket
};

/// An httplib::Server with the limits above (see the file comment).
class guarded_server : public httplib::Server {
public:
    explicit guarded_server(server_limits l);
    ~guarded_server() override;

    /// Installs `h` behind the limit checks (413 / 411 answer before it runs).
    void set_guarded_pre_routing_handler(HandlerWithResponse h);

    /// For an error handler: the status a request refused by the limits should have
    /// (431 for too-large headers), or 0. Valid on the thread that serves the request.
    static int refused_status();

    /// Binds `host:port`; on failure returns a message ("address already in use").
    std::string bind(const std::string& host, int port);

    const server_limits& limits() const noexcept { return lim_; }

private:
    class socket_stream;
    class connection_pool;
    bool process_and_close_socket(socket_t sock) override;
    bool serve_one(socket_stream& strm, bool last, bool& closed);
    bool wait_for_request(socket_t sock) const;

    server_limits lim_;
    std::counting_semaphore<4096> slots_;
    HandlerWithResponse user_pre_routing_;
};

}  // namespace export_service
