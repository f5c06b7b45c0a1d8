// Stack::ingress input validation (RFC 791 §3.1, RFC 1122 §3.2.1): every malformed or foreign packet is
// dropped silently, counted under exactly one reason, and nothing is sent.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "stack/stack.hpp"
#include "tests/support/ip_packets.hpp"
#include "tests/support/tins_check.hpp"

namespace stack::testing {
namespace {

// Feeds `p` to a fresh stack and expects it dropped under `reason` alone, with nothing sent.
void expect_dropped(const Packet& p, const std::string& reason) {
    Stack stack(default_config());
    auto out = exchange(stack, Instant{}, p);
    EXPECT_TRUE(out.empty()) << reason;
    EXPECT_EQ(drops(stack.stats()), (DropMap{{reason, 1}}));
    EXPECT_EQ(stat(stack, "ip.rx_packets"), 1u);
    EXPECT_EQ(stat(stack, "icmp.rx_echo_request"), 0u);
    EXPECT_FALSE(stack.has_pending_output());
}

// A valid 84-byte ping (56 data bytes, like ping's default).
Packet ping56() { return echo_request(pattern(56)); }

TEST(StackInput, ValidEchoRequestIsAnsweredAndNothingDropped) {
    Stack stack(default_config());
    auto out = exchange(stack, Instant{}, ping56());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(drops(stack.stats()).empty());
    expect_tins_roundtrip(out[0]);
}

TEST(StackInput, EmptyPacketDroppedAsEmpty) { expect_dropped(Packet{}, "ip.drop.empty"); }

TEST(StackInput, Ipv6PacketDroppedAsIpv6) {
    Packet p = ping56();
    p[0] = 0x60;  // what the kernel writes into a fresh TUN: router solicitations, MLD
    expect_dropped(p, "ip.drop.ipv6");
    expect_dropped(Packet{0x60}, "ip.drop.ipv6");  // even a 1-byte one
}

TEST(StackInput, OtherVersionsDroppedAsBadVersion) {
    for (std::uint8_t v : {0, 1, 5, 7, 15}) {
        SCOPED_TRACE(int{v});
        Packet p = ping56();
        p[0] = static_cast<std::uint8_t>(v << 4 | 5);
        refresh_ip_checksum(p);
        expect_dropped(p, "ip.drop.bad_version");
    }
}

// RFC 791: a receiver must not read past the buffer. Prefix 0 is empty, 1..19 lack a header, 20..83
// have a header whose total length (84) exceeds the buffer.
TEST(StackInput, EveryTruncatedPrefixOfAnEchoRequestDroppedOnceByItsReason) {
    const Packet full = ping56();
    ASSERT_EQ(full.size(), 84u);
    for (std::size_t len = 0; len < full.size(); ++len) {
        SCOPED_TRACE(len);
        Packet p(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
        const char* reason = len == 0   ? "ip.drop.empty"
                             : len < 20 ? "ip.drop.truncated"
                                        : "ip.drop.bad_total_length";
        expect_dropped(p, reason);
    }
}

TEST(StackInput, TruncatedPrefixesCountedOncePerPacketInOneStack) {
    Stack stack(default_config());
    const Packet full = ping56();
    CaptureSink sink;
    for (std::size_t len = 0; len < full.size(); ++len) {
        stack.ingress(Instant{}, Bytes(full.data(), len));
    }
    stack.poll(Instant{}, sink);
    EXPECT_TRUE(sink.packets.empty());
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.empty", 1},
                                             {"ip.drop.truncated", 19},
                                             {"ip.drop.bad_total_length", 64}}));
    EXPECT_EQ(stat(stack, "ip.rx_packets"), 84u);
}

TEST(StackInput, IhlBelowFiveDroppedAsBadIhl) {
    for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
        SCOPED_TRACE(int{ihl});
        Packet p = ping56();
        p[0] = static_cast<std::uint8_t>(0x40 | ihl);
        refresh_ip_checksum(p);
        expect_dropped(p, "ip.drop.bad_ihl");
    }
}

TEST(StackInput, IhlBeyondTheBufferDroppedAsBadIhl) {
    Packet p = echo_request({});  // 28 bytes
    p[0] = 0x48;                  // claims a 32-byte header
    store_be16(&p[2], 28);
    refresh_ip_checksum(p);
    expect_dropped(p, "ip.drop.bad_ihl");
    Packet q = echo_request(pattern(12));  // 40 bytes, IHL 15 claims 60
    q[0] = 0x4f;
    expect_dropped(q, "ip.drop.bad_ihl");
}

TEST(StackInput, TotalLengthBeyondBufferDroppedAsBadTotalLength) {
    Packet p = ping56();
    store_be16(&p[2], 85);
    refresh_ip_checksum(p);
    expect_dropped(p, "ip.drop.bad_total_length");
    store_be16(&p[2], 0xffff);
    refresh_ip_checksum(p);
    expect_dropped(p, "ip.drop.bad_total_length");
}

TEST(StackInput, TotalLengthBelowHeaderDroppedAsBadTotalLength) {
    for (std::uint16_t total : {0, 1, 19}) {
        Packet p = ping56();
        store_be16(&p[2], total);
        refresh_ip_checksum(p);
        expect_dropped(p, "ip.drop.bad_total_length");
    }
    // With options: total length covers the 20-byte base header but not the 24-byte whole one.
    const std::uint8_t nops[] = {1, 1, 1, 0};
    Packet o = with_options(ping56(), nops);
    store_be16(&o[2], 22);
    refresh_ip_checksum(o);
    expect_dropped(o, "ip.drop.bad_total_length");
}

TEST(StackInput, BadHeaderChecksumDroppedAsBadChecksum) {
    Packet p = ping56();
    p[10] ^= 0x01;
    expect_dropped(p, "ip.drop.bad_checksum");
    Packet q = ping56();
    q[8] = 1;  // TTL changed without fixing the checksum
    expect_dropped(q, "ip.drop.bad_checksum");
}

// RFC 1122 §3.2.1.3: a datagram whose source is not a unicast address is discarded (and never answered).
TEST(StackInput, NonUnicastSourceDroppedAsBadSource) {
    const wire::Ipv4Address sources[] = {
        wire::Ipv4Address{0, 0, 0, 0},   wire::Ipv4Address{255, 255, 255, 255},
        wire::Ipv4Address{224, 0, 0, 1}, wire::Ipv4Address{239, 255, 255, 250},
        wire::Ipv4Address{127, 0, 0, 1}, wire::Ipv4Address{127, 255, 255, 254},
    };
    for (auto src : sources) {
        SCOPED_TRACE(src.to_string());
        expect_dropped(echo_request(pattern(56), 1, 1, src), "ip.drop.bad_source");
        expect_dropped(udp_packet(pattern(10), 9, src), "ip.drop.bad_source");
    }
}

TEST(StackInput, DestinationNotOursDroppedAsNotForUs) {
    const wire::Ipv4Address dsts[] = {
        wire::Ipv4Address{198, 18, 0, 3},
        wire::Ipv4Address{255, 255, 255, 255},
        wire::Ipv4Address{224, 0, 0, 1},
        wire::Ipv4Address{0, 0, 0, 0},
        kPeerAddr,
    };
    for (auto dst : dsts) {
        SCOPED_TRACE(dst.to_string());
        expect_dropped(echo_request(pattern(56), 1, 1, kPeerAddr, dst), "ip.drop.not_for_us");
    }
}

// The first failing check wins: a packet that is both bad-checksum and from a martian source is counted
// once, as bad_checksum (the header is not trusted before it verifies).
TEST(StackInput, SeveralFaultsCountedOnceUnderTheFirst) {
    Packet p = echo_request(pattern(56), 1, 1, wire::Ipv4Address{127, 0, 0, 1},
                            wire::Ipv4Address{10, 0, 0, 1});
    p[10] ^= 0xff;
    expect_dropped(p, "ip.drop.bad_checksum");
    Packet q = echo_request(pattern(56), 1, 1, wire::Ipv4Address{127, 0, 0, 1},
                            wire::Ipv4Address{10, 0, 0, 1});
    expect_dropped(q, "ip.drop.bad_source");
}

// Options for a header of `ihl` words: NOPs for IHL 6, else a record-route option filling the area
// (RFC 791 §3.1: type 7, length, pointer 4, empty slots) followed by an end-of-options byte.
Packet options_for(std::uint8_t ihl) {
    const std::size_t area = (ihl - 5u) * 4u;
    Packet o(area, 0);
    if (area == 4) {
        o = {1, 1, 1, 0};
    } else {
        o[0] = 7;
        o[1] = static_cast<std::uint8_t>(area - 1);
        o[2] = 4;
    }
    return o;
}

// RFC 1122 §3.2.1.8: options are tolerated (a host ignores those it does not implement).
TEST(StackInput, IpOptionsToleratedAndEchoStillAnswered) {
    for (std::uint8_t ihl = 6; ihl <= 15; ++ihl) {
        SCOPED_TRACE(int{ihl});
        const Packet data = pattern(56, ihl);
        Packet p = with_options(echo_request(data, 7, ihl), options_for(ihl));
        ASSERT_EQ(p.size(), 4u * ihl + 64);
        Stack stack(default_config());
        auto out = exchange(stack, Instant{}, p);
        ASSERT_EQ(out.size(), 1u);
        EXPECT_TRUE(drops(stack.stats()).empty());
        auto ip = parse_ip(out[0]);
        EXPECT_EQ(ip.header_len(), 20u);  // options are not echoed back
        auto icmp = wire::Icmpv4Packet::parse(ip.payload());
        ASSERT_TRUE(icmp.ok());
        EXPECT_EQ(icmp->echo_seq(), ihl);
        EXPECT_EQ(Packet(icmp->body().begin(), icmp->body().end()), data);
        expect_tins_roundtrip(out[0]);
    }
}

// Bytes after the total length (link padding) are not part of the datagram.
TEST(StackInput, TrailingBytesBeyondTotalLengthIgnored) {
    const Packet data = pattern(56);
    Packet p = echo_request(data);
    for (int i = 0; i < 10; ++i) p.push_back(0xee);
    Stack stack(default_config());
    auto out = exchange(stack, Instant{}, p);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].size(), 84u);
    auto icmp = wire::Icmpv4Packet::parse(parse_ip(out[0]).payload());
    ASSERT_TRUE(icmp.ok());
    EXPECT_EQ(Packet(icmp->body().begin(), icmp->body().end()), data);
    EXPECT_TRUE(drops(stack.stats()).empty());
    EXPECT_EQ(stat(stack, "ip.rx_bytes"), 94u);
}

TEST(StackInput, TcpToClosedPortIsNotAnIpDrop) {
    // Protocol 6 reaches TCP (its own counters); the IP layer drops nothing.
    Packet tcp(20, 0);
    store_be16(&tcp[0], 1234);
    store_be16(&tcp[2], 80);
    tcp[12] = 0x50;
    tcp[13] = 0x02;  // SYN
    const std::uint32_t pseudo = checksum::pseudo_header_v4(kPeerAddr.value, kOurAddr.value, 6, 20);
    store_be16(&tcp[16], checksum::finish(checksum::partial(tcp, pseudo)));
    Stack stack(default_config());
    exchange(stack, Instant{}, ipv4_packet(ip_header(kPeerAddr, kOurAddr, 6), tcp));
    EXPECT_EQ(stat(stack, "tcp.rx_segments"), 1u);
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"tcp.drop.no_listener", 1}}));
}

}  // namespace
}  // namespace stack::testing
