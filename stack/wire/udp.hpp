// UDP (RFC 768): a validated zero-copy view and a plain Repr.
//
// UdpPacket::parse checks, in order: the buffer holds the 8-byte header, the length field is at least 8
// and no larger than the buffer, and (unless told to skip) the checksum over the IPv4 pseudo-header,
// header and data. A checksum field of 0 means the sender computed none (RFC 768) and is accepted in
// either mode. The view is trimmed to the length field, so bytes after it (e.g. IP padding) are not
// payload. After a successful parse no accessor can read outside the datagram.
#pragma once

#include <cstdint>
#include <string_view>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/wire/address.hpp"

namespace stack::wire {

inline constexpr std::size_t kUdpHeaderLen = 8;

enum class UdpError : std::uint8_t {
    Truncated,    // shorter than the 8-byte header
    BadLength,    // length field < 8, or larger than the buffer
    BadChecksum,  // a non-zero checksum that does not verify
};
std::string_view to_string(UdpError e);

class UdpPacket {
public:
    enum class Checksum : bool { Skip, Verify };

    // `buffer` is the IPv4 payload; `src`/`dst` are the IPv4 addresses for the pseudo-header.
    static Result<UdpPacket, UdpError> parse(Bytes buffer, Ipv4Address src, Ipv4Address dst,
                                             Checksum check = Checksum::Verify);

    std::uint16_t src_port() const { return load_be16(&buf_[0]); }
    std::uint16_t dst_port() const { return load_be16(&buf_[2]); }
    // The length field: header + payload, equal to bytes().size().
    std::uint16_t length() const { return load_be16(&buf_[4]); }
    std::uint16_t checksum() const { return load_be16(&buf_[6]); }
    bool has_checksum() const { return checksum() != 0; }

    Bytes header() const { return buf_.first(kUdpHeaderLen); }
    Bytes payload() const { return buf_.subspan(kUdpHeaderLen); }
    Bytes bytes() const { return buf_; }

private:
    explicit UdpPacket(Bytes buf) : buf_(buf) {}
    Bytes buf_;
};

struct UdpRepr {
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    std::uint16_t payload_len = 0;

    static UdpRepr parse(const UdpPacket& p);
    static constexpr std::size_t header_len() { return kUdpHeaderLen; }
    std::size_t len() const { return kUdpHeaderLen + payload_len; }

    // Writes header + payload into out[0..len()) with the checksum over the pseudo-header (src, dst).
    // A computed checksum of 0 is sent as 0xffff (RFC 768: 0 means "no checksum").
    // Contract: payload.size() == payload_len, len() <= 65535, out.size() >= len(). `payload` may already
    // sit at out[8..] (it is then not copied) or anywhere else, overlapping or not.
    void emit(MutBytes out, Ipv4Address src, Ipv4Address dst, Bytes payload) const;
    bool operator==(const UdpRepr&) const = default;
};

}  // namespace stack::wire
