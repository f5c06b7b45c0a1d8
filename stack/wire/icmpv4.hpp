// ICMPv4 (RFC 792): a validated zero-copy view and a Repr for the messages the stack sends and answers.
//
// Icmpv4Packet::parse checks the buffer holds the 8-byte header and that the checksum over the whole
// message verifies. Echo request/reply expose identifier, sequence and data; every other type exposes its
// 4-byte "rest of header" and its body (for errors: the quoted IP header + 8 bytes).
#pragma once

#include <cstdint>
#include <string_view>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"

namespace stack::wire {

inline constexpr std::size_t kIcmpv4HeaderLen = 8;

enum class IcmpType : std::uint8_t {
    EchoReply = 0,
    DestUnreachable = 3,
    SourceQuench = 4,
    Redirect = 5,
    EchoRequest = 8,
    TimeExceeded = 11,
    ParameterProblem = 12,
    Timestamp = 13,
    TimestampReply = 14,
};

// Destination Unreachable codes (RFC 792, RFC 1191).
enum class UnreachCode : std::uint8_t {
    Net = 0,
    Host = 1,
    Protocol = 2,
    Port = 3,
    FragNeeded = 4,
};

enum class Icmpv4Error : std::uint8_t {
    Truncated,    // shorter than the 8-byte header
    BadChecksum,  // the checksum over the message does not verify
};
std::string_view to_string(Icmpv4Error e);

class Icmpv4Packet {
public:
    enum class Checksum : bool { Skip, Verify };
    static Result<Icmpv4Packet, Icmpv4Error> parse(Bytes buffer, Checksum check = Checksum::Verify);

    std::uint8_t type() const { return buf_[0]; }
    std::uint8_t code() const { return buf_[1]; }
    std::uint16_t checksum() const { return load_be16(&buf_[2]); }
    // Echo request / reply fields (RFC 792 p.14).
    std::uint16_t echo_ident() const { return load_be16(&buf_[4]); }
    std::uint16_t echo_seq() const { return load_be16(&buf_[6]); }
    // The 4 bytes after the checksum, whatever the type (unused, MTU, pointer, gateway...).
    std::uint32_t rest_of_header() const { return load_be32(&buf_[4]); }
    Bytes body() const { return buf_.subspan(kIcmpv4HeaderLen); }
    Bytes bytes() const { return buf_; }

private:
    explicit Icmpv4Packet(Bytes buf) : buf_(buf) {}
    Bytes buf_;
};

struct Icmpv4Repr {
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint32_t rest_of_header =
        0;       // echo: ident << 16 | seq; frag needed: next-hop MTU in low 16
    Bytes body;  // not owned; must outlive emit()

    static Icmpv4Repr parse(const Icmpv4Packet& p);
    static Icmpv4Repr echo(IcmpType type, std::uint16_t ident, std::uint16_t seq, Bytes data) {
        return {static_cast<std::uint8_t>(type), 0, std::uint32_t{ident} << 16 | seq, data};
    }
    std::size_t len() const { return kIcmpv4HeaderLen + body.size(); }
    // Writes header and body (checksum over both) into out[0..len()). out.size() must be >= len().
    void emit(MutBytes out) const;
};

}  // namespace stack::wire
