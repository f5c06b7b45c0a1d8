// SimLink in simulated time: determinism under a seed, each fault observed at about its configured
// rate (bounds of six standard deviations of the binomial, so a fixed seed is nowhere near them),
// exact agreement between what the receiver sees and the link's counters.
#include "drivers/sim_link.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "drivers/gso.hpp"
#include "stack/base/bytes.hpp"
#include "tests/support/super_packet.hpp"

namespace {

using drivers::FaultConfig;
using drivers::SimLink;
using stack::Duration;
using stack::Instant;

constexpr std::size_t kLen = 64;

// Every bit of seq influences the body (a multiplicative hash cycled over its four bytes), so a bit
// flip in the seq field still makes the packet differ from make_packet(new seq).
std::uint8_t pattern(std::uint32_t seq, std::size_t i) {
    std::uint32_t h = seq * 2654435761u;
    return static_cast<std::uint8_t>((h >> ((i % 4) * 8)) ^ i);
}

std::vector<std::uint8_t> make_packet(std::uint32_t seq) {
    std::vector<std::uint8_t> p(kLen);
    for (std::size_t i = 0; i < kLen; ++i) p[i] = pattern(seq, i);
    stack::store_be32(p.data(), seq);
    return p;
}

bool intact(stack::Bytes p) {
    if (p.size() != kLen) return false;
    std::uint32_t seq = stack::load_be32(p.data());
    return std::equal(p.begin(), p.end(), make_packet(seq).begin());
}

struct Arrival {
    Instant at;
    std::vector<std::uint8_t> bytes;
    bool operator==(const Arrival&) const = default;
};

// Sends `n` numbered packets from side 0, one every `gap`, stepping the link like a simulation loop
// would, then drains it. Returns what side 1 received, in order, with arrival times.
std::vector<Arrival> run(SimLink& link, std::uint32_t n, Duration gap = Duration::micros(100)) {
    std::vector<Arrival> got;
    auto on_arrival = [&](stack::Bytes p) {
        got.push_back(Arrival{link.now(), std::vector<std::uint8_t>(p.begin(), p.end())});
    };
    Instant t;
    for (std::uint32_t seq = 0; seq < n; ++seq) {
        // Deliver everything due before this send, at its own due time.
        for (int guard = 0; guard < 100000 && link.next_delivery() <= t; ++guard) {
            link.deliver(link.next_delivery(), 1, on_arrival);
        }
        link.set_now(t);
        auto pkt = make_packet(seq);
        EXPECT_TRUE(link.side(0).transmit(pkt));
        t += gap;
    }
    for (int guard = 0; guard < 1000000 && link.next_delivery() != Instant::never(); ++guard) {
        link.deliver(link.next_delivery(), 1, on_arrival);
    }
    EXPECT_EQ(link.in_flight(), 0u);
    return got;
}

void expect_rate(std::uint64_t observed, std::uint64_t n, double p, const char* what) {
    double mean = static_cast<double>(n) * p;
    double sigma = std::sqrt(static_cast<double>(n) * p * (1 - p));
    EXPECT_NEAR(static_cast<double>(observed), mean, 6 * sigma + 3) << what;
}

FaultConfig lossy(std::uint64_t seed) {
    auto c = FaultConfig::parse("loss=5%,dup=5%,reorder=5%,corrupt=5%,delay=1ms,jitter=500us");
    EXPECT_TRUE(c.ok());
    c->seed = seed;
    return *c;
}

TEST(SimLinkTest, CarriesPacketsBothWaysAfterTheDelay) {
    FaultConfig c;
    c.delay = Duration::millis(10);
    SimLink link(c);
    auto a = make_packet(1);
    auto b = make_packet(2);
    EXPECT_TRUE(link.side(0).transmit(a));
    link.set_now(Instant::from_millis(1));
    EXPECT_TRUE(link.side(1).transmit(b));
    EXPECT_EQ(link.next_delivery(), Instant::from_millis(10));
    EXPECT_EQ(link.next_delivery(1), Instant::from_millis(10));
    EXPECT_EQ(link.next_delivery(0), Instant::from_millis(11));

    std::vector<std::vector<std::uint8_t>> at0, at1;
    auto to0 = [&](stack::Bytes p) { at0.emplace_back(p.begin(), p.end()); };
    auto to1 = [&](stack::Bytes p) { at1.emplace_back(p.begin(), p.end()); };
    EXPECT_EQ(link.deliver(Instant::from_micros(9999), 1, to1), 0u);
    EXPECT_EQ(link.deliver(Instant::from_millis(10), 1, to1), 1u);
    EXPECT_EQ(link.deliver(Instant::from_millis(10), 0, to0), 0u);
    EXPECT_EQ(link.deliver(Instant::from_millis(11), 0, to0), 1u);
    ASSERT_EQ(at1.size(), 1u);
    ASSERT_EQ(at0.size(), 1u);
    EXPECT_EQ(at1[0], a);
    EXPECT_EQ(at0[0], b);
    EXPECT_EQ(link.next_delivery(), Instant::never());
    EXPECT_EQ(link.counters(0).delivered, 1u);
    EXPECT_EQ(link.counters(1).delivered, 1u);
}

TEST(SimLinkTest, SameSeedGivesIdenticalTraceDifferentSeedDoesNot) {
    SimLink l1(lossy(42));
    SimLink l2(lossy(42));
    SimLink l3(lossy(43));
    auto t1 = run(l1, 3000);
    auto t2 = run(l2, 3000);
    auto t3 = run(l3, 3000);
    EXPECT_FALSE(t1.empty());
    EXPECT_TRUE(t1 == t2);
    EXPECT_FALSE(t1 == t3);
    // The two directions of one link draw from different seeds.
    EXPECT_NE(l1.config(0).seed, l1.config(1).seed);
}

TEST(SimLinkTest, EachFaultHappensAtRoughlyItsConfiguredRate) {
    auto parsed = FaultConfig::parse("loss=10%,dup=5%,reorder=8%,delay=2ms,seed=7");
    ASSERT_TRUE(parsed.ok());
    SimLink link(*parsed);
    constexpr std::uint32_t kN = 20000;
    auto got = run(link, kN);

    std::vector<int> copies(kN, 0);
    std::uint64_t overtaken = 0;  // arrivals with a lower seq than one already seen
    std::uint32_t max_seen = 0;
    for (const Arrival& a : got) {
        ASSERT_TRUE(intact(a.bytes));
        std::uint32_t seq = stack::load_be32(a.bytes.data());
        ++copies[seq];
        if (seq < max_seen) ++overtaken;
        max_seen = std::max(max_seen, seq);
    }
    std::uint64_t lost = static_cast<std::uint64_t>(std::count(copies.begin(), copies.end(), 0));
    std::uint64_t twice = static_cast<std::uint64_t>(std::count(copies.begin(), copies.end(), 2));
    EXPECT_EQ(std::count_if(copies.begin(), copies.end(), [](int c) { return c > 2; }), 0);

    const auto& c = link.counters(0);
    EXPECT_EQ(c.packets, kN);
    EXPECT_EQ(c.dropped, lost);
    EXPECT_EQ(c.duplicated, twice);
    EXPECT_EQ(c.delivered, got.size());
    EXPECT_EQ(c.overflowed, 0u);
    expect_rate(lost, kN, 0.10, "loss");
    expect_rate(twice, kN * 9 / 10, 0.05, "duplication (of packets not lost)");
    expect_rate(c.reordered, kN * 9 / 10, 0.08, "reordering (of packets not lost)");
    // A reordered packet is held 5 ms while 50 later ones pass it: it shows up as overtaken.
    EXPECT_GE(overtaken, c.reordered * 9 / 10);
    EXPECT_LE(overtaken, c.reordered * 2 + 10);
}

TEST(SimLinkTest, CorruptionFlipsExactlyOneBit) {
    FaultConfig c;
    c.corrupt = 1.0;
    c.seed = 3;
    SimLink link(c);
    std::vector<std::uint8_t> zeros(100, 0);
    std::vector<int> flipped_bits;
    for (int i = 0; i < 500; ++i) {
        ASSERT_TRUE(link.side(0).transmit(zeros));
        link.deliver(Instant{}, 1, [&](stack::Bytes p) {
            int ones = 0;
            int where = -1;
            for (std::size_t j = 0; j < p.size(); ++j) {
                ones += std::popcount(p[j]);
                if (p[j] != 0) where = static_cast<int>(j * 8) + std::countr_zero(p[j]);
            }
            EXPECT_EQ(ones, 1);
            flipped_bits.push_back(where);
        });
    }
    ASSERT_EQ(flipped_bits.size(), 500u);
    EXPECT_EQ(link.counters(0).corrupted, 500u);
    // Spread over the packet, not stuck at one position.
    std::set<int> distinct(flipped_bits.begin(), flipped_bits.end());
    EXPECT_GT(distinct.size(), 300u);
    EXPECT_GE(*distinct.begin(), 0);
    EXPECT_LT(*distinct.rbegin(), 800);
}

TEST(SimLinkTest, CorruptionRateAndOnlyOneBitPerDamagedPacket) {
    FaultConfig c;
    c.corrupt = 0.02;
    c.seed = 11;
    SimLink link(c);
    constexpr std::uint32_t kN = 20000;
    auto got = run(link, kN);
    ASSERT_EQ(got.size(), kN);
    std::uint64_t damaged = 0;
    for (const Arrival& a : got) {
        if (intact(a.bytes)) continue;
        ++damaged;
    }
    EXPECT_EQ(damaged, link.counters(0).corrupted);
    expect_rate(damaged, kN, 0.02, "corruption");
}

TEST(SimLinkTest, ReorderingLetsLaterPacketsOvertake) {
    FaultConfig c;
    c.reorder = 0.2;
    c.reorder_delay = Duration::millis(1);
    c.seed = 5;
    SimLink link(c);
    auto got = run(link, 200, Duration::micros(100));
    ASSERT_EQ(got.size(), 200u);  // nothing lost: the same packets, in another order
    std::vector<std::uint32_t> seqs;
    for (const Arrival& a : got) seqs.push_back(stack::load_be32(a.bytes.data()));
    EXPECT_FALSE(std::is_sorted(seqs.begin(), seqs.end()));
    std::vector<std::uint32_t> sorted = seqs;
    std::sort(sorted.begin(), sorted.end());
    for (std::uint32_t i = 0; i < 200; ++i) ASSERT_EQ(sorted[i], i);
    EXPECT_GT(link.counters(0).reordered, 0u);
}

TEST(SimLinkTest, JitterAloneNeverReorders) {
    FaultConfig c;
    c.delay = Duration::millis(1);
    c.jitter = Duration::millis(5);
    c.seed = 9;
    SimLink link(c);
    auto got = run(link, 2000, Duration::micros(50));
    ASSERT_EQ(got.size(), 2000u);
    Instant prev;
    for (std::uint32_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(stack::load_be32(got[i].bytes.data()), i);
        ASSERT_GE(got[i].at, prev);
        prev = got[i].at;
    }
}

TEST(SimLinkTest, CapacityOverflowIsDroppedAndCounted) {
    FaultConfig c;
    c.delay = Duration::millis(1);
    c.capacity = 10;
    SimLink link(c);
    for (std::uint32_t i = 0; i < 25; ++i) EXPECT_TRUE(link.side(0).transmit(make_packet(i)));
    EXPECT_EQ(link.in_flight(), 10u);
    EXPECT_EQ(link.counters(0).overflowed, 15u);
    std::vector<std::uint32_t> seqs;
    link.deliver(Instant::from_millis(1), 1,
                 [&](stack::Bytes p) { seqs.push_back(stack::load_be32(p.data())); });
    EXPECT_EQ(seqs, (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_EQ(link.counters(0).delivered, 10u);
}

TEST(SimLinkTest, AnsweringInsideDeliverIsBoundedToOneStep) {
    SimLink link(FaultConfig{});  // zero delay: an answer is due immediately
    auto pkt = make_packet(0);
    ASSERT_TRUE(link.side(0).transmit(pkt));
    // Endless ping-pong: side 1 echoes to side 0, side 0 sends it back. Each deliver() call must
    // move it by exactly one hop.
    int hops = 0;
    for (int step = 0; step < 10; ++step) {
        EXPECT_EQ(link.deliver(Instant{}, 1,
                               [&](stack::Bytes p) {
                                   ++hops;
                                   link.side(1).transmit(p);
                               }),
                  1u);
        EXPECT_EQ(link.deliver(Instant{}, 0,
                               [&](stack::Bytes p) {
                                   ++hops;
                                   link.side(0).transmit(p);
                               }),
                  1u);
    }
    EXPECT_EQ(hops, 20);
    // A packet sent in the same direction as the one being delivered waits for the next call.
    EXPECT_EQ(link.deliver(Instant{}, 1, [&](stack::Bytes p) { link.side(0).transmit(p); }), 1u);
    EXPECT_EQ(link.in_flight(), 1u);
}

TEST(SimLinkTest, TimeNeverGoesBackwards) {
    FaultConfig c;
    c.delay = Duration::millis(2);
    SimLink link(c);
    link.set_now(Instant::from_millis(5));
    link.set_now(Instant::from_millis(1));
    EXPECT_EQ(link.now(), Instant::from_millis(5));
    ASSERT_TRUE(link.side(0).transmit(make_packet(0)));
    EXPECT_EQ(link.next_delivery(), Instant::from_millis(7));
}

// A TCP super-packet (from a stack with TSO) crosses the link as the segments a TSO device cuts it
// into; each segment meets its own faults.
TEST(SimLinkTest, SuperPacketTravelsAsItsSegments) {
    const auto sp = stack::testing::make_super_packet({.payload = 10 * 1000 + 5, .mss = 1000});
    std::vector<std::vector<std::uint8_t>> expected;
    std::vector<std::uint8_t> scratch(65536);
    drivers::segment_tcp4(sp.bytes, sp.gso, stack::MutBytes(scratch),
                          [&](stack::Bytes b) { expected.emplace_back(b.begin(), b.end()); });
    ASSERT_EQ(expected.size(), 11u);
    {
        SimLink link(FaultConfig{});
        EXPECT_TRUE(link.side(0).transmit_gso(sp.bytes, sp.gso));
        std::vector<std::vector<std::uint8_t>> got;
        link.deliver(Instant{}, 1, [&](stack::Bytes b) { got.emplace_back(b.begin(), b.end()); });
        EXPECT_EQ(got, expected);
        EXPECT_EQ(link.counters(0).packets, 11u);
    }
    {
        FaultConfig f;
        f.loss = 0.5;
        f.seed = 3;
        SimLink link(f);
        EXPECT_TRUE(link.side(1).transmit_gso(sp.bytes, sp.gso));
        std::vector<std::vector<std::uint8_t>> got;
        link.deliver(Instant{}, 0, [&](stack::Bytes b) { got.emplace_back(b.begin(), b.end()); });
        EXPECT_EQ(got.size() + link.counters(1).dropped, 11u);
        EXPECT_GT(got.size(), 0u);
        EXPECT_LT(got.size(), 11u);
        for (const auto& g : got) {
            EXPECT_NE(std::find(expected.begin(), expected.end(), g), expected.end());
        }
    }
}

}  // namespace
