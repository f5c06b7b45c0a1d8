// Test support for the IP layer: a capturing PacketSink, packet builders over our own wire Reprs, raw
// edits for malformed cases, fragmenting/reassembling by hand, deterministic data, and a drop-counter
// snapshot so a test can say "dropped under exactly this reason and no other".
//
// Header-only on purpose: tests/ip/meson.build lists only test sources.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "stack/base/bytes.hpp"
#include "stack/base/checksum.hpp"
#include "stack/base/packet_sink.hpp"
#include "stack/base/time.hpp"
#include "stack/stack.hpp"
#include "stack/stats.hpp"
#include "stack/wire/address.hpp"
#include "stack/wire/icmpv4.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/udp.hpp"

namespace stack::testing {

using Packet = std::vector<std::uint8_t>;

inline constexpr wire::Ipv4Address kOurAddr{198, 18, 0, 2};
inline constexpr wire::Ipv4Address kPeerAddr{198, 18, 0, 1};
inline constexpr wire::Ipv4Address kOtherPeer{198, 18, 0, 77};

inline Instant at_ms(std::int64_t ms) { return Instant::from_millis(ms); }

inline StackConfig default_config() {
    StackConfig c;
    c.addr = kOurAddr;
    c.seed = 42;
    return c;
}

// Stores every packet it is offered, up to `capacity` (then refuses, like a full device). TCP
// super-packets (TSO) are stored as offered, with their GsoInfo in `gso` (gso_size 0 for a plain packet).
class CaptureSink : public PacketSink {
public:
    explicit CaptureSink(std::size_t capacity = SIZE_MAX) : capacity_(capacity) {}
    bool transmit(Bytes packet) override { return take(packet, GsoInfo{}); }
    bool transmit_gso(Bytes packet, const GsoInfo& info) override {
        EXPECT_GT(info.gso_size, 0u);
        return take(packet, info);
    }
    void set_capacity(std::size_t c) { capacity_ = c; }

    std::vector<Packet> packets;
    std::vector<GsoInfo> gso;  // one per packet
    std::size_t offers = 0;

private:
    bool take(Bytes packet, const GsoInfo& info) {
        ++offers;
        if (packets.size() >= capacity_) return false;
        packets.emplace_back(packet.begin(), packet.end());
        gso.push_back(info);
        return true;
    }
    std::size_t capacity_;
};

// Deterministic payload bytes: a function of (index, seed), never all zero.
inline Packet pattern(std::size_t n, std::uint32_t seed = 1) {
    Packet v(n);
    std::mt19937 rng(seed);
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    return v;
}

// A packet = IPv4 header (from `ip`, payload_len filled in) + payload.
inline Packet ipv4_packet(wire::Ipv4Repr ip, Bytes payload) {
    ip.payload_len = static_cast<std::uint16_t>(payload.size());
    Packet out(ip.total_len());
    ip.emit(MutBytes(out));
    std::copy(payload.begin(), payload.end(), out.begin() + 20);
    return out;
}

inline wire::Ipv4Repr ip_header(wire::Ipv4Address src, wire::Ipv4Address dst, std::uint8_t protocol,
                                std::uint16_t ident = 0x1234) {
    wire::Ipv4Repr ip;
    ip.src = src;
    ip.dst = dst;
    ip.protocol = protocol;
    ip.ttl = 64;
    ip.ident = ident;
    return ip;
}

inline Packet icmp_message(std::uint8_t type, std::uint8_t code, std::uint32_t rest, Bytes body) {
    wire::Icmpv4Repr icmp{type, code, rest, body};
    Packet out(icmp.len());
    icmp.emit(MutBytes(out));
    return out;
}

// The ICMP echo request message alone (header + data).
inline Packet echo_message(std::uint16_t ident, std::uint16_t seq, Bytes data) {
    return icmp_message(static_cast<std::uint8_t>(wire::IcmpType::EchoRequest), 0,
                        std::uint32_t{ident} << 16 | seq, data);
}

inline Packet echo_request(Bytes data, std::uint16_t ident = 0x4242, std::uint16_t seq = 1,
                           wire::Ipv4Address src = kPeerAddr, wire::Ipv4Address dst = kOurAddr,
                           std::uint16_t ip_ident = 0x1234) {
    return ipv4_packet(ip_header(src, dst, 1, ip_ident), echo_message(ident, seq, data));
}

// The UDP datagram alone (header + data), checksum over the pseudo-header of src -> dst.
inline Packet udp_message(wire::Ipv4Address src, wire::Ipv4Address dst, std::uint16_t sport,
                          std::uint16_t dport, Bytes data) {
    wire::UdpRepr udp{sport, dport, static_cast<std::uint16_t>(data.size())};
    Packet out(udp.len());
    udp.emit(MutBytes(out), src, dst, data);
    return out;
}

inline Packet udp_packet(Bytes data, std::uint16_t dport = 9, wire::Ipv4Address src = kPeerAddr,
                         wire::Ipv4Address dst = kOurAddr, std::uint16_t ip_ident = 0x1234) {
    return ipv4_packet(ip_header(src, dst, 17, ip_ident),
                       udp_message(src, dst, 40000, dport, data));
}

// Recomputes the header checksum of a packet after raw edits (uses the IHL in byte 0).
inline void refresh_ip_checksum(Packet& p) {
    const std::size_t hlen = std::size_t{p[0] & 0x0fu} * 4;
    store_be16(&p[10], 0);
    store_be16(&p[10], checksum::compute(Bytes(p.data(), std::min(hlen, p.size()))));
}

// Inserts `options` (a multiple of 4 bytes, <= 40) after the 20-byte header, fixing IHL, total length
// and checksum.
inline Packet with_options(const Packet& p, Bytes options) {
    // Built by index (not vector::insert): g++ 12 -O2 reports a false -Warray-bounds on insert here.
    Packet out(p.size() + options.size());
    for (std::size_t i = 0; i < 20; ++i) out[i] = p[i];
    for (std::size_t i = 0; i < options.size(); ++i) out[20 + i] = options[i];
    for (std::size_t i = 20; i < p.size(); ++i) out[options.size() + i] = p[i];
    out[0] = static_cast<std::uint8_t>(0x40 | (20 + options.size()) / 4);
    store_be16(&out[2], static_cast<std::uint16_t>(out.size()));
    refresh_ip_checksum(out);
    return out;
}

// One fragment of a datagram: `whole` is a complete packet with a 20-byte header; the fragment carries
// its payload bytes [begin, end) with MF set unless `last`.
inline Packet fragment_of(const Packet& whole, std::size_t begin, std::size_t end, bool last) {
    auto parsed = wire::Ipv4Packet::parse(whole);
    EXPECT_TRUE(parsed.ok());
    wire::Ipv4Repr ip = wire::Ipv4Repr::parse(*parsed);
    ip.frag_offset = static_cast<std::uint32_t>(begin);
    ip.more_frags = !last;
    Bytes payload = parsed->payload();
    return ipv4_packet(ip, payload.subspan(begin, end - begin));
}

// Splits `whole` into fragments carrying `chunk` payload bytes each (a multiple of 8), in order.
inline std::vector<Packet> fragments(const Packet& whole, std::size_t chunk) {
    const std::size_t total = whole.size() - 20;
    std::vector<Packet> out;
    for (std::size_t b = 0; b < total; b += chunk) {
        const std::size_t e = std::min(total, b + chunk);
        out.push_back(fragment_of(whole, b, e, e == total));
    }
    return out;
}

// Fisher-Yates over mt19937 (std::shuffle's result differs between standard libraries).
template <typename T>
void permute(std::vector<T>& v, std::uint32_t seed) {
    std::mt19937 rng(seed);
    for (std::size_t i = v.size(); i > 1; --i) {
        std::swap(v[i - 1], v[rng() % i]);
    }
}

// Parses an output packet with our own view (header checksum verified); fails the test otherwise.
inline wire::Ipv4Packet parse_ip(const Packet& p) {
    auto parsed = wire::Ipv4Packet::parse(p);
    EXPECT_TRUE(parsed.ok()) << "output is not a valid IPv4 packet, " << p.size() << " bytes";
    if (!parsed.ok()) std::abort();
    EXPECT_EQ(parsed->bytes().size(), p.size()) << "output carries bytes past its total length";
    return *parsed;
}

// Reassembles a list of output fragments by hand (independently of ip::Reassembler): checks they share
// ID/src/dst/protocol, offsets are multiples of 8, MF is set on all but the highest, and the pieces tile
// [0, end) exactly once. Returns the payload, or nullopt (with test failures) if anything is off.
inline std::optional<Packet> reassemble_by_hand(const std::vector<Packet>& frags) {
    if (frags.empty()) return std::nullopt;
    struct Piece {
        std::uint32_t offset;
        bool more;
        Packet data;
    };
    std::vector<Piece> pieces;
    auto first = parse_ip(frags[0]);
    for (const Packet& f : frags) {
        auto ip = parse_ip(f);
        EXPECT_EQ(ip.ident(), first.ident());
        EXPECT_EQ(ip.src(), first.src());
        EXPECT_EQ(ip.dst(), first.dst());
        EXPECT_EQ(ip.protocol(), first.protocol());
        EXPECT_EQ(ip.frag_offset() % 8, 0u);
        pieces.push_back(
            {ip.frag_offset(), ip.more_frags(), Packet(ip.payload().begin(), ip.payload().end())});
    }
    std::sort(pieces.begin(), pieces.end(), [](auto& a, auto& b) { return a.offset < b.offset; });
    Packet out;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        EXPECT_EQ(pieces[i].offset, out.size()) << "gap or overlap at fragment " << i;
        EXPECT_EQ(pieces[i].more, i + 1 < pieces.size()) << "MF wrong on fragment " << i;
        if (i + 1 < pieces.size()) {
            EXPECT_EQ(pieces[i].data.size() % 8, 0u) << "non-last fragment not a multiple of 8";
        }
        if (pieces[i].offset != out.size()) return std::nullopt;
        out.insert(out.end(), pieces[i].data.begin(), pieces[i].data.end());
    }
    return out;
}

// The data of the single echo reply in `out` (reassembled by hand if fragmented), or nullopt if `out` is
// empty or the reply does not parse with a valid ICMP checksum.
inline std::optional<Packet> echo_reply_data(const std::vector<Packet>& out) {
    if (out.empty()) return std::nullopt;
    std::optional<Packet> message;
    if (out.size() == 1) {
        auto ip = parse_ip(out[0]);
        message = Packet(ip.payload().begin(), ip.payload().end());
    } else {
        message = reassemble_by_hand(out);
    }
    if (!message) return std::nullopt;
    auto icmp = wire::Icmpv4Packet::parse(*message);
    if (!icmp.ok() || icmp->type() != 0) {
        ADD_FAILURE() << "not a valid echo reply";
        return std::nullopt;
    }
    return Packet(icmp->body().begin(), icmp->body().end());
}

// Every nonzero drop/suppression counter: names containing ".drop." or ".tx_drop." plus
// icmp.error_suppressed and icmp.error_rate_limited.
inline std::map<std::string, std::uint64_t> drops(const Stats& s) {
    std::map<std::string, std::uint64_t> out;
    s.visit([&](std::string_view name, std::uint64_t v) {
        const bool is_drop = name.find(".drop.") != std::string_view::npos ||
                             name.find(".tx_drop.") != std::string_view::npos ||
                             name == "icmp.error_suppressed" || name == "icmp.error_rate_limited";
        if (is_drop && v != 0) out.emplace(std::string(name), v);
    });
    return out;
}

using DropMap = std::map<std::string, std::uint64_t>;

inline std::uint64_t stat(const Stack& s, std::string_view name) {
    const std::int64_t v = s.stats().get(name);
    EXPECT_GE(v, 0) << "no counter called " << name;
    return static_cast<std::uint64_t>(v);
}

// ingress + poll at the same instant; returns what came out.
inline std::vector<Packet> exchange(Stack& stack, Instant now, const Packet& in) {
    stack.ingress(now, in);
    CaptureSink sink;
    stack.poll(now, sink);
    return std::move(sink.packets);
}

}  // namespace stack::testing
