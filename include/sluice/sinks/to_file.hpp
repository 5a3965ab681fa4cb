#pragma once
/// \file
/// Byte sinks: `to_file(path)` writes atomically (a temporary file beside the destination,
/// fsync, rename on success; on failure or cancellation the temporary file is removed and an
/// existing destination is left untouched). `to_fd(fd)` and `to_stdout()` write through.
/// While a durable file grows, its write-back is started every `write_options::writeback_bytes`
/// (8 MiB), so the disk works during the run and the fsync at the end is short.
///
/// The rules of `to_file` for what it finds at the destination, checked when the first bytes
/// are written (inside the run, before anything is replaced):
/// - a symbolic link is followed: the file it points to is replaced (in that file's
///   directory, atomically) and the link stays; a link to nothing is refused;
/// - an existing file without any write permission (mode `a-w`, or not writable by this
///   user) is refused, even for root: read-only means "do not replace";
/// - anything but a regular file (a directory, a FIFO, a device) is refused.
/// Refusals are `errc::io` errors naming the path.
///
/// Temporary files are named `.<name>.sluice-<host>-<pid>-<start>-<6 random chars>` (host: a hash of
/// the host name; start: the process's start time). A run killed with SIGKILL cannot remove
/// its own; the next `to_file` of the same destination removes those whose process is gone
/// (no such pid on this host, or a pid reused by a later process), and never the temporary
/// file of a run still in progress.

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <iterator>

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
#include "../core/run.hpp"  // `source | sink` runs through terminal_run

namespace sluice {

/// Options of `to_file`.
struct write_options {
    /// Permissions of a new file (an existing destination keeps its own).
    mode_t mode = 0644;
    /// fsync the file and its directory before reporting success.
    bool durable = true;
    /// With `durable`: every time this many bytes have been written since the last time, the
    /// kernel is asked to start writing them out (Linux `sync_file_range`, without waiting),
    /// so the disk works while the file grows and the final fsync waits for the last stretch
    /// only, not the whole file. 0: no early write-back (the final fsync writes everything).
    std::size_t writeback_bytes = std::size_t{8} << 20;
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

/// The start time of process `pid` (field 22 of /proc/<pid>/stat, clock ticks since boot),
/// or 0 when it cannot be read.
inline unsigned long long process_start_time(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    std::size_t close = stat.rfind(')');
    if (close == std::string::npos) return 0;
    std::size_t pos = close + 2;  // field 3
    for (int field = 3; field < 22; ++field) {
        pos = stat.find(' ', pos);
        if (pos == std::string::npos) return 0;
        ++pos;
    }
    return std::strtoull(stat.c_str() + pos, nullptr, 10);
}

/// `<host>-<pid>-<start>`: who made a temporary file (see the file comment).
inline std::string temp_owner_tag() {
    char host[HOST_NAME_MAX + 1] = {};
    ::gethostname(host, sizeof host - 1);
    char buf[64];
    std::uint32_t h = 2166136261u;  // FNV-1a: the same in every build and process
    for (const char* p = host; *p; ++p) h = (h ^ static_cast<unsigned char>(*p)) * 16777619u;
    long pid = static_cast<long>(::getpid());
    std::snprintf(buf, sizeof buf, "%08x-%ld-%llu", static_cast<unsigned>(h), pid, process_start_time(pid));
    return buf;
}

/// Whether the owner `<host>-<pid>-<start>` of a temporary file is certainly gone: the same
/// host, and no process `pid`, or one started at another time (the pid was reused).
inline bool temp_owner_gone(std::string_view tag, std::string_view my_host) {
    unsigned hash = 0;
    long pid = 0;
    unsigned long long start = 0;
    std::string t(tag);
    if (std::sscanf(t.c_str(), "%8x-%ld-%llu", &hash, &pid, &start) != 3 || pid <= 0) return false;
    char host[16];
    std::snprintf(host, sizeof host, "%08x", hash);
    if (my_host != host) return false;  // another machine's run (a shared directory)
    if (pid == static_cast<long>(::getpid())) return false;
    if (::kill(static_cast<pid_t>(pid), 0) != 0) return errno == ESRCH;
    unsigned long long now = process_start_time(pid);
    return now != 0 && start != 0 && now != start;
}

class file_sink : public sink_base {
public:
    file_sink(std::string path, write_options o) : path_(std::move(path)), opt_(o) {}
    file_sink(file_sink&& o) noexcept
        : path_(std::move(o.path_)), target_(std::move(o.target_)), tmp_(std::move(o.tmp_)), opt_(o.opt_),
          fd_(std::exchange(o.fd_, -1)), written_(o.written_), writeback_from_(o.writeback_from_) {}
    file_sink& operator=(file_sink&&) = delete;
    ~file_sink() { discard(); }

    template <byte_like R>
    bool push(const R& r) {
        std::string_view b = bytes_of(r);
        if (b.empty()) return true;
        open_once();
        write_all(fd_, b, "to_file", tmp_, written_);
        written_ += b.size();
        if (opt_.durable && opt_.writeback_bytes != 0 && written_ - writeback_from_ >= opt_.writeback_bytes)
            start_writeback();
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
        if (::rename(tmp_.c_str(), target_.c_str()) != 0)
            throw error(errc::io, "to_file", errno_message("cannot rename onto", target_, errno));
        tmp_.clear();
        if (opt_.durable) sync_directory(target_);
        return written_;
    }

    /// Undoes: removes the temporary file; the destination is as it was before the run.
    void abort(const error&) noexcept { discard(); }

    const std::string& path() const noexcept { return path_; }
    /// Bytes handed to early write-back so far (`write_options::writeback_bytes`).
    std::uint64_t writeback_offset() const noexcept { return writeback_from_; }

private:
    void open_once() {
        if (fd_ >= 0) return;
        target_ = resolve_destination(path_);
        // The temporary lives in the destination's directory so the rename is atomic.
        std::string dir = directory_of(target_);
        // A long name is cut in the temporary's name (which must stay within NAME_MAX);
        // the cleanup below then may see other destinations' leftovers too, which are just
        // as stale when their owner is gone.
        std::string base = target_.substr(target_.find_last_of('/') + 1).substr(0, 150);
        std::string tag = temp_owner_tag();
        remove_stale_temporaries(dir, "." + base + ".sluice-", tag.substr(0, 8));
        tmp_ = dir + "/." + base + ".sluice-" + tag + "-" + std::string(6, 'X');  // mkostemp template
        int fd = ::mkostemp(tmp_.data(), O_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            tmp_.clear();
            throw error(errc::io, "to_file",
                        errno_message("cannot create a temporary file for", path_, err));
        }
        fd_ = fd;
        struct stat st{};
        mode_t mode = ::stat(target_.c_str(), &st) == 0 ? (st.st_mode & 07777) : opt_.mode;
        ::fchmod(fd_, mode);
    }

    /// The file to replace for `path`, by the rules in the file comment: a symbolic link's
    /// target; refusals for dangling links, read-only files and non-regular files.
    static std::string resolve_destination(const std::string& path) {
        struct stat st{};
        std::string target = path;
        if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
            char* real = ::realpath(path.c_str(), nullptr);
            if (!real)
                throw error(errc::io, "to_file",
                            errno_message("cannot follow the symbolic link", path, errno) +
                                " (an output that is a link must point to a file or a place for one)");
            target = real;
            std::free(real);
        }
        if (::stat(target.c_str(), &st) != 0) {
            if (errno == ENOENT) return target;  // a new file
            throw error(errc::io, "to_file", errno_message("cannot check", target, errno));
        }
        if (!S_ISREG(st.st_mode))
            throw error(errc::io, "to_file", "'" + target + "' exists and is not a regular file: refusing to replace it");
        if ((st.st_mode & 0222) == 0 || ::access(target.c_str(), W_OK) != 0)
            throw error(errc::io, "to_file", "'" + target + "' is read-only: refusing to replace it (make it writable or remove it first)");
        return target;
    }

    /// Removes `dir`'s temporary files named `<prefix><host>-<pid>-<start>-<6 random chars>` whose
    /// owner is gone. Best effort: nothing here fails the write.
    static void remove_stale_temporaries(const std::string& dir, const std::string& prefix,
                                         const std::string& my_host) noexcept {
        DIR* d = ::opendir(dir.c_str());
        if (!d) return;
        while (const dirent* e = ::readdir(d)) {
            std::string_view name(e->d_name);
            if (name.size() <= prefix.size() + 7 || name.substr(0, prefix.size()) != prefix) continue;
            std::string_view rest = name.substr(prefix.size());
            rest.remove_suffix(7);  // "-" and the 6 random characters mkstemp fills in
            if (temp_owner_gone(rest, my_host)) ::unlink((dir + "/" + std::string(name)).c_str());
        }
        ::closedir(d);
    }
    /// Starts write-back of what was written since the last call. Best effort: an error here
    /// would come back from the final fsync, which decides.
    void start_writeback() noexcept {
#if defined(__linux__)
        ::sync_file_range(fd_, static_cast<off_t>(writeback_from_),
                          static_cast<off_t>(written_ - writeback_from_), SYNC_FILE_RANGE_WRITE);
#endif
        writeback_from_ = written_;
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
    static void sync_directory(const std::string& file) noexcept {
        int d = ::open(directory_of(file).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d >= 0) {
            ::fsync(d);
            ::close(d);
        }
    }

    std::string path_;
    std::string target_;  // path_, or the file a symbolic link at path_ points to
    std::string tmp_;
    write_options opt_;
    int fd_ = -1;
    std::uint64_t written_ = 0;
    std::uint64_t writeback_from_ = 0;  // bytes before this offset were handed to write-back
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
