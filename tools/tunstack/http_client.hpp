// The HTTP/1.1 pieces of `tunstack get`, free of I/O (unit-tested in tests/tools/http_client_test.cpp):
// the URL form this client accepts and an incremental response parser that hands out body bytes for
// Content-Length, chunked and close-delimited bodies (RFC 9112 §6.3). The HTTP/1.1 syntax (status
// line, field lines, Content-Length, chunk sizes) is tools/common/http1.hpp's, shared with the daemon.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "stack/wire/address.hpp"

namespace tunstack {

struct Url {
    bool https = false;
    stack::wire::Ipv4Address host;  // where to connect
    std::string host_name;          // the URL's host when it is a name (SNI, certificate check)
    std::uint16_t port = 80;
    std::string path = "/";   // origin-form target (path and query)
    std::string host_header;  // "HOST" or "HOST:PORT" (the port only when not the scheme's default)
};

// A name given an address by the user (there is no DNS): --resolve NAME:ADDR.
struct Resolve {
    std::string name;  // lower case
    stack::wire::Ipv4Address addr;
};
// "NAME:A.B.C.D" → Resolve; error (one line) otherwise.
std::optional<Resolve> parse_resolve(std::string_view text, std::string& error);

// http:// and https:// URLs whose host is an IPv4 literal, or a name that `resolve` maps to an
// address: http[s]://HOST[:PORT][/PATH]. Error: one line.
std::optional<Url> parse_url(std::string_view text, std::string& error,
                             const std::optional<Resolve>& resolve = std::nullopt);

// The GET request for `url` (HTTP/1.1, Connection: close).
std::string build_get(const Url& url);

class ResponseParser {
public:
    enum class Status { NeedMore, Done, Error };
    using BodySink = std::function<void(std::string_view)>;

    explicit ResponseParser(BodySink sink) : sink_(std::move(sink)) {}

    // Feeds bytes as they arrive. Body bytes go to the sink. After Done or Error, more input is ignored.
    Status feed(std::string_view data);
    // The peer closed: completes a close-delimited body; an error for anything cut short.
    Status finish();

    bool have_head() const { return have_head_; }
    int status_code() const { return status_code_; }
    const std::string& reason() const { return reason_; }
    const std::string& error() const { return error_; }
    std::uint64_t body_bytes() const { return body_bytes_; }
    std::optional<std::uint64_t> content_length() const { return content_length_; }
    bool chunked() const { return chunked_; }
    Status status() const { return status_; }

private:
    Status fail(std::string why);
    Status parse_head();
    Status feed_body(std::string_view data);
    void emit(std::string_view data);

    BodySink sink_;
    Status status_ = Status::NeedMore;
    std::string buf_;  // head bytes, or a partial chunk-size/trailer line
    bool have_head_ = false;
    int status_code_ = 0;
    std::string reason_;
    std::string error_;
    std::optional<std::uint64_t> content_length_;
    bool chunked_ = false;
    std::uint64_t body_bytes_ = 0;
    // chunked decoding
    enum class Chunk { Size, Data, DataEnd, Trailer } chunk_state_ = Chunk::Size;
    std::uint64_t chunk_left_ = 0;
};

}  // namespace tunstack
