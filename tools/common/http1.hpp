// HTTP/1.1 syntax helpers (RFC 9110, RFC 9112) shared by the daemon's request parser
// (tunstackd/services/http_parser.hpp), its responses (http service, --metrics) and the client's
// response parser (tunstack/http_client.hpp). Free of I/O and allocation-free except to_lower() and
// status_line(); unit-tested in tests/tools/http1_test.cpp. Each parser keeps its own policy (what
// it accepts, its limits, its error messages); only the syntax lives here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "stack/base/result.hpp"

namespace tools::http1 {

// Limits. The daemon's request head (request line + header fields + empty line), as nginx's
// large_client_header_buffers; the client's response head; a line of a chunked body's framing.
inline constexpr std::size_t kMaxRequestHead = 8192;
inline constexpr std::size_t kMaxResponseHead = std::size_t{64} * 1024;
inline constexpr std::size_t kMaxChunkLine = 4096;

// ASCII case-insensitive equality (field names, tokens, schemes: RFC 9110 §5.1).
bool iequals(std::string_view a, std::string_view b);
// ASCII lower case.
std::string to_lower(std::string_view s);

// tchar / token (RFC 9110 §5.6.2): methods, field names.
bool is_tchar(char c);
bool is_token(std::string_view s);

// Without leading and trailing OWS (SP, HTAB; RFC 9110 §5.6.3).
std::string_view trim_ows(std::string_view s);
// Without leading OWS and trailing OWS or CR (a line whose CRLF may be split off at the LF only).
std::string_view trim_ows_cr(std::string_view s);

// The next line of `data` from `pos`: up to the LF, without it and without one CR before it;
// `pos` moves past the LF. nullopt (pos unchanged) when no LF follows.
std::optional<std::string_view> next_line(std::string_view data, std::size_t& pos);

// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5): the name as written (the caller
// decides whether it must be a token) and the value without OWS; nullopt without a colon.
struct Field {
    std::string_view name, value;
};
std::optional<Field> split_field(std::string_view line);

// Whether the comma-separated list `value` (RFC 9110 §5.6.1, e.g. Connection) holds `token`
// (case-insensitively, OWS around elements ignored).
bool list_has(std::string_view value, std::string_view token);

// Content-Length = 1*DIGIT (RFC 9110 §8.6): nullopt when empty, not only digits or above 2^64-1.
std::optional<std::uint64_t> parse_content_length(std::string_view value);

// chunk-size [ chunk-ext ] of a chunked body (RFC 9112 §7.1), from a line without its line end:
// the extensions are ignored, the size is 1..15 hex digits. `size_text` is set to the size as
// written (OWS trimmed), also when it is not valid (for an error message).
std::optional<std::uint64_t> parse_chunk_size(std::string_view line, std::string_view& size_text);

// The value of one hex digit, or -1.
int hex_digit(char c);

// status-line = HTTP-version SP status-code SP [reason-phrase] (RFC 9112 §4), as the client reads
// it: "HTTP/1." and a minor version, a three-digit code 100..599, the reason without OWS.
struct StatusLine {
    int code = 0;
    std::string_view reason;
};
enum class StatusLineError : std::uint8_t { Malformed, BadCode };
stack::Result<StatusLine, StatusLineError> parse_status_line(std::string_view line);

// "HTTP/1.1 CODE REASON\r\n".
std::string status_line(int code, std::string_view reason);

}  // namespace tools::http1
