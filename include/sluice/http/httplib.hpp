#pragma once
/// \file
/// The cpp-httplib adapter of `http::response_sink` (CMake: `sluice::httplib`).
///
///     svr.Get("/events.csv", [&](const httplib::Request&, httplib::Response& res) {
///         auto conn = std::make_shared<pg::connection>(dsn);   // fail here: still a 500
///         http::stream_response(res, "text/csv", [conn](http::response_sink& sink,
///                                                       std::stop_token stop) {
///             sluice::run(pg::copy_out(*conn, "SELECT * FROM events"), sink, {.stop = stop});
///         });
///     });
///
/// **Where the pipeline runs.** In httplib's content provider, on the worker thread that
/// serves the connection, in one call: every pipeline chunk goes straight to
/// `DataSink::write`, which writes one HTTP chunk to the socket before returning. That
/// keeps the first byte early (it leaves when the first chunk is full, 64 KiB of COPY
/// output), memory flat (one chunk in flight, plus httplib's copy of it) and needs no
/// second thread or handoff queue: a worker thread with a bounded queue would only add a
/// copy and a context switch per chunk, since the socket is the bottleneck either way.
/// The cost is that a download occupies one httplib worker for its duration: size the
/// server's pool (`svr.new_task_queue = [] { return new httplib::ThreadPool(32); }`) for
/// the downloads you expect at once.
///
/// **Disconnects.** A failed socket write (the client closed or reset the connection, or
/// stopped reading for httplib's write timeout) makes the sink stop the run within one
/// chunk; a Postgres COPY is then cancelled server-side. `stream_options::stop` (e.g. the
/// server's shutdown token) cancels the run too; the connection is then dropped.
///
/// **Failures after the headers** cannot change the status: the response is dropped
/// without its terminating chunk, so clients see a truncated transfer (curl: exit 18,
/// "transfer closed with outstanding read data remaining"), and `on_failure` is told why.

#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>

#include "../core/error.hpp"
#include "response_sink.hpp"

namespace sluice::http {

/// `response_writer` over an httplib `DataSink` (chunked content provider).
class httplib_writer final : public response_writer {
public:
    explicit httplib_writer(httplib::DataSink& sink) noexcept : sink_(&sink) {}

    bool write(std::string_view data) override {
        if (broken_) return false;
        // is_writable() polls the socket; write() returns false once a send failed.
        if (!sink_->is_writable() || !sink_->write(data.data(), data.size())) broken_ = true;
        return !broken_;
    }
    void finish() override {
        finished_ = true;
        sink_->done();
    }
    void abort() noexcept override { broken_ = true; }

    /// True once `finish()` ended the body normally.
    bool finished() const noexcept { return finished_; }

private:
    httplib::DataSink* sink_;
    bool broken_ = false;
    bool finished_ = false;
};

/// Options of `stream_response`.
struct stream_options {
    /// An outside stop (e.g. server shutdown): cancels the run and drops the connection.
    std::stop_token stop{};
    /// Told why a streamed response failed after its headers were sent (not for a client
    /// that went away: that is `errc::cancelled` / `errc::io` and normal). May be empty.
    std::function<void(const sluice::error&)> on_failure{};
    /// Told when the body ended, however: (bytes sent, completed normally).
    std::function<void(std::uint64_t, bool)> on_done{};
};

/// Makes `res` a chunked response of `content_type` whose body is written by
/// `body(response_sink& sink, std::stop_token stop)`, which must run its pipeline into
/// `sink` with `stop` as the run's stop token (see the file comment). `body` is called
/// once, on the connection's worker thread, after the headers are sent; everything it
/// captures must be owned (shared_ptr) or outlive the response. Exceptions from `body`
/// are caught: they drop the connection.
template <class F>
void stream_response(httplib::Response& res, const std::string& content_type, F body,
                     stream_options opt = {}) {
    struct state {
        F body;
        stream_options opt;
        bool started = false;
    };
    auto st = std::make_shared<state>(state{std::move(body), std::move(opt)});
    res.set_chunked_content_provider(
        content_type, [st](std::size_t /*offset*/, httplib::DataSink& ds) -> bool {
            // httplib calls the provider until done(); the whole pipeline runs in the first
            // call, so a second call means the body already ended without done().
            if (st->started) return false;
            st->started = true;
            httplib_writer w(ds);
            std::stop_source cancel;
            // The outside stop reaches the run through our own source, which the sink also
            // triggers on disconnect: one token for the run.
            std::stop_callback link(st->opt.stop, [&cancel] { cancel.request_stop(); });
            response_sink sink(w, &cancel);
            try {
                st->body(sink, cancel.get_token());
            } catch (...) {
                error e = current_error();
                bool client_side = sink.client_gone() || e.code() == errc::cancelled;
                if (!client_side && st->opt.on_failure) st->opt.on_failure(e);
            }
            if (!w.finished()) sink.abort(error(errc::failed, "http.response", "not finished"));
            if (st->opt.on_done) st->opt.on_done(sink.bytes_sent(), w.finished());
            // false: httplib closes the connection without the terminating chunk.
            return w.finished();
        });
}

}  // namespace sluice::http
