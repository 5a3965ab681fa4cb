#pragma once
/// \file
/// Byte sources over files and descriptors: `read_file(path)`, `read_fd(fd)`, `read_stdin()`.
/// They read large blocks straight into a reused chunk and yield `chunk&`.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../core/stage.hpp"

namespace sluice {

/// Options of the file byte sources.
struct read_file_options {
    /// Bytes per read(2): large enough that syscalls cost nothing next to parsing.
    std::size_t block_size = 256 * 1024;
};

namespace detail {

/// Reads a descriptor in blocks. Owns the descriptor when opened from a path; the file is
/// opened at the first pull, so that a missing file fails inside the run (and its sink is
/// aborted) rather than when the pipeline is built.
class fd_source : public root_source<fd_source> {
public:
    using reference = chunk&;

    fd_source(std::string path, read_file_options o) : path_(std::move(path)), opt_(o) {}
    fd_source(int fd, std::string name, read_file_options o)
        : path_(std::move(name)), opt_(o), fd_(fd), owned_(false) {}
    fd_source(fd_source&& o) noexcept
        : root_source<fd_source>(std::move(o)), path_(std::move(o.path_)), opt_(o.opt_),
          buf_(std::move(o.buf_)), fd_(std::exchange(o.fd_, -1)), owned_(o.owned_),
          offset_(o.offset_), eof_(o.eof_) {}
    fd_source& operator=(fd_source&& o) noexcept {
        if (this != &o) {
            close_fd();
            root_source<fd_source>::operator=(std::move(o));
            path_ = std::move(o.path_);
            opt_ = o.opt_;
            buf_ = std::move(o.buf_);
            fd_ = std::exchange(o.fd_, -1);
            owned_ = o.owned_;
            offset_ = o.offset_;
            eof_ = o.eof_;
        }
        return *this;
    }
    ~fd_source() { close_fd(); }

    maybe<chunk&> next() {
        if (eof_) return {};
        check_stop("read_file");
        open_once();
        buf_.clear();
        buf_.reserve(opt_.block_size);  // re-allocates only if a consumer took the buffer
        // Fill the block (pipes return short reads) so downstream sees full blocks.
        while (buf_.size() < opt_.block_size) {
            ssize_t n = ::read(fd_, buf_.tail(), opt_.block_size - buf_.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                position p;
                p.byte_offset = offset_ + buf_.size();
                throw error(errc::io, "read_file", errno_message("cannot read", path_, errno), p);
            }
            if (n == 0) {
                eof_ = true;
                break;
            }
            buf_.commit(static_cast<std::size_t>(n));
        }
        offset_ += buf_.size();
        if (buf_.empty()) return {};
        return buf_;
    }

    void bind(run_context& ctx) {
        root_source<fd_source>::bind(ctx);
        ctx.memory.hold("read_file", opt_.block_size, "read block");
    }

    /// The size of a regular file (for progress and ETA), or nothing (pipe, terminal).
    std::optional<std::uint64_t> size_hint() const {
        struct stat st{};
        int r = fd_ >= 0 ? ::fstat(fd_, &st) : ::stat(path_.c_str(), &st);
        if (r != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
        return static_cast<std::uint64_t>(st.st_size);
    }
    /// Bytes read so far.
    std::uint64_t offset() const noexcept { return offset_; }
    const std::string& path() const noexcept { return path_; }

private:
    void open_once() {
        if (fd_ >= 0) return;
        int fd;
        do fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        while (fd < 0 && errno == EINTR);
        if (fd < 0) throw error(errc::io, "read_file", errno_message("cannot open", path_, errno));
        fd_ = fd;
        owned_ = true;
#ifdef POSIX_FADV_SEQUENTIAL
        ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    void close_fd() noexcept {
        if (fd_ >= 0 && owned_) ::close(fd_);
        fd_ = -1;
    }

    std::string path_;
    read_file_options opt_;
    chunk buf_;
    int fd_ = -1;
    bool owned_ = true;
    std::uint64_t offset_ = 0;
    bool eof_ = false;
};

}  // namespace detail

/// `read_file(path)` yields the file's bytes as `chunk&` blocks (valid until the next pull).
struct read_file_fn {
    auto operator()(std::string path, read_file_options o = {}) const {
        return detail::fd_source(std::move(path), o);
    }
};
inline constexpr read_file_fn read_file{};

/// `read_fd(fd)` reads a descriptor the caller owns (it is not closed).
struct read_fd_fn {
    auto operator()(int fd, read_file_options o = {}, std::string name = "fd") const {
        return detail::fd_source(fd, std::move(name), o);
    }
};
inline constexpr read_fd_fn read_fd{};

/// `read_stdin()` reads standard input (it is not closed).
struct read_stdin_fn {
    auto operator()(read_file_options o = {}) const { return detail::fd_source(0, "<stdin>", o); }
};
inline constexpr read_stdin_fn read_stdin{};

}  // namespace sluice
