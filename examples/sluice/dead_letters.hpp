#pragma once
// Where `--on-error skip` puts bad records: one JSON object per line with the line, the
// byte offset, the error and the raw text, written atomically like any other output.

#include <sluice/core/utf8.hpp>
#include <sluice/json/writer.hpp>
#include <sluice/sluice.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace cli {

class dead_letters {
public:
    dead_letters(std::string path, std::uint64_t max_errors)
        : max_(max_errors), path_(std::move(path)) {
        if (!path_.empty()) sink_.emplace(sluice::to_file(path_));
    }

    /// Records one bad record; throws a `limit` error once there are more than allowed.
    void add(const sluice::error& e, std::string_view raw) {
        ++count_;
        if (sink_) {
            buf_.clear();
            sluice::json::writer w(buf_);
            w.begin_object();
            const auto& at = e.where();
            if (at.has_line()) {
                w.key("line");
                w.number(at.line);
            }
            if (at.has_record()) {
                w.key("record");
                w.number(at.record);
            }
            if (at.has_byte_offset()) {
                w.key("byte_offset");
                w.number(at.byte_offset);
            }
            w.key("error");
            w.string(valid_utf8(e.message(), msg_));
            w.key("raw");
            w.string(valid_utf8(raw, raw_));
            w.end_object();
            buf_.push_back('\n');
            sink_->push(buf_);
        }
        if (max_ && count_ > max_)
            throw sluice::error(sluice::errc::limit, "convert",
                                "more than " + std::to_string(max_) + " bad records");
    }
    void commit() {
        if (sink_) sink_->finish();
    }
    void abort(const sluice::error& e) noexcept {
        if (sink_) sink_->abort(e);
    }
    std::uint64_t count() const noexcept { return count_; }
    const std::string& path() const noexcept { return path_; }

private:
    /// The JSON writer copies string bytes as they are, and a bad record is often bad
    /// precisely because it is not UTF-8: invalid sequences become U+FFFD so that every
    /// dead letter stays a valid JSON text.
    static std::string_view valid_utf8(std::string_view s, sluice::chunk& scratch) {
        if (sluice::utf8::is_valid(s)) return s;
        scratch.clear();
        sluice::utf8::append_replacing(s, scratch);
        return scratch.view();
    }

    std::uint64_t max_;
    std::string path_;
    std::optional<sluice::detail::file_sink> sink_;
    sluice::chunk buf_;
    sluice::chunk msg_, raw_;  // U+FFFD-repaired copies of invalid UTF-8
    std::uint64_t count_ = 0;
};

}  // namespace cli
