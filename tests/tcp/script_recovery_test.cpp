// Scripted tests: loss-recovery and sender rules of issue 8 — SACK blocks beyond SND.MAX (a lying
// receiver), when a new recovery may start (RFC 6582 §3.2 step 2, RFC 6675 §5/§5.1), NewReno partial
// ACK window deflation (RFC 6582 §3.2 step 5), the SACK definition of a duplicate ACK (RFC 6675 §2),
// restart after idle (RFC 5681 §4.1), no cwnd growth while application-limited (RFC 7661), and the
// bounded zero-window probing of orphaned connections (Linux tcp_orphan_retries).
#include <gtest/gtest.h>

#include "tests/tcp/script.hpp"

namespace tcpscript {
namespace {

using stack::tcp::CcAlgorithm;

constexpr std::uint32_t kMss = 1460;
// Relative sequence number of the first byte of segment i (1-based) of a bulk send.
constexpr std::uint32_t seg_start(std::uint32_t i) { return 1 + (i - 1) * kMss; }

auto newreno = [](stack::StackConfig& c) { c.tcp.congestion = CcAlgorithm::NewReno; };

std::int64_t stat(Script& s, const char* name) { return s.stack().stats().get(name); }

// Issue 8 point 6. A receiver SACKs data we never sent (the block ends far above SND.MAX). Believed,
// it would mark everything below as lost (RFC 6675 IsLost), start recovery on one ACK and shrink
// "pipe" so that data goes out beyond cwnd. The block is ignored and counted.
TEST(TcpScriptRecovery, SackBlockAboveSndMaxIsIgnored_Issue8P6) {
    Script s(newreno);
    auto c = open_with_rtt(s, Duration::millis(100), {.mss = 1460, .sack_ok = true});
    s.send(c, bytes(20 * kMss));  // ten segments go out (the initial window), ten wait for cwnd
    for (std::uint32_t i = 1; i <= 10; ++i)
        s.expect({.at = at(100ms),
                  .flags = kAck,
                  .seq = seg_start(i),
                  .ack = 1001,
                  .win = 65535,
                  .len = kMss});
    s.expect_nothing();
    s.inject(at(150ms), ack(1001, 1).with_sack(seg_start(2), seg_start(11) + 100000));
    s.expect_nothing();  // no retransmission, no new data: one duplicate ACK, nothing SACKed
    EXPECT_EQ(s.stack().stats().tcp.sack_recoveries, 0u);
    EXPECT_EQ(stat(s, "tcp.sack_invalid_blocks"), 1);
    // A block that straddles SND.MAX is just as impossible, also on an ACK of new data.
    s.inject(at(160ms), ack(1001, seg_start(2)).with_sack(seg_start(4), seg_start(11) + 1));
    EXPECT_EQ(stat(s, "tcp.sack_invalid_blocks"), 2);
    EXPECT_EQ(s.stack().stats().tcp.sack_recoveries, 0u);
    // That ACK freed one segment and slow start added one to cwnd: exactly two go out.
    s.expect({.at = at(160ms),
              .flags = kAck,
              .seq = seg_start(11),
              .ack = 1001,
              .win = 65535,
              .len = kMss});
    s.expect({.at = at(160ms),
              .flags = kAck,
              .seq = seg_start(12),
              .ack = 1001,
              .win = 65535,
              .len = kMss});
    s.expect_nothing();
}

// Issue 8 point 10. With SACK a new recovery may start once HighACK >= RecoveryPoint (RFC 6675 §5.1;
// RecoveryPoint = HighData, the highest octet sent when the last recovery started): an ACK that equals
// SND.MAX of that moment. Here the first recovery ends with exactly that ACK, and the first segment
// sent during it is lost: its three duplicate ACKs sit at the old recovery point and must start fast
// retransmit, not wait for the RTO.
TEST(TcpScriptRecovery, SackFastRetransmitStartsWhenAckEqualsRecoveryPoint_Rfc6675S51_Issue8P10) {
    Script s(newreno);
    auto c = open_with_rtt(s, Duration::millis(100), {.mss = 1460, .sack_ok = true});
    s.send(c, bytes(40 * kMss));
    for (std::uint32_t i = 1; i <= 10; ++i)
        s.expect({.at = at(100ms),
                  .flags = kAck,
                  .seq = seg_start(i),
                  .ack = 1001,
                  .win = 65535,
                  .len = kMss});
    // Segment 1 is lost; segments 2..10 arrive and are SACKed. Recovery (cwnd = ssthresh = 5
    // segments) retransmits segment 1 and, as pipe falls, sends segments 11..14.
    for (std::uint32_t last = 2; last <= 10; ++last) {
        s.inject(at(150ms), ack(1001, 1).with_sack(seg_start(2), seg_start(last + 1)));
    }
    EXPECT_EQ(s.stack().stats().tcp.sack_recoveries, 1u);
    s.expect({.at = at(150ms),
              .flags = kAck,
              .seq = seg_start(1),
              .ack = 1001,
              .win = 65535,
              .len = kMss});
    for (std::uint32_t i = 11; i <= 14; ++i)
        s.expect({.at = at(150ms),
                  .flags = kAck,
                  .seq = seg_start(i),
                  .ack = 1001,
                  .win = 65535,
                  .len = kMss});
    s.expect_nothing();
    // The retransmission arrives: a full ACK (= SND.MAX when recovery began). cwnd = 5 segments,
    // four are in flight: segment 15 goes out.
    s.inject(at(250ms), ack(1001, seg_start(11)));
    s.expect({.at = at(250ms),
              .flags = kAck,
              .seq = seg_start(15),
              .ack = 1001,
              .win = 65535,
              .len = kMss});
    s.expect_nothing();
    // Segment 11 is lost, 12..14 arrive: three duplicate ACKs at the old recovery point.
    for (std::uint32_t last = 12; last <= 14; ++last) {
        s.inject(at(300ms), ack(1001, seg_start(11)).with_sack(seg_start(12), seg_start(last + 1)));
    }
    ASSERT_GE(s.pending(), 1u) << "no fast retransmit at SEG.ACK == recovery point";
    s.expect({.at = at(300ms),
              .flags = kAck,
              .seq = seg_start(11),
              .ack = 1001,
              .win = 65535,
              .len = kMss});
    s.discard_output();
    EXPECT_EQ(s.stack().stats().tcp.sack_recoveries, 2u);
    EXPECT_EQ(s.stack().stats().tcp.rto, 0u);
}

// Issue 8 point 10, the NewReno side. Without SACK, RFC 6582 §3.2 step 2 is stricter: a new fast
// retransmit needs "ack_number - 1 > recover" (recover = the highest octet sent when the previous one
// began), i.e. at least one byte beyond it. Three duplicate ACKs at exactly recover + 1 may come from
// retransmissions the receiver already had, so they do not start fast retransmit (the RTO does);
// one byte further, they do.
TEST(TcpScriptRecovery, NewRenoNeedsAckBeyondRecoverForNewFastRetransmit_Rfc6582S32) {
    Script s(newreno);
    auto c = open_with_rtt(s, Duration::millis(100));
    s.send(c, bytes(40 * kMss));
    for (std::uint32_t i = 1; i <= 10; ++i)
        s.expect({.at = at(100ms),
                  .flags = kAck,
                  .seq = seg_start(i),
                  .ack = 1001,
                  .win = 65535,
                  .len = kMss});
    // Segment 1 lost: segments 2..10 bring nine duplicate ACKs; fast retransmit on the third, the
    // next six inflate the window (RFC 5681 §3.2 step 4): segments 11..14 go out.
    for (int i = 0; i < 9; ++i) s.inject(at(150ms), ack(1001, 1));
    EXPECT_EQ(s.stack().stats().tcp.fast_retransmits, 1u);
    s.expect({.at = at(150ms),
              .flags = kAck,
              .seq = seg_start(1),
              .ack = 1001,
              .win = 65535,
              .len = kMss});
    for (std::uint32_t i = 11; i <= 14; ++i)
        s.expect({.at = at(150ms),
                  .flags = kAck,
                  .seq = seg_start(i),
                  .ack = 1001,
                  .win = 65535,
                  .len = kMss});
    s.expect_nothing();
    // Full ACK = recover + 1. cwnd = ssthresh = 5 segments, four in flight: 15 goes out.
    s.inject(at(250ms), ack(1001, seg_start(11)));
    s.expect({.at = at(250ms),
              .flags = kAck,
              .seq = seg_start(15),
              .ack = 1001,
              .win = 65535,
              .len = kMss});
    s.expect_nothing();
    // Segment 11 lost: the duplicate ACKs of 12..15, at recover + 1, do not start fast retransmit.
    for (int i = 0; i < 4; ++i) s.inject(at(300ms), ack(1001, seg_start(11)));
    s.expect_nothing();
    EXPECT_EQ(s.stack().stats().tcp.fast_retransmits, 1u);
    // The RTO repairs it.
    s.advance_to(at(700ms));
    s.expect({.at = at(550ms),
              .flags = kAck,
              .seq = seg_start(11),
              .ack = 1001,
              .win = 65535,
              .len = kMss});
    s.discard_output();
    EXPECT_EQ(s.stack().stats().tcp.rto, 1u);
}

// Issue 8 point 11. RFC 6582 §3.2 step 5: a partial ACK deflates cwnd by the newly acknowledged
// amount and adds back one SMSS (it acknowledged at least one), then sends a new segment if cwnd
// allows. It must not drop the credit of every duplicate ACK received so far.
TEST(TcpScriptRecovery, NewRenoPartialAckDeflatesByAckedAmountPlusOneSmss_Rfc6582S32Step5) {
    Script s(newreno);
    auto c = open_with_rtt(s, Duration::millis(100));
    s.send(c, bytes(20 * kMss));
    for (std::uint32_t i = 1; i <= 10; ++i)
        s.expect({.at = at(100ms),
                  .flags = kAck,
                  .seq = seg_start(i),
                  .ack = 1001,
                  .win = 65535,
                  .len = kMss});
    // Segments 1 and 5 lost. Duplicate ACKs from 2, 3, 4: fast retransmit of 1; ssthresh = 5
    // segments, cwnd = ssthresh + 3 SMSS (RFC 5681 §3.2 step 3).
    for (int i = 0; i < 3; ++i) s.inject(at(150ms), ack(1001, 1));
    s.expect({.at = at(150ms),
              .flags = kAck,
              .seq = seg_start(1),
              .ack = 1001,
              .win = 65535,
              .len = kMss});
    s.expect_nothing();
    EXPECT_EQ(s.tcp().info(c)->ssthresh, 5 * kMss);
    // Duplicate ACKs from 6..10 inflate cwnd by one SMSS each (step 4): cwnd = 13 segments, ten in
    // flight: segments 11..13 go out.
    for (int i = 0; i < 5; ++i) s.inject(at(151ms), ack(1001, 1));
    for (std::uint32_t i = 11; i <= 13; ++i)
        s.expect({.at = at(151ms),
                  .flags = kAck,
                  .seq = seg_start(i),
                  .ack = 1001,
                  .win = 65535,
                  .len = kMss});
    s.expect_nothing();
    // Partial ACK of segments 1..4: cwnd = 13 - 4 + 1 = 10 segments; in flight 5..13 = 9 segments.
    // Segment 5 is retransmitted at once, and one new segment (14) fits.
    s.inject(at(250ms), ack(1001, seg_start(5)));
    s.expect({.at = at(250ms),
              .flags = kAck,
              .seq = seg_start(5),
              .ack = 1001,
              .win = 65535,
              .len = kMss});
    s.expect({.at = at(250ms),
              .flags = kAck,
              .seq = seg_start(14),
              .ack = 1001,
              .win = 65535,
              .len = kMss});
    s.expect_nothing();
    EXPECT_EQ(s.stack().stats().tcp.retransmit_partial_ack, 1u);
    // The full ACK ends recovery with cwnd = ssthresh.
    s.inject(at(350ms), ack(1001, seg_start(15)));
    EXPECT_EQ(s.tcp().info(c)->cwnd, 5 * kMss);
    s.discard_output();
}

// Issue 8 point 12. RFC 6675 §2: with SACK, an ACK that SACKs new data is a duplicate ACK for loss
// recovery "even if it carries new data, changes the advertised window, or moves the cumulative
// acknowledgment point". Here the three ACKs after a loss each change the window or carry data.
TEST(TcpScriptRecovery, SackAckWithNewSackInfoCountsAsDupAckDespiteDataOrWindow_Rfc6675S2) {
    Script s(newreno);
    auto c = open_with_rtt(s, Duration::millis(100), {.mss = 1460, .sack_ok = true});
    s.send(c, bytes(10 * kMss));
    for (std::uint32_t i = 1; i <= 10; ++i)
        s.expect({.at = at(100ms),
                  .flags = i == 10 ? kPshAck : kAck,
                  .seq = seg_start(i),
                  .ack = 1001,
                  .win = 65535,
                  .len = kMss});
    // Segment 1 lost. The first ACK changes the window, the second carries data, the third both.
    s.inject(at(150ms), ack(1001, 1, 60000).with_sack(seg_start(2), seg_start(3)));
    s.expect_nothing();
    Seg d = data(1001, 1, bytes(100), 60000);
    d.with_sack(seg_start(2), seg_start(4));
    s.inject(at(151ms), d);
    s.discard_output();  // a possible ACK of those 100 bytes
    Seg d2 = data(1101, 1, bytes(100), 50000);
    d2.with_sack(seg_start(2), seg_start(5));
    s.inject(at(152ms), d2);
    ASSERT_GE(s.pending(), 1u) << "no fast retransmit";
    s.expect({.at = at(152ms),
              .flags = kAck,
              .seq = seg_start(1),
              .ack = 1101,
              .win = 65535,
              .len = kMss});
    s.discard_output();
    EXPECT_EQ(s.stack().stats().tcp.sack_recoveries, 1u);
}

// Issue 8 point 12, cumulative ACK. RFC 6675 §5: "If the incoming ACK is a duplicate acknowledgment
// per the definition in Section 2 (regardless of its status as a cumulative acknowledgment)" the
// sender runs the loss checks; IsLost(HighACK + 1) holds once more than 2 SMSS are SACKed above it.
TEST(TcpScriptRecovery, CumulativeAckWithSackShowingLossStartsRecovery_Rfc6675S5) {
    Script s(newreno);
    auto c = open_with_rtt(s, Duration::millis(100), {.mss = 1460, .sack_ok = true});
    s.send(c, bytes(10 * kMss));
    for (std::uint32_t i = 1; i <= 10; ++i)
        s.expect({.at = at(100ms),
                  .flags = i == 10 ? kPshAck : kAck,
                  .seq = seg_start(i),
                  .ack = 1001,
                  .win = 65535,
                  .len = kMss});
    // Segment 2 lost; the ACKs of 1, 3 and 4 are lost too. The ACK sent for 5 acknowledges 1 and
    // SACKs 3..5: segment 2 is lost by RFC 6675's rule, retransmit it now.
    s.inject(at(150ms), ack(1001, seg_start(2)).with_sack(seg_start(3), seg_start(6)));
    ASSERT_GE(s.pending(), 1u) << "no recovery";
    s.expect({.at = at(150ms),
              .flags = kAck,
              .seq = seg_start(2),
              .ack = 1001,
              .win = 65535,
              .len = kMss});
    s.expect_nothing();
    EXPECT_EQ(s.stack().stats().tcp.sack_recoveries, 1u);
}

// Issue 8 point 14. RFC 5681 §4.1: after more than an RTO without sending, cwnd restarts from
// min(IW, cwnd); a shorter pause keeps it.
TEST(TcpScriptRecovery, RestartAfterIdleLongerThanRtoUsesInitialWindow_Rfc5681S41) {
    Script s(newreno);
    auto c = open_with_rtt(s, Duration::millis(100));
    s.send(c, bytes(10 * kMss));
    for (std::uint32_t i = 1; i <= 10; ++i)
        s.expect({.at = at(100ms),
                  .flags = i == 10 ? kPshAck : kAck,
                  .seq = seg_start(i),
                  .ack = 1001,
                  .win = 65535,
                  .len = kMss});
    for (std::uint32_t i = 2; i <= 11; ++i) s.inject(at(200ms), ack(1001, seg_start(i)));
    EXPECT_EQ(s.tcp().info(c)->cwnd, 20 * kMss);  // slow start: +1 SMSS per ACKed segment
    const Duration rto = s.tcp().info(c)->rto;
    s.advance_to(at(100ms) + rto);  // not more than an RTO since the last send (at 100 ms)
    s.send(c, bytes(30 * kMss));
    for (std::uint32_t i = 11; i <= 30; ++i)
        s.expect({.at = at(350ms),
                  .flags = kAck,
                  .seq = seg_start(i),
                  .ack = 1001,
                  .win = 65535,
                  .len = kMss});
    s.expect_nothing();
    const Instant t = s.now() + Duration::millis(100);
    for (std::uint32_t i = 12; i <= 31; ++i) s.inject(t, ack(1001, seg_start(i)));
    s.discard_output();  // the rest of the data
    s.inject(t + Duration::millis(100), ack(1001, seg_start(41)));
    s.discard_output();
    EXPECT_GT(s.tcp().info(c)->cwnd, 20 * kMss);
    // Ten seconds idle: the restart window is the initial window.
    s.advance_by(Duration::seconds(10));
    s.send(c, bytes(30 * kMss));
    for (std::uint32_t i = 41; i <= 50; ++i)
        s.expect({.at = at(10550ms),
                  .flags = kAck,
                  .seq = seg_start(i),
                  .ack = 1001,
                  .win = 65535,
                  .len = kMss});
    s.expect_nothing();
    EXPECT_EQ(s.tcp().info(c)->cwnd, 10 * kMss);
    EXPECT_EQ(stat(s, "tcp.idle_restarts"), 1);
}

// Issue 8 point 14. RFC 7661 §4.3: cwnd grows only while it is validated, i.e. the data in flight
// reached at least half of it (pipeACK >= cwnd/2); an application sending two segments per round trip
// never uses the initial window of ten, so cwnd must not grow.
TEST(TcpScriptRecovery, ApplicationLimitedSenderDoesNotGrowCwnd_Rfc7661) {
    Script s(newreno);
    auto c = open_with_rtt(s, Duration::millis(100));
    std::uint32_t next = 1;
    for (int round = 0; round < 20; ++round) {
        s.send(c, bytes(2 * kMss, static_cast<std::uint32_t>(round)));
        s.expect(
            {.at = s.now(), .flags = kAck, .seq = next, .ack = 1001, .win = 65535, .len = kMss});
        s.expect({.at = s.now(),
                  .flags = kPshAck,
                  .seq = next + kMss,
                  .ack = 1001,
                  .win = 65535,
                  .len = kMss});
        s.expect_nothing();
        s.inject(s.now() + Duration::millis(50), ack(1001, next + kMss));
        s.inject(s.now(), ack(1001, next + 2 * kMss));
        next += 2 * kMss;
        s.advance_by(Duration::millis(50));
    }
    EXPECT_EQ(s.tcp().info(c)->cwnd, 10 * kMss);
    // Now a bulk write: the initial window goes out, not the 50 segments growth would have allowed.
    s.send(c, bytes(30 * kMss));
    for (std::uint32_t i = 0; i < 10; ++i)
        s.expect({.at = at(2100ms),
                  .flags = kAck,
                  .seq = next + i * kMss,
                  .ack = 1001,
                  .win = 65535,
                  .len = kMss});
    s.expect_nothing();
}

// Issue 8 point 3 (orphans). An application closed this connection with data still queued; the
// peer keeps its window closed but answers every probe. A connection someone holds may wait forever
// (RFC 9293 §3.8.6.1), an orphan may not: after orphan_retries probes (default 8) it is reset and
// counted (tcp.orphan_probe_aborts). The RST carries a sequence number the peer's zero window accepts.
TEST(TcpScriptRecovery, OrphanInZeroWindowIsAbortedAfterBoundedProbes_Issue8P3) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460}, 65535, /*final_win=*/0);
    s.send(c, bytes(100));
    s.expect_nothing();
    ASSERT_TRUE(s.tcp().close(s.now(), c).ok());
    EXPECT_EQ(s.state_of_only_connection(), TcpState::FinWait1);
    s.expect_nothing();
    int probes = 0;
    bool reset = false;
    for (int i = 0; i < 30 && !reset; ++i) {
        // Run timers until the next probe (or the RST) goes out; at most two minutes (the backoff
        // caps the probe interval at 60 s).
        const Instant limit = s.now() + Duration::seconds(120);
        for (int step = 0; step < 1000 && s.pending() == 0 && s.now() < limit; ++step) {
            s.advance_to(std::min(s.stack().poll_at(), limit));
        }
        ASSERT_EQ(s.pending(), 1u) << "probe " << probes;
        const bool rst = s.captured().front().tcp.flags.rst();
        Out o = rst ? s.expect({.at = s.now(), .flags = kRst, .seq = 1, .ack = 0, .win = 0})
                    : s.expect({.at = s.now(),
                                .flags = kAck,
                                .seq = 1,
                                .ack = 1001,
                                .win = 65535,
                                .len = 1});
        if (o.tcp.flags.rst()) {
            EXPECT_EQ(o.rel_seq, 1u);
            reset = true;
            break;
        }
        EXPECT_EQ(o.tcp.flags.to_string(), kAck.to_string());
        EXPECT_EQ(o.tcp.ack.value(), 1001u);
        EXPECT_EQ(o.rel_seq, 1u);
        EXPECT_EQ(o.payload.size(), 1u);
        ++probes;
        s.inject(s.now() + Duration::millis(10), ack(1001, 1, 0));
        s.expect_nothing();
    }
    EXPECT_TRUE(reset);
    EXPECT_EQ(probes, 8);
    EXPECT_EQ(stat(s, "tcp.orphan_probe_aborts"), 1);
    s.advance_by(Duration::millis(1));
    EXPECT_EQ(s.state_of_only_connection(), std::nullopt);
}

}  // namespace
}  // namespace tcpscript
