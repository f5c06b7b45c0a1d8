// PacketSink: where the sans-IO stack hands finished outbound IPv4 packets. Implemented by drivers (the TUN
// device, the in-memory link, the fault injector, the pcap tap) and by tests that capture output.
//
// Plain packets (transmit) are complete: at most the MTU, every checksum filled in. With TCP
// segmentation offload (StackConfig::tso_max_size, only for a device that can do it) the stack also
// hands over TCP/IPv4 super-packets (transmit_gso): one IPv4 packet larger than the MTU whose payload
// the device cuts into segments of GsoInfo::gso_size bytes, each with a copy of the headers, as a NIC's
// TSO or the kernel's GSO does (NOTES.md: virtio_net_hdr).
#pragma once

#include <cstdint>

#include "stack/base/assert.hpp"
#include "stack/base/bytes.hpp"

namespace stack {

// How to segment a TCP/IPv4 super-packet; the fields of a virtio_net_hdr with gso_type TCPV4.
// Every segment carries the super-packet's IPv4 and TCP headers (options included: all segments have
// the same timestamps) with the total length, ID and IP checksum fixed, the sequence number advanced
// by the payload before it, FIN and PSH only on the last segment, CWR only on the first, and its own
// TCP checksum. Invariant: hdr_len + gso_size <= the MTU, and the payload exceeds gso_size.
struct GsoInfo {
    std::uint16_t gso_size = 0;  // TCP payload bytes per segment (the last may carry fewer)
    std::uint16_t hdr_len = 0;   // IPv4 + TCP header bytes, repeated in every segment
    std::uint16_t csum_start =
        0;  // where the TCP checksum's coverage starts (the IPv4 header length)
    std::uint16_t csum_offset = 0;  // the checksum field, from csum_start (16 for TCP)
    // True: the TCP checksum field holds only the pseudo-header sum (folded, not complemented, over
    // the super-packet's TCP length), virtio's NEEDS_CSUM. False: it holds the full checksum of the
    // super-packet as one segment.
    bool csum_partial = false;
    std::uint16_t segments = 0;  // how many segments the payload makes (ceil(payload / gso_size))
};

class PacketSink {
public:
    virtual ~PacketSink() = default;
    // Offers one whole IPv4 packet. Returns true if it was taken (copied or sent), false if the sink is
    // full right now (the caller keeps the packet and retries later). The span is valid only for the call.
    virtual bool transmit(Bytes packet) = 0;
    // Offers one TCP/IPv4 super-packet to be segmented as `gso` says; same return contract. A stack
    // emits these only when StackConfig::tso_max_size is set, which its owner does only for a sink that
    // overrides this (the TUN device with vnet_hdr, and the wrappers around it): the default is a
    // broken invariant.
    virtual bool transmit_gso(Bytes packet, const GsoInfo& gso) {
        (void)packet;
        (void)gso;
        detail::assert_fail("a TSO super-packet was offered to a sink without TSO", __FILE__,
                            __LINE__);
    }
};

}  // namespace stack
