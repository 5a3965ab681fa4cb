#pragma once
/// \file
/// Byte sinks: `to_file(path)` writes atomically (a temporary file beside the destination,
/// fsync, rename on success; on failure or cancellation the temporary file is removed and an
/// existing destination is left untouched). `to_fd(fd)` and `to_stdout()` write through.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../core/sink.hpp"
#include "../sources/read_file.hpp"

namespace sluice {

/// Options of `to_file`.
struct write_options {
    /// Permissions of a new file (an existing destination keeps its own).
    mode_t mode = 0644;
    /// fsync the file and its directory before reporting success.
    bool durable = true;
};

namespace detail {

/// Writes all of `s` to `fd`, retrying short writes and EINTR.
inline void write_all(int fd, std::string_view s, const char* stage, const std::string& name,
                      std::uint64_t offset) {
    while (!s.empty()) {
        ssize_t n = ::write(fd, s.data(), s.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            position p;
            p.byte_offset = offset;
            throw error(errc::io, stage, errno_message("cannot write", name, errno), p);
        }
        s.remove_prefix(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
}

class file_sink : public sink_base {
public:
    file_sink(std::string path, write_options o) : path_(std::move(path)), opt_(o) {}
    file_sink(file_sink&& o) noexcept
        : path_(std::move(o.path_)), tmp_(std::move(o.tmp_)), opt_(o.opt_),
          fd_(std::exchange(o.fd_, -1)), written_(o.written_) {}
    file_sink& operator=(file_sink&&) = delete;
    ~file_sink() { discard(); }

    template <byte_like R>
    bool push(const R& r) {
        std::string_view b = bytes_of(r);
        if (b.empty()) return true;
        open_once();
        write_all(fd_, b, "to_file", tmp_, written_);
        written_ += b.size();
        return true;
    }

    /// Commits: the destination now holds exactly what was pushed. Returns bytes written.
    std::uint64_t finish() {
        open_once();
        if (opt_.durable && ::fsync(fd_) != 0)
            throw error(errc::io, "to_file", errno_message("cannot fsync", tmp_, errno));
        int fd = std::exchange(fd_, -1);
        if (::close(fd) != 0)
            throw error(errc::io, "to_file", errno_message("cannot close", tmp_, errno));
        if (::rename(tmp_.c_str(), path_.c_str()) != 0)
            throw error(errc::io, "to_file", errno_message("cannot rename onto", path_, errno));
        tmp_.clear();
        if (opt_.durable) sync_directory();
        return written_;
    }

    /// Undoes: removes the temporary file; the destination is as it was before the run.
    void abort(const error&) noexcept { discard(); }

    const std::string& path() const noexcept { return path_; }

private:
    void open_once() {
        if (fd_ >= 0) return;
        // The temporary lives in the destination's directory so the rename is atomic.
        std::string dir = directory_of(path_);
        std::string base = path_.substr(path_.find_last_of('/') + 1);
        tmp_ = dir + "/." + base + ".sluice-" + std::string(6, 'X');  // mkostemp template
        int fd = ::mkostemp(tmp_.data(), O_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            tmp_.clear();
            throw error(errc::io, "to_file",
                        errno_message("cannot create a temporary file for", path_, err));
        }
        fd_ = fd;
        struct stat st{};
        mode_t mode = ::stat(path_.c_str(), &st) == 0 ? (st.st_mode & 07777) : opt_.mode;
        ::fchmod(fd_, mode);
    }
    void discard() noexcept {
        if (fd_ >= 0) ::close(std::exchange(fd_, -1));
        if (!tmp_.empty()) ::unlink(tmp_.c_str());
        tmp_.clear();
    }
    static std::string directory_of(const std::string& p) {
        auto slash = p.find_last_of('/');
        if (slash == std::string::npos) return ".";
        if (slash == 0) return "/";
        return p.substr(0, slash);
    }
    void sync_directory() const noexcept {
        int d = ::open(directory_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d >= 0) {
            ::fsync(d);
            ::close(d);
        }
    }

    std::string path_;
    std::string tmp_;
    write_options opt_;
    int fd_ = -1;
    std::uint64_t written_ = 0;
};

/// Writes through to a descriptor it does not own (no atomicity: a pipe cannot be undone).
class fd_sink : public sink_base {
public:
    fd_sink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
    template <byte_like R>
    bool push(const R& r) {
        std::string_view b = bytes_of(r);
        write_all(fd_, b, "to_fd", name_, written_);
        written_ += b.size();
        return true;
    }
    std::uint64_t finish() noexcept { return written_; }

private:
    int fd_;
    std::string name_;
    std::uint64_t written_ = 0;
};

}  // namespace detail

/// `bytes | to_file(path)`: atomic file output; returns the number of bytes written.
struct to_file_fn {
    auto operator()(std::string path, write_options o = {}) const {
        return detail::file_sink(std::move(path), o);
    }
};
inline constexpr to_file_fn to_file{};

/// `bytes | to_fd(fd)`: writes to a descriptor the caller owns.
struct to_fd_fn {
    auto operator()(int fd, std::string name = "fd") const {
        return detail::fd_sink(fd, std::move(name));
    }
};
inline constexpr to_fd_fn to_fd{};

/// `bytes | to_stdout()`.
inline auto to_stdout() { return detail::fd_sink(1, "<stdout>"); }

}  // namespace sluice
