#pragma once
/// \file
/// Quoting for the few places where SQL text cannot take a `$n` parameter: identifiers
/// (table and column names) and literals in utility statements (SET, COPY options).

#include <cstddef>
#include <string>
#include <string_view>

#include "../core/error.hpp"

namespace sluice::pg {

/// One identifier in double quotes, embedded quotes doubled: `my "t"` -> `"my ""t"""`.
/// Throws `usage` for an empty name or one with a NUL byte (Postgres cannot store them).
inline std::string quote_identifier(std::string_view name) {
    if (name.empty()) throw sluice::error(errc::usage, "postgres", "empty identifier");
    std::string out = "\"";
    for (char c : name) {
        if (c == '\0')
            throw sluice::error(errc::usage, "postgres", "identifier contains a NUL byte");
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

/// A possibly schema-qualified name as the user wrote it on a command line: `events`,
/// `public.events`, `"My Schema"."My.Table"`. Each dot-separated part is quoted; a part
/// already in double quotes is taken as it is (with `""` meaning one quote), so dots and
/// any case survive. Throws `usage` for an empty part or an unterminated quote.
inline std::string quote_qualified_name(std::string_view name) {
    std::string out;
    std::size_t i = 0;
    for (;;) {
        std::string part;
        if (i < name.size() && name[i] == '"') {
            ++i;
            for (;;) {
                if (i >= name.size())
                    throw sluice::error(errc::usage, "postgres",
                                        "unterminated quoted identifier in '" +
                                            std::string(name) + "'");
                if (name[i] == '"') {
                    if (i + 1 < name.size() && name[i + 1] == '"') {
                        part += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                part += name[i++];
            }
        } else {
            auto dot = name.find('.', i);
            part = std::string(name.substr(i, dot == std::string_view::npos ? name.npos : dot - i));
            i = dot == std::string_view::npos ? name.size() : dot;
        }
        if (part.empty())
            throw sluice::error(errc::usage, "postgres",
                                "empty part in the name '" + std::string(name) + "'");
        out += quote_identifier(part);
        if (i >= name.size()) break;
        if (name[i] != '.')
            throw sluice::error(errc::usage, "postgres",
                                "unexpected character after a quoted part in '" +
                                    std::string(name) + "'");
        out += '.';
        ++i;
    }
    return out;
}

/// A string literal ('it''s'); with backslashes an E'' literal with them doubled, which
/// means the same whatever standard_conforming_strings says. Prefer `$n` parameters.
inline std::string quote_literal(std::string_view s) {
    std::string out = s.find('\\') == std::string_view::npos ? "'" : "E'";
    for (char c : s) {
        if (c == '\'' || c == '\\') out += c;
        out += c;
    }
    out += '\'';
    return out;
}

}  // namespace sluice::pg
