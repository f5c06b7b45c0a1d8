// IcmpErrorReport: an ICMP error (ICMPv4 or ICMPv6) about a datagram we sent, decoded once by the ICMP
// layer and handed to the transport that sent the datagram (RFC 1122 §4.2.3.9 / §4.1.3.3, RFC 4443 §3,
// RFC 5927). It names the flow from the quote: our address and port, the peer's, the protocol, and the
// quoted transport bytes (at least 8: ports and, for TCP, the sequence number), which the transport
// must check against its own state before acting (RFC 5927 §4.1: anyone can forge an ICMP error).
//
// The ICMP layer only delivers errors whose quote is structurally sound and was sent by us: an IP
// header of the right family with our address as its source and at least 8 bytes of transport header
// after it (RFC 792, RFC 1122 §3.2.2: "at least 8"). Others are dropped as icmp.drop.bad_quote.
//
// Spans point into the packet being processed and are valid only during the call.
#pragma once

#include <cstdint>

#include "stack/base/bytes.hpp"
#include "stack/wire/ip_address.hpp"

namespace stack::ip {

enum class IcmpErrorKind : std::uint8_t {
    NetUnreachable,       // v4 unreach 0, 6, 11; v6 unreach 0 (no route)
    HostUnreachable,      // v4 unreach 1, 7, 8, 12, 14, 15; v6 unreach 3 (address unreachable)
    ProtocolUnreachable,  // v4 unreach 2; v6 parameter problem code 1 (unrecognised next header)
    PortUnreachable,      // v4 unreach 3; v6 unreach 4
    PacketTooBig,         // v4 unreach 4 "fragmentation needed and DF set"; v6 Packet Too Big
    SourceRouteFailed,    // v4 unreach 5; v6 unreach 5 (source address failed policy)
    AdminProhibited,      // v4 unreach 9, 10, 13; v6 unreach 1, 6 (reject route)
    TimeExceeded,         // v4 type 11 / v6 type 3, either code (hop limit, reassembly)
    ParameterProblem,     // v4 type 12; v6 type 4 codes other than 1
};

// RFC 1122 §4.2.3.9 and RFC 5461: protocol and port unreachable are hard errors (they abort a connection
// that is still being established); every other kind is soft (reported, never fatal by itself).
// PacketTooBig is neither: it feeds path-MTU discovery.
constexpr bool is_hard(IcmpErrorKind kind) {
    return kind == IcmpErrorKind::ProtocolUnreachable || kind == IcmpErrorKind::PortUnreachable;
}

struct IcmpErrorReport {
    IcmpErrorKind kind = IcmpErrorKind::HostUnreachable;
    std::uint8_t type = 0;  // as on the wire, ICMPv4 or ICMPv6 by the addresses' family
    std::uint8_t code = 0;
    // PacketTooBig: the MTU the router reported (0: it did not say, an RFC 792-era router, RFC 1191 §5).
    std::uint32_t mtu = 0;
    wire::IpAddress reporter;                  // the ICMP message's source (a router, or the peer)
    wire::IpAddress local;                     // the quoted datagram's source: our address
    wire::IpAddress remote;                    // the quoted datagram's destination: the peer
    std::uint8_t protocol = 0;                 // the quoted datagram's transport protocol
    std::uint32_t quoted_datagram_length = 0;  // its total length field (v6: 40 + payload length)
    Bytes transport;                           // the quoted transport bytes, at least 8

    bool hard() const { return is_hard(kind); }
    std::uint16_t local_port() const { return load_be16(&transport[0]); }
    std::uint16_t remote_port() const { return load_be16(&transport[2]); }
};

}  // namespace stack::ip
