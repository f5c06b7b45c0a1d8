// SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the SYN-ACK's ISS encodes what the
// connection needs, so no state is kept until the peer's ACK proves the handshake.
//
// Layout of the 32-bit ISS:   t mod 32 (5 bits) | MSS index (3 bits) | MAC (24 bits)
//   t    the time in 64-second units when the SYN arrived; a cookie is accepted for up to 2 units more
//        (2–3 minutes), covering the peer's ACK and its retransmissions;
//   MSS  the largest table entry not above the peer's MSS (cookies cannot remember other options:
//        window scaling, SACK and timestamps are off for such a connection, as in RFC 4987);
//   MAC  the low 24 bits of SipHash-2-4 under a secret key of (4-tuple, peer ISN, t, MSS index), so a
//        cookie cannot be forged without the key or replayed for another connection or later.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "stack/base/time.hpp"
#include "stack/tcp/siphash.hpp"
#include "stack/wire/address.hpp"
#include "stack/wire/seq.hpp"

namespace stack::tcp {

struct CookieTuple {
    wire::Ipv4Address local;
    std::uint16_t local_port = 0;
    wire::Ipv4Address remote;
    std::uint16_t remote_port = 0;
};

class SynCookies {
public:
    static constexpr std::array<std::uint16_t, 8> kMssTable = {536,  1024, 1220, 1360,
                                                               1440, 1460, 4312, 8960};
    static constexpr std::int64_t kPeriodUs = std::int64_t{64} * 1'000'000;
    static constexpr std::uint32_t kMaxAgePeriods = 2;

    explicit SynCookies(const SipHashKey& key) : key_(key) {}

    // The ISS for a SYN from `t.remote` with initial sequence number `peer_iss` and MSS `peer_mss`.
    wire::SeqNumber make(Instant now, const CookieTuple& t, wire::SeqNumber peer_iss,
                         std::uint16_t peer_mss) const;

    // Checks the ACK of a cookie SYN-ACK: `iss` = SEG.ACK - 1, `peer_iss` = SEG.SEQ - 1. Returns the
    // MSS to use, or nothing if the cookie is forged, for another connection, or too old.
    std::optional<std::uint16_t> check(Instant now, const CookieTuple& t, wire::SeqNumber iss,
                                       wire::SeqNumber peer_iss) const;

private:
    std::uint32_t mac(const CookieTuple& t, wire::SeqNumber peer_iss, std::uint32_t period,
                      std::uint32_t mss_index) const;

    SipHashKey key_;
};

}  // namespace stack::tcp
