#include "tools/tunstack/http_client.hpp"

#include <cctype>
#include <charconv>

#include "tools/common/http1.hpp"

namespace tunstack {

namespace {

using tools::http1::iequals;
using tools::http1::kMaxChunkLine;
using tools::http1::kMaxResponseHead;
using tools::http1::to_lower;
using tools::http1::trim_ows_cr;

bool valid_dns_name(std::string_view name) {
    if (name.empty() || name.size() > 253) return false;
    std::size_t label = 0;
    for (char c : name) {
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
        if (++label > 63) return false;
    }
    return label > 0;
}

}  // namespace

std::optional<Resolve> parse_resolve(std::string_view text, std::string& error) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        error = "--resolve '" + std::string(text) +
                "': expected NAME:ADDRESS, e.g. example.test:198.18.0.1";
        return std::nullopt;
    }
    const std::string_view name = text.substr(0, colon);
    auto addr = stack::wire::Ipv4Address::parse(text.substr(colon + 1));
    if (!valid_dns_name(name) || !addr || stack::wire::Ipv4Address::parse(name)) {
        error = "--resolve '" + std::string(text) +
                "': expected NAME:ADDRESS with a DNS name and an IPv4 address";
        return std::nullopt;
    }
    return Resolve{to_lower(name), *addr};
}

std::optional<Url> parse_url(std::string_view text, std::string& error,
                             const std::optional<Resolve>& resolve) {
    const std::string quoted = "bad URL '" + std::string(text) + "': ";
    Url url;
    constexpr std::string_view kHttp = "http://", kHttps = "https://";
    if (text.size() >= kHttps.size() && iequals(text.substr(0, kHttps.size()), kHttps)) {
        url.https = true;
        url.port = 443;
        text.remove_prefix(kHttps.size());
    } else if (text.size() >= kHttp.size() && iequals(text.substr(0, kHttp.size()), kHttp)) {
        text.remove_prefix(kHttp.size());
    } else {
        error = quoted + "only http:// and https:// URLs are supported";
        return std::nullopt;
    }
    const std::size_t slash = text.find_first_of("/?");
    std::string_view authority = text.substr(0, slash);
    // Built by appending: g++ 12 at -O3 warns (-Wrestrict, a false positive) on insert(0, "/") and
    // on operator+ of a temporary here.
    std::string path = "/";
    if (slash != std::string_view::npos) {
        if (text[slash] != '?') path.clear();
        path.append(text.substr(slash));
    }
    if (path.find('#') != std::string::npos) path.erase(path.find('#'));
    for (char c : path) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
            error = quoted + "spaces or control characters in the path (percent-encode them)";
            return std::nullopt;
        }
    }
    if (authority.find('@') != std::string_view::npos) {
        error = quoted + "user information in URLs is not supported";
        return std::nullopt;
    }
    // RFC 3986 §3.2.2: an IPv6 literal is bracketed; its colons must not be read as a port.
    if (!authority.empty() && authority.front() == '[') {
        error = quoted + "IPv6 address literals are not supported (IPv4 only)";
        return std::nullopt;
    }
    std::string_view host = authority;
    const std::uint16_t default_port = url.port;
    if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        const std::string_view port = authority.substr(colon + 1);
        unsigned value = 0;
        auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value < 1 ||
            value > 65535) {
            error = quoted + "port must be 1..65535";
            return std::nullopt;
        }
        url.port = static_cast<std::uint16_t>(value);
    }
    if (auto addr = stack::wire::Ipv4Address::parse(host)) {
        url.host = *addr;
        url.host_header = addr->to_string();
    } else if (resolve && to_lower(host) == resolve->name) {
        url.host = resolve->addr;
        url.host_name = resolve->name;
        url.host_header = resolve->name;
    } else {
        error = quoted +
                "the host must be an IPv4 address literal, or a name given with "
                "--resolve NAME:ADDRESS (no DNS, no IPv6 yet)";
        return std::nullopt;
    }
    url.path = std::move(path);
    if (url.port != default_port) url.host_header.append(1, ':').append(std::to_string(url.port));
    return url;
}

std::string build_get(const Url& url) {
    return "GET " + url.path + " HTTP/1.1\r\nHost: " + url.host_header +
           "\r\nUser-Agent: tunstack/" TUNSTACK_VERSION
           "\r\nAccept: */*\r\nConnection: close\r\n\r\n";
}

ResponseParser::Status ResponseParser::fail(std::string why) {
    error_ = std::move(why);
    status_ = Status::Error;
    return status_;
}

void ResponseParser::emit(std::string_view data) {
    if (data.empty()) return;
    body_bytes_ += data.size();
    sink_(data);
}

ResponseParser::Status ResponseParser::feed(std::string_view data) {
    if (status_ != Status::NeedMore) return status_;
    if (!have_head_) {
        const std::size_t before = buf_.size();
        buf_.append(data.substr(
            0, kMaxResponseHead + 4 > buf_.size() ? kMaxResponseHead + 4 - buf_.size() : 0));
        std::size_t end = buf_.find("\r\n\r\n");
        std::size_t sep = 4;
        if (const std::size_t lf = buf_.find("\n\n"); lf != std::string::npos && lf < end) {
            end = lf;
            sep = 2;
        }
        if (end == std::string::npos) {
            if (buf_.size() > kMaxResponseHead)
                return fail("response header section larger than 64 KiB");
            return status_;
        }
        const std::size_t head_len = end + sep;
        if (Status s = parse_head(); s != Status::NeedMore) return s;
        // Whatever followed the head in this call belongs to the body.
        const std::size_t used_from_data = head_len - before;
        buf_.clear();
        if (content_length_ && *content_length_ == 0) {
            status_ = Status::Done;
            return status_;
        }
        return feed_body(data.substr(used_from_data));
    }
    return feed_body(data);
}

ResponseParser::Status ResponseParser::parse_head() {
    std::string_view head(buf_);
    std::size_t pos = 0;
    const std::string_view status_line = trim_ows_cr(*tools::http1::next_line(head, pos));
    const auto parsed = tools::http1::parse_status_line(status_line);
    if (!parsed) {
        if (parsed.error() == tools::http1::StatusLineError::Malformed) {
            return fail("malformed status line '" + std::string(status_line.substr(0, 80)) + "'");
        }
        return fail("malformed status code in '" + std::string(status_line.substr(0, 80)) + "'");
    }
    const int code = parsed->code;
    status_code_ = code;
    reason_ = std::string(parsed->reason);
    if (code >= 100 && code < 200) {
        return fail("unexpected interim response " + std::to_string(code));
    }
    // The head ends with an empty line (feed() found it), so every line here ends with LF.
    while (const auto raw = tools::http1::next_line(head, pos)) {
        const std::string_view line = trim_ows_cr(*raw);
        if (line.empty()) break;
        const auto field = tools::http1::split_field(line);
        if (!field) return fail("malformed header line in the response");
        const std::string_view name = field->name;
        const std::string_view value = field->value;
        if (iequals(name, "content-length")) {
            const auto n = tools::http1::parse_content_length(value);
            if (!n) return fail("bad Content-Length '" + std::string(value) + "'");
            if (content_length_ && *content_length_ != *n) {
                return fail("conflicting Content-Length");
            }
            content_length_ = *n;
        } else if (iequals(name, "transfer-encoding")) {
            if (!iequals(value, "chunked")) {
                return fail("unsupported Transfer-Encoding '" + std::string(value) + "'");
            }
            chunked_ = true;
        }
    }
    if (chunked_) content_length_.reset();  // RFC 9112 §6.3 rule 3: chunked wins
    have_head_ = true;
    if (code == 204 || code == 304) {
        content_length_ = 0;
        chunked_ = false;
    }
    return Status::NeedMore;
}

ResponseParser::Status ResponseParser::feed_body(std::string_view data) {
    if (status_ != Status::NeedMore) return status_;
    if (!chunked_) {
        if (content_length_) {
            const std::uint64_t left = *content_length_ - body_bytes_;
            if (data.size() > left) data = data.substr(0, static_cast<std::size_t>(left));
            emit(data);
            if (body_bytes_ == *content_length_) status_ = Status::Done;
            return status_;
        }
        emit(data);  // close-delimited
        return status_;
    }
    while (!data.empty() && status_ == Status::NeedMore) {
        switch (chunk_state_) {
            case Chunk::Size:
            case Chunk::DataEnd:
            case Chunk::Trailer: {
                const std::size_t nl = data.find('\n');
                if (nl == std::string_view::npos) {
                    buf_.append(data);
                    if (buf_.size() > kMaxChunkLine) return fail("chunk line longer than 4 KiB");
                    return status_;
                }
                buf_.append(data.substr(0, nl));
                data.remove_prefix(nl + 1);
                const std::string_view line = trim_ows_cr(buf_);
                if (chunk_state_ == Chunk::DataEnd) {
                    if (!line.empty()) return fail("missing CRLF after chunk data");
                    chunk_state_ = Chunk::Size;
                } else if (chunk_state_ == Chunk::Trailer) {
                    if (line.empty()) status_ = Status::Done;
                } else {
                    std::string_view size_text;
                    const auto size = tools::http1::parse_chunk_size(line, size_text);
                    if (!size) {
                        return fail("malformed chunk size '" +
                                    std::string(size_text.substr(0, 40)) + "'");
                    }
                    const std::uint64_t n = *size;
                    chunk_left_ = n;
                    chunk_state_ = n == 0 ? Chunk::Trailer : Chunk::Data;
                }
                buf_.clear();
                break;
            }
            case Chunk::Data: {
                const std::size_t take =
                    static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left_, data.size()));
                emit(data.substr(0, take));
                data.remove_prefix(take);
                chunk_left_ -= take;
                if (chunk_left_ == 0) chunk_state_ = Chunk::DataEnd;
                break;
            }
        }
    }
    return status_;
}

ResponseParser::Status ResponseParser::finish() {
    if (status_ != Status::NeedMore) return status_;
    if (!have_head_) return fail("connection closed before a complete response header");
    if (chunked_) return fail("connection closed inside a chunked body");
    if (content_length_) {
        return fail("connection closed after " + std::to_string(body_bytes_) + " of " +
                    std::to_string(*content_length_) + " body bytes");
    }
    status_ = Status::Done;  // close-delimited body complete
    return status_;
}

}  // namespace tunstack
