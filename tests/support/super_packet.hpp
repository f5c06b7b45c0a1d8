// Test support for TSO: a TCP/IPv4 super-packet built with our own wire Reprs, and its GsoInfo.
#pragma once

#include <cstdint>
#include <vector>

#include "stack/base/bytes.hpp"
#include "stack/base/checksum.hpp"
#include "stack/base/packet_sink.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace stack::testing {

struct SuperPacket {
    std::vector<std::uint8_t> bytes;
    GsoInfo gso;
};

struct SuperPacketSpec {
    wire::Ipv4Address src{198, 18, 0, 2};
    wire::Ipv4Address dst{198, 18, 0, 1};
    std::size_t payload = 3000;  // bytes i * 7 + 1
    std::uint16_t mss = 1000;    // gso_size
    wire::TcpFlags flags = wire::TcpFlag::Ack;
    std::uint16_t ip_id = 0x4000;
    std::uint32_t seq = 1000;
    bool timestamps = true;  // TSval 11, TSecr 22
    bool partial = true;     // leave the TCP checksum partial (pseudo-header sum), else complete
};

// IPv4 (DF, TTL 64) + TCP (ports 80 -> 40000, ack 5, window 512) + payload, as a TSO sender hands it
// to its device.
inline SuperPacket make_super_packet(const SuperPacketSpec& spec = {}) {
    wire::TcpRepr t;
    t.src_port = 80;
    t.dst_port = 40000;
    t.seq = wire::SeqNumber(spec.seq);
    t.ack = wire::SeqNumber(5);
    t.flags = spec.flags;
    t.window = 512;
    if (spec.timestamps) t.options.timestamps = wire::TcpTimestamps{11, 22};
    t.payload_len = static_cast<std::uint16_t>(spec.payload);
    wire::Ipv4Repr ip;
    ip.src = spec.src;
    ip.dst = spec.dst;
    ip.protocol = 6;
    ip.ttl = 64;
    ip.ident = spec.ip_id;
    ip.dont_frag = true;
    ip.payload_len = static_cast<std::uint16_t>(t.len());
    SuperPacket s;
    s.bytes.resize(ip.total_len());
    ip.emit(MutBytes(s.bytes));
    std::vector<std::uint8_t> body(spec.payload);
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<std::uint8_t>(i * 7 + 1);
    t.emit(MutBytes(s.bytes).subspan(20), spec.src, spec.dst, body);
    if (spec.partial) {
        const std::uint32_t pseudo = checksum::pseudo_header_v4(
            spec.src.value, spec.dst.value, 6, static_cast<std::uint16_t>(t.len()));
        store_be16(&s.bytes[20 + 16], checksum::fold(pseudo));
    }
    s.gso.gso_size = spec.mss;
    s.gso.hdr_len = static_cast<std::uint16_t>(20 + t.header_len());
    s.gso.csum_start = 20;
    s.gso.csum_offset = 16;
    s.gso.csum_partial = spec.partial;
    s.gso.segments = static_cast<std::uint16_t>((spec.payload + spec.mss - 1) / spec.mss);
    return s;
}

}  // namespace stack::testing
