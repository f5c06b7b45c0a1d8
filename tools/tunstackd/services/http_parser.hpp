// HTTP/1.1 request parsing for tunstackd's http service (RFC 9110 / RFC 9112), kept free of I/O so it
// is unit-tested on its own (tests/tools/http_parser_test.cpp).
//
// parse_request() looks at the bytes received so far and answers Incomplete (need more), Bad (with
// the status to answer: 400 malformed, 431 header section too large, 501 unsupported transfer coding,
// 505 unsupported version) or Complete (the request head plus how many bytes it and its body use).
// Only what a static file server needs is kept; the rest of the header section is validated and
// skipped. Bare LF line ends are accepted (RFC 9112 §2.2 allows it); obs-fold is rejected. The
// syntax helpers (tokens, OWS, field lines, Content-Length) are tools/common/http1.hpp's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "tools/common/http1.hpp"

namespace tunstackd::http {

struct Request {
    std::string method;      // as sent (case-sensitive token)
    std::string target;      // request-target as sent
    int version_minor = 1;   // HTTP/1.<minor>
    bool keep_alive = true;  // after Connection: and the version's default
    std::size_t content_length = 0;
    std::size_t head_bytes = 0;  // request line + headers + empty line
    std::size_t total_bytes() const { return head_bytes + content_length; }
};

enum class ParseStatus { Incomplete, Complete, Bad };

struct ParseResult {
    ParseStatus status = ParseStatus::Incomplete;
    Request request;     // valid when Complete
    int error_code = 0;  // when Bad: 400, 431, 501 or 505
    std::string error;   // when Bad: a short reason (for logs and the error body)
};

inline constexpr std::size_t kMaxHeadBytes = tools::http1::kMaxRequestHead;

ParseResult parse_request(std::string_view data, std::size_t max_head = kMaxHeadBytes);

// Maps a request target (origin-form "/a/b?q", or absolute-form "http://host/a/b") to a path relative
// to the document root: percent-decoded, query and fragment dropped, empty and "." segments removed.
// Empty string means the root itself. nullopt when the target is not acceptable: not origin/absolute
// form, bad percent-encoding, a NUL or backslash, or any ".." segment (never resolved: rejected).
std::optional<std::string> target_to_path(std::string_view target);

// "text/html; charset=utf-8" etc. by extension; application/octet-stream otherwise.
std::string_view content_type_for(std::string_view path);

// The reason phrase for the status codes the service answers with.
std::string_view reason_phrase(int status);

}  // namespace tunstackd::http
