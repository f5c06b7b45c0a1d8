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
//
// TCP segmentation offload (tso_max_size > 0): send_gso() queues one TCP super-packet, a single IPv4
// datagram larger than the MTU (never fragmented: DF) that the device cuts into segments of at most the
// MTU. It takes as many consecutive IDs as it makes segments: the device numbers the segments' IDs
// from the super-packet's (Linux does, without SKB_GSO_TCP_FIXEDID), so IDs stay unique per flow.
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
    // 0: no TSO. Else the largest super-packet send_gso() may queue (IPv4 total length, <= 65535);
    // the TxQueue's large frames must hold it.
    std::uint32_t tso_max_size = 0;
    bool tso_partial_checksum = true;  // super-packets carry partial TCP checksums (NEEDS_CSUM)
};

// What the transport layer says about a super-packet (send_gso fills in the IPv4 part of GsoInfo).
struct GsoRequest {
    std::uint16_t gso_size = 0;  // transport payload bytes per segment
    std::uint16_t transport_hdr_len =
        0;                          // the transport header (with options) at the payload's start
    std::uint16_t csum_offset = 0;  // the checksum field within the transport header
    bool csum_partial = false;      // GsoInfo::csum_partial
};

class Ipv4Output {
public:
    Ipv4Output(const OutputConfig& config, TxQueue& queue, IpStats& stats);

    // Queues one datagram from our address to `dst` whose payload is the concatenation of `parts`.
    // Returns false (and counts why) if it was dropped.
    bool send(wire::Ipv4Address dst, wire::IpProtocol protocol, std::initializer_list<Bytes> parts,
              bool dont_frag = false);

    // Queues one TCP/IPv4 super-packet (DF set) whose payload is the concatenation of `parts`: the
    // transport header, then more than gso_size payload bytes. Preconditions: TSO configured,
    // transport_hdr_len + gso_size fits the MTU with the IPv4 header, the packet fits tso_max_size.
    // Returns false (and counts ip.tx_drop.queue_full) when no large frame is free.
    bool send_gso(wire::Ipv4Address dst, wire::IpProtocol protocol,
                  std::initializer_list<Bytes> parts, const GsoRequest& request);

    std::uint16_t mtu() const { return config_.mtu; }
    std::uint32_t tso_max_size() const { return config_.tso_max_size; }
    bool tso_partial_checksum() const { return config_.tso_partial_checksum; }
    wire::Ipv4Address addr() const { return config_.addr; }

private:
    // The next ID for (dst, protocol), reserving `count` consecutive IDs.
    std::uint16_t next_ident(wire::Ipv4Address dst, std::uint8_t protocol, std::uint16_t count = 1);

    OutputConfig config_;
    TxQueue& queue_;
    IpStats& stats_;
    std::uint64_t key_;
    std::array<std::uint16_t, 256> idents_{};
};

// splitmix64: a tiny seeded generator for the stack's own randomness (IDs, later ISNs and ports).
std::uint64_t splitmix64(std::uint64_t& state);

}  // namespace stack::ip
