// TCP options: the iterator and TcpOptions::parse on hand-written bytes (each rule and each rejection
// reason), the encoder's layouts, and round trips of random option sets.
#include <gtest/gtest.h>

#include <random>

#include "tests/wire/wire_test_support.hpp"

namespace stack::wire {
namespace {

using testing::from_hex;

Result<TcpOptions, TcpOptionError> parse_hex(std::string_view hex) {
    static thread_local std::vector<std::uint8_t> keep;
    keep = from_hex(hex);
    return TcpOptions::parse(keep);
}

TEST(TcpOptionsParse, LinuxSynOptions) {
    auto o = parse_hex("020405b4 0402 080a96bd550f00000000 01 03030a");
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->mss, 1460);
    EXPECT_TRUE(o->sack_permitted);
    ASSERT_TRUE(o->timestamps.has_value());
    EXPECT_EQ(o->timestamps->tsval, 0x96bd550fu);
    EXPECT_EQ(o->timestamps->tsecr, 0u);
    EXPECT_EQ(o->window_scale, 10);
    EXPECT_EQ(o->sack_count, 0);
}

TEST(TcpOptionsParse, EmptyNopsAndEolEndParsing) {
    EXPECT_TRUE(parse_hex("")->empty());
    EXPECT_TRUE(parse_hex("01010101")->empty());
    // EOL ends parsing: the malformed bytes after it are never looked at.
    auto o = parse_hex("020405b4 00 02ff");
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->mss, 1460);
    EXPECT_TRUE(parse_hex("00 020405b4")->empty());
}

TEST(TcpOptionsParse, UnknownKindsAreSkippedByTheirLength) {
    auto o = parse_hex("1e06aabbccdd 0402 fe02 01 030307");
    ASSERT_TRUE(o.ok());
    EXPECT_TRUE(o->sack_permitted);
    EXPECT_EQ(o->window_scale, 7);
}

TEST(TcpOptionsParse, WindowScaleAbove14IsUsedAs14) {
    EXPECT_EQ(parse_hex("03030f01")->window_scale, 14);
    EXPECT_EQ(parse_hex("0303ff01")->window_scale, 14);
    EXPECT_EQ(parse_hex("03030e01")->window_scale, 14);
    EXPECT_EQ(parse_hex("03030001")->window_scale, 0);
}

TEST(TcpOptionsParse, SackBlocks) {
    auto o = parse_hex("0101 050a 00000064 000000c8");
    ASSERT_TRUE(o.ok());
    ASSERT_EQ(o->sack_count, 1);
    EXPECT_EQ(o->sack_blocks[0].left, SeqNumber(100));
    EXPECT_EQ(o->sack_blocks[0].right, SeqNumber(200));
    auto four = parse_hex(
        "0522 00000001 00000002 00000003 00000004 00000005 00000006 00000007 00000008 0101");
    ASSERT_TRUE(four.ok());
    ASSERT_EQ(four->sack_count, 4);
    EXPECT_EQ(four->sack_blocks[3].right, SeqNumber(8));
}

TEST(TcpOptionsParse, LastDuplicateWins) {
    auto o = parse_hex("020405b4 02040218");
    EXPECT_EQ(o->mss, 0x0218);
}

TEST(TcpOptionsParse, EachRejectionReason) {
    EXPECT_EQ(parse_hex("02").error(), TcpOptionError::MissingLength);
    EXPECT_EQ(parse_hex("0101 fe").error(), TcpOptionError::MissingLength);
    EXPECT_EQ(parse_hex("fe01").error(), TcpOptionError::BadLength);
    EXPECT_EQ(parse_hex("fe00").error(), TcpOptionError::BadLength);
    EXPECT_EQ(parse_hex("fe05aabb").error(), TcpOptionError::BadLength);
    EXPECT_EQ(parse_hex("020405").error(), TcpOptionError::BadLength);
    EXPECT_EQ(parse_hex("0203aa 01").error(), TcpOptionError::BadKnownLength);
    EXPECT_EQ(parse_hex("020500000000").error(), TcpOptionError::BadKnownLength);
    EXPECT_EQ(parse_hex("0304000000").error(), TcpOptionError::BadKnownLength);
    EXPECT_EQ(parse_hex("0403 00 01").error(), TcpOptionError::BadKnownLength);
    EXPECT_EQ(parse_hex("0809 0000000000000000").error(), TcpOptionError::BadKnownLength);
    EXPECT_EQ(parse_hex("0502").error(), TcpOptionError::BadKnownLength);
    EXPECT_EQ(parse_hex("050b 0000000000000000 00").error(), TcpOptionError::BadKnownLength);
    std::vector<std::uint8_t> five_blocks(42, 0);
    five_blocks[0] = 5;
    five_blocks[1] = 42;
    EXPECT_EQ(TcpOptions::parse(five_blocks).error(), TcpOptionError::BadKnownLength);
    for (auto e : {TcpOptionError::MissingLength, TcpOptionError::BadLength,
                   TcpOptionError::BadKnownLength}) {
        EXPECT_NE(to_string(e), "unknown");
    }
}

TEST(TcpOptionsParse, EveryTruncatedPrefixOfLinuxSynOptions) {
    // 20 bytes: mss(0..4) sackperm(4..6) ts(6..16) nop(16) ws(17..20).
    auto full = from_hex("020405b40402080a96bd550f000000000103030a");
    for (std::size_t n = 0; n < full.size(); ++n) {
        auto o = TcpOptions::parse(Bytes(full.data(), n));
        bool at_boundary = n == 0 || n == 4 || n == 6 || n == 16 || n == 17;
        if (at_boundary) {
            EXPECT_TRUE(o.ok()) << n;
        } else {
            ASSERT_FALSE(o.ok()) << n;
            bool missing_len = n == 1 || n == 5 || n == 7 || n == 18;
            EXPECT_EQ(o.error(),
                      missing_len ? TcpOptionError::MissingLength : TcpOptionError::BadLength)
                << n;
        }
    }
}

TEST(TcpOptionIterator, YieldsRawOptionsAndStopsAfterAnError) {
    auto bytes = from_hex("01 1e03aa 020405b4 02");
    TcpOptionIterator it(bytes);
    auto a = it.next();
    ASSERT_TRUE(a.ok() && a->has_value());
    EXPECT_EQ((*a)->kind, 0x1e);
    EXPECT_EQ((*a)->data.size(), 1u);
    auto b = it.next();
    ASSERT_TRUE(b.ok() && b->has_value());
    EXPECT_EQ((*b)->kind, 2);
    auto c = it.next();
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error(), TcpOptionError::MissingLength);
    auto d = it.next();
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE(d->has_value());
}

TEST(TcpOptionsEmit, AlignedLayoutLikeLinux) {
    TcpOptions o;
    o.mss = 1460;
    o.sack_permitted = true;
    o.timestamps = TcpTimestamps{0x01020304, 0};
    o.window_scale = 7;
    std::uint8_t out[40];
    ASSERT_EQ(o.padded_len(), 20u);
    o.emit(out);
    EXPECT_EQ(std::vector<std::uint8_t>(out, out + 20),
              from_hex("020405b4 0402080a 01020304 00000000 01030307"));
    TcpOptions ack;
    ack.timestamps = TcpTimestamps{5, 6};
    ack.sack_count = 1;
    ack.sack_blocks[0] = {SeqNumber(10), SeqNumber(20)};
    ASSERT_EQ(ack.padded_len(), 24u);
    ack.emit(out);
    EXPECT_EQ(std::vector<std::uint8_t>(out, out + 24),
              from_hex("0101080a 00000005 00000006 0101050a 0000000a 00000014"));
    EXPECT_EQ(TcpOptions{}.padded_len(), 0u);
}

TEST(TcpOptionsEmit, FallsBackToCompactThenDropsSackBlocksThatDoNotFit) {
    TcpOptions o;
    o.timestamps = TcpTimestamps{1, 2};
    o.window_scale = 3;
    o.sack_count = 3;  // aligned: 12 + 4 + 28 = 44 > 40; compact: 10 + 3 + 26 = 39 -> 40
    for (std::uint32_t i = 0; i < 4; ++i)
        o.sack_blocks[i] = {SeqNumber(i * 100), SeqNumber(i * 100 + 50)};
    EXPECT_EQ(o.padded_len(), 40u);
    std::uint8_t out[40];
    o.emit(out);
    auto back = TcpOptions::parse(out);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, o);
    o.sack_count = 4;  // compact: 10 + 3 + 34 = 47: one block is dropped
    EXPECT_EQ(o.padded_len(), 40u);
    o.emit(out);
    back = TcpOptions::parse(out);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->sack_count, 3);
}

TcpOptions random_options(std::mt19937& rng) {
    TcpOptions o;
    if (rng() & 1) o.mss = static_cast<std::uint16_t>(rng());
    if (rng() & 1) o.window_scale = static_cast<std::uint8_t>(rng() % 15);
    o.sack_permitted = rng() & 1;
    if (rng() & 1) {
        o.timestamps =
            TcpTimestamps{static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng())};
    }
    o.sack_count = static_cast<std::uint8_t>(rng() % 5);
    for (std::size_t i = 0; i < o.sack_count; ++i) {
        o.sack_blocks[i] = {SeqNumber(static_cast<std::uint32_t>(rng())),
                            SeqNumber(static_cast<std::uint32_t>(rng()))};
    }
    return o;
}

TEST(TcpOptionsEmit, RandomRoundTrips) {
    std::mt19937 rng(31);
    for (int i = 0; i < 5000; ++i) {
        TcpOptions o = random_options(rng);
        std::uint8_t out[kTcpMaxOptionsLen + 1];
        std::size_t len = o.padded_len();
        ASSERT_LE(len, kTcpMaxOptionsLen);
        ASSERT_EQ(len % 4, 0u);
        o.emit(MutBytes(out, len));
        auto back = TcpOptions::parse(Bytes(out, len));
        ASSERT_TRUE(back.ok()) << to_string(back.error());
        // Everything but SACK blocks survives; SACK blocks are kept from the front as space allows.
        ASSERT_LE(back->sack_count, o.sack_count);
        TcpOptions expect = o;
        expect.sack_count = back->sack_count;
        ASSERT_EQ(*back, expect);
    }
}

TEST(TcpSeq, SerialComparisonAcrossWrap) {
    SeqNumber a(0xfffffff0u);
    SeqNumber b = a + 0x20;
    EXPECT_EQ(b.value(), 0x10u);
    EXPECT_TRUE(a < b);
    EXPECT_TRUE(b > a);
    EXPECT_TRUE(a <= a);
    EXPECT_FALSE(b <= a);
    EXPECT_EQ(b - a, 0x20);
    EXPECT_EQ(a - b, -0x20);
    EXPECT_EQ(seq_max(a, b), b);
    EXPECT_EQ(seq_min(a, b), a);
    SeqNumber c = b;
    c -= 0x20;
    EXPECT_EQ(c, a);
    c += 1;
    EXPECT_EQ(c, a + 1);
    EXPECT_EQ((SeqNumber(5) - 10u).value(), 0xfffffffbu);
    // Up to 2^31 - 1 ahead is "after".
    EXPECT_TRUE(SeqNumber(0) < SeqNumber(0x7fffffffu));
    EXPECT_TRUE(SeqNumber(0) > SeqNumber(0x80000001u));
}

TEST(TcpSeq, InWindow) {
    SeqNumber rcv_nxt(0xfffffffeu);
    EXPECT_TRUE(seq_in_window(rcv_nxt, rcv_nxt, 10));
    EXPECT_TRUE(seq_in_window(rcv_nxt + 9, rcv_nxt, 10));
    EXPECT_FALSE(seq_in_window(rcv_nxt + 10, rcv_nxt, 10));
    EXPECT_FALSE(seq_in_window(rcv_nxt - 1, rcv_nxt, 10));
    EXPECT_FALSE(seq_in_window(rcv_nxt, rcv_nxt, 0));
}

TEST(TcpSeq, RandomPairsAgreeWithSignedDistance) {
    std::mt19937 rng(32);
    for (int i = 0; i < 10000; ++i) {
        SeqNumber a(static_cast<std::uint32_t>(rng()));
        std::int32_t d = static_cast<std::int32_t>(rng() % 0x7fffffffu);
        SeqNumber b = a + static_cast<std::uint32_t>(d);
        ASSERT_EQ(b - a, d);
        ASSERT_EQ(a<b, d> 0);
        ASSERT_EQ(b > a, d > 0);
        ASSERT_TRUE(a <= b);
    }
}

}  // namespace
}  // namespace stack::wire
