#pragma once
/// \file
/// Everything of the S3 adaptor (needs libcurl and OpenSSL; CMake target sluice::s3):
/// configuration, SigV4, the transport, the client, the upload sink, the object source
/// and presigned URLs. See docs/s3.md.

#include "addressing.hpp"
#include "client.hpp"
#include "config.hpp"
#include "curl_transport.hpp"
#include "presign.hpp"
#include "read.hpp"
#include "sigv4.hpp"
#include "transport.hpp"
#include "upload.hpp"
#include "url.hpp"
