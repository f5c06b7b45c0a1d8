// Reassembly resources (RFC 791 §3.2 timer, RFC 1122 §3.3.2 "MUST be able to reassemble", RFC 4963 /
// RFC 8900 on fragment floods): incomplete datagrams expire exactly at their deadline, memory and datagram
// count are capped, eviction takes the datagram nearest its deadline so fresh datagrams still complete,
// and the gauges always tell the truth.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "stack/stack.hpp"
#include "tests/support/ip_packets.hpp"

namespace stack::testing {
namespace {

Packet ping_of(std::size_t n, std::uint16_t ip_ident, std::uint32_t seed = 1,
               wire::Ipv4Address src = kPeerAddr) {
    return echo_request(pattern(n, seed), 0x99, static_cast<std::uint16_t>(seed), src, kOurAddr,
                        ip_ident);
}

void expect_gauges_zero(const Stack& stack) {
    EXPECT_EQ(stat(stack, "ip.reasm_datagrams_in_flight"), 0u);
    EXPECT_EQ(stat(stack, "ip.reasm_bytes_in_use"), 0u);
    EXPECT_EQ(stack.poll_at(), Instant::never());
}

// RFC 791: the reassembly timer starts with the first fragment; Linux and we use a fixed 30 s. The
// datagram is discarded exactly at first + timeout, not a microsecond earlier.
TEST(ReassemblyTimeout, IncompleteDatagramExpiresExactlyAtFirstFragmentPlusTimeout) {
    Stack stack(default_config());
    const Packet w = ping_of(100, 1);
    const Instant first = at_ms(5);
    const Instant deadline = first + Duration::seconds(30);
    EXPECT_EQ(stack.poll_at(), Instant::never());
    exchange(stack, first, fragment_of(w, 0, 48, false));
    EXPECT_EQ(stack.poll_at(), deadline);
    // A later fragment does not extend the deadline.
    exchange(stack, first + Duration::seconds(10), fragment_of(w, 48, 96, false));
    EXPECT_EQ(stack.poll_at(), deadline);

    CaptureSink sink;
    stack.poll(deadline - Duration::micros(1), sink);
    EXPECT_EQ(stat(stack, "ip.reasm_datagrams_in_flight"), 1u);
    EXPECT_GT(stat(stack, "ip.reasm_bytes_in_use"), 0u);
    EXPECT_EQ(stat(stack, "ip.drop.frag_timeout"), 0u);

    stack.poll(deadline, sink);
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_timeout", 1}}));
    expect_gauges_zero(stack);
    EXPECT_TRUE(sink.packets.empty());  // RFC 792 time exceeded is optional; we send none
}

TEST(ReassemblyTimeout, ConfiguredTimeoutIsHonouredPerDatagram) {
    StackConfig c = default_config();
    c.reassembly.timeout = Duration::millis(1500);
    Stack stack(c);
    exchange(stack, at_ms(0), fragment_of(ping_of(100, 1), 0, 48, false));
    exchange(stack, at_ms(700), fragment_of(ping_of(100, 2), 0, 48, false));
    EXPECT_EQ(stack.poll_at(), at_ms(1500));
    CaptureSink sink;
    stack.poll(at_ms(1500), sink);
    EXPECT_EQ(stat(stack, "ip.drop.frag_timeout"), 1u);
    EXPECT_EQ(stat(stack, "ip.reasm_datagrams_in_flight"), 1u);
    EXPECT_EQ(stack.poll_at(), at_ms(2200));
    stack.poll(at_ms(2199), sink);
    EXPECT_EQ(stat(stack, "ip.drop.frag_timeout"), 1u);
    stack.poll(at_ms(2200), sink);
    EXPECT_EQ(stat(stack, "ip.drop.frag_timeout"), 2u);
    expect_gauges_zero(stack);
}

// The remaining fragments arriving just in time complete the datagram; a datagram completed before its
// deadline leaves no timer behind.
TEST(ReassemblyTimeout, CompletingJustBeforeTheDeadlineWorks) {
    Stack stack(default_config());
    const Packet w = ping_of(100, 1);
    exchange(stack, Instant{}, fragment_of(w, 0, 48, false));
    const Instant late = Instant{} + Duration::seconds(30) - Duration::micros(1);
    EXPECT_EQ(echo_reply_data(exchange(stack, late, fragment_of(w, 48, 108, true))),
              pattern(100, 1));
    expect_gauges_zero(stack);
}

// The event loop may ingress a batch of packets read at or after a deadline before it calls poll(). A
// fragment processed at `now >= deadline` must not complete the expired datagram: at that instant the
// RFC 791 timer has run out and its resources are released.
TEST(ReassemblyTimeout, FragmentArrivingAtTheDeadlineDoesNotCompleteTheExpiredDatagram) {
    Stack stack(default_config());
    const Packet w = ping_of(100, 1);
    stack.ingress(Instant{}, fragment_of(w, 0, 48, false));
    const Instant deadline = Instant{} + Duration::seconds(30);
    stack.ingress(deadline, fragment_of(w, 48, 108, true));  // no poll() in between
    CaptureSink sink;
    stack.poll(deadline, sink);
    EXPECT_TRUE(sink.packets.empty()) << "a datagram whose reassembly timer ran out was delivered";
    EXPECT_EQ(stat(stack, "ip.drop.frag_timeout"), 1u);
    EXPECT_EQ(stat(stack, "ip.reasm_ok"), 0u);
}

// Datagram cap: the (max_datagrams + 1)th datagram evicts the one nearest its deadline (the oldest).
TEST(ReassemblyLimits, DatagramCapEvictsTheOneNearestItsDeadline) {
    StackConfig c = default_config();
    c.reassembly.max_datagrams = 4;
    Stack stack(c);
    for (std::uint16_t id = 1; id <= 4; ++id) {
        exchange(stack, at_ms(id), fragment_of(ping_of(100, id, id), 0, 48, false));
    }
    EXPECT_EQ(stat(stack, "ip.reasm_datagrams_in_flight"), 4u);
    EXPECT_EQ(stack.poll_at(), at_ms(1) + Duration::seconds(30));
    exchange(stack, at_ms(5), fragment_of(ping_of(100, 5, 5), 0, 48, false));
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_evicted", 1}}));
    EXPECT_EQ(stat(stack, "ip.reasm_datagrams_in_flight"), 4u);
    EXPECT_EQ(stack.poll_at(), at_ms(2) + Duration::seconds(30));
    // ID 2..5 are still there and complete; ID 1 was the victim.
    for (std::uint16_t id = 2; id <= 5; ++id) {
        EXPECT_EQ(echo_reply_data(
                      exchange(stack, at_ms(6), fragment_of(ping_of(100, id, id), 48, 108, true))),
                  pattern(100, id))
            << id;
    }
    EXPECT_EQ(stat(stack, "ip.reasm_ok"), 4u);
    EXPECT_TRUE(exchange(stack, at_ms(7), fragment_of(ping_of(100, 1, 1), 48, 108, true)).empty());
    // A whole fragmented datagram arriving afterwards still completes, evicting as needed.
    for (std::uint16_t id = 10; id < 14; ++id)
        exchange(stack, at_ms(8), fragment_of(ping_of(100, id, id), 0, 48, false));
    auto frags = fragments(ping_of(3000, 99, 99), 1000);
    std::vector<Packet> out;
    for (auto& f : frags) out = exchange(stack, at_ms(9), f);
    EXPECT_EQ(echo_reply_data(out), pattern(3000, 99));
    EXPECT_LE(stat(stack, "ip.reasm_datagrams_in_flight"), 4u);
}

// Byte cap: growth that would exceed max_bytes evicts the datagram nearest its deadline first.
TEST(ReassemblyLimits, ByteCapEvictsNearestDeadlineAndFreshDatagramCompletes) {
    StackConfig c = default_config();
    c.reassembly.max_bytes = 4096;
    Stack stack(c);
    exchange(stack, at_ms(1), fragment_of(ping_of(3000, 1, 1), 0, 1480, false));
    exchange(stack, at_ms(2), fragment_of(ping_of(3000, 2, 2), 0, 1480, false));
    EXPECT_EQ(stat(stack, "ip.reasm_datagrams_in_flight"), 2u);
    EXPECT_EQ(stat(stack, "ip.drop.frag_evicted"), 0u);
    exchange(stack, at_ms(3), fragment_of(ping_of(3000, 3, 3), 0, 1480, false));
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_evicted", 1}}));
    EXPECT_LE(stat(stack, "ip.reasm_bytes_in_use"), 4096u);
    EXPECT_EQ(stack.poll_at(),
              at_ms(2) + Duration::seconds(30));  // ID 1, the oldest, was the victim

    // A fresh 2000-byte datagram completes despite the full budget.
    auto frags = fragments(ping_of(2000, 7, 7), 1480);
    std::vector<Packet> out;
    for (auto& f : frags) {
        out = exchange(stack, at_ms(4), f);
        EXPECT_LE(stat(stack, "ip.reasm_bytes_in_use"), 4096u);
    }
    EXPECT_EQ(echo_reply_data(out), pattern(2000, 7));
}

// A fragment that alone exceeds the budget is refused (frag_no_memory); small datagrams still reassemble.
TEST(ReassemblyLimits, FragmentLargerThanTheWholeBudgetIsNoMemory) {
    StackConfig c = default_config();
    c.reassembly.max_bytes = 1024;
    Stack stack(c);
    EXPECT_TRUE(exchange(stack, Instant{}, fragment_of(ping_of(3000, 1), 0, 1480, false)).empty());
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_no_memory", 1}}));
    expect_gauges_zero(stack);
    auto frags = fragments(ping_of(200, 2, 2), 104);
    std::vector<Packet> out;
    for (auto& f : frags) out = exchange(stack, Instant{}, f);
    EXPECT_EQ(echo_reply_data(out), pattern(200, 2));
}

// Eviction exists to make room; when no amount of eviction can make room for a fragment, evicting the
// datagrams in progress gains nothing and lets one oversized fragment flush every legitimate datagram.
TEST(ReassemblyLimits, HopelessFragmentDoesNotEvictDatagramsInProgress) {
    StackConfig c = default_config();
    c.reassembly.max_bytes = 1024;
    Stack stack(c);
    const Packet small = ping_of(200, 2, 2);
    exchange(stack, Instant{}, fragment_of(small, 0, 104, false));
    EXPECT_EQ(stat(stack, "ip.reasm_datagrams_in_flight"), 1u);
    EXPECT_TRUE(exchange(stack, at_ms(1), fragment_of(ping_of(3000, 1), 0, 1480, false)).empty());
    EXPECT_EQ(stat(stack, "ip.drop.frag_no_memory"), 1u);
    EXPECT_EQ(stat(stack, "ip.drop.frag_evicted"), 0u) << "evicted a datagram without making room";
    EXPECT_EQ(echo_reply_data(exchange(stack, at_ms(2), fragment_of(small, 104, 208, true))),
              pattern(200, 2));
}

// RFC 8900 §3.7 / RFC 4963: a flood of incomplete datagrams must not exhaust memory nor lock out a
// legitimate datagram. 10,000 distinct first fragments, one per millisecond from two sources.
TEST(ReassemblyLimits, FloodOfTenThousandIncompleteDatagramsStaysWithinBudget) {
    StackConfig c = default_config();
    c.reassembly.max_bytes = 64 * 1024;
    c.reassembly.max_datagrams = 256;
    Stack stack(c);
    std::mt19937 rng(31337);
    Instant now;
    std::uint64_t max_seen = 0;
    std::size_t completed = 0;
    for (int i = 0; i < 10'000; ++i) {
        now += Duration::millis(1);
        const auto src = (i % 2 == 0) ? kPeerAddr : kOtherPeer;
        const auto id = static_cast<std::uint16_t>(i / 2);
        const std::size_t len = 8 * (1 + rng() % 185);
        wire::Ipv4Repr ip = ip_header(src, kOurAddr, 1, id);
        ip.more_frags = true;
        ip.frag_offset = static_cast<std::uint32_t>(8 * (rng() % 64));
        stack.ingress(now, ipv4_packet(ip, pattern(len, static_cast<std::uint32_t>(i))));
        const std::uint64_t in_use = stat(stack, "ip.reasm_bytes_in_use");
        max_seen = std::max(max_seen, in_use);
        ASSERT_LE(in_use, c.reassembly.max_bytes) << "at fragment " << i;
        ASSERT_LE(stat(stack, "ip.reasm_datagrams_in_flight"), c.reassembly.max_datagrams);
        if (i % 1000 == 500) {  // a legitimate fragmented ping gets through the flood
            auto frags = fragments(ping_of(3000, static_cast<std::uint16_t>(60000 + i), 3), 1480);
            std::vector<Packet> out;
            for (auto& f : frags) out = exchange(stack, now, f);
            EXPECT_EQ(echo_reply_data(out), pattern(3000, 3)) << "at fragment " << i;
            ++completed;
        }
        CaptureSink sink;
        stack.poll(now, sink);
    }
    EXPECT_EQ(completed, 10u);
    EXPECT_GT(max_seen, c.reassembly.max_bytes / 2);  // the cap was actually exercised
    EXPECT_GT(stat(stack, "ip.drop.frag_evicted"), 9'000u);
    CaptureSink sink;
    stack.poll(now + Duration::seconds(30), sink);
    expect_gauges_zero(stack);
    const std::uint64_t gone = stat(stack, "ip.drop.frag_evicted") +
                               stat(stack, "ip.drop.frag_timeout") +
                               stat(stack, "ip.drop.frag_no_memory");
    EXPECT_EQ(gone, 10'000u);  // every flood datagram left exactly once, by one reason
}

// Reassembly is keyed by (src, dst, protocol, ID) (RFC 791 §3.2): interleaved datagrams do not mix.
TEST(ReassemblyLimits, InterleavedDatagramsWithDifferentIdsBothComplete) {
    Stack stack(default_config());
    auto a = fragments(ping_of(3000, 1, 1), 800);
    auto b = fragments(ping_of(1500, 2, 2), 800);
    std::vector<Packet> replies;
    for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        for (auto* set : {&a, &b}) {
            if (i < set->size()) {
                auto out = exchange(stack, Instant{}, (*set)[i]);
                if (!out.empty()) replies.push_back(echo_reply_data(out).value_or(Packet{}));
            }
        }
    }
    ASSERT_EQ(replies.size(), 2u);
    EXPECT_EQ(replies[0], pattern(1500, 2));  // b has fewer fragments, finishes first
    EXPECT_EQ(replies[1], pattern(3000, 1));
    EXPECT_TRUE(drops(stack.stats()).empty());
}

TEST(ReassemblyLimits, SameIdFromDifferentSourcesBothComplete) {
    Stack stack(default_config());
    auto a = fragments(ping_of(2000, 7, 1, kPeerAddr), 512);
    auto b = fragments(ping_of(2000, 7, 2, kOtherPeer), 512);
    std::vector<std::vector<Packet>> outs;
    for (std::size_t i = 0; i < a.size(); ++i) {
        for (auto* set : {&b, &a}) {
            auto out = exchange(stack, Instant{}, (*set)[i]);
            if (!out.empty()) outs.push_back(out);
        }
    }
    ASSERT_EQ(outs.size(), 2u);
    EXPECT_EQ(parse_ip(outs[0][0]).dst(), kOtherPeer);
    EXPECT_EQ(echo_reply_data(outs[0]), pattern(2000, 2));
    EXPECT_EQ(parse_ip(outs[1][0]).dst(), kPeerAddr);
    EXPECT_EQ(echo_reply_data(outs[1]), pattern(2000, 1));
    EXPECT_TRUE(drops(stack.stats()).empty());
}

TEST(ReassemblyLimits, SameIdDifferentProtocolsDoNotMix) {
    Stack stack(default_config());
    auto icmp = fragments(ping_of(1000, 9, 1), 504);
    auto udp = fragments(udp_packet(pattern(1000, 5), 9, kPeerAddr, kOurAddr, 9), 504);
    exchange(stack, Instant{}, icmp[0]);
    exchange(stack, Instant{}, udp[0]);
    auto r1 = exchange(stack, Instant{}, udp[1]);
    auto r2 = exchange(stack, Instant{}, icmp[1]);
    ASSERT_EQ(r1.size(), 1u);
    EXPECT_EQ(parse_ip(r1[0]).protocol(), 1);  // port unreachable about the UDP datagram
    EXPECT_EQ(echo_reply_data(r2), pattern(1000, 1));
    EXPECT_EQ(stat(stack, "ip.reasm_ok"), 2u);
}

}  // namespace
}  // namespace stack::testing
