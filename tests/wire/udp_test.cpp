// UDP view and Repr: golden bytes, truncated prefixes, each rejection reason, the zero-checksum rules of
// RFC 768, round trips at odd alignments.
#include <gtest/gtest.h>

#include <random>

#include "stack/base/checksum.hpp"
#include "tests/wire/wire_test_support.hpp"

namespace stack::wire {
namespace {

using testing::from_hex;
using testing::kGoldenDst;
using testing::kGoldenSrc;
using testing::Placed;

std::vector<std::uint8_t> golden_udp() {
    auto ip = from_hex(testing::kGoldenUdp);
    return {ip.begin() + 20, ip.end()};
}

TEST(UdpGolden, LinuxDatagram) {
    auto bytes = golden_udp();
    auto p = UdpPacket::parse(bytes, kGoldenSrc, kGoldenDst);
    ASSERT_TRUE(p.ok()) << to_string(p.error());
    EXPECT_EQ(p->src_port(), 0xb96d);
    EXPECT_EQ(p->dst_port(), 5353);
    EXPECT_EQ(p->length(), 23);
    EXPECT_EQ(p->checksum(), 0x8599);
    EXPECT_TRUE(p->has_checksum());
    std::string_view text(reinterpret_cast<const char*>(p->payload().data()), p->payload().size());
    EXPECT_EQ(text, "hello tunstack!");
    // Our emitter writes exactly the kernel's bytes.
    std::vector<std::uint8_t> out(bytes.size());
    UdpRepr::parse(*p).emit(out, kGoldenSrc, kGoldenDst, p->payload());
    EXPECT_EQ(out, bytes);
}

TEST(UdpParse, EveryTruncatedPrefixIsRejected) {
    auto bytes = golden_udp();
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        auto p = UdpPacket::parse(Bytes(bytes.data(), n), kGoldenSrc, kGoldenDst);
        ASSERT_FALSE(p.ok()) << n;
        EXPECT_EQ(p.error(), n < 8 ? UdpError::Truncated : UdpError::BadLength) << n;
    }
}

TEST(UdpParse, EachRejectionReason) {
    auto good = golden_udp();
    auto b = good;
    store_be16(&b[4], 7);
    EXPECT_EQ(UdpPacket::parse(b, kGoldenSrc, kGoldenDst).error(), UdpError::BadLength);
    store_be16(&b[4], 24);
    EXPECT_EQ(UdpPacket::parse(b, kGoldenSrc, kGoldenDst).error(), UdpError::BadLength);
    b = good;
    b[10] ^= 1;
    EXPECT_EQ(UdpPacket::parse(b, kGoldenSrc, kGoldenDst).error(), UdpError::BadChecksum);
    EXPECT_TRUE(UdpPacket::parse(b, kGoldenSrc, kGoldenDst, UdpPacket::Checksum::Skip).ok());
    // The pseudo-header is covered: a different destination address fails.
    EXPECT_EQ(UdpPacket::parse(good, kGoldenSrc, Ipv4Address(198, 18, 0, 3)).error(),
              UdpError::BadChecksum);
    for (auto e : {UdpError::Truncated, UdpError::BadLength, UdpError::BadChecksum}) {
        EXPECT_NE(to_string(e), "unknown");
    }
}

TEST(UdpParse, ZeroChecksumMeansNoneAndIsAccepted) {
    auto b = golden_udp();
    b[10] ^= 0x55;  // corrupt the payload, then say "no checksum"
    store_be16(&b[6], 0);
    auto p = UdpPacket::parse(b, kGoldenSrc, kGoldenDst);
    ASSERT_TRUE(p.ok());
    EXPECT_FALSE(p->has_checksum());
}

TEST(UdpParse, TrimsToTheLengthField) {
    auto b = golden_udp();
    b.insert(b.end(), {0xde, 0xad, 0xbe});
    auto p = UdpPacket::parse(b, kGoldenSrc, kGoldenDst);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->bytes().size(), 23u);
    EXPECT_EQ(p->payload().size(), 15u);
}

TEST(UdpRepr, ComputedZeroIsSentAsAllOnes) {
    // Search payloads until the checksum comes out as 0 (RFC 768: then transmit 0xffff).
    UdpRepr r{1000, 2000, 2};
    std::uint8_t payload[2] = {0, 0};
    bool found = false;
    for (unsigned v = 0; v <= 0xffff && !found; ++v) {
        store_be16(payload, static_cast<std::uint16_t>(v));
        std::uint8_t out[10];
        r.emit(out, kGoldenSrc, kGoldenDst, payload);
        std::uint32_t pseudo =
            checksum::pseudo_header_v4(kGoldenSrc.value, kGoldenDst.value, 17, 10);
        store_be16(out + 6, 0);
        if (checksum::finish(checksum::partial(out, pseudo)) != 0) continue;
        found = true;
        r.emit(out, kGoldenSrc, kGoldenDst, payload);
        EXPECT_EQ(load_be16(out + 6), 0xffff);
        auto p = UdpPacket::parse(out, kGoldenSrc, kGoldenDst);
        ASSERT_TRUE(p.ok());
        EXPECT_TRUE(p->has_checksum());
    }
    EXPECT_TRUE(found);
}

TEST(UdpRepr, RoundTripsAtOddAlignmentsAndOddLengths) {
    std::mt19937 rng(21);
    for (int i = 0; i < 3000; ++i) {
        Ipv4Address src(static_cast<std::uint32_t>(rng())), dst(static_cast<std::uint32_t>(rng()));
        std::vector<std::uint8_t> payload(rng() % 300);
        for (auto& b : payload) b = static_cast<std::uint8_t>(rng());
        UdpRepr r{static_cast<std::uint16_t>(rng()), static_cast<std::uint16_t>(rng()),
                  static_cast<std::uint16_t>(payload.size())};
        std::vector<std::uint8_t> out(r.len());
        r.emit(out, src, dst, payload);
        Placed placed(out, 1 + i % 7);
        auto p = UdpPacket::parse(placed.bytes(), src, dst);
        ASSERT_TRUE(p.ok()) << to_string(p.error());
        ASSERT_EQ(UdpRepr::parse(*p), r);
        ASSERT_TRUE(
            std::equal(p->payload().begin(), p->payload().end(), payload.begin(), payload.end()));
        ASSERT_NE(p->checksum(), 0);
    }
}

TEST(UdpRepr, EmitsWithThePayloadAlreadyInPlace) {
    std::vector<std::uint8_t> frame(8 + 5);
    const std::uint8_t data[5] = {1, 2, 3, 4, 5};
    std::copy(data, data + 5, frame.begin() + 8);
    UdpRepr r{7, 9, 5};
    r.emit(frame, kGoldenSrc, kGoldenDst, Bytes(frame.data() + 8, 5));
    auto p = UdpPacket::parse(frame, kGoldenSrc, kGoldenDst);
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(std::equal(data, data + 5, p->payload().begin()));
}

}  // namespace
}  // namespace stack::wire
