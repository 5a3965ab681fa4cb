#pragma once
/// \file
/// Everything of the S3 adaptor (needs OpenSSL and sluice::net's libcurl; CMake target
/// sluice::s3): configuration, SigV4, the client, the upload sink, the object source, the
/// random-access object input (ranged GETs, for Parquet) and presigned URLs. The HTTP
/// transport it sends through is net/'s (`net::transport`, `net::curl_transport`,
/// included). See docs/s3.md.

#include "../net/net.hpp"
#include "addressing.hpp"
#include "client.hpp"
#include "config.hpp"
#include "presign.hpp"
#include "range_input.hpp"
#include "read.hpp"
#include "sigv4.hpp"
#include "upload.hpp"
#include "url.hpp"
