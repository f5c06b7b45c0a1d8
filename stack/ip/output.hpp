// IPv4 output: header construction, IP ID generation and fragmentation into the TxQueue.
//
// A datagram is given as a gather list of byte spans (e.g. a transport header built on the stack and a
// payload still in its source buffer); it is copied once, straight into the outbound frames. Datagrams
// larger than the MTU are fragmented (RFC 791 §3.2: every fragment but the last carries a multiple of 8
// bytes) unless DF is set, in which case they are dropped and counted. A datagram is queued whole or not
// at all: if the queue lacks frames for every fragment, nothing is queued.
//
// IDs (RFC 6864): one of 256 counters chosen by a keyed hash of (dst, protocol), each starting at a
// random value, so IDs are unique per flow for fragmentation and not a global, observable sequence.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>

#include "stack/base/bytes.hpp"
#include "stack/ip/tx_queue.hpp"
#include "stack/stats.hpp"
#include "stack/wire/ipv4.hpp"

namespace stack::ip {

struct OutputConfig {
    wire::Ipv4Address addr;
    std::uint16_t mtu = 1500;
    std::uint8_t ttl = 64;
    std::uint64_t seed = 0;
};

class Ipv4Output {
public:
    Ipv4Output(const OutputConfig& config, TxQueue& queue, Stats& stats);

    // Queues one datagram from our address to `dst` whose payload is the concatenation of `parts`.
    // Returns false (and counts why) if it was dropped.
    bool send(wire::Ipv4Address dst, wire::IpProtocol protocol, std::initializer_list<Bytes> parts,
              bool dont_frag = false);

    std::uint16_t mtu() const { return config_.mtu; }
    wire::Ipv4Address addr() const { return config_.addr; }

private:
    std::uint16_t next_ident(wire::Ipv4Address dst, std::uint8_t protocol);

    OutputConfig config_;
    TxQueue& queue_;
    Stats& stats_;
    std::uint64_t key_;
    std::array<std::uint16_t, 256> idents_{};
};

// splitmix64: a tiny seeded generator for the stack's own randomness (IDs, later ISNs and ports).
std::uint64_t splitmix64(std::uint64_t& state);

}  // namespace stack::ip
