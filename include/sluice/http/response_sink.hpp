#pragma once
/// \file
/// `http::to_response(writer, &stop_source)`: a byte sink that writes a pipeline's chunks
/// into an HTTP response body, through the small `http::response_writer` interface that any
/// server can implement (the cpp-httplib adapter is `sluice/http/httplib.hpp`).
///
///     std::stop_source cancel;
///     sluice::run(pg::copy_out(conn, sql) | sluice::compress(gzip),
///                 http::to_response(writer, &cancel), {.stop = cancel.get_token()});
///
/// Each chunk is handed to the writer as it arrives (with chunked transfer encoding one
/// HTTP chunk per pipeline chunk), so the first byte leaves as soon as the first chunk is
/// full and memory stays at one chunk whatever the size of the export.
///
/// A client that goes away makes `write` return false: the sink then requests a stop on
/// the `std::stop_source` it was given and stops the run (push returns false), so the run
/// ends within one chunk; the source sees the stop or is abandoned (a Postgres COPY is
/// cancelled server-side). `finish()` ends the body; `abort()` ends the response *without*
/// the terminating chunk, so the client sees a truncated transfer, never a body that looks
/// complete. Headers are the server's business: once the first byte is out the status
/// can no longer change, so validate before streaming.

#include <atomic>
#include <cstdint>
#include <stop_token>
#include <string>
#include <string_view>

#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../core/sink.hpp"

namespace sluice::http {

/// The body of one streamed HTTP response, as a server exposes it. Implementations send
/// each `write` as (at least) one chunk of a chunked response.
class response_writer {
public:
    virtual ~response_writer() = default;
    /// Sends `data` (never empty: an empty chunk would end a chunked body). Returns false
    /// when the client is gone (the connection failed or was closed); later calls may be
    /// skipped.
    virtual bool write(std::string_view data) = 0;
    /// Ends the body normally (chunked: the terminating zero-length chunk).
    virtual void finish() = 0;
    /// Ends the response without completing the body: the server drops the connection, so
    /// the client sees a truncated transfer.
    virtual void abort() noexcept = 0;
};

/// The sink behind `to_response`: takes byte-like records (`chunk`, `std::string`,
/// `std::string_view`) and returns the bytes sent from `finish()`.
class response_sink : public sink_base {
public:
    /// `cancel` (optional) is stopped when the client goes away; pass the stop source whose
    /// token the run uses, so the stop reaches the source within one chunk.
    explicit response_sink(response_writer& w, std::stop_source* cancel = nullptr) noexcept
        : w_(&w), cancel_(cancel) {}

    template <class R>
        requires byte_like<R>
    bool push(const R& r) {
        std::string_view b = bytes_of(r);
        if (b.empty()) return true;  // an empty chunk would end a chunked body early
        if (!w_->write(b)) {
            gone_.store(true, std::memory_order_relaxed);
            if (cancel_) cancel_->request_stop();
            return false;
        }
        bytes_.fetch_add(b.size(), std::memory_order_relaxed);
        return true;
    }

    /// Ends the body and returns the bytes sent. Throws `errc::io` when the client went
    /// away (reached only when the run was not cancelled through the stop source).
    std::uint64_t finish() {
        if (gone_.load(std::memory_order_relaxed))
            throw error(errc::io, "http.response",
                        "the client disconnected after " + std::to_string(bytes_sent()) + " bytes");
        w_->finish();
        return bytes_sent();
    }

    /// Drops the response: the client must not mistake a failed export for a complete one.
    void abort(const error&) noexcept { w_->abort(); }

    /// Bytes handed to the writer so far (any thread may read it while the run goes on).
    std::uint64_t bytes_sent() const noexcept { return bytes_.load(std::memory_order_relaxed); }
    /// True once a write reported that the client is gone.
    bool client_gone() const noexcept { return gone_.load(std::memory_order_relaxed); }

private:
    response_writer* w_;
    std::stop_source* cancel_;
    std::atomic<std::uint64_t> bytes_{0};
    std::atomic<bool> gone_{false};
};

/// `to_response(writer, &stop_source)`: see the file comment. Both must outlive the run.
struct to_response_fn {
    response_sink operator()(response_writer& w, std::stop_source* cancel = nullptr) const noexcept {
        return response_sink(w, cancel);
    }
};
/// See `to_response_fn`.
inline constexpr to_response_fn to_response{};

}  // namespace sluice::http
