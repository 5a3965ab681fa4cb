#pragma once
/// \file
/// `net::transport`: the small HTTP interface sluice's clients speak through. One request at
/// a time per transport object (a client that sends from several threads pools them). The
/// libcurl implementation is net/curl_transport.hpp; tests and embedders may supply their own.
///
/// Failure contract of `request`: an HTTP answer of any status is returned, never thrown.
/// A failure to get an answer throws: `sluice::transient_error` (errc::network) for faults
/// that may pass (refused or reset connection, timeout, stall: net/transient.hpp has the
/// list), `sluice::error` for those that will not (bad URL, certificate rejected),
/// `errc::limit` when a collected body exceeds `http_request::max_body`, `cancelled` when
/// `stop` was triggered or `on_body` returned false. Errors carry the request's `stage` and
/// `request_label`; they never contain header values (which may hold signatures or tokens).

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "http.hpp"

namespace sluice::net {

/// Connection settings of a transport.
struct transport_options {
    /// Time allowed to establish a connection (TCP + TLS).
    std::chrono::milliseconds connect_timeout{10'000};
    /// A transfer that moves no byte for this long is dropped (a transient failure); time a
    /// streaming consumer spends in `on_body` does not count. 0: no stall timer.
    std::chrono::milliseconds stall_timeout{30'000};
    /// The whole request, connection to last byte (a transient failure); 0: no limit.
    std::chrono::milliseconds request_timeout{0};
    /// Verify TLS certificates and host names (https only). Keep on outside tests.
    bool verify_tls = true;
    /// A CA bundle (PEM) to trust instead of the system's; empty: the system's.
    std::string ca_file;
    /// Send `Accept-Encoding` with every compression the transport supports and hand the
    /// body on decoded. Off for object stores, whose bodies must arrive byte for byte.
    bool decode_content = false;
};

/// The transport interface (see the file comment for its failure contract).
class transport {
public:
    virtual ~transport() = default;
    /// Sends `r` and waits for the whole answer (or streams its body into `r.on_body`).
    virtual http_response request(const http_request& r) = 0;

    /// Convenience form: `request(method, url, headers, body)`.
    http_response request(std::string method, std::string url, field_list headers,
                          std::string_view body = {}) {
        http_request r;
        r.method = std::move(method);
        r.url = std::move(url);
        r.headers = std::move(headers);
        r.body = body;
        return request(r);
    }
};

}  // namespace sluice::net
