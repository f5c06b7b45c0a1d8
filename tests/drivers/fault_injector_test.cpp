// FaultConfig::parse (a CLI contract), FaultInjector determinism and FaultyDevice around a sink.
#include "drivers/fault_injector.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "drivers/gso.hpp"
#include "stack/base/checksum.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "tests/support/super_packet.hpp"

namespace {

using drivers::ErrorKind;
using drivers::FaultConfig;
using drivers::FaultInjector;
using drivers::FaultPlan;
using drivers::FaultyDevice;
using stack::Duration;
using stack::Instant;

struct CaptureSink : stack::PacketSink {
    std::vector<std::vector<std::uint8_t>> packets;
    std::vector<stack::GsoInfo> gso;  // per packet; gso_size 0 for a plain one
    bool full = false;
    bool transmit(stack::Bytes p) override { return transmit_gso(p, stack::GsoInfo{}); }
    bool transmit_gso(stack::Bytes p, const stack::GsoInfo& g) override {
        if (full) return false;
        packets.emplace_back(p.begin(), p.end());
        gso.push_back(g);
        return true;
    }
};

// A TCP/IPv4 super-packet with a partial checksum: 3 segments of 100 bytes.
std::vector<std::uint8_t> super_packet(stack::GsoInfo& g) {
    auto s = stack::testing::make_super_packet({.payload = 300, .mss = 100, .timestamps = false});
    g = s.gso;
    return s.bytes;
}

TEST(FaultInjectorTest, ParseAcceptsTheCliExample) {
    auto r = FaultConfig::parse("loss=3%,dup=1%,reorder=5%,delay=10ms,corrupt=0.1%,seed=42");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_DOUBLE_EQ(r->loss, 0.03);
    EXPECT_DOUBLE_EQ(r->duplicate, 0.01);
    EXPECT_DOUBLE_EQ(r->reorder, 0.05);
    EXPECT_DOUBLE_EQ(r->corrupt, 0.001);
    EXPECT_EQ(r->delay, Duration::millis(10));
    EXPECT_EQ(r->seed, 42u);
    // Untouched keys keep their defaults.
    EXPECT_EQ(r->jitter, Duration::zero());
    EXPECT_EQ(r->capacity, FaultConfig{}.capacity);
}

TEST(FaultInjectorTest, ParseAcceptsEveryKeyAndSpelling) {
    auto r = FaultConfig::parse(
        " loss=0 , duplicate=100%,reorder=0.5%,corrupt=0%,delay=1.5ms,jitter=250us,"
        "reorder_delay=2s,capacity=64,seed=18446744073709551615");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->loss, 0.0);
    EXPECT_EQ(r->duplicate, 1.0);
    EXPECT_EQ(r->delay, Duration::micros(1500));
    EXPECT_EQ(r->jitter, Duration::micros(250));
    EXPECT_EQ(r->reorder_delay, Duration::seconds(2));
    EXPECT_EQ(r->capacity, 64u);
    EXPECT_EQ(r->seed, UINT64_MAX);
    auto empty = FaultConfig::parse("");
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(empty->loss, 0.0);
}

TEST(FaultInjectorTest, ParseRejectsBadInputNamingTheProblem) {
    struct Case {
        const char* spec;
        const char* must_mention;
    };
    const Case cases[] = {
        {"loss=3", "'3' for loss"},
        {"loss=abc%", "'abc%' for loss"},
        {"loss=150%", "between 0% and 100%"},
        {"loss=-1%", "'-1%' for loss"},
        {"los=3%", "unknown key 'los'"},
        {"loss", "missing '=' in 'loss'"},
        {"loss=3%,,dup=1%", "empty item"},
        {"loss=3%,", "empty item"},
        {"delay=10", "'10' for delay"},
        {"delay=10m", "'10m' for delay"},
        {"jitter=ms", "'ms' for jitter"},
        {"seed=-1", "'-1' for seed"},
        {"seed=12x", "'12x' for seed"},
        {"capacity=0", "'0' for capacity"},
        {"loss=1%,loss=2%", "'loss' given twice"},
        {"dup=1%,duplicate=2%", "given twice"},
        {"corrupt=", "'' for corrupt"},
    };
    for (const Case& c : cases) {
        auto r = FaultConfig::parse(c.spec);
        ASSERT_FALSE(r.ok()) << c.spec;
        EXPECT_EQ(r.error().kind, ErrorKind::Invalid);
        EXPECT_NE(r.error().message.find(c.must_mention), std::string::npos)
            << c.spec << " -> " << r.error().message;
    }
}

TEST(FaultInjectorTest, ToStringParsesBackToTheSameConfig) {
    auto a =
        FaultConfig::parse("loss=3%,dup=1%,reorder=5%,delay=10ms,corrupt=0.1%,seed=9,capacity=7");
    ASSERT_TRUE(a.ok());
    auto b = FaultConfig::parse(a->to_string());
    ASSERT_TRUE(b.ok()) << a->to_string() << ": " << b.error().message;
    EXPECT_DOUBLE_EQ(b->loss, a->loss);
    EXPECT_DOUBLE_EQ(b->duplicate, a->duplicate);
    EXPECT_DOUBLE_EQ(b->reorder, a->reorder);
    EXPECT_DOUBLE_EQ(b->corrupt, a->corrupt);
    EXPECT_EQ(b->delay, a->delay);
    EXPECT_EQ(b->reorder_delay, a->reorder_delay);
    EXPECT_EQ(b->capacity, a->capacity);
    EXPECT_EQ(b->seed, a->seed);
}

TEST(FaultInjectorTest, DecisionsDependOnlyOnSeedAndPosition) {
    FaultConfig c;
    c.loss = 0.1;
    c.duplicate = 0.1;
    c.reorder = 0.1;
    c.corrupt = 0.1;
    c.jitter = Duration::millis(3);
    c.seed = 1234;
    FaultInjector a(c);
    FaultInjector b(c);
    c.seed = 1235;
    FaultInjector other(c);
    int differences = 0;
    for (int i = 0; i < 1000; ++i) {
        FaultPlan pa = a.decide(100);
        FaultPlan pb = b.decide(100);
        FaultPlan po = other.decide(100);
        ASSERT_EQ(pa.copies, pb.copies);
        for (std::size_t k = 0; k < pa.copies; ++k) {
            ASSERT_EQ(pa.copy[k].delay, pb.copy[k].delay);
            ASSERT_EQ(pa.copy[k].flip_bit, pb.copy[k].flip_bit);
            ASSERT_EQ(pa.copy[k].in_order, pb.copy[k].in_order);
            ASSERT_LE(pa.copy[k].delay, Duration::millis(3) + c.reorder_delay);
            if (pa.copy[k].flip_bit != FaultPlan::kNoFlip) {
                ASSERT_LT(pa.copy[k].flip_bit, 800u);
            }
        }
        if (pa.copies != po.copies || pa.copy[0].delay != po.copy[0].delay) ++differences;
    }
    EXPECT_GT(differences, 100);
    EXPECT_EQ(a.counters().packets, 1000u);
}

TEST(FaultInjectorTest, FaultyDeviceWithoutFaultsIsTransparentAndKeepsBackpressure) {
    CaptureSink sink;
    FaultyDevice dev(sink, FaultConfig{}, FaultConfig{});
    std::vector<std::uint8_t> p{1, 2, 3};
    EXPECT_TRUE(dev.transmit(p));
    sink.full = true;
    EXPECT_FALSE(dev.transmit(p));  // the inner sink's "full" reaches the caller
    sink.full = false;
    ASSERT_EQ(sink.packets.size(), 1u);
    EXPECT_EQ(sink.packets[0], p);

    std::vector<std::vector<std::uint8_t>> got;
    dev.receive(Instant{}, p, [&](stack::Bytes b) { got.emplace_back(b.begin(), b.end()); });
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], p);
    EXPECT_EQ(dev.next_due(), Instant::never());
}

TEST(FaultInjectorTest, FaultyDeviceDelaysBothDirectionsUntilPolled) {
    CaptureSink sink;
    FaultConfig tx;
    tx.delay = Duration::millis(4);
    FaultConfig rx;
    rx.delay = Duration::millis(2);
    rx.duplicate = 1.0;
    FaultyDevice dev(sink, tx, rx);
    dev.set_now(Instant::from_millis(10));
    std::vector<std::uint8_t> out{0xaa};
    std::vector<std::uint8_t> in{0xbb};
    EXPECT_TRUE(dev.transmit(out));
    EXPECT_TRUE(sink.packets.empty());
    std::vector<std::vector<std::uint8_t>> got;
    auto deliver = [&](stack::Bytes b) { got.emplace_back(b.begin(), b.end()); };
    dev.receive(Instant::from_millis(11), in, deliver);
    EXPECT_TRUE(got.empty());
    EXPECT_EQ(dev.next_due(), Instant::from_millis(13));
    dev.poll(Instant::from_millis(13), deliver);
    EXPECT_EQ(got.size(), 2u);  // duplicated
    EXPECT_TRUE(sink.packets.empty());
    EXPECT_EQ(dev.next_due(), Instant::from_millis(14));
    dev.poll(Instant::from_millis(14), deliver);
    ASSERT_EQ(sink.packets.size(), 1u);
    EXPECT_EQ(sink.packets[0], out);
    EXPECT_EQ(dev.next_due(), Instant::never());
    EXPECT_EQ(dev.tx_counters().delivered, 1u);
    EXPECT_EQ(dev.rx_counters().duplicated, 1u);
    EXPECT_EQ(dev.rx_counters().delivered, 2u);
}

TEST(FaultInjectorTest, FaultyDeviceCountsWhatTheInnerSinkRefusesAfterADelay) {
    CaptureSink sink;
    FaultConfig tx;
    tx.delay = Duration::millis(1);
    FaultyDevice dev(sink, tx, FaultConfig{});
    std::vector<std::uint8_t> p{7};
    EXPECT_TRUE(dev.transmit(p));
    sink.full = true;
    dev.poll(Instant::from_millis(1), [](stack::Bytes) {});
    EXPECT_EQ(dev.inner_refused(), 1u);
}

TEST(FaultInjectorTest, FaultyDeviceDropsAtTheConfiguredRate) {
    CaptureSink sink;
    auto tx = FaultConfig::parse("loss=25%,seed=77");
    ASSERT_TRUE(tx.ok());
    FaultyDevice dev(sink, *tx, FaultConfig{});
    std::vector<std::uint8_t> p(20, 0);
    for (int i = 0; i < 4000; ++i) EXPECT_TRUE(dev.transmit(p));
    EXPECT_EQ(sink.packets.size() + dev.tx_counters().dropped, 4000u);
    // 6 standard deviations of Binomial(4000, 0.25) is about 164.
    EXPECT_NEAR(static_cast<double>(dev.tx_counters().dropped), 1000.0, 170.0);
}

TEST(FaultInjectorTest, ASuperPacketIsDelayedDuplicatedAndDroppedWholeWithItsGsoInfo) {
    stack::GsoInfo g;
    const std::vector<std::uint8_t> p = super_packet(g);
    {
        CaptureSink sink;
        FaultConfig tx;
        tx.duplicate = 1.0;
        tx.delay = Duration::millis(3);
        FaultyDevice dev(sink, tx, FaultConfig{});
        EXPECT_TRUE(dev.transmit_gso(p, g));
        EXPECT_TRUE(sink.packets.empty());
        dev.poll(Instant::from_millis(3), [](stack::Bytes) {});
        ASSERT_EQ(sink.packets.size(), 2u);  // one packet to the injector, duplicated whole
        for (std::size_t i = 0; i < 2; ++i) {
            EXPECT_EQ(sink.packets[i], p);
            EXPECT_EQ(sink.gso[i].gso_size, 100u);
            EXPECT_EQ(sink.gso[i].segments, 3u);
            EXPECT_TRUE(sink.gso[i].csum_partial);
        }
        EXPECT_EQ(dev.tx_counters().packets, 1u);
    }
    {
        CaptureSink sink;
        FaultConfig tx;
        tx.loss = 1.0;
        FaultyDevice dev(sink, tx, FaultConfig{});
        EXPECT_TRUE(dev.transmit_gso(p, g));
        EXPECT_TRUE(sink.packets.empty());
        EXPECT_EQ(dev.tx_counters().dropped, 1u);
    }
    {
        CaptureSink sink;  // no faults: straight through, backpressure kept
        FaultyDevice dev(sink, FaultConfig{}, FaultConfig{});
        sink.full = true;
        EXPECT_FALSE(dev.transmit_gso(p, g));
        sink.full = false;
        EXPECT_TRUE(dev.transmit_gso(p, g));
        ASSERT_EQ(sink.gso.size(), 1u);
        EXPECT_EQ(sink.gso[0].gso_size, 100u);
    }
}

// A corrupted super-packet must stay detectable: its partial checksum (which a receiver trusts) is
// completed before the bit flips, and it goes on marked not partial.
TEST(FaultInjectorTest, CorruptingASuperPacketCompletesItsPartialChecksumFirst) {
    stack::GsoInfo g;
    const std::vector<std::uint8_t> p = super_packet(g);
    std::vector<std::uint8_t> completed = p;
    ASSERT_TRUE(drivers::complete_partial_checksum(stack::MutBytes(completed), 20, 16));
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        SCOPED_TRACE(seed);
        CaptureSink sink;
        FaultConfig tx;
        tx.corrupt = 1.0;
        tx.seed = seed;
        FaultyDevice dev(sink, tx, FaultConfig{});
        EXPECT_TRUE(dev.transmit_gso(p, g));
        ASSERT_EQ(sink.packets.size(), 1u);
        EXPECT_FALSE(sink.gso[0].csum_partial);
        // Exactly one bit differs from the completed packet, and a receiver sees it: the IPv4
        // header or the TCP checksum fails.
        int bits = 0;
        for (std::size_t i = 0; i < p.size(); ++i) {
            bits += __builtin_popcount(static_cast<unsigned>(sink.packets[0][i] ^ completed[i]));
        }
        EXPECT_EQ(bits, 1);
        auto ip = stack::wire::Ipv4Packet::parse(sink.packets[0]);
        const bool tcp_ok =
            ip.ok() && stack::wire::TcpPacket::parse(ip->payload(), ip->src(), ip->dst()).ok();
        EXPECT_FALSE(ip.ok() && tcp_ok);
    }
}

}  // namespace
