// TCP view and Repr: the Linux SYN golden packet, truncated prefixes, each rejection reason, flags, and
// round trips of random segments at odd alignments and odd payload lengths.
#include <gtest/gtest.h>

#include <random>

#include "tests/wire/wire_test_support.hpp"

namespace stack::wire {
namespace {

using testing::from_hex;
using testing::kGoldenDst;
using testing::kGoldenSrc;
using testing::Placed;

std::vector<std::uint8_t> golden_syn() {
    auto ip = from_hex(testing::kGoldenTcpSyn);
    return {ip.begin() + 20, ip.end()};
}

TEST(TcpGolden, LinuxSyn) {
    auto bytes = golden_syn();
    auto p = TcpPacket::parse(bytes, kGoldenSrc, kGoldenDst);
    ASSERT_TRUE(p.ok()) << to_string(p.error());
    EXPECT_EQ(p->src_port(), 0xeb86);
    EXPECT_EQ(p->dst_port(), 8080);
    EXPECT_EQ(p->seq(), SeqNumber(0xa59211ddu));
    EXPECT_EQ(p->ack(), SeqNumber(0));
    EXPECT_EQ(p->header_len(), 40u);
    EXPECT_EQ(p->reserved(), 0);
    EXPECT_EQ(p->flags(), TcpFlags(TcpFlag::Syn));
    EXPECT_EQ(p->window(), 64240);
    EXPECT_EQ(p->checksum(), 0x1291);
    EXPECT_EQ(p->urgent(), 0);
    EXPECT_EQ(p->options().size(), 20u);
    EXPECT_TRUE(p->payload().empty());
    EXPECT_EQ(p->segment_len(), 1u);
    auto r = TcpRepr::parse(*p);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->options.mss, 1460);
    EXPECT_EQ(r->options.window_scale, 10);
    EXPECT_TRUE(r->options.sack_permitted);
    EXPECT_EQ(r->options.timestamps, (TcpTimestamps{0x96bd550fu, 0}));
    // Our aligned layout matches Linux's SYN layout byte for byte.
    std::vector<std::uint8_t> out(r->len());
    r->emit(out, kGoldenSrc, kGoldenDst, {});
    EXPECT_EQ(out, bytes);
}

TEST(TcpParse, EveryTruncatedPrefixIsRejected) {
    auto bytes = golden_syn();
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        auto p = TcpPacket::parse(Bytes(bytes.data(), n), kGoldenSrc, kGoldenDst);
        ASSERT_FALSE(p.ok()) << n;
        EXPECT_EQ(p.error(), n < 20 ? TcpError::Truncated : TcpError::BadDataOffset) << n;
        // Without the checksum too.
        auto q = TcpPacket::parse(Bytes(bytes.data(), n), kGoldenSrc, kGoldenDst,
                                  TcpPacket::Checksum::Skip);
        ASSERT_FALSE(q.ok()) << n;
    }
}

TEST(TcpParse, EachRejectionReason) {
    auto good = golden_syn();
    auto b = good;
    b[12] = 0x40;  // data offset 4
    EXPECT_EQ(TcpPacket::parse(b, kGoldenSrc, kGoldenDst).error(), TcpError::BadDataOffset);
    b[12] = 0xb0;  // 44 bytes > 40
    EXPECT_EQ(TcpPacket::parse(b, kGoldenSrc, kGoldenDst).error(), TcpError::BadDataOffset);
    b = good;
    b[4] ^= 0x80;
    EXPECT_EQ(TcpPacket::parse(b, kGoldenSrc, kGoldenDst).error(), TcpError::BadChecksum);
    EXPECT_TRUE(TcpPacket::parse(b, kGoldenSrc, kGoldenDst, TcpPacket::Checksum::Skip).ok());
    EXPECT_EQ(TcpPacket::parse(good, Ipv4Address(198, 18, 0, 9), kGoldenDst).error(),
              TcpError::BadChecksum);
    std::vector<std::uint8_t> huge(65536, 0);
    huge[12] = 0x50;
    EXPECT_EQ(TcpPacket::parse(huge, kGoldenSrc, kGoldenDst, TcpPacket::Checksum::Skip).error(),
              TcpError::TooLong);
    // Malformed options are not a TcpPacket error; TcpRepr::parse reports them.
    b = good;
    b[20 + 1] = 3;  // MSS with length 3
    auto p = TcpPacket::parse(b, kGoldenSrc, kGoldenDst, TcpPacket::Checksum::Skip);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(TcpRepr::parse(*p).error(), TcpOptionError::BadKnownLength);
    for (auto e :
         {TcpError::TooLong, TcpError::Truncated, TcpError::BadDataOffset, TcpError::BadChecksum}) {
        EXPECT_NE(to_string(e), "unknown");
    }
}

TEST(TcpFlags, NamesAndSetOperations) {
    TcpFlags f = TcpFlag::Syn | TcpFlag::Ack;
    EXPECT_TRUE(f.syn());
    EXPECT_TRUE(f.ack());
    EXPECT_FALSE(f.fin());
    EXPECT_EQ(f.bits(), 0x12);
    EXPECT_EQ(f.to_string(), "SYN|ACK");
    EXPECT_EQ(TcpFlags().to_string(), "none");
    EXPECT_EQ(TcpFlags::from_bits(0xff).to_string(), "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR");
    EXPECT_EQ(f.without(TcpFlag::Syn), TcpFlags(TcpFlag::Ack));
    f |= TcpFlag::Fin;
    EXPECT_EQ(f.bits(), 0x13);
    EXPECT_TRUE(TcpFlags::from_bits(0x40).ece());
    EXPECT_TRUE(TcpFlags::from_bits(0x80).cwr());
    EXPECT_TRUE(TcpFlags::from_bits(0x20).urg());
    EXPECT_TRUE(TcpFlags::from_bits(0x08).psh());
    EXPECT_TRUE(TcpFlags::from_bits(0x04).rst());
}

TcpRepr random_segment(std::mt19937& rng, std::size_t payload_len) {
    TcpRepr r;
    r.src_port = static_cast<std::uint16_t>(rng());
    r.dst_port = static_cast<std::uint16_t>(rng());
    r.seq = SeqNumber(static_cast<std::uint32_t>(rng()));
    r.ack = SeqNumber(static_cast<std::uint32_t>(rng()));
    r.flags = TcpFlags::from_bits(static_cast<std::uint8_t>(rng()));
    r.window = static_cast<std::uint16_t>(rng());
    r.urgent = static_cast<std::uint16_t>(rng());
    if (rng() & 1) r.options.mss = static_cast<std::uint16_t>(rng());
    if (rng() & 1) r.options.window_scale = static_cast<std::uint8_t>(rng() % 15);
    r.options.sack_permitted = rng() & 1;
    if (rng() & 1) {
        r.options.timestamps =
            TcpTimestamps{static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng())};
    }
    r.options.sack_count = static_cast<std::uint8_t>(rng() % 5);
    for (std::size_t i = 0; i < r.options.sack_count; ++i) {
        r.options.sack_blocks[i] = {SeqNumber(static_cast<std::uint32_t>(rng())),
                                    SeqNumber(static_cast<std::uint32_t>(rng()))};
    }
    r.payload_len = static_cast<std::uint16_t>(payload_len);
    return r;
}

TEST(TcpRepr, RoundTripsAtOddAlignmentsAndOddLengths) {
    std::mt19937 rng(41);
    for (int i = 0; i < 3000; ++i) {
        std::vector<std::uint8_t> payload(rng() % 301);
        for (auto& b : payload) b = static_cast<std::uint8_t>(rng());
        TcpRepr r = random_segment(rng, payload.size());
        Ipv4Address src(static_cast<std::uint32_t>(rng())), dst(static_cast<std::uint32_t>(rng()));
        std::vector<std::uint8_t> out(r.len());
        r.emit(out, src, dst, payload);
        Placed placed(out, 1 + i % 7);
        auto p = TcpPacket::parse(placed.bytes(), src, dst);
        ASSERT_TRUE(p.ok()) << to_string(p.error());
        ASSERT_EQ(p->header_len(), r.header_len());
        auto back = TcpRepr::parse(*p);
        ASSERT_TRUE(back.ok()) << to_string(back.error());
        // SACK blocks that do not fit next to the other options are dropped from the end.
        ASSERT_LE(back->options.sack_count, r.options.sack_count);
        TcpRepr expect = r;
        expect.options.sack_count = back->options.sack_count;
        ASSERT_EQ(*back, expect);
        ASSERT_TRUE(
            std::equal(p->payload().begin(), p->payload().end(), payload.begin(), payload.end()));
    }
}

TEST(TcpRepr, EmitsWithThePayloadAlreadyInPlace) {
    TcpRepr r;
    r.flags = TcpFlag::Psh | TcpFlag::Ack;
    r.options.timestamps = TcpTimestamps{1, 2};
    r.payload_len = 3;
    std::vector<std::uint8_t> frame(r.len());
    frame[r.header_len()] = 'a';
    frame[r.header_len() + 1] = 'b';
    frame[r.header_len() + 2] = 'c';
    r.emit(frame, kGoldenSrc, kGoldenDst, Bytes(frame.data() + r.header_len(), 3));
    auto p = TcpPacket::parse(frame, kGoldenSrc, kGoldenDst);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->payload()[2], 'c');
    EXPECT_EQ(p->segment_len(), 3u);
}

}  // namespace
}  // namespace stack::wire
