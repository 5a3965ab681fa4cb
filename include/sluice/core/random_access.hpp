#pragma once
/// \file
/// `random_access_input`: bytes that can be read at any offset - what a columnar reader
/// (Parquet) needs instead of a stream: the footer at the end first, then the parts it
/// wants. `pread_file` is the local-file implementation (POSIX pread); the S3 one, made of
/// ranged GETs, is `s3::object_range_input` (s3/range_input.hpp).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "error.hpp"

namespace sluice {

/// Bytes readable at any offset. Implementations throw `sluice::error` on failure.
class random_access_input {
public:
    virtual ~random_access_input() = default;
    /// The total size in bytes.
    virtual std::uint64_t size() = 0;
    /// Replaces `out` with exactly `n` bytes at `offset` (the caller keeps offset + n within
    /// `size()`); a short read is an error.
    virtual void read_at(std::uint64_t offset, std::size_t n, std::string& out) = 0;
    /// The name messages use ("data.parquet", "s3://bucket/key").
    virtual std::string name() const = 0;
};

/// A local file read with pread (no shared file position, so readers never interfere).
class pread_file final : public random_access_input {
public:
    /// Opens `path` for reading; `errc::io` naming the path when it cannot.
    explicit pread_file(std::string path) : path_(std::move(path)) {
        fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) throw error(errc::io, "read", errno_message("cannot open", path_, errno));
        struct stat st {};
        if (::fstat(fd_, &st) != 0) {
            const int e = errno;
            ::close(fd_);
            throw error(errc::io, "read", errno_message("cannot stat", path_, e));
        }
        if (!S_ISREG(st.st_mode)) {
            ::close(fd_);
            throw error(errc::usage, "read", path_ + " is not a regular file (a seekable file is needed)");
        }
        size_ = static_cast<std::uint64_t>(st.st_size);
    }
    pread_file(const pread_file&) = delete;
    pread_file& operator=(const pread_file&) = delete;
    ~pread_file() override { ::close(fd_); }

    std::uint64_t size() override { return size_; }

    void read_at(std::uint64_t offset, std::size_t n, std::string& out) override {
        out.resize(n);
        std::size_t done = 0;
        while (done < n) {
            const ssize_t r = ::pread(fd_, out.data() + done, n - done, static_cast<off_t>(offset + done));
            if (r < 0) {
                if (errno == EINTR) continue;
                throw error(errc::io, "read", errno_message("cannot read", path_, errno));
            }
            if (r == 0)
                throw error(errc::io, "read", path_ + " ended at byte " + std::to_string(offset + done) +
                                                  " (was it truncated while being read?)");
            done += static_cast<std::size_t>(r);
        }
    }

    std::string name() const override { return path_; }

private:
    std::string path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

}  // namespace sluice
