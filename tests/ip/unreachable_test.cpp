// Destination Unreachable (RFC 792 p.4, RFC 1122 §3.2.2 and §4.1.3.1, RFC 1812 §4.3.2.3) and UDP input
// validation (RFC 768): closed ports and unknown protocols are answered with an error quoting the
// offending header and at least 8 payload bytes, within 576 bytes, never about an ICMP error, never
// about a non-initial fragment or a non-unicast source, and at most `error_burst` at once.
#include <gtest/gtest.h>
#include <tins/tins.h>

#include <cstdint>
#include <vector>

#include "stack/ip/icmp.hpp"
#include "stack/stack.hpp"
#include "tests/support/ip_packets.hpp"
#include "tests/support/tins_check.hpp"

namespace stack::testing {
namespace {

// Checks `p` is a Destination Unreachable with `code` to kPeerAddr whose body is exactly `quoted`.
void expect_unreachable(const Packet& p, std::uint8_t code, const Packet& quoted) {
    EXPECT_LE(p.size(), 576u);
    auto ip = parse_ip(p);
    EXPECT_EQ(ip.src(), kOurAddr);
    EXPECT_EQ(ip.dst(), kPeerAddr);
    EXPECT_EQ(ip.protocol(), 1);
    EXPECT_FALSE(ip.is_fragment());
    auto icmp = wire::Icmpv4Packet::parse(ip.payload());
    ASSERT_TRUE(icmp.ok()) << "ICMP checksum does not verify";
    EXPECT_EQ(icmp->type(), 3);
    EXPECT_EQ(icmp->code(), code);
    EXPECT_EQ(icmp->rest_of_header(), 0u);  // "unused", must be zero
    EXPECT_EQ(Packet(icmp->body().begin(), icmp->body().end()), quoted);
    Packet zeroed(ip.payload().begin(), ip.payload().end());
    store_be16(&zeroed[2], 0);
    EXPECT_EQ(icmp->checksum(), checksum::reference_compute(zeroed));
    // libtins, independently: addresses, type and code, and every checksum on re-serialization.
    Tins::IP tins_ip(p.data(), static_cast<std::uint32_t>(p.size()));
    EXPECT_EQ(tins_ip.dst_addr(), Tins::IPv4Address("198.18.0.1"));
    const auto* tins_icmp = tins_ip.find_pdu<Tins::ICMP>();
    ASSERT_NE(tins_icmp, nullptr);
    EXPECT_EQ(tins_icmp->type(), Tins::ICMP::DEST_UNREACHABLE);
    EXPECT_EQ(tins_icmp->code(), code);
    if (quoted.size() <= 128) {
        expect_tins_roundtrip(p);
    } else {
        expect_tins_ip_header_roundtrip(p);
    }
}

TEST(IcmpUnreachable, UdpToAnyPortGetsPortUnreachableQuotingTheWholeSmallDatagram) {
    for (std::uint16_t port : {0, 7, 53, 5353, 65535}) {
        SCOPED_TRACE(port);
        Stack stack(default_config());
        const Packet in = udp_packet(pattern(100, port), port);
        auto out = exchange(stack, Instant{}, in);
        ASSERT_EQ(out.size(), 1u);
        expect_unreachable(out[0], 3, in);  // 128 bytes: header + all of the payload fits
        EXPECT_EQ(stat(stack, "udp.rx_datagrams"), 1u);
        EXPECT_EQ(stat(stack, "icmp.tx_dest_unreachable"), 1u);
        EXPECT_EQ(drops(stack.stats()), (DropMap{{"udp.drop.no_port", 1}}));
    }
}

// RFC 1812 §4.3.2.3: as much of the original as fits in 576 bytes; RFC 792: at least header + 8 bytes.
TEST(IcmpUnreachable, LargeDatagramQuoteIsCappedSoTheErrorIs576Bytes) {
    Stack stack(default_config());
    const Packet in = udp_packet(pattern(4000));
    auto out = exchange(stack, Instant{}, in);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].size(), 576u);
    expect_unreachable(out[0], 3, Packet(in.begin(), in.begin() + 548));
}

TEST(IcmpUnreachable, QuoteIncludesTheOriginalOptions) {
    Stack stack(default_config());
    const std::uint8_t nops[] = {1, 1, 1, 1, 1, 1, 1, 0};
    const Packet in = with_options(udp_packet(pattern(4000)), nops);
    auto out = exchange(stack, Instant{}, in);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].size(), 576u);
    expect_unreachable(out[0], 3, Packet(in.begin(), in.begin() + 548));  // 28-byte header + 520
}

TEST(IcmpUnreachable, SmallestDatagramsStillQuoteHeaderPlusEightBytes) {
    Stack stack(default_config());
    const Packet in = udp_packet({});  // UDP header only: exactly header + 8
    auto out = exchange(stack, Instant{}, in);
    ASSERT_EQ(out.size(), 1u);
    expect_unreachable(out[0], 3, in);
    EXPECT_EQ(out[0].size(), 20u + 8 + 28);
}

// A reassembled datagram is quoted with a plain header describing the whole datagram (offset 0, MF
// clear, total length of the whole), followed by the start of its payload.
TEST(IcmpUnreachable, ReassembledDatagramQuotedWithWholeDatagramHeader) {
    Stack stack(default_config());
    const Packet in = udp_packet(pattern(3000, 4), 4444, kPeerAddr, kOurAddr, 0x7777);
    auto frags = fragments(in, 1480);
    std::reverse(frags.begin(), frags.end());
    std::vector<Packet> out;
    for (auto& f : frags) out = exchange(stack, Instant{}, f);
    ASSERT_EQ(out.size(), 1u);
    expect_unreachable(out[0], 3, Packet(in.begin(), in.begin() + 548));
    auto quoted =
        wire::Ipv4Packet::parse(Bytes(out[0]).subspan(28), wire::Ipv4Packet::Checksum::Verify);
    ASSERT_FALSE(quoted.ok());  // truncated quote: total length 3028 > 548 bytes quoted
    EXPECT_EQ(quoted.error(), wire::Ipv4Error::BadTotalLength);
}

TEST(IcmpUnreachable, UnknownProtocolGetsProtocolUnreachable) {
    for (std::uint8_t proto : {0, 2, 47, 50, 132, 255}) {
        SCOPED_TRACE(int{proto});
        Stack stack(default_config());
        const Packet in = ipv4_packet(ip_header(kPeerAddr, kOurAddr, proto), pattern(30));
        auto out = exchange(stack, Instant{}, in);
        ASSERT_EQ(out.size(), 1u);
        expect_unreachable(out[0], 2, in);
        EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.unknown_protocol", 1}}));
    }
}

// RFC 1122 §3.2.2: "An ICMP error message MUST NOT be sent as the result of receiving an ICMP error
// message", nor about a non-initial fragment or a datagram whose source is not unicast. Through the
// Stack these are filtered earlier, so the rules are checked on Icmp itself.
struct IcmpRig {
    IcmpRig()
        : queue(64, 1500),
          output(ip::OutputConfig{kOurAddr, 1500, 64, 1}, queue, stats.ip),
          icmp(ip::IcmpConfig{}, output, stats.icmp) {}
    void unreachable(const Packet& datagram) {
        auto p = wire::Ipv4Packet::parse(datagram);
        ASSERT_TRUE(p.ok());
        icmp.send_unreachable(Instant{}, wire::UnreachCode::Protocol, p->header(), p->payload());
    }
    Stats stats;
    ip::TxQueue queue;
    ip::Ipv4Output output;
    ip::Icmp icmp;
};

TEST(IcmpUnreachable, NeverSentAboutAnIcmpErrorMessage) {
    const Packet quoted = udp_packet(pattern(8));
    for (std::uint8_t type : {3, 4, 5, 11, 12}) {
        SCOPED_TRACE(int{type});
        IcmpRig rig;
        rig.unreachable(
            ipv4_packet(ip_header(kPeerAddr, kOurAddr, 1), icmp_message(type, 0, 0, quoted)));
        EXPECT_TRUE(rig.queue.empty());
        EXPECT_EQ(rig.stats.icmp.error_suppressed, 1u);
    }
    // ICMP informational messages (echo, timestamp) are not errors: an error about them is allowed.
    for (std::uint8_t type : {0, 8, 13}) {
        IcmpRig rig;
        rig.unreachable(
            ipv4_packet(ip_header(kPeerAddr, kOurAddr, 1), icmp_message(type, 0, 0, {})));
        EXPECT_EQ(rig.queue.size(), 1u) << int{type};
    }
}

TEST(IcmpUnreachable, NeverSentAboutANonInitialFragment) {
    IcmpRig rig;
    wire::Ipv4Repr ip = ip_header(kPeerAddr, kOurAddr, 47);
    ip.frag_offset = 1480;
    rig.unreachable(ipv4_packet(ip, pattern(100)));
    EXPECT_TRUE(rig.queue.empty());
    EXPECT_EQ(rig.stats.icmp.error_suppressed, 1u);
    ip.frag_offset = 0;
    ip.more_frags = true;  // an initial fragment may be answered
    rig.unreachable(ipv4_packet(ip, pattern(100)));
    EXPECT_EQ(rig.queue.size(), 1u);
}

TEST(IcmpUnreachable, NeverSentToANonUnicastSource) {
    for (auto src : {wire::Ipv4Address{0, 0, 0, 0}, wire::Ipv4Address{255, 255, 255, 255},
                     wire::Ipv4Address{224, 0, 0, 251}}) {
        IcmpRig rig;
        rig.unreachable(ipv4_packet(ip_header(src, kOurAddr, 47), pattern(10)));
        EXPECT_TRUE(rig.queue.empty()) << src.to_string();
        EXPECT_EQ(rig.stats.icmp.error_suppressed, 1u);
    }
}

// Token bucket (like Linux's icmp_ratelimit): a burst of `error_burst`, then `error_rate_per_sec`.
TEST(IcmpRateLimit, BurstAtTimeZeroThenRefillsAtTheConfiguredRate) {
    Stack stack(default_config());
    ASSERT_EQ(stack.config().icmp.error_burst, 50u);
    ASSERT_EQ(stack.config().icmp.error_rate_per_sec, 1000u);
    auto burst = [&](Instant now, int n) {
        CaptureSink sink;
        for (int i = 0; i < n; ++i) {
            stack.ingress(now, udp_packet(pattern(20, static_cast<std::uint32_t>(i)),
                                          static_cast<std::uint16_t>(1000 + i)));
        }
        stack.poll(now, sink);
        return sink.packets.size();
    };
    EXPECT_EQ(burst(Instant{}, 200), 50u);
    EXPECT_EQ(stat(stack, "icmp.error_rate_limited"), 150u);
    EXPECT_EQ(stat(stack, "icmp.tx_dest_unreachable"), 50u);
    EXPECT_EQ(burst(Instant{} + Duration::micros(999), 5), 0u);  // not a whole token yet
    EXPECT_EQ(burst(Instant{} + Duration::millis(1), 5), 1u);    // one token per millisecond
    EXPECT_EQ(burst(Instant{} + Duration::millis(11), 20), 10u);
    EXPECT_EQ(burst(Instant{} + Duration::millis(1011), 200), 50u);  // a second later: a full burst
    EXPECT_EQ(burst(Instant{} + Duration::millis(1011) + Duration::seconds(60), 200),
              50u);  // capped
    EXPECT_EQ(stat(stack, "icmp.tx_dest_unreachable"), 161u);
    EXPECT_EQ(stat(stack, "icmp.error_rate_limited"), 150u + 5 + 4 + 10 + 150 + 150);
    EXPECT_EQ(stat(stack, "udp.drop.no_port"), 630u);
}

TEST(IcmpRateLimit, EchoRepliesAreNotRateLimited) {
    Stack stack(default_config());
    CaptureSink sink;
    for (int i = 0; i < 500; ++i)
        stack.ingress(Instant{}, echo_request(pattern(8), 1, static_cast<std::uint16_t>(i)));
    stack.poll(Instant{}, sink);
    EXPECT_EQ(sink.packets.size(), 500u);
    EXPECT_EQ(stat(stack, "icmp.error_rate_limited"), 0u);
}

TEST(IcmpRateLimit, ConfiguredBurstAndRateAreUsed) {
    StackConfig c = default_config();
    c.icmp.error_burst = 3;
    c.icmp.error_rate_per_sec = 10;  // one per 100 ms
    Stack stack(c);
    std::size_t sent = 0;
    for (int ms = 0; ms <= 1000; ms += 10) {
        auto out = exchange(stack, at_ms(ms), udp_packet(pattern(4)));
        sent += out.size();
        if (ms == 0) {
            EXPECT_EQ(out.size(), 1u);
        }
    }
    EXPECT_EQ(sent, 3u + 10u);  // the burst, then one per 100 ms over one second
}

// RFC 768 / RFC 1122 §4.1.3.4: a datagram with a bad checksum is discarded silently (no error: its
// addresses and ports cannot be trusted).
TEST(Udp, BadChecksumDroppedWithoutIcmp) {
    Stack stack(default_config());
    Packet in = udp_packet(pattern(50));
    in[20 + 6] ^= 0x10;
    EXPECT_TRUE(exchange(stack, Instant{}, in).empty());
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"udp.drop.bad_checksum", 1}}));
    EXPECT_EQ(stat(stack, "udp.rx_datagrams"), 0u);
    Packet data_flip = udp_packet(pattern(50));
    data_flip[40] ^= 0x01;
    EXPECT_TRUE(exchange(stack, Instant{}, data_flip).empty());
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"udp.drop.bad_checksum", 2}}));
}

// The checksum covers the pseudo-header: a datagram checksummed for another destination is bad here.
TEST(Udp, ChecksumOverWrongPseudoHeaderDropped) {
    Stack stack(default_config());
    const Packet udp = udp_message(kPeerAddr, wire::Ipv4Address{10, 0, 0, 1}, 1, 2, pattern(33));
    EXPECT_TRUE(
        exchange(stack, Instant{}, ipv4_packet(ip_header(kPeerAddr, kOurAddr, 17), udp)).empty());
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"udp.drop.bad_checksum", 1}}));
}

// RFC 768: "An all zero transmitted checksum value means that the transmitter generated no checksum".
TEST(Udp, ZeroChecksumAccepted) {
    Stack stack(default_config());
    Packet in = udp_packet(pattern(50));
    store_be16(&in[26], 0);
    auto out = exchange(stack, Instant{}, in);
    ASSERT_EQ(out.size(), 1u);
    expect_unreachable(out[0], 3, in);
    EXPECT_EQ(stat(stack, "udp.rx_datagrams"), 1u);
}

TEST(Udp, TruncatedHeaderDropped) {
    Stack stack(default_config());
    const Packet udp = udp_message(kPeerAddr, kOurAddr, 1, 2, {});
    for (std::size_t len = 0; len < 8; ++len) {
        auto p = ipv4_packet(ip_header(kPeerAddr, kOurAddr, 17), Bytes(udp.data(), len));
        EXPECT_TRUE(exchange(stack, Instant{}, p).empty());
    }
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"udp.drop.truncated", 8}}));
}

TEST(Udp, BadLengthFieldDropped) {
    Stack stack(default_config());
    for (std::uint16_t len : {0, 7, 59, 0xffff}) {
        Packet udp = udp_message(kPeerAddr, kOurAddr, 1, 2, pattern(50));  // 58 bytes
        store_be16(&udp[4], len);
        EXPECT_TRUE(exchange(stack, Instant{}, ipv4_packet(ip_header(kPeerAddr, kOurAddr, 17), udp))
                        .empty());
    }
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"udp.drop.bad_length", 4}}));
}

// A UDP length shorter than the IP payload is legal (the rest is padding); the datagram is processed.
TEST(Udp, LengthShorterThanIpPayloadAccepted) {
    Stack stack(default_config());
    Packet udp = udp_message(kPeerAddr, kOurAddr, 1, 2, pattern(50));
    udp.resize(udp.size() + 6, 0xaa);
    auto out = exchange(stack, Instant{}, ipv4_packet(ip_header(kPeerAddr, kOurAddr, 17), udp));
    EXPECT_EQ(out.size(), 1u);
    EXPECT_EQ(stat(stack, "udp.rx_datagrams"), 1u);
}

}  // namespace
}  // namespace stack::testing
