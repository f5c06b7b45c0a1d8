// The receiver's pure rules (stack/tcp/receiver.hpp): PAWS (RFC 7323 §5.3, §5.5), the advertised
// window's right edge (never moves back, RFC 9293 §3.8.6.2.2) and receiver SWS avoidance (opens only
// by min(buffer/2, MSS)), and when an ACK is due at once (RFC 5681 §4.2).
#include "stack/tcp/receiver.hpp"

#include <gtest/gtest.h>

namespace stack::tcp {
namespace {

using wire::SeqNumber;

TEST(Paws, RejectsAnOlderTsval) {
    EXPECT_EQ(paws_test(99, 100, Duration::seconds(1)), Paws::Reject);
    EXPECT_EQ(paws_test(0, 0x7fffffff, Duration::zero()), Paws::Reject);
}

TEST(Paws, AcceptsAnEqualOrNewerTsval) {
    EXPECT_EQ(paws_test(100, 100, Duration::zero()), Paws::Accept);
    EXPECT_EQ(paws_test(101, 100, Duration::zero()), Paws::Accept);
    // Newer across the wrap of the 32-bit clock.
    EXPECT_EQ(paws_test(5, 0xfffffff0u, Duration::zero()), Paws::Accept);
}

TEST(Paws, AcceptsAnOlderTsvalAfter24DaysIdle) {
    const Duration days24 = Duration::seconds(std::int64_t{24} * 24 * 3600);
    EXPECT_EQ(paws_test(99, 100, days24), Paws::Reject);  // not yet more than 24 days
    EXPECT_EQ(paws_test(99, 100, days24 + Duration::micros(1)), Paws::AcceptStale);
}

ReceiveSpace space(std::uint32_t rcv_nxt, std::size_t free, std::size_t capacity,
                   std::uint8_t wscale = 0, std::uint32_t mss = 1460) {
    return ReceiveSpace{SeqNumber(rcv_nxt), free, capacity, wscale, mss};
}

TEST(ReceiveWindow, AdvertisesTheFreeSpace) {
    SeqNumber adv(1000);
    EXPECT_EQ(advertise_window(space(1000, 8192, 8192), adv), 8192u);
    EXPECT_EQ(adv, SeqNumber(1000 + 8192));
}

TEST(ReceiveWindow, RightEdgeNeverMovesBack) {
    SeqNumber adv(1000 + 8192);
    // 3000 bytes arrived and sit unread: the space shrank by them, the edge stays where it was.
    EXPECT_EQ(advertise_window(space(4000, 8192 - 3000, 8192), adv), 8192u - 3000);
    EXPECT_EQ(adv, SeqNumber(1000 + 8192));
    // Less free space than the edge already promised (the ring holds more): still no shrinking.
    EXPECT_EQ(advertise_window(space(4000, 100, 8192), adv), 8192u - 3000);
    EXPECT_EQ(adv, SeqNumber(1000 + 8192));
    EXPECT_EQ(right_edge_growth(space(4000, 100, 8192), adv), 0u);
}

TEST(ReceiveWindow, SwsOpensOnlyByAnMss) {
    // Buffer full, window closed at 9192; the application reads bit by bit.
    SeqNumber adv(9192);
    EXPECT_EQ(advertise_window(space(9192, 0, 8192), adv), 0u);
    EXPECT_EQ(advertise_window(space(9192, 1459, 8192), adv), 0u);  // < min(4096, 1460)
    EXPECT_EQ(adv, SeqNumber(9192));
    EXPECT_EQ(right_edge_growth(space(9192, 1459, 8192), adv), 1459u);
    EXPECT_EQ(advertise_window(space(9192, 1460, 8192), adv), 1460u);
    EXPECT_EQ(adv, SeqNumber(9192 + 1460));
}

TEST(ReceiveWindow, SwsOpensOnlyByHalfASmallBuffer) {
    SeqNumber adv(5000);
    EXPECT_EQ(advertise_window(space(5000, 999, 2000), adv), 0u);  // < min(1000, 1460)
    EXPECT_EQ(adv, SeqNumber(5000));
    EXPECT_EQ(advertise_window(space(5000, 1000, 2000), adv), 1000u);
    EXPECT_EQ(adv, SeqNumber(6000));
}

TEST(ReceiveWindow, AWindowAtTheFieldCapFollowsRcvNxt) {
    // 1 MB of space, no window scaling: the field is capped at 65535; 100 bytes received and read
    // move the edge by 100 (not a silly window: the space beyond the edge is large).
    SeqNumber adv(1000);
    EXPECT_EQ(advertise_window(space(1000, 1u << 20, 1u << 20), adv), 65535u);
    EXPECT_EQ(adv, SeqNumber(1000 + 65535));
    EXPECT_EQ(advertise_window(space(1100, 1u << 20, 1u << 20), adv), 65535u);
    EXPECT_EQ(adv, SeqNumber(1100 + 65535));
}

TEST(ReceiveWindow, ScaledField) {
    SeqNumber adv(0);
    EXPECT_EQ(advertise_window(space(0, 1u << 20, 1u << 20, 7), adv), (1u << 20) >> 7);
    EXPECT_EQ(adv, SeqNumber(1u << 20));
}

TEST(AckPolicy, DelaysOneSegmentAcksTheSecond) {
    EXPECT_FALSE(ack_due(false, 1, 1460, 1460));
    EXPECT_TRUE(ack_due(false, 2, 2920, 1460));
    EXPECT_TRUE(ack_due(true, 1, 10, 1460));
    // One super-packet of several full-sized segments: at once.
    EXPECT_TRUE(ack_due(false, 1, 1461, 1460));
}

}  // namespace
}  // namespace stack::tcp
