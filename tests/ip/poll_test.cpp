// Stack::poll and the TX queue: output leaves in order, a refusing sink keeps the rest queued for the next
// poll, a full queue drops whole datagrams only; and the stack is deterministic given its seed
// (DESIGN.md §3.2-3.3: time and randomness are injected, state lives in the instance).
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "stack/ip/tx_queue.hpp"
#include "stack/stack.hpp"
#include "tests/support/ip_packets.hpp"

namespace stack::testing {
namespace {

std::uint16_t echo_seq_of(const Packet& p) {
    auto icmp = wire::Icmpv4Packet::parse(parse_ip(p).payload());
    EXPECT_TRUE(icmp.ok());
    return icmp.ok() ? icmp->echo_seq() : 0xffff;
}

TEST(TxQueue, FramesComeOutInOrderAcrossWrapAround) {
    ip::TxQueue q(3, 64);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.free_frames(), 3u);
    std::uint8_t next = 0;
    std::uint8_t expect = 0;
    for (int round = 0; round < 10; ++round) {
        while (q.free_frames() > 0) {
            MutBytes f = q.acquire();
            ASSERT_EQ(f.size(), 64u);
            f[0] = next;
            q.commit(1 + next % 64);
            ++next;
        }
        for (int k = 0; k < 2; ++k) {  // pop two of three: the ring wraps at a different place
            Bytes b = q.front();
            EXPECT_EQ(b[0], expect);
            EXPECT_EQ(b.size(), 1u + expect % 64);
            q.pop();
            ++expect;
        }
    }
    EXPECT_EQ(q.size(), 1u);
}

// TSO: super-packets take large frames from their own pool but share the one ring, so plain packets
// and super-packets leave in the order they were queued; a large frame is free again once its packet
// left, and no more super-packets than large frames are queued at once.
TEST(TxQueue, LargeFramesKeepOrderWithSmallOnesAcrossWrapAround) {
    ip::TxQueue q(5, 64, 2, 1000);
    EXPECT_EQ(q.large_frame_size(), 1000u);
    std::uint8_t next = 0;
    std::uint8_t expect = 0;
    for (int round = 0; round < 20; ++round) {
        // Fill: every other packet is a super-packet while large frames last.
        while (q.free_frames() > 0) {
            const bool large = next % 2 == 1 && q.can_acquire_large();
            if (large) {
                MutBytes f = q.acquire_large();
                ASSERT_EQ(f.size(), 1000u);
                f[0] = next;
                GsoInfo g;
                g.gso_size = next;
                q.commit_large(900, g);
            } else {
                MutBytes f = q.acquire();
                f[0] = next;
                q.commit(10);
            }
            ++next;
        }
        EXPECT_FALSE(q.can_acquire_large());
        for (int k = 0; k < 3; ++k) {
            Bytes b = q.front();
            const GsoInfo* g = q.front_gso();
            EXPECT_EQ(b[0], expect);
            if (g != nullptr) {
                EXPECT_EQ(g->gso_size, expect);
                EXPECT_EQ(b.size(), 900u);
            } else {
                EXPECT_EQ(b.size(), 10u);
            }
            q.pop();
            ++expect;
        }
    }
}

TEST(TxQueue, SuperPacketsAreBoundedByTheLargeFramesNotTheSlots) {
    ip::TxQueue q(8, 64, 2, 1000);
    for (int i = 0; i < 2; ++i) {
        ASSERT_TRUE(q.can_acquire_large());
        q.acquire_large();
        q.commit_large(100, GsoInfo{});
    }
    EXPECT_EQ(q.free_frames(), 6u);
    EXPECT_FALSE(q.can_acquire_large());
    q.pop();
    EXPECT_TRUE(q.can_acquire_large());
}

TEST(TxQueue, WithoutLargeFramesNoSuperPacketFits) {
    ip::TxQueue q(4, 64);
    EXPECT_FALSE(q.can_acquire_large());
    EXPECT_EQ(q.large_frame_size(), 0u);
    q.acquire();
    q.commit(20);
    EXPECT_EQ(q.front_gso(), nullptr);
}

// A frame acquired but not committed is not queued (the next acquire returns the same frame).
TEST(TxQueue, AcquireWithoutCommitQueuesNothing) {
    ip::TxQueue q(2, 32);
    MutBytes a = q.acquire();
    MutBytes b = q.acquire();
    EXPECT_EQ(a.data(), b.data());
    EXPECT_TRUE(q.empty());
}

// PacketSink contract: a refused packet stays queued; order is preserved across polls.
TEST(TxQueue, RefusingSinkKeepsTheRestQueuedInOrder) {
    Stack stack(default_config());
    for (std::uint16_t seq = 0; seq < 10; ++seq)
        stack.ingress(Instant{}, echo_request(pattern(16), 1, seq));
    CaptureSink three(3);
    stack.poll(Instant{}, three);
    ASSERT_EQ(three.packets.size(), 3u);
    EXPECT_EQ(three.offers, 4u);  // stopped at the first refusal
    EXPECT_TRUE(stack.has_pending_output());
    EXPECT_EQ(stat(stack, "ip.tx_packets"), 3u);
    CaptureSink none(0);
    stack.poll(Instant{}, none);
    EXPECT_EQ(none.offers, 1u);
    EXPECT_EQ(stat(stack, "ip.tx_packets"), 3u);
    CaptureSink all;
    stack.poll(Instant{}, all);
    ASSERT_EQ(all.packets.size(), 7u);
    EXPECT_FALSE(stack.has_pending_output());
    std::vector<std::uint16_t> seqs;
    for (auto& p : three.packets) seqs.push_back(echo_seq_of(p));
    for (auto& p : all.packets) seqs.push_back(echo_seq_of(p));
    EXPECT_EQ(seqs, (std::vector<std::uint16_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_EQ(stat(stack, "ip.tx_packets"), 10u);
    EXPECT_EQ(stat(stack, "ip.tx_bytes"), 10u * 44);
}

// A fragmented reply is queued whole or not at all: a half-sent datagram is just wasted bandwidth.
TEST(TxQueue, QueueFullDropsTheWholeDatagramNotPartOfIt) {
    StackConfig c = default_config();
    c.tx_queue_frames = 8;
    Stack stack(c);
    for (std::uint16_t seq = 0; seq < 3; ++seq)
        stack.ingress(Instant{}, echo_request(pattern(16), 1, seq));
    stack.ingress(Instant{},
                  echo_request(pattern(8000), 1, 99));  // reply needs 6 frames, 5 are free
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.tx_drop.queue_full", 1}}));
    EXPECT_EQ(stat(stack, "icmp.tx_echo_reply"), 3u);
    EXPECT_EQ(stat(stack, "icmp.rx_echo_request"), 4u);
    CaptureSink sink;
    stack.poll(Instant{}, sink);
    ASSERT_EQ(sink.packets.size(), 3u);
    for (auto& p : sink.packets) EXPECT_FALSE(parse_ip(p).is_fragment());
    // With room again, the same request is answered in full.
    auto out = exchange(stack, Instant{}, echo_request(pattern(8000), 1, 99));
    EXPECT_EQ(out.size(), 6u);
    EXPECT_EQ(echo_reply_data(out), pattern(8000));
}

TEST(TxQueue, SingleFrameQueueStillWorksAndCountsEveryOverflow) {
    StackConfig c = default_config();
    c.tx_queue_frames = 1;
    Stack stack(c);
    for (std::uint16_t seq = 0; seq < 5; ++seq)
        stack.ingress(Instant{}, echo_request(pattern(16), 1, seq));
    EXPECT_EQ(stat(stack, "ip.tx_drop.queue_full"), 4u);
    CaptureSink sink;
    stack.poll(Instant{}, sink);
    ASSERT_EQ(sink.packets.size(), 1u);
    EXPECT_EQ(echo_seq_of(sink.packets[0]), 0);
}

// Time-only polls (no input) send nothing and change no counters but the reassembly timers.
TEST(TxQueue, PollWithNothingQueuedOffersNothing) {
    Stack stack(default_config());
    CaptureSink sink;
    for (int ms = 0; ms < 100; ++ms) stack.poll(at_ms(ms), sink);
    EXPECT_EQ(sink.offers, 0u);
    EXPECT_EQ(stack.poll_at(), Instant::never());
}

// A script mixing every path: echo of several sizes, fragments in odd orders, UDP, unknown protocol,
// malformed packets, timer expiry.
std::vector<std::pair<Instant, Packet>> mixed_script() {
    std::vector<std::pair<Instant, Packet>> s;
    Instant t;
    auto add = [&](Packet p) {
        t += Duration::millis(3);
        s.emplace_back(t, std::move(p));
    };
    for (std::uint16_t i = 0; i < 20; ++i) {
        add(echo_request(pattern(i * 97u % 3000, i), i, i, (i % 3 == 0) ? kOtherPeer : kPeerAddr));
    }
    auto frags = fragments(echo_request(pattern(5000, 5), 5, 5, kPeerAddr, kOurAddr, 0x4444), 1024);
    permute(frags, 9);
    for (auto& f : frags) add(f);
    add(udp_packet(pattern(700), 53));
    add(ipv4_packet(ip_header(kPeerAddr, kOurAddr, 47), pattern(40)));
    Packet bad = echo_request(pattern(10));
    bad[10] ^= 1;
    add(bad);
    add(fragment_of(echo_request(pattern(100), 1, 1, kPeerAddr, kOurAddr, 0x5555), 0, 48, false));
    t += Duration::seconds(31);
    add(echo_request(pattern(30), 7, 7));
    return s;
}

std::vector<Packet> run(std::uint64_t seed) {
    StackConfig c = default_config();
    c.seed = seed;
    Stack stack(c);
    std::vector<Packet> all;
    for (auto& [t, p] : mixed_script()) {
        auto out = exchange(stack, t, p);
        all.insert(all.end(), out.begin(), out.end());
    }
    return all;
}

TEST(IpDeterminism, SameSeedSameInputGivesByteIdenticalOutput) {
    const auto a = run(1234);
    const auto b = run(1234);
    EXPECT_GT(a.size(), 30u);
    EXPECT_EQ(a, b);
}

TEST(IpDeterminism, DifferentSeedsGiveDifferentIpIds) {
    std::set<std::uint16_t> first_ids;
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
        const auto out = run(seed);
        ASSERT_FALSE(out.empty());
        first_ids.insert(parse_ip(out[0]).ident());
        if (seed == 2) {
            const auto one = run(1);
            ASSERT_EQ(one.size(), out.size());
            std::size_t differing = 0;
            for (std::size_t i = 0; i < out.size(); ++i)
                differing += parse_ip(out[i]).ident() != parse_ip(one[i]).ident();
            EXPECT_GT(differing, out.size() / 2);
        }
    }
    EXPECT_GE(first_ids.size(), 7u);  // 8 seeds: at most one collision in 65536 is tolerated
}

// Two stacks in one process share nothing (DESIGN.md §3.3): interleaving their work changes neither.
TEST(IpDeterminism, TwoStacksInOneProcessAreIndependent) {
    const auto alone = run(77);
    StackConfig c = default_config();
    c.seed = 77;
    Stack a(c);
    Stack b(c);
    std::vector<Packet> from_a;
    for (auto& [t, p] : mixed_script()) {
        exchange(b, t, echo_request(pattern(500), 3, 3));  // unrelated traffic on the other stack
        exchange(b, t,
                 fragment_of(echo_request(pattern(100), 1, 1, kPeerAddr, kOurAddr, 0x4444), 0, 48,
                             false));
        auto out = exchange(a, t, p);
        from_a.insert(from_a.end(), out.begin(), out.end());
    }
    EXPECT_EQ(from_a, alone);
}

}  // namespace
}  // namespace stack::testing
