// UrgentPointer (stack/tcp/urgent.hpp): RCV.UP as RFC 9293 §3.8.5 / §3.10.7.4 step 6 and RFC 6093
// define it (the pointer is SEG.SEQ + SEG.UP, the octet after the urgent data), pending while the
// user's read point is behind it, never moved back, never replayed once read.
#include "stack/tcp/urgent.hpp"

#include <gtest/gtest.h>

namespace stack::tcp {
namespace {

using wire::SeqNumber;

TEST(UrgentPointer, NothingPendingInitially) {
    UrgentPointer u;
    EXPECT_FALSE(u.pending(SeqNumber(1000)));
    EXPECT_EQ(u.remaining(SeqNumber(1000)), 0u);
}

TEST(UrgentPointer, PointsAfterTheUrgentData) {
    UrgentPointer u;
    // 10 bytes at 1000, SEG.UP = 10: bytes 1000..1009 are urgent, RCV.UP = 1010.
    EXPECT_TRUE(u.on_segment(SeqNumber(1000), 10, SeqNumber(1000)));
    EXPECT_TRUE(u.pending(SeqNumber(1000)));
    EXPECT_EQ(u.up(), SeqNumber(1010));
    EXPECT_EQ(u.remaining(SeqNumber(1000)), 10u);
    EXPECT_EQ(u.remaining(SeqNumber(1004)), 6u);
    u.on_read(SeqNumber(1009));
    EXPECT_TRUE(u.pending(SeqNumber(1009)));
    u.on_read(SeqNumber(1010));
    EXPECT_FALSE(u.pending(SeqNumber(1010)));
    EXPECT_EQ(u.remaining(SeqNumber(1010)), 0u);
}

TEST(UrgentPointer, AdvancesNeverRetreatsAndSignalsOnlyOnAdvance) {
    UrgentPointer u;
    EXPECT_TRUE(u.on_segment(SeqNumber(1000), 300, SeqNumber(1000)));   // RCV.UP = 1300
    EXPECT_FALSE(u.on_segment(SeqNumber(1100), 200, SeqNumber(1000)));  // same pointer: no signal
    EXPECT_FALSE(u.on_segment(SeqNumber(1000), 100, SeqNumber(1000)));  // older: kept at 1300
    EXPECT_EQ(u.up(), SeqNumber(1300));
    EXPECT_TRUE(u.on_segment(SeqNumber(1300), 50, SeqNumber(1000)));  // advanced
    EXPECT_EQ(u.up(), SeqNumber(1350));
}

TEST(UrgentPointer, AlreadyReadOrZeroIsIgnored) {
    UrgentPointer u;
    // SEG.UP = 0 at the read point: no urgent data.
    EXPECT_FALSE(u.on_segment(SeqNumber(2000), 0, SeqNumber(2000)));
    EXPECT_FALSE(u.pending(SeqNumber(2000)));
    // A pointer the user has already read past (a retransmission): not replayed.
    EXPECT_FALSE(u.on_segment(SeqNumber(1500), 100, SeqNumber(2000)));
    EXPECT_FALSE(u.pending(SeqNumber(2000)));
}

TEST(UrgentPointer, ReadPastClearsAndANewMarkSignalsAgain) {
    UrgentPointer u;
    EXPECT_TRUE(u.on_segment(SeqNumber(0xFFFFFFF0u), 0x20, SeqNumber(0xFFFFFFF0u)));  // wraps
    EXPECT_EQ(u.up(), SeqNumber(0x10));
    EXPECT_EQ(u.remaining(SeqNumber(0xFFFFFFF0u)), 0x20u);
    u.on_read(SeqNumber(0x10));
    EXPECT_FALSE(u.pending(SeqNumber(0x10)));
    EXPECT_TRUE(u.on_segment(SeqNumber(0x10), 5, SeqNumber(0x10)));
    EXPECT_EQ(u.remaining(SeqNumber(0x10)), 5u);
}

TEST(UrgentPointer, PointerBeyondTheDataIsOnlyANumber) {
    UrgentPointer u;
    // The largest SEG.UP: the mark lies far beyond any data received; it is pending until read.
    EXPECT_TRUE(u.on_segment(SeqNumber(1000), 65535, SeqNumber(1000)));
    EXPECT_EQ(u.remaining(SeqNumber(1000)), 65535u);
    u.on_read(SeqNumber(1000 + 65534));
    EXPECT_TRUE(u.pending(SeqNumber(1000 + 65534)));
    u.on_read(SeqNumber(1000 + 65535));
    EXPECT_FALSE(u.pending(SeqNumber(1000 + 65535)));
}

}  // namespace
}  // namespace stack::tcp
