// The HTTP routes of the export service (see service.hpp and README's export service section).
#include "service.hpp"

#include <sluice/http/httplib.hpp>
#include <sluice/http/response_sink.hpp>
#include <sluice/s3/sigv4.hpp>
#include <sluice/s3/url.hpp>

#include <simdjson.h>

#include <memory>
#include <regex>

#include "export_pipeline.hpp"
#include "json_util.hpp"

namespace export_service {

namespace pg = sluice::pg;

bool bearer_matches(const std::string& header, const std::string& token) {
    auto a = sluice::s3::sigv4::sha256(header);
    auto b = sluice::s3::sigv4::sha256("Bearer " + token);
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0 && !token.empty();
}

namespace {

void send_json(httplib::Response& res, int status, const std::string& body) {
    res.status = status;
    res.set_content(body, "application/json");
}

/// GET /exports/NAME.csv[.gz] | .jsonl[.gz] -> spec, or nothing when NAME has no such suffix.
std::optional<export_spec> parse_download(const std::string& name) {
    static const std::regex re(R"(^(.+)\.(csv|jsonl)(\.gz)?$)");
    std::smatch m;
    if (!std::regex_match(name, m, re))
        return std::nullopt;
    return export_spec{m[1].str(), m[2].str(), m[3].matched};
}

bool is_job_id(const std::string& s) {
    if (s.size() != 32)
        return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    return true;
}

void download(const service_config& cfg, const export_spec& spec, httplib::Response& res) {
    if (!allowed(cfg.allowed_tables, spec.table)) {
        send_json(res, 400,
                  json_error("table '" + spec.table + "' is not on the export allow-list"));
        return;
    }
    // Connect before the headers go out: a failure here is still a proper error answer.
    std::shared_ptr<pg::connection> conn;
    try {
        conn = std::make_shared<pg::connection>(cfg.dsn);
    } catch (const sluice::error& e) {
        cfg.log(std::string("download ") + spec.file_name() + ": " + e.what());
        send_json(res, 503, json_error("the database is not available"));
        return;
    }
    res.set_header("Content-Disposition", "attachment; filename=\"" + spec.file_name() + "\"");
    res.set_header("Cache-Control", "no-store");
    auto log = cfg.log;
    std::string what = "download " + spec.file_name();
    sluice::http::stream_options so;
    so.stop = cfg.shutdown;
    so.on_failure = [log, what](const sluice::error& e) { log(what + " failed: " + e.what()); };
    so.on_done = [log, what](std::uint64_t bytes, bool ok) {
        log(what + (ok ? " done, " : " ended early, ") + std::to_string(bytes) + " bytes");
    };
    sluice::http::stream_response(
        res, spec.content_type(),
        [conn, spec](sluice::http::response_sink& sink, std::stop_token stop) {
            run_export(*conn, spec, sink, stop);
        },
        std::move(so));
}

/// POST /exports body -> job request, or a 400 message.
std::variant<job_request, std::string> parse_job(const service_config& cfg,
                                                 const std::string& body) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(body).get(doc) || !doc.is_object())
        return std::string("the body must be a JSON object");
    auto get_str = [&](const char* k, std::string def) -> std::optional<std::string> {
        simdjson::dom::element v;
        if (doc[k].get(v))
            return def;  // missing
        std::string_view s;
        if (v.get_string().get(s))
            return std::nullopt;
        return std::string(s);
    };
    auto table = get_str("table", "");
    auto format = get_str("format", "csv");
    auto compress = get_str("compress", "none");
    auto to = get_str("to", "");
    if (!table || !format || !compress || !to)
        return std::string("table, format, compress and to must be strings");
    if (table->empty())
        return std::string("missing \"table\"");
    if (!allowed(cfg.allowed_tables, *table))
        return "table '" + *table + "' is not on the export allow-list";
    if (*format != "csv" && *format != "jsonl")
        return std::string("format must be csv or jsonl");
    if (*compress != "gzip" && *compress != "none")
        return std::string("compress must be gzip or none");
    if (!sluice::s3::is_s3_url(*to))
        return std::string("\"to\" must be an s3://bucket/prefix/ URL");
    sluice::s3::location loc;
    try {
        loc = sluice::s3::parse_url(*to, false);
    } catch (const sluice::error& e) {
        return std::string("\"to\": ") + e.message();
    }
    if (loc.bucket.empty())
        return std::string("\"to\" names no bucket");
    job_request r;
    r.spec = export_spec{*table, *format, *compress == "gzip"};
    r.bucket = loc.bucket;
    r.key = loc.key;  // a prefix: the object name is added once the id is known
    return r;
}

/// The answer to a request the server's limits refused (see http_server.hpp), or none.
std::optional<std::string> refusal_message(int status, const server_limits& lim) {
    switch (status) {
        case 408:
            return "the request line and headers must arrive within "
                   + std::to_string(lim.header_timeout.count()) + " ms";
        case 431:
            return "the request headers exceed " + std::to_string(lim.max_header_bytes) + " bytes";
        case 413:
            return "the request body is larger than " + std::to_string(lim.max_body) + " bytes";
        default:
            return std::nullopt;
    }
}

/// POST /exports: validated, its destination checked, then recorded and queued.
void post_export(const service_config& cfg, job_manager& jobs, const httplib::Request& req,
                 httplib::Response& res) {
    auto parsed = parse_job(cfg, req.body);
    if (auto* msg = std::get_if<std::string>(&parsed))
        return send_json(res, 400, json_error(*msg));
    job_request r = std::get<job_request>(std::move(parsed));
    if (cfg.destinations.empty())
        return send_json(res, 403,
                         json_error("background exports to S3 are disabled: the service "
                                    "was started without --allow-destinations"));
    auto prefix = allowed_prefix(cfg.destinations, r.bucket, r.key);
    if (!prefix)
        return send_json(res, 403,
                         json_error("\"to\" is outside the destinations this service may "
                                    "write to (--allow-destinations)"));
    r.key = *prefix;  // completed by submit with the id
    std::string id = jobs.submit(r);
    auto s = jobs.status_json(id);
    res.set_header("Location", "/exports/" + id);
    send_json(res, 202, s ? *s : json_object().str("id", id).done());
}

/// The handlers around the routes: the token check, refusals and errors as JSON.
void install_guards(guarded_server& svr, const service_config& cfg) {
    // Every endpoint needs the token: checked before routing (after the size limits), so
    // unknown paths answer 401 too and reveal nothing.
    svr.set_guarded_pre_routing_handler(
        [&cfg](const httplib::Request& req, httplib::Response& res) {
            if (bearer_matches(req.get_header_value("Authorization"), cfg.token))
                return httplib::Server::HandlerResponse::Unhandled;
            res.set_header("WWW-Authenticate", "Bearer");
            send_json(res, 401, json_error("missing or wrong bearer token"));
            return httplib::Server::HandlerResponse::Handled;
        });
    svr.set_error_handler([&svr](const httplib::Request&, httplib::Response& res) {
        if (auto m = refusal_message(guarded_server::refused_status(), svr.limits())) {
            res.status = guarded_server::refused_status();
            res.set_header("Connection", "close");
            return send_json(res, res.status, json_error(*m));
        }
        if (res.body.empty())
            send_json(res, res.status, json_error(res.status == 404 ? "not found" : "error"));
    });
    svr.set_exception_handler(
        [&cfg](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "unknown exception";
            try {
                if (ep)
                    std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            cfg.log(req.method + " " + req.path + ": " + what);
            send_json(res, 500, json_error("internal error"));
        });
}

}  // namespace

void install_routes(guarded_server& svr, const service_config& cfg, job_manager& jobs) {
    install_guards(svr, cfg);
    svr.Get(R"(/exports/([^/]+))",
            [&cfg, &jobs](const httplib::Request& req, httplib::Response& res) {
                std::string name = req.matches[1];
                if (auto spec = parse_download(name))
                    return download(cfg, *spec, res);
                if (!is_job_id(name))
                    return send_json(res, 404, json_error("no such export job"));
                auto s = jobs.status_json(name);
                if (!s)
                    return send_json(res, 404, json_error("no such export job"));
                send_json(res, 200, *s);
            });

    svr.Post("/exports", [&cfg, &jobs](const httplib::Request& req, httplib::Response& res) {
        post_export(cfg, jobs, req, res);
    });

    svr.Delete(R"(/exports/([^/]+))", [&jobs](const httplib::Request& req, httplib::Response& res) {
        std::string id = req.matches[1];
        if (!is_job_id(id))
            return send_json(res, 404, json_error("no such export job"));
        switch (jobs.cancel(id)) {
            case job_manager::cancel_result::not_found:
                return send_json(res, 404, json_error("no such export job"));
            case job_manager::cancel_result::already_finished:
                return send_json(res, 409, json_error("the job has already finished"));
            case job_manager::cancel_result::cancelled:
                break;
        }
        auto s = jobs.status_json(id);
        send_json(res, 202, s ? *s : json_object().str("id", id).done());
    });
}

}  // namespace export_service
