#pragma once
/// \file
/// The transient-failure rules of sluice's HTTP clients, in one place: which libcurl
/// results and which HTTP statuses are worth another attempt. Everything else fails at
/// once. S3 adds its own error codes on top (s3/client.hpp); the paginated API source uses
/// these as they are.

#include <curl/curl.h>

namespace sluice::net {

/// Failures to get an answer that may pass: the network or the server may recover.
/// A bad URL, an unsupported protocol or a rejected certificate will not.
inline bool curl_code_is_transient(CURLcode c) noexcept {
    switch (c) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return true;
        default:
            return false;
    }
}

/// HTTP statuses worth another attempt: request timeout (408), throttling (429) and the
/// server-side faults that pass (500, 502, 503, 504). Other 4xx are the request's own fault;
/// 501 and 505 will not change.
constexpr bool status_is_transient(long status) noexcept {
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
           status == 504;
}

}  // namespace sluice::net
