// LossRecovery strategies on their own (stack/tcp/recovery.hpp): NewReno (RFC 6582) and SACK
// (RFC 6675) entry rules, window inflation and partial ACKs, exit on a full ACK, and the RTO reset.
#include "stack/tcp/recovery.hpp"

#include <gtest/gtest.h>

#include <array>

namespace stack::tcp {
namespace {

using wire::SeqNumber;
constexpr std::uint32_t kMss = 1000;

TEST(NewRenoRecovery, ThreeDupAcksStartRecoveryAndInflate_Rfc5681S32) {
    NewRenoRecovery r;
    r.reset(SeqNumber(0));
    const SeqNumber una(1), max(10001);
    EXPECT_TRUE(r.on_dup_ack(kMss));
    EXPECT_TRUE(r.on_dup_ack(kMss));
    EXPECT_FALSE(r.should_enter(una, kMss));
    EXPECT_TRUE(r.on_dup_ack(kMss));
    EXPECT_TRUE(r.should_enter(una, kMss));
    r.enter(una, max, kMss);
    EXPECT_TRUE(r.in_recovery());
    EXPECT_EQ(r.recover(), max);
    EXPECT_EQ(r.inflation(), 3 * kMss);  // cwnd = ssthresh + 3*SMSS
    EXPECT_EQ(r.pipe(10000, una, max, kMss), 7000u);
    EXPECT_FALSE(r.on_dup_ack(kMss));  // in recovery: inflates, no new entry
    EXPECT_EQ(r.pipe(10000, una, max, kMss), 6000u);
    EXPECT_EQ(r.next_seg(una, max, kMss, true).action, LossRecovery::NextSeg::Action::SendNewData);
}

TEST(NewRenoRecovery, PartialAckDeflatesAndRetransmitsFullAckExits_Rfc6582S32) {
    NewRenoRecovery r;
    r.reset(SeqNumber(0));
    for (int i = 0; i < 3; ++i) r.on_dup_ack(kMss);
    r.enter(SeqNumber(1), SeqNumber(10001), kMss);
    EXPECT_EQ(r.on_new_ack(SeqNumber(2001), 2000, kMss), LossRecovery::AckResult::RetransmitFirst);
    EXPECT_EQ(r.inflation(), 3 * kMss - 2000 + kMss);
    EXPECT_EQ(r.dupacks(), 0u);
    EXPECT_EQ(r.high_rxt(), SeqNumber(2001));
    EXPECT_EQ(r.on_new_ack(SeqNumber(10001), 8000, kMss), LossRecovery::AckResult::Exit);
    EXPECT_FALSE(r.in_recovery());
    EXPECT_EQ(r.inflation(), 0);
}

TEST(NewRenoRecovery, CarefulVariantRefusesDupAcksAtRecover_Rfc6582S32Step2) {
    NewRenoRecovery r;
    r.reset(SeqNumber(0));
    r.on_rto(SeqNumber(1), SeqNumber(5001));  // recover = 5001
    EXPECT_FALSE(r.in_recovery());
    EXPECT_EQ(r.on_new_ack(SeqNumber(5001), 5000, kMss), LossRecovery::AckResult::None);
    for (int i = 0; i < 3; ++i) r.on_dup_ack(kMss);
    EXPECT_FALSE(r.should_enter(SeqNumber(5001), kMss));  // SND.UNA == recover: not beyond it
    EXPECT_EQ(r.on_new_ack(SeqNumber(5002), 1, kMss), LossRecovery::AckResult::None);
    EXPECT_EQ(r.recover(), SeqNumber(5001));  // trails SND.UNA - 1
    for (int i = 0; i < 3; ++i) r.on_dup_ack(kMss);
    EXPECT_TRUE(r.should_enter(SeqNumber(5002), kMss));
}

TEST(SackRecovery, IsLostStartsRecoveryBeforeThreeDupAcks_Rfc6675S5) {
    SackScoreboard sb;
    SackRecovery r(sb);
    r.reset(SeqNumber(0));
    const SeqNumber una(1), max(10001);
    // Three SACKed segments above SND.UNA: IsLost(HighACK + 1) holds.
    std::array<wire::SackBlock, 1> blocks{{{SeqNumber(1001), SeqNumber(4001)}}};
    sb.on_ack(una, max, blocks);
    EXPECT_TRUE(r.on_dup_ack(kMss));
    EXPECT_TRUE(r.should_enter(una, kMss));
    r.enter(una, max, kMss);
    // NextSeg rule 1: the lost hole first; the pipe excludes SACKed and lost bytes.
    const auto n = r.next_seg(una, max, kMss, true);
    ASSERT_EQ(n.action, LossRecovery::NextSeg::Action::Retransmit);
    EXPECT_EQ(n.range.begin, una);
    EXPECT_EQ(r.pipe(10000, una, max, kMss), sb.pipe(una, max, r.high_rxt(), kMss));
    r.retransmitted_to(SeqNumber(1001));
    EXPECT_EQ(r.high_rxt(), SeqNumber(1001));
    // A partial ACK stays in recovery without a NewReno-style retransmission.
    EXPECT_EQ(r.on_new_ack(SeqNumber(4001), 4000, kMss), LossRecovery::AckResult::Stay);
    EXPECT_EQ(r.on_new_ack(max, 6000, kMss), LossRecovery::AckResult::Exit);
    EXPECT_FALSE(r.in_recovery());
}

TEST(SackRecovery, AnAckAtRecoveryPointMayStartANewRecovery_Rfc6675S51) {
    SackScoreboard sb;
    SackRecovery r(sb);
    r.reset(SeqNumber(0));
    r.on_rto(SeqNumber(1), SeqNumber(5001));
    for (int i = 0; i < 3; ++i) r.on_dup_ack(kMss);
    EXPECT_FALSE(r.should_enter(SeqNumber(1), kMss));  // below RecoveryPoint
    EXPECT_TRUE(r.should_enter(SeqNumber(5001), kMss));
}

}  // namespace
}  // namespace stack::tcp
