// The guarded httplib server (see http_server.hpp).
#include "http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "json_util.hpp"

namespace export_service {

namespace {

using clock = std::chrono::steady_clock;

/// The status the request on this thread was refused with by a limit (0: none); the
/// connection is closed after the answer.
thread_local int current_refusal = 0;

/// Waits up to `ms` for `events` on `sock`; true when they are there (or the peer is gone,
/// which the next read or write reports).
bool wait_socket(int sock, short events, long ms) {
    pollfd p{sock, events, 0};
    int r;
    do {
        r = ::poll(&p, 1, static_cast<int>(std::max(0L, ms)));
    } while (r < 0 && errno == EINTR);
    return r > 0;
}

void ip_and_port(const sockaddr_storage& a, std::string& ip, int& port) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (a.ss_family == AF_INET) {
        auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
        ::inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
        port = ntohs(v4->sin_port);
    } else if (a.ss_family == AF_INET6) {
        auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
        ::inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
        port = ntohs(v6->sin6_port);
    }
    ip = buf;
}

}  // namespace

/// httplib's Stream over one connection, enforcing the per-request read budget: the
/// request line and headers within `header_timeout` and `max_header_bytes`, the body
/// within `max_body`. A request over budget reads as a failure, which httplib answers
/// with 400 (turned into 408 / 431 by the error handler through `refused_status`).
class guarded_server::socket_stream final : public httplib::Stream {
public:
    socket_stream(socket_t s, const server_limits& l, long read_ms, long write_ms)
        : sock_(s), lim_(l), read_ms_(read_ms), write_ms_(write_ms) {}

    /// A new request starts: its headers are due by `deadline`.
    void begin_request(clock::time_point deadline) {
        deadline_ = deadline;
        in_head_ = true;
        head_bytes_ = body_bytes_ = body_expected_ = 0;
        refused_ = 0;
    }
    /// The headers are in (httplib's setup_request): the body budget applies from here.
    void end_head(const httplib::Request& req) {
        in_head_ = false;
        const std::string v = req.get_header_value("Content-Length");
        body_expected_ = v.empty() ? 0 : std::strtoull(v.c_str(), nullptr, 10);
    }
    /// 408 (headers too slow), 431 (headers too large), 413 (body too large), or 0.
    int refused() const noexcept { return refused_; }
    /// Whether the request left body bytes unread (it was answered without reading them).
    bool unread_body() const noexcept { return body_bytes_ < body_expected_; }
    bool buffered() const noexcept { return off_ < len_; }

    bool is_readable() const override { return buffered() || wait_socket(sock_, POLLIN, read_wait_ms()); }
    bool is_writable() const override { return wait_socket(sock_, POLLOUT, write_ms_); }

    ssize_t read(char* p, size_t n) override {
        if (refused_) return -1;
        if (!buffered()) {
            if (in_head_ && clock::now() >= deadline_) return refuse(408);
            if (!wait_socket(sock_, POLLIN, read_wait_ms())) return in_head_ && clock::now() >= deadline_ ? refuse(408) : -1;
            ssize_t got;
            do {
                got = ::recv(sock_, buf_, sizeof buf_, 0);
            } while (got < 0 && errno == EINTR);
            if (got <= 0) return got;
            off_ = 0;
            len_ = static_cast<std::size_t>(got);
        }
        std::size_t k = std::min(n, len_ - off_);
        if (in_head_ && (head_bytes_ += k) > lim_.max_header_bytes) return refuse(431);
        if (!in_head_ && (body_bytes_ += k) > lim_.max_body) return refuse(413);
        std::memcpy(p, buf_ + off_, k);
        off_ += k;
        return static_cast<ssize_t>(k);
    }

    ssize_t write(const char* p, size_t n) override {
        if (!is_writable()) return -1;
        ssize_t r;
        do {
            r = ::send(sock_, p, n, MSG_NOSIGNAL);
        } while (r < 0 && errno == EINTR);
        return r;
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage a{};
        socklen_t len = sizeof a;
        if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&a), &len) == 0) ip_and_port(a, ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage a{};
        socklen_t len = sizeof a;
        if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&a), &len) == 0) ip_and_port(a, ip, port);
    }
    socket_t socket() const override { return sock_; }

private:
    /// The wait for the next bytes: the read timeout, cut to the header deadline.
    long read_wait_ms() const {
        if (!in_head_) return read_ms_;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - clock::now());
        return std::clamp<long>(static_cast<long>(left.count()), 0, read_ms_);
    }
    ssize_t refuse(int status) {
        refused_ = status;
        current_refusal = status;
        return -1;
    }

    socket_t sock_;
    const server_limits& lim_;
    long read_ms_, write_ms_;
    char buf_[4096];
    std::size_t off_ = 0, len_ = 0;
    clock::time_point deadline_{};
    bool in_head_ = true;
    std::size_t head_bytes_ = 0, body_bytes_ = 0;
    unsigned long long body_expected_ = 0;
    int refused_ = 0;
};

/// httplib's task queue: one thread per connection, started on demand up to a cap (then
/// connections wait). Threads stay for reuse until shutdown.
class guarded_server::connection_pool final : public httplib::TaskQueue {
public:
    explicit connection_pool(unsigned max) : max_(std::max(1u, max)) {}

    void enqueue(std::function<void()> fn) override {
        std::lock_guard lk(m_);
        jobs_.push_back(std::move(fn));
        if (jobs_.size() > idle_ && threads_.size() < max_) threads_.emplace_back([this] { work(); });
        cv_.notify_one();
    }
    void shutdown() override {
        {
            std::lock_guard lk(m_);
            stop_ = true;
        }
        cv_.notify_all();
        for (auto& t : threads_) t.join();
    }

private:
    void work() {
        for (;;) {
            std::function<void()> fn;
            {
                std::unique_lock lk(m_);
                ++idle_;
                cv_.wait(lk, [this] { return stop_ || !jobs_.empty(); });
                --idle_;
                if (jobs_.empty()) return;  // stopping
                fn = std::move(jobs_.front());
                jobs_.pop_front();
            }
            fn();
        }
    }

    unsigned max_;
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::thread> threads_;
    std::size_t idle_ = 0;
    bool stop_ = false;
};

guarded_server::guarded_server(server_limits l) : lim_(l), slots_(std::clamp(l.threads, 1u, 4096u)) {
    new_task_queue = [this] { return new connection_pool(lim_.max_connections); };
    const bool reuse_port = lim_.reuse_port;
    set_socket_options([reuse_port](socket_t sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        if (reuse_port) ::setsockopt(sock, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes);
    });
    set_payload_max_length(lim_.max_body);
    set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        auto refuse = [&](int status, const std::string& why) {
            current_refusal = status;
            res.status = status;
            res.set_header("Connection", "close");
            res.set_content(json_error(why), "application/json");
            return HandlerResponse::Handled;
        };
        if (req.has_header("Transfer-Encoding"))
            return refuse(411, "send the request body with a Content-Length");
        const std::string len = req.get_header_value("Content-Length");
        if (!len.empty() && (len.size() > 19 || std::strtoull(len.c_str(), nullptr, 10) > lim_.max_body))
            return refuse(413, "the request body is larger than " + std::to_string(lim_.max_body) + " bytes");
        return user_pre_routing_ ? user_pre_routing_(req, res) : HandlerResponse::Unhandled;
    });
}

guarded_server::~guarded_server() = default;

void guarded_server::set_guarded_pre_routing_handler(HandlerWithResponse h) {
    user_pre_routing_ = std::move(h);
}

int guarded_server::refused_status() { return current_refusal; }

std::string guarded_server::bind(const std::string& host, int port) {
    errno = 0;
    if (bind_to_port(host, port)) return {};
    int e = errno;
    if (e == EADDRINUSE) return "address already in use";
    return e ? std::strerror(e) : "cannot bind";
}

bool guarded_server::wait_for_request(socket_t sock) const {
    // Idle keep-alive connections wait in slices so that a shutdown is noticed.
    auto until = clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
    while (svr_sock_ != INVALID_SOCKET) {
        if (wait_socket(sock, POLLIN, 200)) return true;
        if (clock::now() >= until) return false;
    }
    return false;
}

bool guarded_server::serve_one(socket_stream& strm, bool last, bool& closed) {
    strm.begin_request(clock::now() + lim_.header_timeout);
    current_refusal = 0;
    struct slot {
        std::counting_semaphore<4096>* s = nullptr;
        ~slot() {
            if (s) s->release();
        }
    } held;
    bool ok = process_request(strm, last, closed, [&](httplib::Request& req) {
        strm.end_head(req);
        slots_.acquire();  // a handler slot, only now that the headers are in
        held.s = &slots_;
    });
    return ok && current_refusal == 0;
}

bool guarded_server::process_and_close_socket(socket_t sock) {
    long read_ms = static_cast<long>(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000);
    long write_ms = static_cast<long>(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000);
    socket_stream strm(sock, lim_, read_ms, write_ms);
    bool ok = false;
    for (std::size_t left = keep_alive_max_count_; left > 0; --left) {
        if (!strm.buffered() && !wait_for_request(sock)) break;
        bool closed = false;
        ok = serve_one(strm, left == 1, closed);
        if (!ok || closed || strm.unread_body()) break;
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
}

}  // namespace export_service
