#pragma once
/// \file
/// `http::read_api(options)`: a paginated JSON REST API as a source of records, one
/// `const json::json_record&` per element of each page's array (CMake: `sluice::http`:
/// sluice::net's libcurl + simdjson). The HTTP part (transport, keep-alive, TLS and CA
/// file, timeouts, retries, breakers) is net/'s; what is this source's own is pagination.
///
///     http::api_options o;
///     o.url = "https://api.example.com/v1/orders?limit=500";
///     o.headers = {{"Authorization", "Bearer " + token}};
///     o.records_key = "data";                 // {"data": [...], "next_cursor": "..."}
///     o.cursor_key = "next_cursor";           // where the next page's cursor is
///     o.cursor_param = "cursor";              // ... and the query parameter it goes into
///     read_api(o) | sluice::encode(json::jsonl_encoder{}) | sluice::to_file("orders.jsonl");
///
/// **Pages.** Each page is one GET. Its body is read into a buffer of at most
/// `max_page_bytes` (a server that sends more is an `errc::limit` error, never an
/// out-of-memory), then its records are cut one by one by the streaming JSON array reader
/// (`json::read_array`) over those bytes, so a page's records are never all materialised.
/// The records are the top-level array, or the array under `records_key` of a top-level
/// object (a page that is a bare array is taken as the records even when `records_key` is
/// set). The next page is, in this order: the `Link: <url>; rel="next"` header (if
/// `follow_link_header`), else `cursor_param=<cursor>` added to the first URL when the page
/// object's `cursor_key` member holds a non-empty string or a number. A page without
/// either is the last one. Empty pages with a cursor are skipped over.
///
/// **Failures.** Every GET is a `net::call`: retried (transient: connection failures,
/// timeouts, stalls, HTTP 408/429/500/502/503/504, see net/transient.hpp; `Retry-After` is
/// not consulted, the jittered backoff is) behind the `endpoint_breakers` of the source
/// (pass `shared_breaker` to share them between sources of one endpoint). A page counts
/// toward a breaker once, when its retries are spent, and 4xx answers never count (see
/// policy/endpoint_breakers.hpp), so the retries are never cut short by the breaker; once
/// `failure_threshold` pages in a row have failed, further GETs fail at once with the
/// breaker's message. Other HTTP statuses fail at once (`net::http_error`, `errc::network`,
/// the status and up to 200 bytes of the body in the message). The run's stop token aborts
/// a transfer in progress and the backoff sleeps.
///
/// **Secrets.** Messages name the URL without its query string; the cursor and the query
/// are shown only as a fingerprint (`#` + 16 hex digits of FNV-1a 64, see `fingerprint`),
/// enough to correlate log lines, never the value. Header values never appear anywhere.
/// FNV-1a is not a cryptographic hash: a short, guessable cursor ("page=2") can be found
/// from its fingerprint, a random token cannot be recovered in practice.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/chunk.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/stage.hpp"
#include "../json/document_reader.hpp"
#include "../json/json_array_reader.hpp"
#include "../json/record.hpp"
#include "../net/curl_transport.hpp"
#include "../net/http.hpp"
#include "../net/send.hpp"
#include "../policy/circuit_breaker.hpp"
#include "../policy/endpoint_breakers.hpp"
#include "../policy/retry.hpp"

namespace sluice::http {

/// A fingerprint of a secret-ish value for messages: "#" + 16 hex digits of FNV-1a 64.
inline std::string fingerprint(std::string_view s) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    char buf[20];
    std::snprintf(buf, sizeof buf, "#%016llx", static_cast<unsigned long long>(h));
    return buf;
}

/// A URL fit for messages: scheme, host and path; the query (which may hold keys or
/// cursors) replaced by its fingerprint.
inline std::string redact_url(std::string_view url) {
    std::size_t q = url.find_first_of("?#");
    if (q == std::string_view::npos) return std::string(url);
    return std::string(url.substr(0, q)) + "?" + fingerprint(url.substr(q + 1));
}

/// Options of `read_api`.
struct api_options {
    /// The first page (may carry a query string of its own).
    std::string url;
    /// Request headers, e.g. {"Authorization", "Bearer ..."}. Their values are never logged.
    std::vector<std::pair<std::string, std::string>> headers;
    /// Empty: the page is a top-level array. Otherwise a page that is an object has its
    /// records in the array under this member ("data", "items", ...); a null member is an
    /// empty page.
    std::string records_key;
    /// The page object's member holding the next cursor / page token (empty: none).
    std::string cursor_key;
    /// The query parameter that carries the cursor to the next request.
    std::string cursor_param = "cursor";
    /// Follow `Link: <...>; rel="next"` (takes precedence over the cursor).
    bool follow_link_header = true;
    /// A page body larger than this is an `errc::limit` error (decoded bytes).
    std::size_t max_page_bytes = std::size_t{16} << 20;
    /// Stop after this many pages (0: no limit).
    std::uint64_t max_pages = 0;
    /// Connection timeout and the whole-request timeout of one GET.
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds request_timeout{120'000};
    /// A GET that moves no byte for this long is dropped and retried (0: no stall timer).
    std::chrono::milliseconds stall_timeout{30'000};
    /// Retries of one page; its `stop` is replaced by the run's stop token.
    retry_policy retry{.max_attempts = 6, .base_delay = std::chrono::milliseconds(200)};
    /// The breakers of this source (unless `shared_breaker` is set); `name` defaults to
    /// "api <origin>". The threshold counts pages that failed after their retries.
    circuit_breaker_options breaker{.failure_threshold = 5};
    /// Breakers shared with other sources of the same endpoint (optional).
    std::shared_ptr<endpoint_breakers> shared_breaker;
    /// Options of the array reader cutting each page's records.
    json::array_options array{};
    /// Verify TLS certificates (https).
    bool verify_tls = true;
    /// A CA bundle (PEM) to trust instead of the system's (empty: the system's).
    std::string ca_file;
    /// Told about each retry (message without secrets); may be empty.
    std::function<void(const std::string&)> log;
};

namespace detail {

/// One page's bytes as a one-pull source for `json::read_array`.
class page_view_source : public root_source<page_view_source> {
public:
    using reference = std::string_view;
    explicit page_view_source(std::string_view v) noexcept : v_(v) {}
    maybe<std::string_view> next() {
        if (done_) return {};
        done_ = true;
        return v_;
    }

private:
    std::string_view v_;
    bool done_ = false;
};

using page_array_stage =
    decltype(json::read_array(std::declval<page_view_source>(), json::array_options{}));

/// The `rel="next"` target of a Link header value, or "".
inline std::string link_next(std::string_view v) {
    while (!v.empty()) {
        std::size_t lt = v.find('<');
        if (lt == std::string_view::npos) return {};
        std::size_t gt = v.find('>', lt);
        if (gt == std::string_view::npos) return {};
        std::string_view target = v.substr(lt + 1, gt - lt - 1);
        std::size_t end = v.find(',', gt);
        std::string_view params = v.substr(gt + 1, end == std::string_view::npos ? v.npos : end - gt - 1);
        // rel="next" or rel=next, possibly among other relation types ("next last").
        std::size_t r = params.find("rel=");
        if (r != std::string_view::npos) {
            std::string_view rel = params.substr(r + 4);
            if (!rel.empty() && rel.front() == '"') {
                rel.remove_prefix(1);
                rel = rel.substr(0, rel.find('"'));
            } else {
                rel = rel.substr(0, rel.find_first_of("; "));
            }
            std::size_t p = 0;
            while (p <= rel.size()) {
                std::size_t sp = rel.find(' ', p);
                std::string_view word = rel.substr(p, sp == std::string_view::npos ? rel.npos : sp - p);
                if (word == "next") return std::string(target);
                if (sp == std::string_view::npos) break;
                p = sp + 1;
            }
        }
        if (end == std::string_view::npos) return {};
        v.remove_prefix(end + 1);
    }
    return {};
}

/// scheme://host[:port] of `url`.
inline std::string_view origin_of(std::string_view url) {
    std::size_t s = url.find("://");
    if (s == std::string_view::npos) return {};
    std::size_t p = url.find('/', s + 3);
    return p == std::string_view::npos ? url : url.substr(0, p);
}

/// Resolves a Link target against the URL of the page that named it (absolute URLs,
/// origin-relative "/path", and query-only "?q" are what APIs send).
inline std::string resolve(std::string_view base, std::string_view target) {
    if (target.find("://") != std::string_view::npos) return std::string(target);
    if (!target.empty() && target.front() == '/') return std::string(origin_of(base)) + std::string(target);
    if (!target.empty() && target.front() == '?') return std::string(base.substr(0, base.find('?'))) + std::string(target);
    std::string_view dir = base.substr(0, base.find('?'));
    return std::string(dir.substr(0, dir.rfind('/') + 1)) + std::string(target);
}

}  // namespace detail

/// The source behind `read_api`. Move-only; records are valid until the next pull.
class api_source : public root_source<api_source> {
public:
    using reference = const json::json_record&;

    explicit api_source(api_options o) : opt_(std::move(o)) {
        if (opt_.url.empty()) throw error(errc::usage, "http.api", "no URL given");
        if (!opt_.shared_breaker) {
            circuit_breaker_options b = opt_.breaker;
            if (b.name.empty() || b.name == "service") b.name = "api " + std::string(detail::origin_of(opt_.url));
            opt_.shared_breaker = std::make_shared<endpoint_breakers>(b);
        }
        next_url_ = opt_.url;
    }
    api_source(api_source&&) = default;
    api_source& operator=(api_source&&) = default;

    /// The next record, or nothing after the last page.
    maybe<const json::json_record&> next() {
        for (;;) {
            if (records_) {
                if (++until_check_ >= stop_check_interval) {
                    until_check_ = 0;
                    this->check_stop("http.api");
                }
                try {
                    if (auto r = records_->next()) {
                        ++records_done_;
                        return *r;
                    }
                } catch (const error& e) {
                    records_.reset();
                    next_url_.clear();
                    // Keep the reader's position (line and byte within the page's array).
                    throw error(e.code(), "http.api",
                                page_label() + ": " + e.stage() + ": " + e.message(), e.where());
                }
                records_.reset();
            }
            if (next_url_.empty() || (opt_.max_pages && pages_ >= opt_.max_pages)) return {};
            this->check_stop("http.api");
            load_page();
        }
    }

    /// Pages fetched so far.
    std::uint64_t pages_done() const noexcept { return pages_; }
    /// Records yielded so far.
    std::uint64_t records_done() const noexcept { return records_done_; }
    /// The breakers guarding the endpoint (shared when `shared_breaker` was given).
    const endpoint_breakers& breaker() const noexcept { return *opt_.shared_breaker; }

private:
    std::string page_label() const {
        std::string s = "GET " + redact_url(page_url_) + " (page " + std::to_string(pages_);
        if (!cursor_.empty()) s += ", cursor " + fingerprint(cursor_);
        return s + ")";
    }

    void load_page() {
        page_url_ = std::move(next_url_);
        next_url_.clear();
        ++pages_;
        net::send_policy p;
        p.retry = opt_.retry;
        p.retry.stop = this->stop_;
        if (opt_.log && !p.retry.on_retry)
            p.retry.on_retry = [this](int attempt, const error& e, std::chrono::milliseconds d) {
                opt_.log(std::string(e.what()) + "; attempt " + std::to_string(attempt) +
                         " failed, retrying in " + std::to_string(d.count()) + " ms");
            };
        p.breakers = opt_.shared_breaker.get();
        std::string link = net::call([&] { return fetch(); }, p);
        parse_page(link);
    }

    /// One GET of page_url_ into body_ (at most max_page_bytes, decoded); returns the
    /// answer's Link header values. A non-2xx answer is a `net::http_error`.
    std::string fetch() {
        if (!transport_) {
            net::transport_options t;
            t.connect_timeout = opt_.connect_timeout;
            t.request_timeout = opt_.request_timeout;
            t.stall_timeout = opt_.stall_timeout;
            t.verify_tls = opt_.verify_tls;
            t.ca_file = opt_.ca_file;
            t.decode_content = true;
            transport_ = std::make_unique<net::curl_transport>(std::move(t));
        }
        body_.clear();
        body_.reserve(64 * 1024);
        bool over = false;
        net::http_request r;
        r.url = page_url_;
        r.stage = "http.api";
        r.label = page_label();
        r.stop = this->stop_;
        r.max_body = opt_.max_page_bytes;  // an error answer's body, collected
        r.headers.emplace_back("Accept", "application/json");
        for (const auto& h : opt_.headers) r.headers.push_back(h);
        r.on_body = [&](std::string_view d) {
            if (body_.size() + d.size() > opt_.max_page_bytes) {
                over = true;
                return false;  // stop reading: never buffer past the cap
            }
            body_.append(d);
            return true;
        };
        net::http_response a;
        try {
            a = transport_->request(r);
        } catch (const error& e) {
            if (over || e.code() == errc::limit)
                throw error(errc::limit, "http.api",
                            page_label() + ": the page is larger than max_page_bytes (" +
                                std::to_string(opt_.max_page_bytes) + " bytes)");
            throw;
        }
        if (!a.ok()) throw net::answer_error(r, a);
        return a.header_list("Link");
    }

    /// Finds the records and the next page of the page in body_.
    void parse_page(const std::string& link) {
        std::string next;
        if (opt_.follow_link_header && !link.empty()) {
            std::string target = detail::link_next(link);
            if (!target.empty()) next = detail::resolve(page_url_, target);
        }
        std::string_view records_text = body_.view();
        std::string cursor;
        // A top-level array is the records whatever records_key says (APIs that paginate
        // with Link headers send bare arrays); only an object is looked into.
        std::size_t first = records_text.find_first_not_of(" \t\r\n");
        bool bare_array = first != std::string_view::npos && records_text[first] == '[';
        if (!bare_array && (!opt_.records_key.empty() || !opt_.cursor_key.empty())) {
            if (!parser_)
                parser_.emplace(json::document_options{.max_document_size = opt_.max_page_bytes,
                                                       .max_depth = opt_.array.max_depth});
            const json::json_record* parsed = nullptr;
            try {
                // Parsed in place: the record's raw views point into body_ (padded now).
                parsed = &parser_->parse(body_);
            } catch (const error& e) {
                throw error(e.code(), "http.api",
                            page_label() + ": the page is not valid JSON: " + e.message(), e.where());
            }
            const json::json_record& page = *parsed;
            records_text = body_.view();  // the padding may have moved the buffer
            if (page.type() != json::json_type::object)
                throw error(errc::bad_input, "http.api",
                            page_label() + ": expected a JSON object with \"" + opt_.records_key +
                                "\", got " + std::string(to_string(page.type())));
            if (!opt_.records_key.empty()) {
                const json::json_value* v = page.get(opt_.records_key);
                if (!v || !(v->is_array() || v->is_null()))
                    throw error(errc::bad_input, "http.api",
                                page_label() + ": no array under \"" + opt_.records_key + "\"");
                // The raw text of the member points into body_ (the parser keeps raw views).
                records_text = v->is_null() ? std::string_view("[]") : v->raw();
            }
            if (!opt_.cursor_key.empty()) {
                if (const json::json_value* cv = page.get(opt_.cursor_key)) {
                    if (cv->is_string()) cursor = std::string(cv->str());
                    else if (cv->is_number()) cursor = std::string(cv->raw());
                }
            }
        }
        if (next.empty() && !cursor.empty()) next = with_param(opt_.url, opt_.cursor_param, cursor);
        // A server that names the same page again would loop forever.
        if (!next.empty() && next == page_url_)
            throw error(errc::bad_input, "http.api", page_label() + ": the next page is this page again");
        cursor_ = std::move(cursor);
        next_url_ = std::move(next);
        records_.emplace(json::read_array(detail::page_view_source(records_text), opt_.array));
    }

    static std::string with_param(const std::string& url, const std::string& name,
                                  const std::string& value) {
        std::string u = url;
        u += url.find('?') == std::string::npos ? '?' : '&';
        u += name;
        u += '=';
        u += net::percent_encode(value);
        return u;
    }

    api_options opt_;
    std::unique_ptr<net::transport> transport_;  // one connection, kept alive between pages
    chunk body_;
    std::optional<json::in_place_parser> parser_;
    std::optional<detail::page_array_stage> records_;
    std::string page_url_, next_url_, cursor_;
    std::uint64_t pages_ = 0;
    std::uint64_t records_done_ = 0;
    std::size_t until_check_ = 0;
};

/// `read_api(options)`: see the file comment.
struct read_api_fn {
    api_source operator()(api_options o) const { return api_source(std::move(o)); }
};
/// See `read_api_fn`.
inline constexpr read_api_fn read_api{};

}  // namespace sluice::http
