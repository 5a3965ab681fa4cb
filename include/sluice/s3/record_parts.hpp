#pragma once
/// \file
/// `s3::upload_records(client, bucket, key, upload_options, record_parts_options)`: a sink
/// of keyed records (`s3::keyed_bytes`: one or more whole records and the key of the last)
/// that uploads them as a multipart upload whose every part is an independent unit:
///
/// - a part ends on a record boundary, at the first one where the part holds at least
///   `part_size` bytes (as stored, i.e. compressed);
/// - with a compressor, each part is one complete gzip member / zstd frame (a fresh codec
///   per part), so the parts concatenate into a valid stream and any prefix of stored parts
///   is a valid object of whole records;
/// - each part is tagged with the key of its last record, which `on_part_stored` receives
///   in part-number order: a checkpoint written there says "every record up to this key
///   is stored", and an export resumed after that key (a keyset read,
///   `pg::rows_options::keyset`) with `upload_options::resume` gives the same object as an
///   uninterrupted one, byte for byte for a deterministic codec.
///
/// Memory: the upload's buffers ((in flight + 1) x part, each part slightly above
/// `part_size`), one codec, and a 64 KiB staging chunk.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "../compress/any_codec.hpp"
#include "../core/chunk.hpp"
#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/sink.hpp"
#include "client.hpp"
#include "upload.hpp"

namespace sluice::s3 {

/// What `upload_records` takes: whole records' bytes and the key of the last one (a view:
/// valid for the `push` only).
struct keyed_bytes {
    std::string_view bytes;
    std::string_view key;
};

/// Options of `upload_records`.
struct record_parts_options {
    /// A part ends at the first record boundary at or past this many stored bytes; at least
    /// 5 MiB unless `upload_options::allow_small_parts_for_testing`.
    std::size_t part_size = 8 * mib;
    /// Makes the codec of one part (one gzip member / zstd frame); empty: no compression.
    std::function<any_codec()> compressor{};
};

/// Room above `part_size` in each part buffer (see `upload_records`).
inline constexpr std::size_t part_slack = 256 * 1024;

namespace detail {

/// The sink `upload_records` returns (see the file comment).
class record_parts_sink : public sink_base {
public:
    record_parts_sink(upload_sink up, record_parts_options o)
        : up_(std::move(up)), opt_(std::move(o)), out_(64 * 1024) {}

    void bind(run_context& ctx) {
        ctx_ = &ctx;
        ctx.memory.hold("s3.upload_records", out_.capacity(), "staging chunk");
        // The first part's codec is made here so that it can report what it holds (each
        // part has a fresh codec of the same kind: one at a time).
        if (opt_.compressor && !codec_) {
            new_codec();
            codec_.plan_memory(ctx.memory, "s3.upload_records");
        }
        up_.bind(ctx);
    }

    bool push(const keyed_bytes& r) {
        if (opt_.compressor) {
            if (!codec_) new_codec();
            for (std::string_view in = r.bytes; !in.empty();) {
                if (out_.spare() == 0) flush();
                in.remove_prefix(codec_.process(in, out_));
            }
            raw_ += r.bytes.size();
        } else {
            up_.push(r.bytes);
            part_bytes_ += r.bytes.size();
            raw_ += r.bytes.size();
        }
        // Bytes still inside the codec are not counted: a part may come out a little
        // larger than part_size, never smaller.
        if (part_bytes_ >= opt_.part_size) end_part(r.key);
        else last_key_ = std::string(r.key);
        return true;
    }

    /// Ends the last part and completes the upload.
    upload_result finish() {
        if (raw_ != 0) end_part(last_key_);
        return up_.finish();
    }
    void abort(const error& e) noexcept { up_.abort(e); }

    /// The multipart UploadId, once created or resumed.
    const std::string& upload_id() const noexcept { return up_.upload_id(); }

private:
    void new_codec() {
        codec_ = opt_.compressor();
        if (ctx_) codec_.bind(*ctx_);
    }

    /// Hands the staged compressed bytes to the upload.
    void flush() {
        if (out_.empty()) return;
        up_.push(out_.view());
        part_bytes_ += out_.size();
        out_.clear();
    }

    /// Closes the codec's member/frame and the upload's part, tagged with `key`.
    void end_part(std::string_view key) {
        if (codec_) {
            for (;;) {
                if (out_.spare() == 0) flush();
                if (codec_.finish(out_)) break;
            }
            flush();
            codec_ = any_codec();
        }
        up_.end_part(std::string(key));
        part_bytes_ = 0;
        raw_ = 0;
        last_key_.clear();
    }

    upload_sink up_;
    record_parts_options opt_;
    any_codec codec_;
    chunk out_;
    run_context* ctx_ = nullptr;
    std::size_t part_bytes_ = 0;  // stored bytes of the part being filled
    std::size_t raw_ = 0;         // record bytes taken into the part being filled
    std::string last_key_;
};

}  // namespace detail

/// `keyed records | s3::upload_records(client, bucket, key, upload_opts, parts_opts)`: see
/// the file comment. `upload_opts.explicit_parts` is set here; `resume`, `on_part_stored`
/// and `keep_upload_on_abort` are what a resumable export sets.
inline detail::record_parts_sink upload_records(const client& c, std::string bucket,
                                                std::string key, upload_options uo,
                                                record_parts_options po = {}) {
    uo.explicit_parts = true;
    if (po.part_size < min_part_size && !uo.allow_small_parts_for_testing)
        throw error(errc::usage, "s3.upload",
                    "part size " + std::to_string(po.part_size) +
                        " is below S3's minimum of 5 MiB (5242880 bytes)");
    // The upload's buffers are sized for a part plus what a part ends past part_size by:
    // the codec's pending output, one staging chunk, a record (a longer one grows them).
    uo.part_size = po.part_size + part_slack;
    return detail::record_parts_sink(upload(c, std::move(bucket), std::move(key), std::move(uo)),
                                     std::move(po));
}

}  // namespace sluice::s3
