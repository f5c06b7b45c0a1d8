// IPv4, ICMPv4 and address views: golden bytes, every truncated prefix, every rejection reason, round
// trips at odd alignments.
#include <gtest/gtest.h>

#include <random>

#include "stack/base/checksum.hpp"
#include "tests/wire/wire_test_support.hpp"

namespace stack::wire {
namespace {

using testing::from_hex;
using testing::Placed;

TEST(Ipv4Golden, LinuxUdpDatagramHeader) {
    auto bytes = from_hex(testing::kGoldenUdp);
    auto p = Ipv4Packet::parse(bytes);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->version(), 4);
    EXPECT_EQ(p->header_len(), 20u);
    EXPECT_EQ(p->total_len(), 43);
    EXPECT_EQ(p->ident(), 0x7ae9);
    EXPECT_TRUE(p->dont_frag());
    EXPECT_FALSE(p->more_frags());
    EXPECT_FALSE(p->is_fragment());
    EXPECT_EQ(p->ttl(), 64);
    EXPECT_EQ(p->protocol(), static_cast<std::uint8_t>(IpProtocol::Udp));
    EXPECT_EQ(p->checksum(), 0x33b1);
    EXPECT_EQ(p->src(), testing::kGoldenSrc);
    EXPECT_EQ(p->dst(), testing::kGoldenDst);
    EXPECT_EQ(p->payload().size(), 23u);
    EXPECT_TRUE(p->options().empty());
}

TEST(Ipv4Golden, ReprEmitsTheSameHeaderBytes) {
    auto bytes = from_hex(testing::kGoldenTcpSyn);
    auto p = Ipv4Packet::parse(bytes);
    ASSERT_TRUE(p.ok());
    Ipv4Repr r = Ipv4Repr::parse(*p);
    std::uint8_t out[20];
    r.emit(out);
    EXPECT_TRUE(std::equal(out, out + 20, bytes.begin()));
}

TEST(Ipv4Golden, WikipediaHeaderChecksumExample) {
    // The header-checksum worked example on Wikipedia's IPv4 article: checksum b861.
    auto bytes = from_hex("450000730000400040110000c0a80001c0a800c7");
    EXPECT_EQ(checksum::compute(bytes), 0xb861);
    store_be16(&bytes[10], 0xb861);
    bytes.resize(0x73);
    EXPECT_TRUE(Ipv4Packet::parse(bytes).ok());
}

TEST(Ipv4Parse, EveryTruncatedPrefixIsRejected) {
    for (auto golden : {testing::kGoldenUdp, testing::kGoldenTcpSyn, testing::kGoldenIcmpEcho}) {
        auto bytes = from_hex(golden);
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            auto p = Ipv4Packet::parse(Bytes(bytes.data(), n));
            ASSERT_FALSE(p.ok()) << n;
            EXPECT_EQ(p.error(), n < 20 ? Ipv4Error::Truncated : Ipv4Error::BadTotalLength) << n;
        }
        EXPECT_TRUE(Ipv4Packet::parse(bytes).ok());
    }
}

TEST(Ipv4Parse, EachRejectionReason) {
    auto good = from_hex(testing::kGoldenTcpSyn);
    auto with = [&](auto edit) {
        auto b = good;
        edit(b);
        return Ipv4Packet::parse(b);
    };
    EXPECT_EQ(with([](auto& b) { b[0] = 0x65; }).error(), Ipv4Error::BadVersion);
    EXPECT_EQ(with([](auto& b) { b[0] = 0x44; }).error(), Ipv4Error::BadIhl);
    EXPECT_EQ(with([](auto& b) {
                  b[0] = 0x4f;
                  b.resize(59);
                  b[3] = 59;
              }).error(),
              Ipv4Error::BadIhl);
    EXPECT_EQ(with([](auto& b) { b[3] = 19; }).error(), Ipv4Error::BadTotalLength);
    EXPECT_EQ(with([](auto& b) { b[3] = 61; }).error(), Ipv4Error::BadTotalLength);
    EXPECT_EQ(with([](auto& b) { b[8] = 63; }).error(), Ipv4Error::BadChecksum);
    auto skip = good;
    skip[8] = 63;
    EXPECT_TRUE(Ipv4Packet::parse(skip, Ipv4Packet::Checksum::Skip).ok());
    for (auto e : {Ipv4Error::Truncated, Ipv4Error::BadVersion, Ipv4Error::BadIhl,
                   Ipv4Error::BadTotalLength, Ipv4Error::BadChecksum}) {
        EXPECT_NE(to_string(e), "unknown");
    }
}

TEST(Ipv4Parse, TrimsLinkPaddingAndExposesOptions) {
    auto b =
        from_hex("46000020000000004001000001020304050607080101010000000000");  // NOP NOP NOP EOL
    store_be16(&b[10], checksum::compute(Bytes(b.data(), 24)));
    b.resize(b.size() + 5, 0xee);  // 4 payload bytes, then 5 bytes of padding
    auto p = Ipv4Packet::parse(b);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->header_len(), 24u);
    EXPECT_EQ(p->options().size(), 4u);
    EXPECT_EQ(p->payload().size(), 8u);
    EXPECT_EQ(p->bytes().size(), 32u);
}

TEST(Ipv4Repr, RoundTripsAtOddAlignments) {
    std::mt19937 rng(11);
    for (int i = 0; i < 2000; ++i) {
        Ipv4Repr r;
        r.src = Ipv4Address(static_cast<std::uint32_t>(rng()));
        r.dst = Ipv4Address(static_cast<std::uint32_t>(rng()));
        r.protocol = static_cast<std::uint8_t>(rng());
        r.ttl = static_cast<std::uint8_t>(rng());
        r.dscp_ecn = static_cast<std::uint8_t>(rng());
        r.ident = static_cast<std::uint16_t>(rng());
        r.dont_frag = rng() & 1;
        r.more_frags = rng() & 1;
        r.frag_offset = (rng() & 0x1fff) * 8;
        r.payload_len = static_cast<std::uint16_t>(rng() % 64);
        std::vector<std::uint8_t> frame(r.total_len());
        r.emit(frame);
        Placed placed(frame, 1 + i % 7);
        auto p = Ipv4Packet::parse(placed.bytes());
        ASSERT_TRUE(p.ok()) << to_string(p.error());
        ASSERT_EQ(Ipv4Repr::parse(*p), r);
        ASSERT_EQ(p->payload().size(), r.payload_len);
    }
}

TEST(IcmpGolden, LinuxEchoRequestWithOddLength) {
    auto bytes = from_hex(testing::kGoldenIcmpEcho);
    auto ip = Ipv4Packet::parse(bytes);
    ASSERT_TRUE(ip.ok());
    auto p = Icmpv4Packet::parse(ip->payload());
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->type(), static_cast<std::uint8_t>(IcmpType::EchoRequest));
    EXPECT_EQ(p->code(), 0);
    EXPECT_EQ(p->checksum(), 0xeded);
    EXPECT_EQ(p->echo_ident(), 0x2898);
    EXPECT_EQ(p->echo_seq(), 1);
    EXPECT_EQ(p->body().size(), 21u);
    // The reply a stack sends: same ident, seq and data, type 0.
    auto reply = Icmpv4Repr::echo(IcmpType::EchoReply, p->echo_ident(), p->echo_seq(), p->body());
    std::vector<std::uint8_t> out(reply.len());
    reply.emit(out);
    auto back = Icmpv4Packet::parse(out);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->type(), 0);
    EXPECT_TRUE(std::equal(back->body().begin(), back->body().end(), p->body().begin()));
}

TEST(IcmpParse, EveryTruncatedPrefixAndEachReason) {
    auto ip = from_hex(testing::kGoldenIcmpEcho);
    Bytes msg = Bytes(ip).subspan(20);
    for (std::size_t n = 0; n < msg.size(); ++n) {
        auto p = Icmpv4Packet::parse(msg.first(n));
        ASSERT_FALSE(p.ok()) << n;
        // A prefix of >= 8 bytes is a shorter message whose checksum no longer covers the same data.
        EXPECT_EQ(p.error(), n < 8 ? Icmpv4Error::Truncated : Icmpv4Error::BadChecksum) << n;
        if (n >= 8) {
            EXPECT_TRUE(Icmpv4Packet::parse(msg.first(n), Icmpv4Packet::Checksum::Skip).ok());
        }
    }
    EXPECT_NE(to_string(Icmpv4Error::Truncated), "unknown");
    EXPECT_NE(to_string(Icmpv4Error::BadChecksum), "unknown");
}

TEST(IcmpRepr, RoundTripsAtOddAlignmentsAndOddLengths) {
    std::mt19937 rng(12);
    for (int i = 0; i < 2000; ++i) {
        std::vector<std::uint8_t> body(rng() % 100);
        for (auto& b : body) b = static_cast<std::uint8_t>(rng());
        Icmpv4Repr r{static_cast<std::uint8_t>(rng()), static_cast<std::uint8_t>(rng()),
                     static_cast<std::uint32_t>(rng()), body};
        std::vector<std::uint8_t> out(r.len());
        r.emit(out);
        Placed placed(out, 1 + i % 7);
        auto p = Icmpv4Packet::parse(placed.bytes());
        ASSERT_TRUE(p.ok());
        Icmpv4Repr back = Icmpv4Repr::parse(*p);
        ASSERT_EQ(back.type, r.type);
        ASSERT_EQ(back.code, r.code);
        ASSERT_EQ(back.rest_of_header, r.rest_of_header);
        ASSERT_TRUE(std::equal(back.body.begin(), back.body.end(), body.begin(), body.end()));
    }
}

TEST(WireAddress, ParseAndFormat) {
    EXPECT_EQ(Ipv4Address::parse("198.18.0.2"), Ipv4Address(198, 18, 0, 2));
    EXPECT_EQ(Ipv4Address::parse("0.0.0.0"), Ipv4Address::any());
    EXPECT_EQ(Ipv4Address::parse("255.255.255.255"), Ipv4Address::broadcast());
    for (const char* bad : {"", "1.2.3", "1.2.3.4.", "1.2.3.256", "1..2.3", "+1.2.3.4", "1.2.3.4 ",
                            "a.b.c.d", "1.2.3.0004", "-1.2.3.4", "1.2.3.-4"}) {
        EXPECT_FALSE(Ipv4Address::parse(bad).has_value()) << bad;
    }
    EXPECT_EQ(Ipv4Address(198, 18, 0, 2).to_string(), "198.18.0.2");
    EXPECT_EQ(Ipv4Address(198, 18, 0, 2).value, 0xc6120002u);
    EXPECT_TRUE(Ipv4Address(224, 0, 0, 1).is_multicast());
    EXPECT_TRUE(Ipv4Address(127, 0, 0, 1).is_loopback());
    std::mt19937 rng(13);
    for (int i = 0; i < 1000; ++i) {
        Ipv4Address a(static_cast<std::uint32_t>(rng()));
        ASSERT_EQ(Ipv4Address::parse(a.to_string()), a);
    }
}

TEST(WireAddress, Cidr) {
    auto c = Ipv4Cidr::parse("198.18.0.1/24");
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->netmask(), 0xffffff00u);
    EXPECT_TRUE(c->contains(Ipv4Address(198, 18, 0, 200)));
    EXPECT_FALSE(c->contains(Ipv4Address(198, 18, 1, 2)));
    EXPECT_EQ(c->broadcast(), Ipv4Address(198, 18, 0, 255));
    EXPECT_EQ(c->to_string(), "198.18.0.1/24");
    EXPECT_EQ(Ipv4Cidr::parse("0.0.0.0/0")->netmask(), 0u);
    for (const char* bad : {"1.2.3.4", "1.2.3.4/", "1.2.3.4/33", "1.2.3.4/2x", "1.2.3/8", "/8"}) {
        EXPECT_FALSE(Ipv4Cidr::parse(bad).has_value()) << bad;
    }
}

}  // namespace
}  // namespace stack::wire
