// ICMPv4 handling (RFC 792, RFC 1122 §3.2.2): answers echo requests, counts other messages by type, and
// sends Destination Unreachable on behalf of the other layers.
//
// Errors are never sent about an ICMP error, a non-initial fragment, or a datagram whose source is not a
// unicast address (RFC 1122 §3.2.2), and they pass a token bucket (rate and burst configurable, like
// Linux's icmp_ratelimit) so the stack cannot be used as a reflector. Echo replies are not rate-limited.
// An error quotes the offending IP header and as much of its payload as keeps the error within 576 bytes
// (RFC 1812 §4.3.2.3); RFC 792's minimum is the header plus 8 bytes.
#pragma once

#include <cstdint>
#include <optional>

#include "stack/base/time.hpp"
#include "stack/ip/icmp_error.hpp"
#include "stack/ip/output.hpp"
#include "stack/stats.hpp"
#include "stack/wire/icmpv4.hpp"
#include "stack/wire/ipv4.hpp"

namespace stack::ip {

struct IcmpConfig {
    std::uint32_t error_rate_per_sec = 1000;
    std::uint32_t error_burst = 50;
};

inline constexpr std::size_t kIcmpErrorMaxLen = 576;

class Icmp {
public:
    Icmp(const IcmpConfig& config, Ipv4Output& output, IcmpStats& stats);

    // An ICMP message addressed to us: `ip` is its (reassembled) IP header, `message` the ICMP bytes.
    // Echo requests are answered here. An error about a datagram we sent (Destination Unreachable,
    // Time Exceeded, Parameter Problem) whose quote is sound is returned decoded, for the caller to
    // hand to the transport that sent it; everything else is counted and consumed.
    std::optional<IcmpErrorReport> on_message(Instant now, const wire::Ipv4Repr& ip, Bytes message);

    // Sends Destination Unreachable `code` about a datagram we received: `header` is its IP header bytes
    // as received (or re-emitted after reassembly), `payload` its IP payload. Suppressed or rate-limited
    // errors are counted, not sent.
    void send_unreachable(Instant now, wire::UnreachCode code, Bytes header, Bytes payload);

private:
    bool take_error_token(Instant now);
    std::optional<IcmpErrorReport> decode_error(const wire::Ipv4Repr& ip,
                                                const wire::Icmpv4Packet& icmp);

    IcmpConfig config_;
    Ipv4Output& output_;
    IcmpStats& stats_;
    std::int64_t credit_us_;  // token bucket in microseconds of credit
    Instant last_refill_;
};

}  // namespace stack::ip
