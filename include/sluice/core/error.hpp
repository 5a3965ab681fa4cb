#pragma once
/// \file
/// `sluice::error`: what went wrong, in which stage, and where in the input.
/// `result<T>`: a value or an error, for callers that do not want exceptions at the edge.

#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sluice {

/// Broad classes of failure. The CLI maps them to exit statuses: `bad_input` and
/// `usage` are the user's data or flags (exit 2), everything else is the outside world (1),
/// `cancelled` is a deliberate stop (130). What a server reports about a request it took
/// (a database rejecting a statement or failing while it runs) is `server`, the outside
/// world, even when the server blames the request: the request is not the user's input data.
enum class errc : std::uint8_t {
    failed = 1,     ///< an exception from user code or an unclassified failure
    bad_input,      ///< malformed data: a parse error, a bad record
    io,             ///< reading or writing a file, pipe or socket failed
    network,        ///< a remote service failed or could not be reached
    cancelled,      ///< the run's stop token was triggered
    out_of_memory,  ///< an allocation failed or a configured memory budget was exceeded
    usage,          ///< the pipeline or its options were used wrongly
    limit,          ///< a configured limit (max rejects, max size) was exceeded
    server,         ///< a server took the request and reported an error (SQL it rejected, a
                    ///< constraint, an error raised mid-stream, a timeout on its side)
};

/// A short lowercase name for an error class, as used in messages.
constexpr std::string_view to_string(errc c) noexcept {
    switch (c) {
        case errc::failed: return "failed";
        case errc::bad_input: return "bad input";
        case errc::io: return "I/O error";
        case errc::network: return "network error";
        case errc::cancelled: return "cancelled";
        case errc::out_of_memory: return "out of memory";
        case errc::usage: return "usage error";
        case errc::limit: return "limit exceeded";
        case errc::server: return "server error";
    }
    return "error";
}

/// Where in the input an error happened. Every field is optional: a byte source knows
/// only the offset, a CSV reader knows all of them. Lines and columns are 1-based,
/// records and byte offsets 0-based (a byte offset is a count of bytes before the spot).
struct position {
    static constexpr std::uint64_t unknown = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t record = unknown;       ///< 0-based index of the record in its stream
    std::uint64_t line = unknown;         ///< 1-based physical line
    std::uint64_t column = unknown;       ///< 1-based field (column) number
    std::uint64_t byte_offset = unknown;  ///< 0-based offset from the start of the input

    constexpr bool has_record() const noexcept { return record != unknown; }
    constexpr bool has_line() const noexcept { return line != unknown; }
    constexpr bool has_column() const noexcept { return column != unknown; }
    constexpr bool has_byte_offset() const noexcept { return byte_offset != unknown; }
    constexpr bool empty() const noexcept {
        return !has_record() && !has_line() && !has_column() && !has_byte_offset();
    }
    /// "line 12, column 3, byte 456, record 10", listing only what is known.
    std::string to_string() const {
        std::string s;
        auto add = [&](const char* name, std::uint64_t v) {
            if (v == unknown) return;
            if (!s.empty()) s += ", ";
            s += name;
            s += std::to_string(v);
        };
        add("line ", line);
        add("column ", column);
        add("byte ", byte_offset);
        add("record ", record);
        return s;
    }
};

/// Where a reader's bytes start in a larger input: for a reader given one piece of it (a
/// `text_block`, see core/text_block.hpp), so that its records and errors name lines and
/// byte offsets in the whole input.
struct input_origin {
    std::uint64_t line = 1;         ///< 1-based line of the first byte
    std::uint64_t byte_offset = 0;  ///< bytes of the input before the first one
};

/// The one exception type sluice throws. Its `what()` reads well on its own:
/// "csv: line 12, column 3, byte 456: unterminated quoted field".
class error : public std::runtime_error {
public:
    error(errc code, std::string stage, std::string message, position where = {})
        : std::runtime_error(compose(stage, message, where)),
          code_(code),
          stage_(std::move(stage)),
          message_(std::move(message)),
          where_(where) {}

    /// The class of failure (drives exit statuses and retry decisions).
    errc code() const noexcept { return code_; }
    /// The stage that raised it ("csv", "to_file", "s3.upload", ...); may be empty.
    const std::string& stage() const noexcept { return stage_; }
    /// The message without stage and position.
    const std::string& message() const noexcept { return message_; }
    /// Where in the input it happened.
    const position& where() const noexcept { return where_; }

    /// A copy of this error with its position completed by `outer` where this one is blank
    /// (an inner stage knows the byte offset, an outer one the record index, say).
    error with_position(const position& outer) const {
        position p = where_;
        if (!p.has_record()) p.record = outer.record;
        if (!p.has_line()) p.line = outer.line;
        if (!p.has_column()) p.column = outer.column;
        if (!p.has_byte_offset()) p.byte_offset = outer.byte_offset;
        return error(code_, stage_, message_, p);
    }

private:
    static std::string compose(const std::string& stage, const std::string& msg,
                               const position& where) {
        std::string s = stage;
        std::string pos = where.to_string();
        if (!pos.empty()) {
            if (!s.empty()) s += ": ";
            s += pos;
        }
        if (!s.empty()) s += ": ";
        s += msg;
        return s;
    }

    errc code_;
    std::string stage_;
    std::string message_;
    position where_;
};

/// The error for a run stopped through its stop token.
inline error cancelled_error(std::string stage = "run") {
    return error(errc::cancelled, std::move(stage), "cancelled");
}

/// Converts whatever is in flight (call inside a catch block) to a `sluice::error`, so that
/// `try_run` can return every failure as a value and sinks can be told why they abort.
inline error current_error() noexcept {
    try {
        throw;
    } catch (const error& e) {
        return e;
    } catch (const std::bad_alloc&) {
        return error(errc::out_of_memory, "", "out of memory");
    } catch (const std::exception& e) {
        return error(errc::failed, "", e.what());
    } catch (...) {
        return error(errc::failed, "", "unknown exception");
    }
}

/// A value or an error: the return type of `try_run`. Check it before use.
template <class T>
class [[nodiscard]] result {
public:
    result(T v) : v_(std::in_place_index<0>, std::move(v)) {}
    result(sluice::error e) : v_(std::in_place_index<1>, std::move(e)) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    /// The value; throws the error if there is none.
    T& value() & {
        if (!has_value()) throw std::get<1>(v_);
        return std::get<0>(v_);
    }
    T&& value() && {
        if (!has_value()) throw std::get<1>(v_);
        return std::move(std::get<0>(v_));
    }
    T& operator*() noexcept { return *std::get_if<0>(&v_); }
    T* operator->() noexcept { return std::get_if<0>(&v_); }
    /// The error; only valid when `!has_value()`.
    const sluice::error& error() const noexcept { return *std::get_if<1>(&v_); }

private:
    std::variant<T, sluice::error> v_;
};

/// `result<void>`: success or an error.
template <>
class [[nodiscard]] result<void> {
public:
    result() = default;
    result(sluice::error e) : e_(std::move(e)) {}
    bool has_value() const noexcept { return !e_.has_value(); }
    explicit operator bool() const noexcept { return has_value(); }
    void value() const {
        if (e_) throw *e_;
    }
    const sluice::error& error() const noexcept { return *e_; }

private:
    std::optional<sluice::error> e_;
};

namespace detail {

/// "<what> '<path>': <strerror(err)>" (the quoted path left out when empty): the message of
/// a failed system call, shared by the file sources and sinks.
inline std::string errno_message(const char* what, const std::string& path, int err) {
    std::string m = what;
    if (!path.empty()) {
        m += " '";
        m += path;
        m += "'";
    }
    m += ": ";
    m += std::strerror(err);
    return m;
}

}  // namespace detail

/// "<what> '<path>': <strerror(err)>": the message sluice's own file stages give a failed
/// system call, for programs that open a file themselves and report it the same way.
using detail::errno_message;

}  // namespace sluice
