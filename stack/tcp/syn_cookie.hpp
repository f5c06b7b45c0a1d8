// SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the SYN-ACK's ISS encodes what the
// connection needs, so no state is kept until the peer's ACK proves the handshake.
//
// Layout of the 32-bit ISS:   t mod 32 (5 bits) | MSS index (3 bits) | MAC (24 bits)
//   t    the time in 64-second units when the SYN arrived; a cookie is accepted for up to 2 units more
//        (2–3 minutes), covering the peer's ACK and its retransmissions;
//   MSS  the largest table entry not above the peer's MSS;
//   MAC  the low 24 bits of SipHash-2-4 under a secret key of (4-tuple, peer ISN, t, MSS index), so a
//        cookie cannot be forged without the key or replayed for another connection or later.
//
// The other SYN options (as Linux does): when the peer offered timestamps, the low kTsBits bits of
// the SYN-ACK's TSval carry its window scale (4 bits, 15 = none) and SACK-permitted (1 bit); the
// peer echoes them in the ACK's TSecr, and TSecr also dates the cookie (it must lie within the
// cookie's lifetime before the connection's current TSval). Without timestamps only the MSS
// survives: window scaling and SACK are then off for the connection (RFC 4987 §3.6).
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

// The SYN options a cookie carries in the timestamp bits.
struct CookieTsOptions {
    std::optional<std::uint8_t> wscale;  // the peer's window scale, if it offered one
    bool sack = false;                   // the peer offered SACK-permitted
    bool operator==(const CookieTsOptions&) const = default;
};

class SynCookies {
public:
    static constexpr std::array<std::uint16_t, 8> kMssTable = {536,  1024, 1220, 1360,
                                                               1440, 1460, 4312, 8960};
    static constexpr std::int64_t kPeriodUs = std::int64_t{64} * 1'000'000;
    static constexpr std::uint32_t kMaxAgePeriods = 2;
    // A listener checks cookie ACKs only this long after it last sent a cookie (issue 8 point 7, as
    // Linux's TCP_SYNCOOKIE_VALID): when it is not under SYN pressure, an ACK without a connection is
    // answered with RST without testing it as a cookie, so cookies cannot be guessed at leisure.
    static constexpr std::int64_t kRecentUs = kMaxAgePeriods * kPeriodUs;
    static constexpr unsigned kTsBits = 6;
    static constexpr std::uint32_t kTsMask = (1u << kTsBits) - 1;

    explicit SynCookies(const SipHashKey& key) : key_(key) {}

    // The ISS for a SYN from `t.remote` with initial sequence number `peer_iss` and MSS `peer_mss`.
    wire::SeqNumber make(Instant now, const CookieTuple& t, wire::SeqNumber peer_iss,
                         std::uint16_t peer_mss) const;

    // Checks the ACK of a cookie SYN-ACK: `iss` = SEG.ACK - 1, `peer_iss` = SEG.SEQ - 1. Returns the
    // MSS to use, or nothing if the cookie is forged, for another connection, or too old.
    std::optional<std::uint16_t> check(Instant now, const CookieTuple& t, wire::SeqNumber iss,
                                       wire::SeqNumber peer_iss) const;

    // The TSval for a cookie SYN-ACK: `ts_now` (the connection's TSval clock) with its low kTsBits
    // replaced by `o`, never above ts_now (so later TSvals do not go backwards).
    static std::uint32_t encode_ts(std::uint32_t ts_now, const CookieTsOptions& o);
    // The options back from the ACK's TSecr, if TSecr is one of our cookie TSvals from the last
    // (kMaxAgePeriods + 1) periods by the clock `ts_now`; nothing if not (or a bad encoding).
    static std::optional<CookieTsOptions> decode_ts(std::uint32_t ts_now, std::uint32_t tsecr);

private:
    std::uint32_t mac(const CookieTuple& t, wire::SeqNumber peer_iss, std::uint32_t period,
                      std::uint32_t mss_index) const;

    SipHashKey key_;
};

}  // namespace stack::tcp
