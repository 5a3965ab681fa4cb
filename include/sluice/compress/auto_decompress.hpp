#pragma once
/// \file
/// `bytes | sluice::auto_decompress()`: looks at the first bytes of the stream and
/// decompresses gzip or zstd, or passes anything else through unchanged. Detection is by
/// magic number (see format.hpp).
///
/// `bytes | sluice::auto_decompress(name)` also takes the input's name (a path, an S3 key or
/// URL; `-` for stdin) as a claim: when it ends in a compression extension (`.gz`, `.zst`
/// ... see `format_from_extension`), the first bytes must be that format's magic number, or
/// the stream fails with `errc::bad_input` naming both ("data.csv.gz: not gzip data: the
/// name says gzip, the content is not compressed"), before a byte is passed on. A name
/// that says nothing (`data.csv`, `-`) leaves the decision to the magic number, so
/// `data.csv` holding gzip is still read.
/// Link: sluice::compress (zlib, libzstd; ISA-L when found).

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "../adaptors/compress.hpp"
#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "format.hpp"
#include "gzip.hpp"
#include "identity.hpp"
#include "zstd.hpp"

namespace sluice {

namespace compression {

// The decompressor holds `gzip::default_decompressor`, whose type depends on the backend macros, so it lives
// in gzip.hpp's selection namespace (see the ODR note there).
inline namespace SLUICE_GZIP_SELECTION_NS {

/// A codec that decides what it decodes from the stream's first bytes: gzip (the default
/// gzip decompressor), zstd, or identity for anything else. Models `sluice::codec`; the
/// decision costs one `std::visit` per chunk, not per byte.
///
/// Until `detect_bytes` bytes have arrived it holds them back (at most 4 bytes), so a
/// stream whose first chunk is tiny is still detected correctly; a stream shorter than a
/// magic number is passed through as `none` (unless its name claims a format).
class auto_decompressor {
public:
    /// Decides by magic number alone.
    auto_decompressor() = default;
    /// For an input called `name`: a name ending in a compression extension claims that
    /// format, and content without its magic number (empty content too) is `bad_input`.
    /// Any other name decides by magic number.
    explicit auto_decompressor(std::string_view name)
        : name_(name), claimed_(format_from_extension(name)) {}

    /// The format the name claims (`none`: no claim).
    format claimed() const noexcept { return claimed_; }
    /// The format chosen, or `none` while undecided (see `decided()`).
    format detected() const noexcept { return format_; }
    /// True once the first bytes have been seen (or the stream ended).
    bool decided() const noexcept { return !std::holds_alternative<std::monostate>(codec_); }
    /// True once the input is known to be uncompressed and the held-back bytes are out:
    /// the codec stage then hands the input's chunks on as they are (no copy).
    bool passes_through() const noexcept {
        return std::holds_alternative<identity_codec>(codec_) && replayed_ == held_;
    }

    /// Consumes a prefix of `in`; decoded bytes go into `out`'s spare capacity.
    std::size_t process(std::string_view in, chunk& out) {
        if (!decided()) {
            if (held_ == 0 && in.size() >= detect_bytes) {
                decide(in);
            } else {
                // Too short to tell: keep the bytes (consumed) and look again later.
                const std::size_t n = std::min(in.size(), detect_bytes - held_);
                std::memcpy(head_ + held_, in.data(), n);
                held_ += n;
                if (held_ == detect_bytes)
                    decide({head_, held_});
                return n;
            }
        }
        if (!replay(out))
            return 0;  // made progress on the held-back bytes
        return std::visit([&](auto& c) -> std::size_t { return run(c, in, out); }, codec_);
    }

    /// Flushes the chosen decompressor (deciding now for a stream shorter than a magic number).
    bool finish(chunk& out) {
        if (!decided())
            decide({head_, held_});
        if (!replay(out))
            return false;
        return std::visit([&](auto& c) -> bool { return end(c, out); }, codec_);
    }

    /// Reports the decoder's window to a run's memory plan: gzip's 32 KiB window when the
    /// name claims gzip, else a zstd window the budget may lower (zstd could be what the
    /// magic number finds).
    void plan_memory(memory_plan& plan, std::string_view stage) {
        if (claimed_ == format::gzip)
            plan.hold(stage, gzip_inflate_bytes, "gzip inflate window");
        else
            zstd::decompressor::plan_window(plan, stage, *this);
    }
    /// Caps the window of a zstd stream found later (see `zstd::decompressor::limit_window`).
    void limit_window(int log) {
        window_log_ = log;
        if (auto* z = std::get_if<zstd::decompressor>(&codec_)) z->limit_window(log);
    }
    /// What an inflater holds: its 32 KiB window and state (zlib's inflate_state, ISA-L's).
    static constexpr std::size_t gzip_inflate_bytes = 64 * 1024;

private:
    void decide(std::string_view first) {
        format_ = detect(first);
        if (claimed_ != format::none && format_ != claimed_) mismatch(first);
        switch (format_) {
            case format::gzip:
                codec_.emplace<gzip::default_decompressor>();
                break;
            case format::zstd:
                codec_.emplace<zstd::decompressor>();
                if (window_log_) std::get<zstd::decompressor>(codec_).limit_window(*window_log_);
                break;
            case format::none:
                codec_.emplace<identity_codec>();
                break;
        }
    }
    /// Feeds the held-back bytes to the chosen codec; true when none are left, false only
    /// when `out` is full.
    bool replay(chunk& out) {
        while (replayed_ < held_) {
            if (out.spare() == 0)
                return false;
            const std::size_t before = out.size();
            const std::size_t n = std::visit(
                [&](auto& c) -> std::size_t {
                    return run(c, std::string_view(head_ + replayed_, held_ - replayed_), out);
                },
                codec_);
            replayed_ += n;
            if (n == 0 && out.size() == before)
                throw error(errc::failed, "auto_decompress", "codec made no progress");
        }
        return true;
    }
    /// The name's claim and the content disagree.
    [[noreturn]] void mismatch(std::string_view first) const {
        std::string what(to_string(claimed_));
        std::string m = name_ + ": not " + what + " data: the name says " + what + ", ";
        if (first.empty()) {
            m += "the input is empty";
        } else if (format_ != format::none) {
            m += "the content is ";
            m += to_string(format_);
        } else if (first.size() < detect_bytes) {
            m += "the input is only " + std::to_string(first.size()) + " byte" +
                 (first.size() == 1 ? "" : "s") + " long";
        } else {
            // Show the first bytes: as text when they are printable, else in hex.
            bool text = true;
            for (char c : first.substr(0, detect_bytes)) text = text && c >= 0x20 && c < 0x7f;
            m += "the content is neither gzip nor zstd (it starts with ";
            if (text) {
                m += '"';
                m += first.substr(0, detect_bytes);
                m += "\": uncompressed text?)";
            } else {
                char hex[3 * detect_bytes + 1] = {};
                for (std::size_t i = 0; i < detect_bytes; ++i)
                    std::snprintf(hex + 3 * i, 4, i + 1 < detect_bytes ? "%02x " : "%02x",
                                  static_cast<unsigned char>(first[i]));
                m += "bytes ";
                m += hex;
                m += ")";
            }
        }
        throw error(errc::bad_input, "decompress", std::move(m));
    }

    template <class C>
    static std::size_t run(C& c, std::string_view in, chunk& out) {
        if constexpr (std::is_same_v<C, std::monostate>)
            return 0;
        else
            return c.process(in, out);
    }
    template <class C>
    static bool end(C& c, chunk& out) {
        if constexpr (std::is_same_v<C, std::monostate>)
            return true;
        else
            return c.finish(out);
    }

    std::variant<std::monostate, identity_codec, gzip::default_decompressor, zstd::decompressor> codec_;
    std::string name_;
    format claimed_ = format::none;
    format format_ = format::none;
    char head_[detect_bytes] = {};
    std::size_t held_ = 0;      // bytes in head_
    std::size_t replayed_ = 0;  // of those, handed to the codec
    std::optional<int> window_log_;  // a memory budget's zstd window cap
};

/// The partial call of `auto_decompress`.
struct auto_decompress_fn : adaptor<auto_decompress_fn, codec_options> {
    /// A string first is the input's name, not a source.
    static constexpr bool names_first = true;

    /// `bytes | auto_decompress(options)`: decodes gzip/zstd found by magic bytes.
    template <class Up>
    static auto make(Up up, codec_options o = {}) {
        return decompress(std::move(up), auto_decompressor{}, o);
    }
    /// `bytes | auto_decompress(name, options)`: the same, with the input's name as a
    /// claim the magic bytes must bear out (see `auto_decompressor(name)`).
    template <class Up>
    static auto make(Up up, std::string_view name, codec_options o = {}) {
        return decompress(std::move(up), auto_decompressor(name), o);
    }
};

}  // namespace SLUICE_GZIP_SELECTION_NS

}  // namespace compression

// The object's type depends on the backend selection too, hence the same inline namespace.
inline namespace SLUICE_GZIP_SELECTION_NS {
/// `bytes | sluice::auto_decompress()`: gzip or zstd input (by magic number) is decoded,
/// anything else passes through unchanged. Decoded chunks are at most `codec_options::chunk_size`;
/// uncompressed input is handed on in the upstream's own chunks once detected (no copy).
inline constexpr compression::auto_decompress_fn auto_decompress{};
}  // namespace SLUICE_GZIP_SELECTION_NS

}  // namespace sluice
