// Software TCP segmentation (what a TSO device or Linux's GSO does with a TCP/IPv4 super-packet) and
// the completion of a partial (virtio NEEDS_CSUM) checksum.
//
// segment_tcp4() follows Linux (net/ipv4/tcp_offload.c tcp_gso_segment, af_inet.c inet_gso_segment):
// every segment gets a copy of the super-packet's IPv4 and TCP headers with the IPv4 total length, the
// ID (the super-packet's plus the segment's index: no SKB_GSO_TCP_FIXEDID) and the header checksum
// fixed, the sequence number advanced by the payload before it, FIN and PSH cleared on all but the
// last segment and CWR on all but the first, and a complete TCP checksum. The super-packet's own TCP
// checksum is ignored (partial or full, it is recomputed per segment). Used by the in-memory link
// (SimLink) so that a stack-to-stack test sees what a wire would carry, and by tests as a reference.
#pragma once

#include <cstddef>

#include "stack/base/bytes.hpp"
#include "stack/base/function_ref.hpp"
#include "stack/base/packet_sink.hpp"

namespace drivers {

// Completes a partial checksum as virtio asks: the 16-bit field at csum_start + csum_offset holds the
// pseudo-header sum; the one's-complement sum from csum_start to the end replaces it. Returns false
// (and leaves the packet alone) if the offsets do not fit the packet.
bool complete_partial_checksum(stack::MutBytes packet, std::size_t csum_start,
                               std::size_t csum_offset);

// Cuts `packet` (IPv4 + TCP + payload, as GsoInfo describes) into segments built in `scratch` (at
// least gso.hdr_len + gso.gso_size bytes) and hands each to `fn` in order. Returns the number of
// segments, or 0 (nothing handed out) if the packet does not match `gso` (not IPv4/TCP, header
// lengths that disagree with hdr_len and csum_start, gso_size 0, scratch too small).
std::size_t segment_tcp4(stack::Bytes packet, const stack::GsoInfo& gso, stack::MutBytes scratch,
                         stack::function_ref<void(stack::Bytes)> fn);

}  // namespace drivers
