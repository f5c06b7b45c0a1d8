// Assembler (stack/tcp/assembler.hpp): out-of-order ranges, merging, delivery, the capacity bound and
// what happens when it is reached (refuse new ranges, never give up held ones), SACK block order
// (RFC 2018 §4), and no allocation after the first insert.
#include "stack/tcp/assembler.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "tests/support/alloc_counter.hpp"

namespace stack::tcp {
namespace {

using wire::SeqNumber;
using R = Assembler::Range;

R range(std::uint32_t b, std::uint32_t e) { return R{SeqNumber(b), SeqNumber(e)}; }

std::vector<R> ranges(const Assembler& a) {
    std::vector<R> v;
    for (std::size_t i = 0; i < a.size(); ++i) v.push_back(a[i]);
    return v;
}

std::vector<R> sack(const Assembler& a, std::size_t n = 4) {
    std::array<R, 4> out{};
    const std::size_t k = a.sack_blocks(std::span(out.data(), n));
    return std::vector<R>(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(k));
}

TEST(Assembler, CapacityScalesWithTheReceiveBuffer) {
    EXPECT_EQ(Assembler::capacity_for(0), Assembler::kMinRanges);
    EXPECT_EQ(Assembler::capacity_for(4096), Assembler::kMinRanges);
    EXPECT_EQ(Assembler::capacity_for(512 * 1024), 1024u);
    EXPECT_EQ(Assembler::capacity_for(4 << 20), 8192u);
    EXPECT_GT(Assembler::capacity_for(64 * 1024), 16u);  // more than the old fixed 16
}

TEST(Assembler, InsertKeepsSortedDisjointRangesAndMergesOverlappingOrTouching) {
    Assembler a(16);
    EXPECT_EQ(a.insert(SeqNumber(300), SeqNumber(400)), Assembler::Insert::Stored);
    EXPECT_EQ(a.insert(SeqNumber(100), SeqNumber(200)), Assembler::Insert::Stored);
    EXPECT_EQ(a.insert(SeqNumber(500), SeqNumber(600)), Assembler::Insert::Stored);
    EXPECT_EQ(ranges(a), (std::vector<R>{range(100, 200), range(300, 400), range(500, 600)}));
    a.insert(SeqNumber(200), SeqNumber(250));  // touches [100,200)
    EXPECT_EQ(ranges(a), (std::vector<R>{range(100, 250), range(300, 400), range(500, 600)}));
    a.insert(SeqNumber(240), SeqNumber(510));  // bridges three
    EXPECT_EQ(ranges(a), (std::vector<R>{range(100, 600)}));
    a.insert(SeqNumber(150), SeqNumber(160));  // inside: nothing changes
    EXPECT_EQ(ranges(a), (std::vector<R>{range(100, 600)}));
    a.insert(SeqNumber(50), SeqNumber(700));  // covers all
    EXPECT_EQ(ranges(a), (std::vector<R>{range(50, 700)}));
}

TEST(Assembler, WorksAcrossSequenceWraparound) {
    Assembler a(16);
    a.insert(SeqNumber(0xffff'ff00u), SeqNumber(0xffff'ff80u));
    a.insert(SeqNumber(0x10), SeqNumber(0x20));
    a.insert(SeqNumber(0xffff'fff0u), SeqNumber(0x5));
    EXPECT_EQ(ranges(a), (std::vector<R>{range(0xffff'ff00u, 0xffff'ff80u),
                                         range(0xffff'fff0u, 0x5), range(0x10, 0x20)}));
    EXPECT_EQ(a.advance(SeqNumber(0xffff'ff00u)), SeqNumber(0xffff'ff80u));
    EXPECT_EQ(a.advance(SeqNumber(0xffff'fff0u)), SeqNumber(0x5));
    EXPECT_EQ(ranges(a), (std::vector<R>{range(0x10, 0x20)}));
}

TEST(Assembler, AdvanceDeliversTheRangesInOrderDataReaches) {
    Assembler a(16);
    a.insert(SeqNumber(200), SeqNumber(300));
    a.insert(SeqNumber(400), SeqNumber(500));
    a.insert(SeqNumber(600), SeqNumber(700));
    EXPECT_EQ(a.advance(SeqNumber(150)), SeqNumber(150));  // a gap remains
    EXPECT_EQ(a.size(), 3u);
    EXPECT_EQ(a.advance(SeqNumber(200)), SeqNumber(300));  // reaches the first range exactly
    EXPECT_EQ(a.advance(SeqNumber(450)), SeqNumber(500));  // a segment that overlapped the next
    EXPECT_EQ(a.advance(SeqNumber(800)), SeqNumber(800));  // one that covered the last
    EXPECT_TRUE(a.empty());
}

// More than the old fixed 16: a thousand holes are all kept (capacity for a 512 KB buffer).
TEST(Assembler, KeepsAThousandHoles) {
    Assembler a(Assembler::capacity_for(512 * 1024));
    for (std::uint32_t i = 0; i < 1000; ++i) {
        ASSERT_EQ(a.insert(SeqNumber(1000 + 2 * i + 1), SeqNumber(1000 + 2 * i + 2)),
                  Assembler::Insert::Stored)
            << i;
    }
    EXPECT_EQ(a.size(), 1000u);
    // Filling the holes one by one delivers every range.
    SeqNumber nxt(1000);
    for (std::uint32_t i = 0; i < 1000; ++i) nxt = a.advance(nxt + 1);
    EXPECT_EQ(nxt, SeqNumber(3000));
    EXPECT_TRUE(a.empty());
}

// Full: a segment needing a new range is refused, below, between or above the held ranges; held ranges
// (which SACK may have reported) are never dropped; segments extending held ranges still go in.
TEST(Assembler, WhenFullNewRangesAreRefusedAndHeldRangesAreNeverDropped) {
    Assembler a(4);
    for (std::uint32_t i = 0; i < 4; ++i)
        a.insert(SeqNumber(100 * (i + 1)), SeqNumber(100 * (i + 1) + 10));
    const auto held = ranges(a);
    EXPECT_EQ(a.insert(SeqNumber(50), SeqNumber(60)), Assembler::Insert::Full);    // below
    EXPECT_EQ(a.insert(SeqNumber(150), SeqNumber(160)), Assembler::Insert::Full);  // between
    EXPECT_EQ(a.insert(SeqNumber(900), SeqNumber(910)), Assembler::Insert::Full);  // above
    EXPECT_EQ(ranges(a), held);
    EXPECT_EQ(a.insert(SeqNumber(110), SeqNumber(130)), Assembler::Insert::Stored);  // extends one
    EXPECT_EQ(a.insert(SeqNumber(395), SeqNumber(405)), Assembler::Insert::Stored);  // extends one
    EXPECT_EQ(ranges(a),
              (std::vector<R>{range(100, 130), range(200, 210), range(300, 310), range(395, 410)}));
    EXPECT_EQ(a.insert(SeqNumber(130), SeqNumber(200)), Assembler::Insert::Stored);  // merges two
    EXPECT_EQ(a.size(), 3u);
    EXPECT_EQ(a.insert(SeqNumber(900), SeqNumber(910)), Assembler::Insert::Stored);  // room again
}

TEST(Assembler, SackBlocksMostRecentFirstThenRecentlyChangedThenLowest_Rfc2018S4) {
    Assembler a(16);
    a.insert(SeqNumber(100), SeqNumber(110));
    EXPECT_EQ(sack(a), (std::vector<R>{range(100, 110)}));
    a.insert(SeqNumber(300), SeqNumber(310));
    a.insert(SeqNumber(500), SeqNumber(510));
    EXPECT_EQ(sack(a), (std::vector<R>{range(500, 510), range(300, 310), range(100, 110)}));
    a.insert(SeqNumber(305), SeqNumber(320));  // extends [300,310): it is the most recent now
    EXPECT_EQ(sack(a), (std::vector<R>{range(300, 320), range(500, 510), range(100, 110)}));
    a.insert(SeqNumber(700), SeqNumber(710));
    a.insert(SeqNumber(900), SeqNumber(910));
    a.insert(SeqNumber(1100), SeqNumber(1110));
    // Three blocks fit with timestamps: the three most recent.
    EXPECT_EQ(sack(a, 3), (std::vector<R>{range(1100, 1110), range(900, 910), range(700, 710)}));
    // Merging two ranges leaves one entry for the merged range.
    a.insert(SeqNumber(710), SeqNumber(900));
    EXPECT_EQ(sack(a), (std::vector<R>{range(700, 910), range(1100, 1110), range(300, 320),
                                       range(100, 110)}));
    // Delivered ranges are never reported.
    a.advance(SeqNumber(100));
    a.advance(SeqNumber(300));
    EXPECT_EQ(sack(a), (std::vector<R>{range(700, 910), range(1100, 1110), range(500, 510)}));
    a.clear();
    EXPECT_TRUE(sack(a).empty());
}

TEST(Assembler, AllocatesOnceAtTheFirstInsertThenNever) {
    Assembler a(Assembler::capacity_for(512 * 1024));
    EXPECT_EQ(a.memory_bytes(), 0u);
    a.insert(SeqNumber(10), SeqNumber(20));
    EXPECT_EQ(a.memory_bytes(), 1024 * sizeof(R));
    tunstack_test::AllocationCounter counter;
    for (std::uint32_t i = 0; i < 1023; ++i)
        a.insert(SeqNumber(100 + 3 * i), SeqNumber(101 + 3 * i));
    for (std::uint32_t i = 0; i < 500; ++i)
        a.insert(SeqNumber(101 + 3 * i), SeqNumber(103 + 3 * i));
    a.advance(SeqNumber(5000));
    EXPECT_EQ(counter.stop(), 0u);
}

}  // namespace
}  // namespace stack::tcp
