#pragma once
/// \file
/// `json::jsonl_encoder`: an encoder for `sluice::encode` writing one JSON value per line
/// (JSON Lines / NDJSON). Records are turned into JSON by `json::write_value`, so CSV rows,
/// key-value vectors, the JSON reader's records and user types with a `write_value`
/// overload all work:
///
///     read_file("in.csv") | csv::read() | encode(json::jsonl_encoder{}) | to_file("out.jsonl");

#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../core/chunk.hpp"
#include "../core/json_escape.hpp"
#include "undoubled_string.hpp"
#include "write_value.hpp"
#include "writer.hpp"

namespace sluice::json {

/// Encodes each record as one compact JSON value followed by `\n`. Allocates nothing per
/// record (it appends into the chunk that `encode` reuses).
struct jsonl_encoder {
    /// Appends `record` and a line end to `out`.
    template <json_writable R>
    void encode(const R& record, chunk& out) const {
        if constexpr (string_record<R> && detail::has_header<R>) {
            encode_row(record, out);
        } else {
            writer w(out);
            write_value(w, record);
            out.push_back('\n');
        }
    }

private:
    /// CSV-like rows: every row repeats the same keys, so `,"key":` is rendered once per
    /// header and copied per row instead of escaped per row (the CSV -> JSONL hot path).
    template <class R>
    void encode_row(const R& r, chunk& out) const {
        const auto& h = r.header();
        const std::size_t n = static_cast<std::size_t>(r.size());
        if (&h != keys_for_ || n != key_ends_.size()) {
            if (n > static_cast<std::size_t>(h.size())) {  // unnamed columns: the generic path
                writer w(out);
                write_value(w, r);
                out.push_back('\n');
                return;
            }
            render_keys(h, n);
        }
        out.push_back('{');
        // Fields the CSV reader read from quotes with doubled quotes inside
        // (csv::row::doubled_quotes()): written from their text in the input by
        // write_undoubled_string, not undoubled by the reader and escaped again here.
        if constexpr (requires { r.doubled_quotes(); })
            write_fields(r, n, r.doubled_quotes(), out);
        else
            write_fields(r, n, std::span<const no_doubled_field>{}, out);
        out.append("}\n");
    }
    struct no_doubled_field {
        std::size_t column;
        std::string_view text;
    };
    template <class R, class Doubled>
    void write_fields(const R& r, std::size_t n, Doubled doubled, chunk& out) const {
        std::size_t next_doubled = doubled.empty() ? n : doubled.front().column;
        std::size_t from = 0;
        for (std::size_t i = 0; i < n; ++i) {
            // `,"key":` in 16-byte steps: keys_ ends with key_padding spare bytes, so the
            // last step may read past the key; room for the bytes stored past it is reserved.
            const std::size_t len = key_ends_[i] - from;
            out.reserve_spare(len + key_padding);
            char* dst = out.tail();
            const char* src = keys_.data() + from;
            for (std::size_t k = 0; k < len; k += key_padding) std::memcpy(dst + k, src + k, key_padding);
            out.commit(len);
            from = key_ends_[i];
            if (i != next_doubled) [[likely]] {
                write_string(std::string_view(r[i]), out);
                continue;
            }
            write_undoubled_string(doubled.front().text, out);
            doubled = doubled.subspan(1);
            next_doubled = doubled.empty() ? n : doubled.front().column;
        }
    }
    template <class H>
    void render_keys(const H& h, std::size_t n) const {
        chunk rendered;
        key_ends_.clear();
        for (std::size_t i = 0; i < n; ++i) {
            if (i) rendered.push_back(',');
            write_string(std::string_view(h[i]), rendered);
            rendered.push_back(':');
            key_ends_.push_back(rendered.size());
        }
        keys_.assign(rendered.view());
        keys_.append(key_padding, '\0');  // read by the last 16-byte step of a key copy
        keys_for_ = &h;
    }

    static constexpr std::size_t key_padding = 16;
    mutable const void* keys_for_ = nullptr;
    mutable std::string keys_;  // a string, so the encoder stays copyable
    mutable std::vector<std::size_t> key_ends_;
};

}  // namespace sluice::json
