#include "stack/stack.hpp"

#include <algorithm>

#include "stack/wire/udp.hpp"

namespace stack {

Stack::Stack(const StackConfig& config)
    : config_(config),
      tx_(config.tx_queue_frames, config.mtu, config.tso_max_size > 0 ? config.tso_frames : 0,
          config.tso_max_size),
      output_(ip::OutputConfig{config.addr, config.mtu, config.ttl, config.seed,
                               config.tso_max_size, config.tso_partial_checksum},
              tx_, stats_.ip),
      reassembler_(config.reassembly, stats_.ip),
      icmp_(config.icmp, output_, stats_.icmp),
      tcp_(config.tcp, output_, stats_.tcp, config.seed, config.tcp_secret) {}

void Stack::ingress(Instant now, Bytes packet) {
    ++stats_.ip.rx_packets;
    stats_.ip.rx_bytes += packet.size();
    if (packet.empty()) {
        ++stats_.ip.drop_empty;
        return;
    }
    if ((packet[0] >> 4) == 6) {  // the kernel writes router solicitations and MLD into a fresh TUN
        ++stats_.ip.drop_ipv6;
        return;
    }
    auto parsed = wire::Ipv4Packet::parse(packet);
    if (!parsed) {
        switch (parsed.error()) {
            case wire::Ipv4Error::Truncated: ++stats_.ip.drop_truncated; break;
            case wire::Ipv4Error::BadVersion: ++stats_.ip.drop_bad_version; break;
            case wire::Ipv4Error::BadIhl: ++stats_.ip.drop_bad_ihl; break;
            case wire::Ipv4Error::BadTotalLength: ++stats_.ip.drop_bad_total_length; break;
            case wire::Ipv4Error::BadChecksum: ++stats_.ip.drop_bad_checksum; break;
        }
        return;
    }
    const wire::Ipv4Packet& ipv4 = *parsed;
    const wire::Ipv4Address src = ipv4.src();
    // RFC 1122 §3.2.1.3, RFC 1812 §5.3.7: a source that cannot be a peer's unicast address is
    // martian (0/8, 127/8, 224/4, 240/4 with the limited broadcast), and so is our own address coming
    // in from the device (a spoofed "land" packet: answering it would talk to ourselves).
    if (src.is_martian_source() || src == config_.addr) {
        ++stats_.ip.drop_bad_source;
        return;
    }
    if (ipv4.dst() != config_.addr) {
        ++stats_.ip.drop_not_for_us;
        return;
    }
    if (ipv4.is_fragment()) {
        auto whole = reassembler_.insert(now, ipv4);
        if (!whole) return;
        // Re-emit a plain header for the reassembled datagram: it is what ICMP errors quote.
        std::uint8_t header[wire::kIpv4MinHeaderLen];
        whole->header.emit(MutBytes(header));
        deliver(now, whole->header, Bytes(header), whole->payload);
        return;
    }
    deliver(now, wire::Ipv4Repr::parse(ipv4), ipv4.header(), ipv4.payload());
}

void Stack::deliver(Instant now, const wire::Ipv4Repr& ip, Bytes header, Bytes payload) {
    switch (ip.protocol) {
        case static_cast<std::uint8_t>(wire::IpProtocol::Icmp):
            if (auto error = icmp_.on_message(now, ip, payload)) on_icmp_error(now, *error);
            return;
        case static_cast<std::uint8_t>(wire::IpProtocol::Udp):
            on_udp(now, ip, header, payload);
            return;
        case static_cast<std::uint8_t>(wire::IpProtocol::Tcp):
            tcp_.on_segment(now, ip, payload);
            return;
        default:
            ++stats_.ip.drop_unknown_protocol;
            icmp_.send_unreachable(now, wire::UnreachCode::Protocol, header, payload);
            return;
    }
}

void Stack::on_icmp_error(Instant now, const ip::IcmpErrorReport& error) {
    switch (error.protocol) {
        case static_cast<std::uint8_t>(wire::IpProtocol::Tcp):
            tcp_.on_icmp_error(now, error);
            return;
        default: ++stats_.icmp.error_unmatched; return;  // no UDP sockets yet; nothing else sends
    }
}

void Stack::on_udp(Instant now, const wire::Ipv4Repr& ip, Bytes header, Bytes payload) {
    auto udp = wire::UdpPacket::parse(payload, ip.src, ip.dst);
    if (!udp) {
        switch (udp.error()) {
            case wire::UdpError::Truncated: ++stats_.udp.drop_truncated; break;
            case wire::UdpError::BadLength: ++stats_.udp.drop_bad_length; break;
            case wire::UdpError::BadChecksum: ++stats_.udp.drop_bad_checksum; break;
        }
        return;
    }
    ++stats_.udp.rx_datagrams;
    stats_.udp.rx_bytes += payload.size();
    // No UDP sockets yet: every port is closed (RFC 1122 §4.1.3.1: port unreachable).
    ++stats_.udp.drop_no_port;
    icmp_.send_unreachable(now, wire::UnreachCode::Port, header, payload);
}

void Stack::poll(Instant now, PacketSink& sink) {
    if (reassembler_.next_deadline() <= now) reassembler_.expire(now);
    tcp_.poll(now);
    // Drain; when connections were held back by a full TX queue, let them continue into the room
    // just made. Bounded: each round either empties the queue into the sink or stops.
    for (int round = 0; round < 64; ++round) {
        while (!tx_.empty()) {
            Bytes packet = tx_.front();
            const GsoInfo* gso = tx_.front_gso();
            if (!(gso != nullptr ? sink.transmit_gso(packet, *gso) : sink.transmit(packet))) return;
            ++stats_.ip.tx_packets;
            stats_.ip.tx_bytes += packet.size();
            tx_.pop();
        }
        if (!tcp_.has_dirty()) return;
        tcp_.poll(now);
        if (tx_.empty()) return;
    }
}

// Output a user call queued (TcpLayer::has_dirty) is due at once: output_due() is the layer's
// latest instant then, never() otherwise.
Instant Stack::poll_at() const {
    return std::min({reassembler_.next_deadline(), tcp_.poll_at(), tcp_.output_due()});
}

}  // namespace stack
