#pragma once
// The JSON -> CSV row mapping of `convert` and `load`, with the column rules of the CLI (a
// record it cannot map throws bad_input; sluice::try_map makes that a reject of the run's
// error policy).

#include <sluice/json/record.hpp>
#include <sluice/sluice.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cli {

/// Maps JSON objects to CSV fields. Columns are the given ones or the first record's keys
/// in order. Strings are written raw, numbers as in the input text, true/false, null and
/// missing keys as empty fields, objects and arrays as compact JSON keeping number text.
/// A key that is not a column is bad input, unless the columns were given explicitly.
class json_to_fields {
public:
    explicit json_to_fields(std::vector<std::string> columns)
        : columns_(std::move(columns)), explicit_(!columns_.empty()) {
        index_columns();
    }
    /// Columns learned from an earlier record (`given` false): keys outside them are still
    /// bad input, as with the columns this mapping would have learned itself.
    json_to_fields(std::vector<std::string> columns, bool given)
        : columns_(std::move(columns)), explicit_(given) {
        index_columns();
    }
    json_to_fields(const json_to_fields& o) : json_to_fields(o.columns_) { explicit_ = o.explicit_; }
    json_to_fields(json_to_fields&& o) noexcept
        : columns_(std::move(o.columns_)), explicit_(o.explicit_) {
        index_columns();
    }

    const std::vector<std::string_view>& operator()(const sluice::json::json_record& r) {
        if (r.type() != sluice::json::json_type::object) fail(r, "the record is not a JSON object");
        if (columns_.empty()) {
            for (const auto& f : r) columns_.emplace_back(f.key);
            index_columns();
        }
        fields_.assign(columns_.size(), std::string_view{});
        values_.assign(columns_.size(), nullptr);
        compact_.clear();
        spans_.clear();
        // Records usually list their keys in the columns' order: the member at position i is
        // compared with column i first, and only a key out of place is looked up.
        std::size_t pos = 0;
        for (const auto& f : r) {
            std::size_t col;
            if (pos < columns_.size() && columns_[pos] == f.key) {
                col = pos;
            } else {
                auto it = index_.find(f.key);
                if (it == index_.end()) {
                    ++pos;
                    if (explicit_) continue;
                    fail(r, "key \"" + std::string(f.key) + "\" is not among the columns (from the first record); use --columns to choose columns");
                }
                col = it->second;
            }
            ++pos;
            fields_[col] = text_of(f.value, col);
            values_[col] = &f.value;
        }
        // Compact texts were appended to one buffer that may have moved while growing.
        for (auto [col, off, len] : spans_) fields_[col] = std::string_view(compact_.data() + off, len);
        return fields_;
    }

    const std::vector<std::string>& columns() const noexcept { return columns_; }
    /// True when the columns were given (--columns), not learned from a record.
    bool given() const noexcept { return explicit_; }
    /// The last record's value per column (null: the key is missing); valid as the record.
    /// Lets a caller reach the values without a lookup per column (quadratic in wide records).
    const std::vector<const sluice::json::json_value*>& values() const noexcept { return values_; }

private:
    void index_columns() {
        index_.clear();
        for (std::size_t i = 0; i < columns_.size(); ++i) index_.emplace(columns_[i], i);
    }
    std::string_view text_of(const sluice::json::json_value& v, std::size_t col) {
        using t = sluice::json::json_type;
        switch (v.type()) {
            case t::string: return v.str();
            case t::null: return {};
            case t::number:
            case t::boolean: return v.raw();
            case t::object:
            case t::array: {
                std::size_t off = compact_.size();
                compact(v.raw());
                spans_.push_back({col, off, compact_.size() - off});
                return {};
            }
        }
        return v.raw();
    }
    /// Drops insignificant whitespace outside strings; everything else is kept verbatim.
    /// Writes through a pointer into room made once (a push_back per byte was a seventh of
    /// JSONL -> CSV's time on records with a nested object).
    void compact(std::string_view raw) {
        const std::size_t at = compact_.size();
        compact_.resize(at + raw.size());
        char* const begin = compact_.data() + at;
        char* o = begin;
        const char* p = raw.data();
        const char* const end = p + raw.size();
        while (p != end) {
            const char c = *p++;
            if (c == '"') {
                // A string: copied up to its closing quote (escapes included as they are).
                *o++ = c;
                while (p != end) {
                    const char d = *p++;
                    *o++ = d;
                    if (d == '"') break;
                    if (d == '\\' && p != end) *o++ = *p++;
                }
            } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                *o++ = c;
            }
        }
        compact_.resize(at + static_cast<std::size_t>(o - begin));
    }
    [[noreturn]] void fail(const sluice::json::json_record& r, std::string msg) const {
        sluice::position p;
        p.line = r.line();
        throw sluice::error(sluice::errc::bad_input, "convert", std::move(msg), p);
    }

    struct span {
        std::size_t col, off, len;
    };
    std::vector<std::string> columns_;
    bool explicit_;
    std::unordered_map<std::string_view, std::size_t> index_;
    std::vector<std::string_view> fields_;
    std::vector<const sluice::json::json_value*> values_;
    std::vector<span> spans_;
    std::string compact_;
};

}  // namespace cli
