#pragma once
/// \file
/// `pg::statement_body(sql)` and `pg::subquery(sql)`: a user's query made safe to wrap in
/// `COPY (...)`, `SELECT count(*) FROM (...) q` or `row_to_json`. A query typed for psql
/// often ends in `;` or in a `-- comment`; pasted inside parentheses, the semicolon ends the
/// statement early and the comment swallows the closing parenthesis. The trailing semicolons
/// (with any whitespace and comments after them) are cut, and the closing parenthesis goes
/// on a line of its own.

#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::pg {

namespace detail {

/// A byte that may continue an identifier (so `typE'x'` is not an E'' string).
constexpr bool is_ident_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
}

/// Offset just past `$tag$` when a dollar quote opens at `i` (`$$` or `$name$`), else 0.
constexpr std::size_t dollar_tag_end(std::string_view s, std::size_t i) noexcept {
    std::size_t j = i + 1;
    // A tag is empty or an identifier without `$` (a digit cannot start it: `$1` is a
    // parameter, not a quote).
    if (j < s.size() && s[j] >= '0' && s[j] <= '9') return 0;
    while (j < s.size()) {
        char c = s[j];
        if (c == '$') return j + 1;
        if (!is_ident_char(c)) return 0;
        ++j;
    }
    return 0;
}

}  // namespace detail

/// `sql` without what follows its last token when that is a statement end: trailing
/// whitespace, `--` and `/* */` comments and `;` (repeated) are dropped; everything before
/// the last token is kept byte for byte. String literals (`'...'`, `E'...'` with backslash
/// escapes), quoted identifiers and dollar quotes (`$tag$...$tag$`) are skipped whole, so a
/// `;` or `--` inside them is text. A `;` between two statements is left for the server to
/// reject.
constexpr std::string_view statement_body(std::string_view sql) noexcept {
    std::size_t end = 0;  // just past the last token that is neither a comment nor `;`
    std::size_t i = 0;
    const std::size_t n = sql.size();
    while (i < n) {
        char c = sql[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == ';') {
            ++i;
            continue;
        }
        if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
            while (i < n && sql[i] != '\n') ++i;
            continue;
        }
        if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
            // Block comments nest in Postgres.
            int depth = 0;
            while (i < n) {
                if (sql[i] == '/' && i + 1 < n && sql[i + 1] == '*') {
                    ++depth;
                    i += 2;
                } else if (sql[i] == '*' && i + 1 < n && sql[i + 1] == '/') {
                    i += 2;
                    if (--depth == 0) break;
                } else {
                    ++i;
                }
            }
            continue;
        }
        if (c == '\'' || c == '"') {
            // E'...' (or e'...') takes backslash escapes; others double the quote.
            bool backslash = c == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                             (i < 2 || !detail::is_ident_char(sql[i - 2]));
            ++i;
            while (i < n) {
                if (backslash && sql[i] == '\\') {
                    i += 2;
                    continue;
                }
                if (sql[i] == c) {
                    if (i + 1 < n && sql[i + 1] == c) {
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                ++i;
            }
            end = i < n ? i : n;
            continue;
        }
        if (c == '$' && (i == 0 || !detail::is_ident_char(sql[i - 1]))) {
            if (std::size_t t = detail::dollar_tag_end(sql, i)) {
                std::string_view tag = sql.substr(i, t - i);
                std::size_t close = sql.find(tag, t);
                i = close == std::string_view::npos ? n : close + tag.size();
                end = i;
                continue;
            }
        }
        ++i;
        end = i;
    }
    return sql.substr(0, end);
}

/// `(` + the statement body + `\n)`: the query ready to stand inside a larger statement.
inline std::string subquery(std::string_view sql) {
    std::string s = "(";
    s += statement_body(sql);
    s += "\n)";
    return s;
}

}  // namespace sluice::pg
