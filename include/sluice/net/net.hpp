#pragma once
/// \file
/// Everything of sluice's HTTP layer (needs libcurl; CMake target `sluice::net`): the
/// request and response types, the transport interface and its libcurl implementation, the
/// transient-failure rules, and `net::send` / `net::call` (retry + endpoint breakers). The
/// S3 client (s3/) and the paginated API source (http/) are built on it.

#include "curl_transport.hpp"
#include "http.hpp"
#include "send.hpp"
#include "transient.hpp"
#include "transport.hpp"
