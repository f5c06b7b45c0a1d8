// SackScoreboard::on_ack as the loss-recovery intake of issue 8: blocks beyond SND.MAX (data never
// sent) are ignored and counted, and the result says whether the ACK SACKed anything new (RFC 6675 §2
// duplicate acknowledgment).
#include <gtest/gtest.h>

#include <vector>

#include "stack/tcp/sack_scoreboard.hpp"

namespace stack::tcp {
namespace {

using wire::SackBlock;
using wire::SeqNumber;
using Range = SackScoreboard::Range;

SeqNumber S(std::uint32_t v) { return SeqNumber(v); }
SackBlock B(std::uint32_t l, std::uint32_t r) { return SackBlock{S(l), S(r)}; }

SackScoreboard::UpdateResult ack(SackScoreboard& sb, std::uint32_t una, std::uint32_t max,
                                 std::vector<SackBlock> blocks) {
    return sb.on_ack(S(una), S(max), blocks);
}

TEST(SackIntake, BlockEndingAboveSndMaxIsIgnoredAndCounted) {  // issue 8 point 6
    SackScoreboard sb;
    auto r = ack(sb, 1000, 5000, {B(2000, 9000)});
    EXPECT_TRUE(sb.empty());
    EXPECT_FALSE(r.new_info);
    EXPECT_EQ(r.invalid, 1u);
    // One past SND.MAX is already too far; exactly SND.MAX is fine.
    r = ack(sb, 1000, 5000, {B(4000, 5001), B(2000, 3000)});
    EXPECT_EQ(r.invalid, 1u);
    EXPECT_TRUE(r.new_info);
    r = ack(sb, 1000, 5000, {B(4000, 5000)});
    EXPECT_EQ(r.invalid, 0u);
    EXPECT_EQ((std::vector<Range>{sb.ranges().begin(), sb.ranges().end()}),
              (std::vector<Range>{{S(2000), S(3000)}, {S(4000), S(5000)}}));
    // RFC 6675 IsLost with SMSS 1000: two ranges and 2000 bytes above SND.UNA do not make it lost;
    // a third range would. A third one beyond SND.MAX is a lie and changes nothing.
    EXPECT_FALSE(sb.is_lost(S(1000), S(1000), 1000));
    EXPECT_EQ(ack(sb, 1000, 5000, {B(6000, 7000)}).invalid, 1u);
    EXPECT_FALSE(sb.is_lost(S(1000), S(1000), 1000));
    EXPECT_EQ(sb.ranges().size(), 2u);
}

TEST(SackIntake, WrappedOrHugeBlocksAreCountedInvalid) {
    SackScoreboard sb;
    // Starting far below SND.UNA and ending above it: 2^30 + 110 bytes, longer than any window.
    const std::uint32_t una = 1u << 31;
    auto r = ack(sb, una, una + 5000, {B(una - (1u << 30) - 10, una + 100)});
    EXPECT_EQ(r.invalid, 1u);
    EXPECT_TRUE(sb.empty());
    // Blocks entirely below SND.UNA are old news or D-SACKs (RFC 2883), not invalid.
    r = ack(sb, 1000, 5000, {B(100, 900)});
    EXPECT_EQ(r.invalid, 0u);
    EXPECT_FALSE(r.new_info);
}

TEST(SackIntake, NewInfoOnlyWhenSomethingNewIsSacked) {  // RFC 6675 §2 duplicate ACK
    SackScoreboard sb;
    EXPECT_TRUE(ack(sb, 1000, 9000, {B(2000, 3000)}).new_info);
    EXPECT_FALSE(ack(sb, 1000, 9000, {B(2000, 3000)}).new_info);  // the same block again
    EXPECT_FALSE(ack(sb, 1000, 9000, {B(2500, 3000)}).new_info);  // inside a known range
    EXPECT_TRUE(ack(sb, 1000, 9000, {B(2000, 3001)}).new_info);   // one byte more
    EXPECT_TRUE(ack(sb, 1000, 9000, {B(1500, 1600), B(2000, 3001)}).new_info);
    // The cumulative ACK moving past SACKed data is not new SACK information.
    EXPECT_FALSE(ack(sb, 2500, 9000, {B(2000, 3001)}).new_info);
    // A D-SACK (first block below the ACK) is not either.
    EXPECT_FALSE(ack(sb, 2500, 9000, {B(1000, 1500), B(2500, 3001)}).new_info);
    EXPECT_FALSE(ack(sb, 1000, 9000, {}).new_info);
}

}  // namespace
}  // namespace stack::tcp
