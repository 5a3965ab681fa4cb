#pragma once
/// \file
/// `s3::object_range_input`: an S3 object as a `sluice::random_access_input`, each read a
/// ranged GET (`Range: bytes=a-b`), so a columnar reader fetches only what it needs - for
/// Parquet the footer, then the column chunks of the selected columns:
/// \code
/// auto rows = parquet::read(std::make_unique<s3::object_range_input>(client, "b", "k.parquet"));
/// \endcode
/// The size and ETag come from a HEAD request on first use; every GET carries If-Match with
/// that ETag, so an object replaced while it is read fails (412) instead of mixing two
/// versions. GETs are retried on transient failures by the client.

#include <cstdint>
#include <stop_token>
#include <string>
#include <utility>

#include "../core/error.hpp"
#include "../core/random_access.hpp"
#include "../net/http.hpp"
#include "client.hpp"

namespace sluice::s3 {

/// See the file comment.
class object_range_input final : public random_access_input {
public:
    object_range_input(client c, std::string bucket, std::string key, std::stop_token stop = {})
        : cli_(std::move(c)), bucket_(std::move(bucket)), key_(std::move(key)), stop_(std::move(stop)) {}

    std::uint64_t size() override {
        head();
        return size_;
    }

    void read_at(std::uint64_t offset, std::size_t n, std::string& out) override {
        head();
        out.clear();
        if (n == 0) return;
        if (offset > size_ || n > size_ - offset)
            throw error(errc::usage, "s3.read", client::where(bucket_, key_) + ": a read of " + std::to_string(n) +
                                                    " bytes at " + std::to_string(offset) + " is past the object's end");
        s3_call c = cli_.call("GetObject", "GET", bucket_, key_, stop_);
        c.headers.emplace_back("Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + n - 1));
        if (!etag_.empty()) c.headers.emplace_back("If-Match", etag_);
        c.detail = " bytes " + std::to_string(offset) + "-" + std::to_string(offset + n - 1);
        net::http_response r = cli_.execute(c);
        if (r.status != 206 && !(r.status == 200 && offset == 0 && n == size_))
            throw error(errc::network, "s3.read", client::where(bucket_, key_) + ": the server ignored the Range header (HTTP " +
                                                      std::to_string(r.status) + ")");
        if (r.body.size() != n)
            throw error(errc::network, "s3.read", client::where(bucket_, key_) + ": asked for " + std::to_string(n) +
                                                      " bytes at " + std::to_string(offset) + ", got " +
                                                      std::to_string(r.body.size()));
        out = std::move(r.body);
        ++gets_;
        bytes_ += n;
    }

    std::string name() const override { return client::where(bucket_, key_); }

    /// Ranged GETs made so far and the bytes they fetched (tests check a reader fetches
    /// only what it needs).
    std::uint64_t gets() const noexcept { return gets_; }
    std::uint64_t bytes_fetched() const noexcept { return bytes_; }

private:
    void head() {
        if (have_head_) return;
        net::http_response r = cli_.head_object(bucket_, key_, stop_);
        const std::string len = r.header("Content-Length");
        try {
            size_ = std::stoull(len);
        } catch (...) {
            throw error(errc::network, "s3.read", client::where(bucket_, key_) + ": HEAD gave no Content-Length");
        }
        etag_ = r.header("ETag");
        have_head_ = true;
    }

    client cli_;
    std::string bucket_, key_;
    std::stop_token stop_;
    bool have_head_ = false;
    std::uint64_t size_ = 0;
    std::string etag_;
    std::uint64_t gets_ = 0, bytes_ = 0;
};

}  // namespace sluice::s3
