#pragma once
// JSON values as Postgres input text, for `sluice load` of JSONL/JSON: what the column's
// type needs, so that an export (row_to_json semantics) loads back to the same table.
// Arrays become array literals ({1,NULL,"a b"}), json/jsonb columns get JSON text (a JSON
// string keeps its quotes), everything else the value's plain text.

#include <sluice/json/record.hpp>
#include <sluice/sluice.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace cli {

/// How a target column takes its input text.
enum class pg_column_kind { plain, array, json };

namespace detail {

inline void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/// A small scanner over JSON text the reader has already validated.
class json_scan {
public:
    explicit json_scan(std::string_view s) : s_(s) {}

    /// Appends the array literal for the JSON array at the cursor.
    void array_literal(std::string& out) {
        skip_ws();
        ++i_;  // '['
        out += '{';
        bool first = true;
        for (;;) {
            skip_ws();
            if (s_[i_] == ']') {
                ++i_;
                break;
            }
            if (!first) out += ',';
            first = false;
            element(out);
            skip_ws();
            if (s_[i_] == ',') ++i_;
        }
        out += '}';
    }

private:
    void element(std::string& out) {
        char c = s_[i_];
        if (c == '[') {
            array_literal(out);
        } else if (c == '"') {
            std::string text;
            string_value(text);
            quoted(out, text);
        } else if (c == '{') {
            std::size_t start = i_;
            skip_value();
            quoted(out, s_.substr(start, i_ - start));
        } else {
            std::size_t start = i_;
            while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != ']' && s_[i_] != ' ' &&
                   s_[i_] != '\t' && s_[i_] != '\n' && s_[i_] != '\r')
                ++i_;
            std::string_view tok = s_.substr(start, i_ - start);
            out += tok == "null" ? std::string_view("NULL") : tok;
        }
    }
    /// Array elements are always quoted (so "NULL", "" and text with braces survive).
    static void quoted(std::string& out, std::string_view text) {
        out += '"';
        for (char c : text) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    void string_value(std::string& out) {
        ++i_;  // opening quote
        while (s_[i_] != '"') {
            char c = s_[i_++];
            if (c != '\\') {
                out += c;
                continue;
            }
            char e = s_[i_++];
            switch (e) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'u': {
                    std::uint32_t cp = hex4();
                    if (cp >= 0xD800 && cp < 0xDC00 && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
                        i_ += 2;
                        std::uint32_t lo = hex4();
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    append_utf8(out, cp);
                    break;
                }
                default: out += e;  // \" \\ \/
            }
        }
        ++i_;
    }
    std::uint32_t hex4() {
        std::uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            char c = s_[i_++];
            v = v * 16 + static_cast<std::uint32_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        return v;
    }
    void skip_value() {
        int depth = 0;
        bool in_string = false;
        for (; i_ < s_.size(); ++i_) {
            char c = s_[i_];
            if (in_string) {
                if (c == '\\')
                    ++i_;
                else if (c == '"')
                    in_string = false;
            } else if (c == '"') {
                in_string = true;
            } else if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    ++i_;
                    return;
                }
            }
        }
    }
    void skip_ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
            ++i_;
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

}  // namespace detail

/// The input text for `v` in a column of kind `kind`; `plain_text` is the CSV-style text
/// of the value (strings unescaped, containers compact). `scratch` holds built text.
inline std::string_view pg_input_text(const sluice::json::json_value& v, pg_column_kind kind,
                                      std::string_view plain_text, std::string& scratch) {
    if (kind == pg_column_kind::array && v.is_array()) {
        scratch.clear();
        detail::json_scan(v.raw()).array_literal(scratch);
        return scratch;
    }
    // A json/jsonb column takes the JSON text as written: a string keeps its quotes and
    // escapes, a `json` column keeps the exact spacing of the export.
    if (kind == pg_column_kind::json) return v.raw();
    return plain_text;
}

}  // namespace cli
