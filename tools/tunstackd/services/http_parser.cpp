#include "tools/tunstackd/services/http_parser.hpp"

#include <cctype>
#include <vector>

#include "tools/common/http1.hpp"

namespace tunstackd::http {

namespace {

using tools::http1::iequals;
using tools::http1::is_token;

ParseResult bad(int code, std::string why) {
    ParseResult r;
    r.status = ParseStatus::Bad;
    r.error_code = code;
    r.error = std::move(why);
    return r;
}

}  // namespace

ParseResult parse_request(std::string_view data, std::size_t max_head) {
    // RFC 9112 §2.2: ignore at least one empty line before the request line.
    std::size_t pos = 0;
    while (pos < data.size() && (data[pos] == '\r' || data[pos] == '\n')) ++pos;
    std::vector<std::string_view> lines;
    std::size_t end = std::string_view::npos;
    for (std::size_t p = pos; p < data.size();) {
        const auto next = tools::http1::next_line(data, p);
        if (!next) break;
        const std::string_view line = *next;
        if (line.empty()) {
            end = p;
            break;
        }
        lines.push_back(line);
        if (p > max_head) break;
    }
    if (end == std::string_view::npos) {
        if (data.size() > max_head) return bad(431, "request header section too large");
        return {};
    }
    if (end > max_head) return bad(431, "request header section too large");

    ParseResult r;
    Request& req = r.request;
    req.head_bytes = end;

    // request-line = method SP request-target SP HTTP-version (RFC 9112 §3), single spaces.
    const std::string_view rl = lines.front();
    const std::size_t sp1 = rl.find(' ');
    if (sp1 == std::string_view::npos) return bad(400, "malformed request line");
    const std::size_t sp2 = rl.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || rl.find(' ', sp2 + 1) != std::string_view::npos) {
        return bad(400, "malformed request line");
    }
    const std::string_view method = rl.substr(0, sp1);
    const std::string_view target = rl.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = rl.substr(sp2 + 1);
    if (!is_token(method)) return bad(400, "malformed method");
    if (target.empty()) return bad(400, "empty request target");
    for (char c : target) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
            return bad(400, "control character in request target");
        }
    }
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
        !std::isdigit(static_cast<unsigned char>(version[5])) ||
        !std::isdigit(static_cast<unsigned char>(version[7]))) {
        return bad(400, "malformed HTTP version");
    }
    if (version[5] != '1') return bad(505, "HTTP version not supported");
    req.method = std::string(method);
    req.target = std::string(target);
    req.version_minor = version[7] - '0';
    req.keep_alive = req.version_minor >= 1;

    bool have_host = false, have_length = false, conn_close = false, conn_keep = false;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const std::string_view line = lines[i];
        if (line.front() == ' ' || line.front() == '\t') return bad(400, "obsolete line folding");
        const auto field = tools::http1::split_field(line);
        if (!field) return bad(400, "header line without a colon");
        const std::string_view name = field->name;
        // RFC 9112 §5.1: no whitespace between the field name and the colon.
        if (!is_token(name)) return bad(400, "malformed header name");
        const std::string_view value = field->value;
        for (char c : value) {
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
                return bad(400, "control character in a header value");
            }
        }
        if (iequals(name, "host")) {
            if (have_host) return bad(400, "more than one Host header");
            have_host = true;
        } else if (iequals(name, "content-length")) {
            if (value.size() > 15) return bad(400, "bad Content-Length");
            const auto length = tools::http1::parse_content_length(value);
            if (!length) return bad(400, "bad Content-Length");
            const auto n = static_cast<std::size_t>(*length);
            if (have_length && n != req.content_length) {
                return bad(400, "conflicting Content-Length");
            }
            have_length = true;
            req.content_length = n;
        } else if (iequals(name, "transfer-encoding")) {
            return bad(501, "request bodies with Transfer-Encoding are not supported");
        } else if (iequals(name, "connection")) {
            if (tools::http1::list_has(value, "close")) conn_close = true;
            if (tools::http1::list_has(value, "keep-alive")) conn_keep = true;
        }
    }
    // RFC 9112 §3.2: a 1.1 request without Host (or with several) gets 400.
    if (req.version_minor >= 1 && !have_host) return bad(400, "missing Host header");
    if (conn_close) {
        req.keep_alive = false;
    } else if (conn_keep) {
        req.keep_alive = true;
    }
    r.status = ParseStatus::Complete;
    return r;
}

std::optional<std::string> target_to_path(std::string_view target) {
    if (target.starts_with("http://") || target.starts_with("HTTP://")) {
        target.remove_prefix(7);
        const std::size_t slash = target.find('/');
        if (slash == std::string_view::npos) return std::string();
        target.remove_prefix(slash);
    }
    if (target.empty() || target.front() != '/') return std::nullopt;
    const std::size_t q = target.find_first_of("?#");
    if (q != std::string_view::npos) target = target.substr(0, q);

    std::string out;
    std::string segment;
    auto finish_segment = [&]() -> bool {
        if (segment == "..") return false;
        if (!segment.empty() && segment != ".") {
            if (!out.empty()) out += '/';
            out += segment;
        }
        segment.clear();
        return true;
    };
    for (std::size_t i = 1; i < target.size(); ++i) {
        char c = target[i];
        if (c == '/') {
            if (!finish_segment()) return std::nullopt;
            continue;
        }
        if (c == '%') {
            if (i + 2 >= target.size()) return std::nullopt;
            const int hi = tools::http1::hex_digit(target[i + 1]),
                      lo = tools::http1::hex_digit(target[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
            // A decoded '/' would smuggle a separator past the segment checks.
            if (c == '/') return std::nullopt;
        }
        if (c == '\0' || c == '\\') return std::nullopt;
        segment += c;
    }
    if (!finish_segment()) return std::nullopt;
    return out;
}

std::string_view content_type_for(std::string_view path) {
    const std::size_t slash = path.rfind('/');
    const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
    const std::size_t dot = base.rfind('.');
    if (dot == std::string_view::npos) return "application/octet-stream";
    const std::string_view ext = base.substr(dot + 1);
    struct Entry {
        std::string_view ext, type;
    };
    static constexpr Entry kTypes[] = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"txt", "text/plain; charset=utf-8"},
        {"css", "text/css"},
        {"js", "text/javascript"},
        {"json", "application/json"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"svg", "image/svg+xml"},
        {"pdf", "application/pdf"},
    };
    for (const Entry& e : kTypes) {
        if (iequals(ext, e.ext)) return e.type;
    }
    return "application/octet-stream";
}

std::string_view reason_phrase(int status) {
    switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
    }
}

}  // namespace tunstackd::http
