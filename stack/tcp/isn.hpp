// IsnGenerator: initial sequence numbers per RFC 6528 (RFC 9293 §3.4.1, MUST-8):
//   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
// M is a timer ticking every 4 microseconds (the RFC 793 clock: 250,000 per second, wrapping every ~4.77
// hours), taken from the caller's `now`; F is SipHash-2-4 keyed with a 128-bit secret (RFC 6528 §3
// requires a PRF with a secret of at least 128 bits; SipHash is one, and cheaper than the MD5 the RFC
// names as an example). The low 32 bits of F are used. The secret is injected by the caller (the daemon
// reads getrandom(); tests pass fixed bytes), so this class holds no hidden state and is deterministic.
#pragma once

#include <array>
#include <cstdint>

#include "stack/base/time.hpp"
#include "stack/tcp/siphash.hpp"
#include "stack/wire/address.hpp"
#include "stack/wire/seq.hpp"

namespace stack::tcp {

class IsnGenerator {
public:
    explicit IsnGenerator(std::array<std::uint8_t, 16> secret) : secret_(secret) {}

    // The ISN for a connection with this 4-tuple at time `now`. Two calls with the same tuple advance
    // with time at 250,000 per second (modulo 2^32); different tuples get unrelated offsets.
    wire::SeqNumber generate(Instant now, wire::Ipv4Address local, std::uint16_t local_port,
                             wire::Ipv4Address remote, std::uint16_t remote_port) const;

    // The connection's TSval offset (RFC 7323 §7.1: a random offset per connection, so timestamps
    // reveal neither the host's clock nor, as one derived from the ISS would, anything about the
    // sequence space). A keyed hash of the 4-tuple, as Linux's tsoffset: it is the same for every
    // incarnation of a 4-tuple (TSvals stay monotonic across them, which RFC 6191 relies on) and
    // can be recomputed without state, which SYN cookies need to check the TSecr of an ACK.
    std::uint32_t ts_offset(wire::Ipv4Address local, std::uint16_t local_port,
                            wire::Ipv4Address remote, std::uint16_t remote_port) const;

    // F() alone (the per-tuple offset), for tests.
    std::uint32_t offset(wire::Ipv4Address local, std::uint16_t local_port,
                         wire::Ipv4Address remote, std::uint16_t remote_port) const;

private:
    SipHashKey secret_;
};

}  // namespace stack::tcp
