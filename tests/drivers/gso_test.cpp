// drivers::segment_tcp4 (software TSO) on its own: the fields of every segment, checked independently
// (tun_tso_test.cpp checks it against the kernel's own segmentation), and refusal of metadata that
// does not describe the packet.
#include "drivers/gso.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "stack/base/checksum.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "tests/support/super_packet.hpp"

namespace {

using stack::wire::TcpFlag;

using stack::testing::make_super_packet;
using Super = stack::testing::SuperPacket;

Super make_super(std::size_t payload, std::uint16_t mss, stack::wire::TcpFlags flags,
                 std::uint16_t id = 0x4000, std::uint32_t seq = 1000) {
    return make_super_packet(
        {.payload = payload, .mss = mss, .flags = flags, .ip_id = id, .seq = seq});
}

std::vector<std::vector<std::uint8_t>> cut(const Super& s, std::size_t scratch_size = 65536) {
    std::vector<std::vector<std::uint8_t>> out;
    std::vector<std::uint8_t> scratch(scratch_size);
    const std::size_t n =
        drivers::segment_tcp4(stack::Bytes(s.bytes), s.gso, stack::MutBytes(scratch),
                              [&](stack::Bytes b) { out.emplace_back(b.begin(), b.end()); });
    EXPECT_EQ(n, out.size());
    return out;
}

TEST(GsoTest, EverySegmentHasItsLengthIdSequenceFlagsAndChecksums) {
    const auto flags = TcpFlag::Ack | TcpFlag::Psh | TcpFlag::Fin | TcpFlag::Cwr;
    Super s = make_super(5 * 1000 + 123, 1000, flags, 0xfffe, 0xffffff00u);
    auto segs = cut(s);
    ASSERT_EQ(segs.size(), 6u);
    std::size_t off = 0;
    for (std::size_t i = 0; i < segs.size(); ++i) {
        SCOPED_TRACE(i);
        auto ip = stack::wire::Ipv4Packet::parse(segs[i]);
        ASSERT_TRUE(ip.ok());                                            // header checksum verified
        EXPECT_EQ(ip->ident(), static_cast<std::uint16_t>(0xfffe + i));  // wraps past 0xffff
        EXPECT_TRUE(ip->dont_frag());
        auto tcp = stack::wire::TcpPacket::parse(ip->payload(), ip->src(), ip->dst());
        ASSERT_TRUE(tcp.ok());  // a complete, valid TCP checksum
        EXPECT_EQ(tcp->seq().value(), 0xffffff00u + static_cast<std::uint32_t>(off));
        const bool last = i + 1 == segs.size();
        EXPECT_EQ(tcp->flags().fin(), last);
        EXPECT_EQ(tcp->flags().psh(), last);
        EXPECT_EQ(tcp->flags().cwr(), i == 0);
        EXPECT_TRUE(tcp->flags().ack());
        auto repr = stack::wire::TcpRepr::parse(*tcp);
        ASSERT_TRUE(repr.ok());
        ASSERT_TRUE(repr->options.timestamps.has_value());
        EXPECT_EQ(repr->options.timestamps->tsval, 11u);
        EXPECT_EQ(repr->options.timestamps->tsecr, 22u);
        EXPECT_EQ(tcp->payload().size(), last ? 123u : 1000u);
        EXPECT_EQ(std::memcmp(tcp->payload().data(), s.bytes.data() + s.gso.hdr_len + off,
                              tcp->payload().size()),
                  0);
        off += tcp->payload().size();
    }
    EXPECT_EQ(off, 5 * 1000 + 123u);
}

TEST(GsoTest, PayloadOfWholeSegmentsHasNoShortTail) {
    Super s = make_super(4 * 700, 700, TcpFlag::Ack | TcpFlag::Psh);
    auto segs = cut(s);
    ASSERT_EQ(segs.size(), 4u);
    for (const auto& seg : segs) EXPECT_EQ(seg.size(), s.gso.hdr_len + 700u);
}

TEST(GsoTest, MetadataThatDoesNotDescribeThePacketIsRefused) {
    const Super good = make_super(3000, 1000, TcpFlag::Ack);
    auto refused = [](Super s, std::size_t scratch = 65536) {
        std::vector<std::uint8_t> buf(scratch);
        int calls = 0;
        const std::size_t n = drivers::segment_tcp4(
            stack::Bytes(s.bytes), s.gso, stack::MutBytes(buf), [&](stack::Bytes) { ++calls; });
        return n == 0 && calls == 0;
    };
    EXPECT_FALSE(refused(good));
    Super s = good;
    s.gso.hdr_len = 40;  // says no options: the TCP header is 32 bytes
    EXPECT_TRUE(refused(s));
    s = good;
    s.gso.csum_start = 24;
    EXPECT_TRUE(refused(s));
    s = good;
    s.gso.gso_size = 0;
    EXPECT_TRUE(refused(s));
    s = good;
    s.bytes[9] = 17;  // UDP
    EXPECT_TRUE(refused(s));
    s = good;
    s.bytes[0] = 0x65;  // IPv6 version nibble
    EXPECT_TRUE(refused(s));
    s = good;
    s.bytes.pop_back();  // total length no longer matches
    EXPECT_TRUE(refused(s));
    s = good;
    s.bytes.resize(s.gso.hdr_len);  // headers only
    EXPECT_TRUE(refused(s));
    EXPECT_TRUE(refused(good, good.gso.hdr_len + 999));  // scratch one byte short of a segment
    EXPECT_TRUE(refused(Super{{}, good.gso}));
}

}  // namespace
