// Stack: the sans-IO facade. Packets in, packets out, time passed in; no syscalls, clocks or threads.
//
//   stack.ingress(now, packet);      // one IPv4 packet from the device
//   stack.poll(now, sink);           // runs timers due by `now`, hands queued packets to the sink
//   loop.wake_at(stack.poll_at());   // the next instant poll() has timer work to do
//
// Input validation order (each failure is dropped and counted once, under ip.drop.*): non-empty, IPv6
// and other versions, header structure and checksum (wire::Ipv4Packet::parse), source address is unicast,
// destination is our address, then reassembly, then the protocol (ICMP, UDP, TCP; others get ICMP
// protocol unreachable). Packets destined elsewhere are never forwarded.
//
// State lives in the instance; two Stacks in one process share nothing. Output is built into
// preallocated frames (ip::TxQueue), so steady-state ingress/poll allocate nothing (fragment reassembly
// excepted: its buffers are bounded by ReassemblyConfig).
//
// With TSO (StackConfig::tso_max_size) poll() hands TCP super-packets to PacketSink::transmit_gso, in
// order with the plain packets; ip.tx_packets and ip.tx_bytes count them as the one packet handed
// over, tcp.tx_segments and tcp.tx_bytes as the segments they become.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "stack/base/bytes.hpp"
#include "stack/base/packet_sink.hpp"
#include "stack/base/time.hpp"
#include "stack/ip/icmp.hpp"
#include "stack/ip/output.hpp"
#include "stack/ip/reassembly.hpp"
#include "stack/ip/tx_queue.hpp"
#include "stack/stats.hpp"
#include "stack/tcp/tcp.hpp"
#include "stack/wire/address.hpp"
#include "stack/wire/ipv4.hpp"

namespace stack {

struct StackConfig {
    wire::Ipv4Address addr;    // the stack's own address
    std::uint16_t mtu = 1500;  // largest packet handed to the sink; 68..65535
    std::uint8_t ttl = 64;
    std::uint64_t seed = 0;  // randomness (IP IDs, ephemeral ports): inject getrandom() in real use
    // The TCP secrets: bytes 0..15 key the RFC 6528 ISN function, 16..31 the SYN-cookie MAC. Fill from
    // getrandom() in real use (RFC 6528 §3: at least 128 secret bits each). Unset (tests), both are
    // derived from `seed`, which is deterministic but only as strong as 64 bits.
    std::optional<std::array<std::uint8_t, 32>> tcp_secret;
    std::size_t tx_queue_frames = 1024;
    // TCP segmentation offload, for a sink that implements PacketSink::transmit_gso (the TUN device
    // with vnet_hdr). 0: off, every packet at most the MTU (the default). Else the largest TCP
    // super-packet (IPv4 total length, mtu < tso_max_size <= 65535) TCP may emit: a segment carrying
    // several MSS worth of new data, which the device cuts into MSS-sized segments. `tso_frames`
    // large frames of tso_max_size bytes are preallocated for them (used only when TSO is on).
    std::uint32_t tso_max_size = 0;
    std::size_t tso_frames = 32;
    // Super-packets leave the TCP checksum partial (the pseudo-header sum, virtio NEEDS_CSUM: the
    // device or the kernel completes each segment's), or false: fully computed over the super-packet.
    bool tso_partial_checksum = true;
    ip::ReassemblyConfig reassembly;
    ip::IcmpConfig icmp;
    tcp::TcpConfig tcp;
};

class Stack {
public:
    explicit Stack(const StackConfig& config);
    Stack(const Stack&) = delete;
    Stack& operator=(const Stack&) = delete;

    // Processes one inbound IPv4 packet (any bytes: malformed input is dropped and counted). Replies are
    // queued, not sent: call poll() afterwards.
    void ingress(Instant now, Bytes packet);

    // Runs every timer due at `now`, then offers queued packets to `sink` in order until it is empty or
    // the sink refuses one (that packet stays queued for the next poll).
    void poll(Instant now, PacketSink& sink);

    // The earliest instant at which poll() has timer work, or Instant::never(). Queued output is not a
    // timer: check has_pending_output() (a refused sink should be retried when it becomes writable).
    Instant poll_at() const;
    bool has_pending_output() const { return !tx_.empty(); }

    const Stats& stats() const { return stats_; }
    const StackConfig& config() const { return config_; }

    // The TCP socket API (stack/tcp/tcp.hpp documents it). After calling into it, call poll() to
    // send what it queued, and drain events with tcp().next_event().
    tcp::TcpLayer& tcp() { return tcp_; }
    const tcp::TcpLayer& tcp() const { return tcp_; }

private:
    void deliver(Instant now, const wire::Ipv4Repr& ip, Bytes header, Bytes payload);
    void on_icmp_error(Instant now, const ip::IcmpErrorReport& error);
    void on_udp(Instant now, const wire::Ipv4Repr& ip, Bytes header, Bytes payload);

    StackConfig config_;
    Stats stats_;
    ip::TxQueue tx_;
    ip::Ipv4Output output_;
    ip::Reassembler reassembler_;
    ip::Icmp icmp_;
    tcp::TcpLayer tcp_;
};

}  // namespace stack
