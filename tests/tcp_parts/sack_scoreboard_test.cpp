// SackScoreboard: RFC 6675 Update(), IsLost(), SetPipe() and NextSeg() on hand-built scenarios, range
// merging and the memory cap, and the D-SACK / below-snd_una filtering of RFC 2883.
#include "stack/tcp/sack_scoreboard.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace stack::tcp {
namespace {

using wire::SackBlock;
using wire::SeqNumber;
using Range = SackScoreboard::Range;
using Action = SackScoreboard::NextSeg::Action;

SeqNumber S(std::uint32_t v) { return SeqNumber(v); }
SackBlock B(std::uint32_t l, std::uint32_t r) { return SackBlock{S(l), S(r)}; }

void ack(SackScoreboard& sb, std::uint32_t una, std::vector<SackBlock> blocks) {
    sb.on_ack(S(una), S(una + (1u << 30)), blocks);  // SND.MAX far enough for every block here
}

std::vector<Range> ranges(const SackScoreboard& sb) {
    return {sb.ranges().begin(), sb.ranges().end()};
}

TEST(SackScoreboard, RecordsAndMergesBlocks) {
    SackScoreboard sb;
    EXPECT_TRUE(sb.empty());
    ack(sb, 1000, {B(1200, 1300)});
    ack(sb, 1000, {B(1300, 1400)});                 // adjacent: merges
    ack(sb, 1000, {B(1600, 1700), B(1650, 1800)});  // overlapping in one ACK
    EXPECT_EQ(ranges(sb), (std::vector<Range>{{S(1200), S(1400)}, {S(1600), S(1800)}}));
    ack(sb, 1000, {B(1350, 1650)});  // bridges both
    EXPECT_EQ(ranges(sb), (std::vector<Range>{{S(1200), S(1800)}}));
    EXPECT_EQ(sb.sacked_bytes(), 600u);
    EXPECT_TRUE(sb.is_sacked(S(1200)));
    EXPECT_TRUE(sb.is_sacked(S(1799)));
    EXPECT_FALSE(sb.is_sacked(S(1800)));
    EXPECT_FALSE(sb.is_sacked(S(1199)));
    EXPECT_EQ(sb.highest_sacked(), S(1800));
}

TEST(SackScoreboard, InsertsBelowBetweenAndAbove) {
    SackScoreboard sb;
    ack(sb, 0, {B(500, 600), B(100, 200), B(300, 400), B(700, 800)});
    EXPECT_EQ(ranges(sb),
              (std::vector<Range>{
                  {S(100), S(200)}, {S(300), S(400)}, {S(500), S(600)}, {S(700), S(800)}}));
    ack(sb, 0, {B(150, 750)});  // swallows the middle ranges and extends into the outer ones
    EXPECT_EQ(ranges(sb), (std::vector<Range>{{S(100), S(800)}}));
}

TEST(SackScoreboard, DiscardsBelowSndUnaAsItAdvances) {  // RFC 6675 Update()
    SackScoreboard sb;
    ack(sb, 1000, {B(1200, 1400), B(1600, 1700)});
    ack(sb, 1300, {});
    EXPECT_EQ(ranges(sb), (std::vector<Range>{{S(1300), S(1400)}, {S(1600), S(1700)}}));
    ack(sb, 1500, {});
    EXPECT_EQ(ranges(sb), (std::vector<Range>{{S(1600), S(1700)}}));
    ack(sb, 1700, {});
    EXPECT_TRUE(sb.empty());
    EXPECT_EQ(sb.highest_sacked(), std::nullopt);
}

TEST(SackScoreboard, IgnoresBlocksBelowSndUnaAndDsack) {  // RFC 2883 §4
    SackScoreboard sb;
    ack(sb, 1000, {B(800, 900)});   // old data
    ack(sb, 1000, {B(900, 1000)});  // D-SACK at or below the ACK
    EXPECT_TRUE(sb.empty());
    // D-SACK above the ACK: the first block lies inside the second, which alone is recorded.
    ack(sb, 1000, {B(1300, 1400), B(1200, 1500)});
    EXPECT_EQ(ranges(sb), (std::vector<Range>{{S(1200), S(1500)}}));
    // A block straddling snd_una is trimmed to it; empty and inverted blocks are ignored.
    ack(sb, 1000, {B(950, 1050), B(1600, 1600), B(1800, 1700)});
    EXPECT_EQ(ranges(sb), (std::vector<Range>{{S(1000), S(1050)}, {S(1200), S(1500)}}));
    // Bogus: more than 2^30 above snd_una.
    ack(sb, 1000, {B(1000 + (1u << 30) + 10, 1000 + (1u << 30) + 20)});
    EXPECT_EQ(sb.ranges().size(), 2u);
}

TEST(SackScoreboard, CapsRangesDroppingTheHighest) {
    SackScoreboard sb;
    // 40 disjoint 100-byte blocks at 1100, 1300, 1500, ...
    for (std::uint32_t i = 0; i < 40; ++i) ack(sb, 1000, {B(1100 + 200 * i, 1200 + 200 * i)});
    ASSERT_EQ(sb.ranges().size(), SackScoreboard::kMaxRanges);
    EXPECT_EQ(sb.ranges().back(), (Range{S(1100 + 200 * 31), S(1200 + 200 * 31)}));
    // A new lowest range pushes out the current highest.
    ack(sb, 1000, {B(1000, 1050)});
    ASSERT_EQ(sb.ranges().size(), SackScoreboard::kMaxRanges);
    EXPECT_EQ(sb.ranges().front(), (Range{S(1000), S(1050)}));
    EXPECT_EQ(sb.ranges().back(), (Range{S(1100 + 200 * 30), S(1200 + 200 * 30)}));
    // Merging frees slots again: [1000, 3100) swallows the lowest range and blocks 0..9, and touches
    // block 10 (which starts at 3100), so 12 ranges become one.
    ack(sb, 1000, {B(1000, 1100 + 200 * 10)});
    EXPECT_EQ(sb.ranges().size(), SackScoreboard::kMaxRanges - 11);
    EXPECT_EQ(sb.ranges().front(), (Range{S(1000), S(1200 + 200 * 10)}));
    sb.reset();
    EXPECT_TRUE(sb.empty());
}

TEST(SackScoreboard, WorksAcrossSequenceWrap) {
    SackScoreboard sb;
    const std::uint32_t una = 0xffffff00u;
    ack(sb, una, {B(0x00000010u, 0x00000020u), B(0xffffff80u, 0x00000005u)});
    ASSERT_EQ(sb.ranges().size(), 2u);
    EXPECT_EQ(sb.ranges()[0], (Range{S(0xffffff80u), S(0x00000005u)}));
    EXPECT_EQ(sb.ranges()[1], (Range{S(0x00000010u), S(0x00000020u)}));
    EXPECT_EQ(sb.sacked_bytes(), 0x85u + 0x10u);
    EXPECT_TRUE(sb.is_sacked(S(0)));
}

// IsLost(): DupThresh discontiguous SACKed ranges above, or more than (DupThresh-1)*SMSS bytes above.
TEST(SackScoreboard, IsLostByteThreshold) {
    SackScoreboard sb;
    ack(sb, 1000, {B(1200, 1400)});  // exactly 2*SMSS above: not enough
    EXPECT_FALSE(sb.is_lost(S(1000), S(1000), 100));
    ack(sb, 1000, {B(1400, 1401)});  // one byte more
    EXPECT_TRUE(sb.is_lost(S(1000), S(1000), 100));
    EXPECT_TRUE(sb.is_lost(S(1199), S(1000), 100));
    EXPECT_FALSE(sb.is_lost(S(1200), S(1000), 100));  // SACKed bytes are not lost
    EXPECT_FALSE(sb.is_lost(S(1401), S(1000), 100));  // nothing SACKed above
    EXPECT_FALSE(sb.is_lost(S(999), S(1000), 100));   // below snd_una
}

TEST(SackScoreboard, IsLostDiscontiguousThreshold) {
    SackScoreboard sb;
    // Three small ranges (30 bytes in all, far below 2*SMSS) still make the bytes below them lost.
    ack(sb, 1000, {B(1200, 1210), B(1300, 1310)});
    EXPECT_FALSE(sb.is_lost(S(1000), S(1000), 100));
    ack(sb, 1000, {B(1400, 1410)});
    EXPECT_TRUE(sb.is_lost(S(1000), S(1000), 100));
    EXPECT_TRUE(sb.is_lost(S(1150), S(1000), 100));
    EXPECT_FALSE(sb.is_lost(S(1250), S(1000), 100));  // only two ranges above
    EXPECT_EQ(sb.loss_boundary(S(1000), 100), S(1200));
    // A lower DupThresh moves the boundary up.
    EXPECT_TRUE(sb.is_lost(S(1250), S(1000), 100, 2));
    EXPECT_FALSE(sb.is_lost(S(1350), S(1000), 100, 2));
}

// Ten 100-byte segments 1000..2000 outstanding; segments 2, 4, 5 and 7 SACKed:
//   seg:  0    1    2    3    4    5    6    7    8    9
//         .    .    S    .    S    S    .    S    .    .
// Above seg 3 lie 300 SACKed bytes (> 2*SMSS), above seg 6 only 100: segs 0, 1, 3 are lost, 6, 8, 9
// are not (RFC 6675 IsLost). The loss boundary is the start of seg 4.
class SackScenario : public ::testing::Test {
protected:
    void SetUp() override { ack(sb, 1000, {B(1700, 1800), B(1400, 1600), B(1200, 1300)}); }
    SackScoreboard sb;
    static constexpr std::uint32_t kSmss = 100;
};

TEST_F(SackScenario, SackScenarioLossBoundary) {
    EXPECT_EQ(sb.loss_boundary(S(1000), kSmss), S(1400));
    for (std::uint32_t seg : {0u, 1u, 3u})
        EXPECT_TRUE(sb.is_lost(S(1000 + 100 * seg), S(1000), kSmss));
    for (std::uint32_t seg : {2u, 4u, 5u, 6u, 7u, 8u, 9u}) {
        EXPECT_FALSE(sb.is_lost(S(1000 + 100 * seg), S(1000), kSmss)) << seg;
    }
}

TEST_F(SackScenario, SackScenarioPipe) {  // SetPipe()
    // No retransmissions yet: only the not-lost unSACKed segs 6, 8, 9 are in the network.
    EXPECT_EQ(sb.pipe(S(1000), S(2000), S(1000), kSmss), 300u);
    // Segs 0 and 1 retransmitted (HighRxt = 1199): they count once more (rule b).
    EXPECT_EQ(sb.pipe(S(1000), S(2000), S(1200), kSmss), 500u);
    // Seg 3 too.
    EXPECT_EQ(sb.pipe(S(1000), S(2000), S(1400), kSmss), 600u);
    // Only part of the flight sent: snd_nxt limits the count.
    EXPECT_EQ(sb.pipe(S(1000), S(1850), S(1000), kSmss), 150u);
}

TEST_F(SackScenario, SackScenarioNextSegPicksFirstLostHole) {  // NextSeg() rule 1
    auto n = sb.next_seg(S(1000), S(2000), S(1000), kSmss, true);
    EXPECT_EQ(n.action, Action::Retransmit);
    EXPECT_EQ(n.range, (Range{S(1000), S(1100)}));
    EXPECT_FALSE(n.rule3);
    n = sb.next_seg(S(1000), S(2000), S(1100), kSmss, true);
    EXPECT_EQ(n.range, (Range{S(1100), S(1200)}));
    n = sb.next_seg(S(1000), S(2000), S(1200), kSmss, true);  // skips the SACKed seg 2
    EXPECT_EQ(n.action, Action::Retransmit);
    EXPECT_EQ(n.range, (Range{S(1300), S(1400)}));
}

TEST_F(SackScenario, SackScenarioNextSegNewDataThenRule3) {
    // All lost holes retransmitted: rule 2 prefers new data when allowed...
    auto n = sb.next_seg(S(1000), S(2000), S(1400), kSmss, true);
    EXPECT_EQ(n.action, Action::SendNewData);
    // ...otherwise rule 3 retransmits the unSACKed seg 6 below the highest SACK.
    n = sb.next_seg(S(1000), S(2000), S(1400), kSmss, false);
    EXPECT_EQ(n.action, Action::Retransmit);
    EXPECT_EQ(n.range, (Range{S(1600), S(1700)}));
    EXPECT_TRUE(n.rule3);
    // Above the highest SACKed byte nothing qualifies (rule 4 is not implemented).
    n = sb.next_seg(S(1000), S(2000), S(1700), kSmss, false);
    EXPECT_EQ(n.action, Action::Nothing);
}

TEST(SackScoreboard, NextSegLimitsToSmssAndHole) {
    SackScoreboard sb;
    ack(sb, 1000, {B(1200, 1300), B(1400, 1500), B(1600, 1700)});
    auto n = sb.next_seg(S(1000), S(2000), S(1000), 150, false);
    EXPECT_EQ(n.range, (Range{S(1000), S(1150)}));  // SMSS
    n = sb.next_seg(S(1000), S(2000), S(1150), 150, false);
    EXPECT_EQ(n.range, (Range{S(1150), S(1200)}));  // stops at the SACKed range
    // No SACK information: nothing is lost, rule 2 or nothing.
    SackScoreboard empty;
    EXPECT_EQ(empty.next_seg(S(1000), S(2000), S(1000), 100, true).action, Action::SendNewData);
    EXPECT_EQ(empty.next_seg(S(1000), S(2000), S(1000), 100, false).action, Action::Nothing);
    EXPECT_EQ(empty.pipe(S(1000), S(2000), S(1000), 100), 1000u);
}

}  // namespace
}  // namespace stack::tcp
