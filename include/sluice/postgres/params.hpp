#pragma once
/// \file
/// `pg::param_list`: query parameters as libpq text values. Parameters are always sent
/// apart from the SQL (PQexecParams), never spliced into it.

#include <charconv>
#include <concepts>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace sluice::pg {

/// A SQL NULL parameter (std::nullopt works too).
struct null_t {};
/// `pg::null`: pass as a parameter for SQL NULL.
inline constexpr null_t null{};

/// Parameters in text format. Strings are sent as they are; integers and floating-point
/// numbers in their shortest exact decimal form; bools as t/f; an empty std::optional,
/// std::nullopt or `pg::null` as NULL.
class param_list {
public:
    param_list() = default;
    // The pointers refer into values_' strings, which must not move: copying is re-adding.
    param_list(const param_list&) = delete;
    param_list& operator=(const param_list&) = delete;
    param_list(param_list&&) = default;
    param_list& operator=(param_list&&) = default;

    void add(null_t) { add_null(); }
    void add(std::nullopt_t) { add_null(); }
    void add(std::string_view s) { add_text(std::string(s)); }
    void add(const std::string& s) { add_text(s); }
    void add(const char* s) {
        if (s)
            add_text(s);
        else
            add_null();
    }
    void add(bool b) { add_text(b ? "t" : "f"); }
    template <class T>
        requires(std::integral<T> || std::floating_point<T>) && (!std::same_as<T, bool>) &&
                (!std::same_as<T, char>)
    void add(T v) {
        char buf[64];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        add_text(std::string(buf, r.ptr));
    }
    template <class T>
    void add(const std::optional<T>& v) {
        if (v)
            add(*v);
        else
            add_null();
    }

    /// Number of parameters.
    int size() const noexcept { return static_cast<int>(ptrs_.size()); }
    /// The values as libpq wants them (a null pointer is NULL).
    const char* const* values() const noexcept { return ptrs_.empty() ? nullptr : ptrs_.data(); }

private:
    void add_text(std::string s) {
        // Each value in its own allocation, so pointers survive growth of the vectors.
        values_.push_back(std::make_unique<std::string>(std::move(s)));
        ptrs_.push_back(values_.back()->c_str());
    }
    void add_null() { ptrs_.push_back(nullptr); }

    std::vector<std::unique_ptr<std::string>> values_;
    std::vector<const char*> ptrs_;
};

/// Builds a parameter list from arguments.
template <class... P>
param_list make_params(const P&... p) {
    param_list pl;
    (pl.add(p), ...);
    return pl;
}

}  // namespace sluice::pg
