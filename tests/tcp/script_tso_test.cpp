// Scripted tests: TCP segmentation offload (StackConfig::tso_max_size). With TSO a sender hands the
// device one super-segment of several MSS instead of one packet per MSS; everything the peer sees
// (after the device cuts it) must be what the per-segment sender would send: never beyond cwnd or the
// peer's window (RFC 5681 §3.1, RFC 9293 §3.8.6), Nagle and SWS avoidance for the short tail
// (RFC 9293 §3.7.4, §3.8.6.2.1), retransmissions one MSS each, RFC 6675 recovery over byte ranges.
// TsoScript (tso_expect.hpp) checks every super-packet's metadata and its segments.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/tcp/script.hpp"
#include "tests/tcp/tso_expect.hpp"

namespace tcpscript {
namespace {

constexpr std::uint32_t kMss = 1460;

void with_tso(stack::StackConfig& c) { c.tso_max_size = 65535; }

const SynOpts kBigWindow{.mss = 1460, .wscale = 7, .sack_ok = true};

TEST(TcpScriptTso, WithoutTsoEverySegmentIsOneMssPacket) {
    TsoScript s;
    auto c = open_with_rtt(s, Duration::millis(100), kBigWindow);
    s.send(c, bytes(100'000));
    for (std::uint32_t i = 0; i < 10; ++i) {
        s.expect({.at = at(100ms),
                  .flags = kAck,
                  .seq = 1 + i * kMss,
                  .ack = 1001,
                  .win = 32768,
                  .len = kMss,
                  .gso_size = 0});
    }
    s.expect_nothing();
    EXPECT_EQ(s.stack().stats().tcp.tx_tso_packets, 0u);
}

TEST(TcpScriptTso, InitialWindowGoesOutAsOneSuperSegment_Rfc6928) {
    TsoScript s(with_tso);
    auto c = open_with_rtt(s, Duration::millis(100), kBigWindow);
    s.send(c, bytes(100'000));
    // IW = 10 * SMSS: one packet of ten segments, no PSH (more data follows).
    Out o = s.expect({.at = at(100ms),
                      .flags = kAck,
                      .seq = 1,
                      .ack = 1001,
                      .win = 32768,
                      .len = 10 * kMss,
                      .psh = false,
                      .gso_size = kMss});
    EXPECT_EQ(o.gso.segments, 10u);
    s.expect_nothing();
    EXPECT_EQ(s.stack().stats().tcp.tx_tso_packets, 1u);
    EXPECT_EQ(s.stack().stats().tcp.tx_segments, 10u + 1u);  // + the SYN-ACK
    EXPECT_EQ(s.stack().stats().tcp.tx_payload_bytes, 10u * kMss);
    EXPECT_EQ(s.stack().stats().ip.tx_packets, 2u);
}

TEST(TcpScriptTso, SuperSegmentsNeverExceedCwndOrPeerWindowAndIpIdsCountSegments) {
    TsoScript s(with_tso);
    auto c = open_with_rtt(s, Duration::millis(100), kBigWindow);
    const std::size_t total = 400'000;
    s.send(c, bytes(total));
    std::uint32_t next = 1;     // our next sequence (relative)
    std::uint32_t acked = 1;    // what the peer has acknowledged
    std::uint16_t next_id = 0;  // the IP ID the next packet must carry
    bool first = true;
    std::size_t rounds = 0;
    std::int64_t t = 100;
    while (acked < 1 + total && rounds < 200) {
        ++rounds;
        const std::uint32_t cwnd = s.tcp().info(c)->cwnd;
        std::uint32_t sent_now = 0;
        while (s.pending() > 0) {
            Out o = s.expect({.at = s.now(),
                              .flags = kAck,
                              .seq = next,
                              .ack = 1001,
                              .win = 32768,
                              .any = Any::Len | Any::Psh | Any::Gso});  // checked below
            EXPECT_EQ(o.rel_seq, next);
            if (!first) {
                EXPECT_EQ(o.ip_id, next_id) << "IDs advance by the segments a super-packet makes";
            }
            first = false;
            const std::uint16_t segs = o.gso.gso_size != 0 ? o.gso.segments : 1;
            next_id = static_cast<std::uint16_t>(o.ip_id + segs);
            if (o.gso.gso_size != 0) {
                EXPECT_EQ(o.gso.gso_size, kMss);
            } else {
                EXPECT_LE(o.payload.size(), kMss);
            }
            next += static_cast<std::uint32_t>(o.payload.size());
            sent_now += static_cast<std::uint32_t>(o.payload.size());
        }
        // Everything in flight was sent in this round, all of it within cwnd.
        EXPECT_LE(next - acked, cwnd) << "round " << rounds;
        EXPECT_GT(sent_now, 0u) << "round " << rounds;
        t += 100;
        acked = next;
        s.inject(Instant::from_millis(t), ack(1001, acked));
    }
    EXPECT_EQ(acked, 1 + total);
    EXPECT_GT(s.stack().stats().tcp.tx_tso_packets, 5u);
    EXPECT_EQ(s.stack().stats().tcp.retransmits, 0u);
}

TEST(TcpScriptTso, PeerWindowBoundsTheSuperSegmentAndTheTailWaits_Rfc9293S38621) {
    TsoScript s(with_tso);
    // No window scaling: the peer offers 5000 bytes.
    auto c = open_with_rtt(s, Duration::millis(100), {.mss = 1460}, 5000);
    s.send(c, bytes(20'000));
    // Three whole segments fit; the 620 bytes left in the window are less than half the peer's
    // largest window and not all the data: sender SWS avoidance holds them.
    s.expect({.at = at(100ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1001,
              .win = 65535,
              .len = 3 * kMss,
              .gso_size = kMss});
    s.expect_nothing();
    s.inject(at(250ms), ack(1001, 1 + 3 * kMss, 5000));
    s.expect({.at = at(250ms),
              .flags = kAck,
              .seq = 1 + 3 * kMss,
              .ack = 1001,
              .win = 65535,
              .len = 3 * kMss,
              .gso_size = kMss});
    s.expect_nothing();
}

TEST(TcpScriptTso, NagleKeepsTheShortTailOutOfTheSuperSegment_Rfc9293S374) {
    TsoScript s(with_tso);
    auto c = open_with_rtt(s, Duration::millis(100), kBigWindow);
    s.send(c, bytes(5000));
    // 3 full segments go; the 620-byte tail waits for the ACK (data outstanding, Nagle).
    s.expect({.at = at(100ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1001,
              .win = 32768,
              .len = 3 * kMss,
              .psh = false,
              .gso_size = kMss});
    s.expect_nothing();
    s.inject(at(200ms), ack(1001, 1 + 3 * kMss));
    s.expect({.at = at(200ms),
              .flags = kPshAck,
              .seq = 1 + 3 * kMss,
              .ack = 1001,
              .win = 32768,
              .len = 620,
              .psh = true,
              .gso_size = 0});
    s.expect_nothing();
}

TEST(TcpScriptTso, WithNoDelayTheTailRidesOnTheSuperSegmentWithPsh) {
    TsoScript s(with_tso);
    auto c = open_with_rtt(s, Duration::millis(100), kBigWindow);
    ASSERT_TRUE(s.tcp().set_nodelay(c, true));
    s.send(c, bytes(5000));
    Out o = s.expect({.at = at(100ms),
                      .flags = kPshAck,
                      .seq = 1,
                      .ack = 1001,
                      .win = 32768,
                      .len = 5000,
                      .psh = true,
                      .gso_size = kMss});
    EXPECT_EQ(o.gso.segments, 4u);
    s.expect_nothing();
}

TEST(TcpScriptTso, FinRidesOnTheLastSuperSegment) {
    TsoScript s(with_tso);
    auto c = open_with_rtt(s, Duration::millis(100), kBigWindow);
    ASSERT_TRUE(s.tcp().send(c, Bytes(bytes(5000))).ok());
    ASSERT_TRUE(s.tcp().shutdown(c).ok());
    s.poll();
    Out o = s.expect({.at = at(100ms),
                      .flags = kFinAck,
                      .seq = 1,
                      .ack = 1001,
                      .win = 32768,
                      .len = 5000,
                      .psh = true,
                      .gso_size = kMss});
    EXPECT_EQ(o.gso.segments, 4u);
    s.expect_nothing();
    s.inject(at(200ms), ack(1001, 5002));
    EXPECT_EQ(s.state_of_only_connection(), TcpState::FinWait2);
}

// Grows cwnd in slow start, one ACK per MSS, until it reaches `target`. `acked`: what the peer has
// acknowledged so far (relative); returns the end of what we have sent.
std::uint32_t grow_cwnd(Script& s, SocketHandle c, std::uint32_t target, std::uint32_t& acked) {
    std::int64_t t = s.now().as_millis();
    std::uint32_t hi = acked;
    for (int round = 0; round < 40; ++round) {
        while (s.pending() > 0) {
            Out o = s.expect({.at = s.now(),
                              .flags = kAck,
                              .seq = hi,
                              .ack = 1001,
                              .win = 32768,
                              .gso_size = 1460,
                              .any = Any::Len});  // as cwnd allows
            hi = std::max(hi, o.rel_seq + static_cast<std::uint32_t>(o.payload.size()));
        }
        if (s.tcp().info(c)->cwnd >= target) break;
        t += 10;
        for (std::uint32_t a = acked + kMss; a < hi; a += kMss) {
            s.inject(Instant::from_millis(t), ack(1001, a));
        }
        s.inject(Instant::from_millis(t), ack(1001, hi));
        acked = hi;
    }
    return hi;
}

TEST(TcpScriptTso, SuperSegmentsAreCappedAtTheDeviceLimit) {
    for (std::uint32_t limit : {65535u, 30000u}) {
        SCOPED_TRACE(limit);
        TsoScript s([&](stack::StackConfig& c) {
            c.tso_max_size = limit;
            c.tcp.send_buffer = 4 << 20;
        });
        auto c = open_with_rtt(s, Duration::millis(100), kBigWindow);
        ASSERT_EQ(*s.tcp().send(c, Bytes(bytes(3'000'000))), 3'000'000u);
        s.poll();
        std::uint32_t acked = 1;
        const std::uint32_t hi = grow_cwnd(s, c, 400'000, acked);
        ASSERT_GE(s.tcp().info(c)->cwnd, 400'000u);
        // One ACK for everything outstanding: cwnd and window allow far more than the limit, so the
        // super-segments are at the cap, (limit - IPv4 header - the largest TCP header) rounded down
        // to whole segments.
        s.inject(s.now() + Duration::millis(10), ack(1001, hi));
        const std::uint32_t cap = (limit - 20 - 60) / kMss * kMss;
        std::size_t at_cap = 0;
        std::uint32_t next = hi;
        while (s.pending() > 0) {
            Out o = s.expect({.at = at(160ms),
                              .flags = kAck,
                              .seq = next,
                              .ack = 1001,
                              .win = 32768,
                              .gso_size = kMss,
                              .any = Any::Len});  // at most the cap, checked below
            EXPECT_LE(o.payload.size(), cap);
            if (o.payload.size() == cap) ++at_cap;
            next += static_cast<std::uint32_t>(o.payload.size());
        }
        EXPECT_GE(at_cap, 3u);
    }
}

TEST(TcpScriptTso, PartOfASuperSegmentLostRetransmitsMssSizedHoles_Rfc6675) {
    TsoScript s(with_tso);
    auto c = open_with_rtt(s, Duration::millis(100), kBigWindow);
    s.send(c, bytes(14600 + 5000));
    s.expect({.at = at(100ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1001,
              .win = 32768,
              .len = 10 * kMss,
              .gso_size = kMss});
    s.expect_nothing();
    // The device cut it into ten segments; segments 1 and 3 were lost on the way, the others arrived
    // and each brought a duplicate ACK with SACK blocks (as in TcpScriptRtx.SackRecovery...).
    auto seg_start = [](std::uint32_t i) { return 1 + (i - 1) * kMss; };  // i = 1..10
    s.inject(at(150ms), ack(1001, 1).with_sack(seg_start(2), seg_start(3)));
    for (std::uint32_t last = 4; last <= 10; ++last) {
        s.inject(at(150ms), ack(1001, 1)
                                .with_sack(seg_start(4), seg_start(last + 1))
                                .with_sack(seg_start(2), seg_start(3)));
    }
    // Both holes are retransmitted, each one MSS in a plain packet, the oldest first; new data sent
    // during recovery goes one MSS at a time (pipe is counted per segment).
    std::vector<std::uint32_t> rexmits;
    std::uint32_t end = seg_start(11);
    while (s.pending() > 0) {
        Out o = s.expect({.at = at(150ms),
                          .flags = kAck,
                          .ack = 1001,
                          .win = 32768,
                          .len = 1460,
                          .gso_size = 0,
                          .any = Any::Seq});  // the order is checked below
        EXPECT_LE(o.payload.size(), kMss);
        if (o.rel_seq < seg_start(11)) rexmits.push_back(o.rel_seq);
        end = std::max(end, o.rel_seq + static_cast<std::uint32_t>(o.payload.size()));
    }
    ASSERT_EQ(rexmits.size(), 2u);
    EXPECT_EQ(rexmits[0], seg_start(1));
    EXPECT_EQ(rexmits[1], seg_start(3));
    EXPECT_EQ(s.stack().stats().tcp.sack_recoveries, 1u);
    EXPECT_EQ(s.stack().stats().tcp.retransmits, 2u);
    // The first ten segments are acknowledged: recovery ends; then the peer acknowledges whatever
    // comes (the last 620 bytes wait for an ACK: Nagle).
    s.inject(at(260ms), ack(1001, seg_start(11)));
    for (std::int64_t t = 370; t < 1000 && s.tcp().info(c)->send_queue > 0; t += 110) {
        while (s.pending() > 0) {
            Out o = s.expect({.at = at(370ms),
                              .flags = kPshAck,
                              .seq = 18981,
                              .ack = 1001,
                              .win = 32768,
                              .len = 620});
            end = std::max(end, o.rel_seq + static_cast<std::uint32_t>(o.payload.size()));
        }
        s.inject(Instant::from_millis(t), ack(1001, end));
    }
    s.expect_nothing_until(at(5s));
    EXPECT_EQ(s.tcp().info(c)->send_queue, 0u);
    EXPECT_EQ(s.stack().stats().tcp.rto, 0u);
    EXPECT_EQ(end, 1u + 14600 + 5000);
}

TEST(TcpScriptTso, PartialAckInsideASuperSegmentMovesSndUna) {
    TsoScript s(with_tso);
    auto c = open_with_rtt(s, Duration::millis(100), kBigWindow);
    s.send(c, bytes(50'000));
    s.expect({.at = at(100ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1001,
              .win = 32768,
              .len = 10 * kMss,
              .gso_size = kMss});
    // Half of it is acknowledged: 5 segments leave flight; slow start adds 2 SMSS (RFC 3465 L=2),
    // so 7 segments of new data may go: one super-segment right after the old one.
    s.inject(at(200ms), ack(1001, 1 + 5 * kMss));
    EXPECT_EQ(s.tcp().info(c)->cwnd, 12 * kMss);
    s.expect({.at = at(200ms),
              .flags = kAck,
              .seq = 1 + 10 * kMss,
              .ack = 1001,
              .win = 32768,
              .len = 7 * kMss,
              .gso_size = kMss});
    s.expect_nothing();
    EXPECT_EQ(s.tcp().info(c)->send_queue, 50'000 - 5 * kMss);
}

TEST(TcpScriptTso, WholeSuperSegmentLostRecoversByRtoWithMssRetransmissions_Rfc6298) {
    TsoScript s(with_tso);
    auto c = open_with_rtt(s, Duration::millis(100), kBigWindow);
    s.send(c, bytes(30'000));
    s.expect({.at = at(100ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1001,
              .win = 32768,
              .len = 10 * kMss,
              .gso_size = kMss});
    s.expect_nothing_until(at(399ms));
    // RTO (SRTT 100 ms, RTTVAR 50: 300 ms): one MSS from SND.UNA, cwnd = 1 SMSS.
    s.advance_to(at(400ms));
    s.expect({.at = at(400ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1001,
              .win = 32768,
              .len = kMss,
              .gso_size = 0});
    s.expect_nothing();
    // Go-back-N: each ACK opens cwnd; what was sent before goes again one MSS per packet, and only
    // new data beyond SND.MAX goes as super-segments again.
    std::uint32_t acked = 1 + kMss;
    std::int64_t t = 450;
    bool super_after_max = false;
    for (int round = 0; round < 10 && acked < 30'001; ++round) {
        s.inject(Instant::from_millis(t), ack(1001, acked));
        std::uint32_t hi = acked;
        while (s.pending() > 0) {
            Out o = s.expect({.at = s.now(),
                              .flags = kAck,
                              .ack = 1001,
                              .win = 32768,
                              .any = Any::Seq | Any::Len | Any::Psh | Any::Gso});  // checked below
            if (o.rel_seq < 1 + 10 * kMss) {
                EXPECT_EQ(o.gso.gso_size, 0u) << "a retransmission in a super-segment";
                EXPECT_EQ(o.payload.size(), kMss);
            } else if (o.gso.gso_size != 0) {
                super_after_max = true;
            }
            hi = o.rel_seq + static_cast<std::uint32_t>(o.payload.size());
        }
        acked = hi;
        t += 50;
    }
    EXPECT_EQ(acked, 30'001u);
    EXPECT_TRUE(super_after_max);
    EXPECT_EQ(s.stack().stats().tcp.retransmit_rto, 10u);  // the ten lost segments, one each
}

// PacketSink contract for super-packets: one the device refuses stays queued, in order, for the next
// poll.
TEST(TcpScriptTso, RefusedSuperPacketStaysQueuedForTheNextPoll) {
    TsoScript s(with_tso);
    auto c = open_with_rtt(s, Duration::millis(100), kBigWindow);
    ASSERT_TRUE(s.tcp().set_nodelay(c, true));
    ASSERT_TRUE(s.tcp().send(c, Bytes(bytes(5000))).ok());
    stack::testing::CaptureSink full(0);
    s.stack().poll(s.now(), full);
    EXPECT_EQ(full.offers, 1u);
    EXPECT_TRUE(s.stack().has_pending_output());
    s.poll();
    s.expect({.at = at(100ms),
              .flags = kPshAck,
              .seq = 1,
              .ack = 1001,
              .win = 32768,
              .len = 5000,
              .gso_size = kMss});
    s.expect_nothing();
    EXPECT_FALSE(s.stack().has_pending_output());
}

// With an MTU so small that the minimum SMSS (64) plus headers exceeds it, no segment fits whatever
// TSO does (the per-segment sender's are dropped as too big for DF): TSO must not build a
// super-packet whose segments cannot fit either (it used to hit the output layer's assertion).
TEST(TcpScriptTso, NoSuperSegmentWhenASegmentCannotFitTheMtu) {
    for (bool tso : {false, true}) {
        SCOPED_TRACE(tso);
        TsoScript s([&](stack::StackConfig& c) {
            c.mtu = 100;
            if (tso) c.tso_max_size = 65535;
        });
        auto c = open_with_rtt(s, Duration::millis(100), {.mss = 1460, .tsval = 1});
        (void)s.tcp().send(c, Bytes(bytes(5000)));
        s.poll();
        s.expect_nothing();
        EXPECT_EQ(s.stack().stats().tcp.tx_tso_packets, 0u);
        EXPECT_GT(s.stack().stats().ip.tx_drop_df, 0u);
    }
}

TEST(TcpScriptTso, FullChecksumWhenNotPartial) {
    TsoScript s([](stack::StackConfig& c) {
        c.tso_max_size = 65535;
        c.tso_partial_checksum = false;
    });
    auto c = open_with_rtt(s, Duration::millis(100), kBigWindow);
    s.send(c, bytes(100'000));
    // The harness verifies the checksum over the whole super-packet (csum_partial false).
    Out o = s.expect({.at = at(100ms),
                      .flags = kAck,
                      .seq = 1,
                      .ack = 1001,
                      .win = 32768,
                      .len = 10 * kMss,
                      .gso_size = kMss});
    EXPECT_FALSE(o.gso.csum_partial);
}

TEST(TcpScriptTso, TimestampsAndSackBlocksAreRepeatedInEverySegmentWithinTheMtu_Rfc7323_Rfc2018) {
    TsoScript s(with_tso);
    // MSS 1000 with timestamps: SMSS 988, so a 52-byte header leaves room for SACK blocks in every
    // 1500-byte segment.
    auto c = open_with_rtt(s, Duration::millis(100),
                           {.mss = 1000, .wscale = 7, .sack_ok = true, .tsval = 500});
    // Out-of-order data from the peer: we hold a SACK block for it (its TSval is not recorded:
    // RFC 7323 §4.3, it does not cover Last.ACK.sent).
    Seg d = data(1001 + 100, 1, bytes(100));
    d.with_ts(600, s.last_tsval());
    s.inject(at(150ms), d);
    s.expect({.at = at(150ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1001,
              .win = 32768,
              .tsecr = 501,
              .sack_blocks = 1,
              .sack = {{1101, 1201}}});
    s.send(c, bytes(20'000));
    Out o = s.expect({.at = at(150ms),
                      .flags = kAck,
                      .seq = 1,
                      .ack = 1001,
                      .win = 32768,
                      .len = 10 * 988,
                      .tsecr = 501,
                      .sack_blocks = 1,
                      .sack = {{1101, 1201}},
                      .gso_size = 988});
    EXPECT_EQ(o.gso.hdr_len, 20u + 20 + 12 + 12);  // timestamps + one SACK block, padded
}

}  // namespace
}  // namespace tcpscript
