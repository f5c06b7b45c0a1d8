// Scripted tests: retransmission (RFC 6298: RTO, backoff, Karn, §5.7), the user timeout (RFC 9293
// §3.8.3 / RFC 5482), fast retransmit and NewReno (RFC 5681 §3.2, RFC 6582), SACK-based loss recovery
// (RFC 6675).
#include <gtest/gtest.h>

#include "tests/tcp/script.hpp"

namespace tcpscript {
namespace {

TEST(TcpScriptRtx, RtoIsThreeSecondsAfterSynAckTimedOutWithoutSample_Rfc6298S57) {
    Script s;
    auto l = s.listen();
    s.inject(at(0ms), syn(1000));
    s.expect({.at = at(0ms), .flags = kSynAck, .seq = 0, .ack = 1001, .win = 65535, .mss = 1460});
    s.advance_to(at(1s));
    s.expect({.at = at(1s),
              .flags = kSynAck,
              .seq = 0,
              .ack = 1001,
              .win = 65535,
              .mss = 1460});  // retransmitted: no RTT sample (Karn)
    s.inject(at(1100ms), ack(1001, 1));
    auto c = *s.tcp().accept(l);
    EXPECT_EQ(s.tcp().info(c)->rto, Duration::seconds(3));
    s.send(c, bytes(100));
    s.expect({.at = at(1100ms), .flags = kPshAck, .seq = 1, .ack = 1001, .win = 65535, .len = 100});
    s.expect_nothing_until(at(4099ms));
    s.advance_to(at(4100ms));
    s.expect({.at = at(4100ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535, .len = 100});
}

TEST(TcpScriptRtx, RtoFromMeasuredRttThenDoublesOnEachExpiry_Rfc6298S2S55) {
    Script s;
    auto c = open_with_rtt(s, Duration::millis(100));
    // SRTT 100 ms, RTTVAR 50 ms: RTO = 100 + 4*50 = 300 ms.
    EXPECT_EQ(s.tcp().info(c)->rto, Duration::millis(300));
    s.advance_to(at(1s));
    s.send(c, bytes(100));
    s.expect({.at = at(1s), .flags = kPshAck, .seq = 1, .ack = 1001, .win = 65535, .len = 100});
    std::int64_t t = 1000;
    for (std::int64_t rto : {300, 600, 1200, 2400, 4800}) {
        t += rto;
        s.expect_nothing_until(Instant::from_millis(t - 1));
        s.advance_to(Instant::from_millis(t));
        s.expect({.at = Instant::from_millis(t),
                  .flags = kAck,
                  .seq = 1,
                  .ack = 1001,
                  .win = 65535,
                  .len = 100});
    }
    EXPECT_EQ(s.stack().stats().tcp.rto, 5u);
}

TEST(TcpScriptRtx, MinimumRtoIs200ms_Rfc6298S24) {
    Script s;
    auto c = open_with_rtt(s, Duration::millis(10));
    EXPECT_EQ(s.tcp().info(c)->rto, Duration::millis(200));
    s.send(c, bytes(100));
    s.expect({.at = at(10ms), .flags = kPshAck, .seq = 1, .ack = 1001, .win = 65535, .len = 100});
    s.expect_nothing_until(s.now() + Duration::millis(199));
    s.advance_by(Duration::millis(1));
    s.expect({.at = at(210ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535, .len = 100});
}

TEST(TcpScriptRtx, KarnNoRttSampleFromRetransmittedSegment_Rfc6298S3) {
    Script s;
    auto c = open_with_rtt(s, Duration::millis(100));
    s.advance_to(at(1s));
    s.send(c, bytes(100));
    s.expect({.at = at(1s), .flags = kPshAck, .seq = 1, .ack = 1001, .win = 65535, .len = 100});
    s.advance_to(at(1300ms));
    s.expect({.at = at(1300ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535, .len = 100});
    s.inject(at(1350ms), ack(1001, 101));
    // Neither 350 ms (from the original) nor 50 ms (from the retransmission) was taken.
    EXPECT_EQ(s.tcp().info(c)->srtt, Duration::millis(100));
    EXPECT_EQ(s.tcp().info(c)->rttvar, Duration::millis(50));
    // A fresh segment gives a sample again.
    s.send(c, bytes(100, 2));
    s.expect(
        {.at = at(1350ms), .flags = kPshAck, .seq = 101, .ack = 1001, .win = 65535, .len = 100});
    s.inject(at(1550ms), ack(1001, 201));
    EXPECT_NE(s.tcp().info(c)->srtt, Duration::millis(100));
}

// RTTM (RFC 7323 §4.1-4.2): with timestamps, every ACK that echoes one of our TSvals is an RTT sample,
// retransmissions included: the echoed TSval says which transmission is being acknowledged, so Karn's
// ambiguity does not arise. Here the ACK of the retransmission (40 ms after it) echoes the
// retransmission's TSval: SRTT = 7/8 * 100 + 1/8 * 40 = 92.5 ms, RTTVAR = 3/4 * 50 + 1/4 * 60 = 52.5 ms.
TEST(TcpScriptRtx, TimestampEchoGivesRttSampleEvenForRetransmission_Rfc7323S4) {
    Script s;
    auto c = open_with_rtt(s, Duration::millis(100), {.tsval = 5000});
    ASSERT_TRUE(s.tcp().info(c)->timestamps);
    EXPECT_EQ(s.tcp().info(c)->srtt, Duration::millis(100));  // the handshake's TSecr sample
    s.advance_to(at(1s));
    s.send(c, bytes(100));
    Out first = s.expect({.at = at(1s),
                          .flags = kPshAck,
                          .seq = 1,
                          .ack = 1001,
                          .win = 65535,
                          .len = 100,
                          .tsecr = 5001});
    s.advance_to(at(1300ms));
    Out again = s.expect({.at = at(1300ms),
                          .flags = kAck,
                          .seq = 1,
                          .ack = 1001,
                          .win = 65535,
                          .len = 100,
                          .tsecr = 5001});
    ASSERT_NE(again.ts_val(), first.ts_val());
    s.inject(at(1340ms), ack(1001, 101).with_ts(5010, again.ts_val()));
    EXPECT_EQ(s.tcp().info(c)->srtt, Duration::micros(92'500));
    EXPECT_EQ(s.tcp().info(c)->rttvar, Duration::micros(52'500));
    // An ACK echoing TSecr 0 (RFC 7323 §3.2: not a valid echo) gives no sample.
    s.send(c, bytes(100, 2));
    s.expect({.at = at(1340ms),
              .flags = kPshAck,
              .seq = 101,
              .ack = 1001,
              .win = 65535,
              .len = 100,
              .tsecr = 5010});
    s.inject(at(1500ms), ack(1001, 201).with_ts(5020, 0));
    EXPECT_EQ(s.tcp().info(c)->srtt, Duration::micros(92'500));
}

TEST(TcpScriptRtx, UserTimeoutAbortsWithRstAndTimedOut_Rfc9293S383) {
    Script s;
    auto c = open_with_rtt(s, Duration::millis(100));
    s.advance_to(at(1s));
    s.send(c, bytes(100));
    s.expect({.at = at(1s), .flags = kPshAck, .seq = 1, .ack = 1001, .win = 65535, .len = 100});
    // Retransmissions go unanswered: at 60 s (the default user timeout) after the data was first sent
    // the connection is reset, not one backed-off RTO later.
    s.advance_to(at(60999ms));
    // RFC 6298: RTO 300 ms (SRTT 100 ms + 4 * RTTVAR 50 ms), doubled after each expiry (§5.5).
    std::int64_t t = 1000, rto = 300;
    while (s.pending() > 0) {
        t += rto;
        rto *= 2;
        s.expect({.at = at(std::chrono::milliseconds(t)),
                  .flags = kAck,
                  .seq = 1,
                  .ack = 1001,
                  .win = 65535,
                  .len = 100});
    }
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::Established);
    s.advance_to(at(61s));
    s.expect({.at = at(61s), .flags = kRst, .seq = 101, .ack = 0, .win = 0});
    EXPECT_TRUE(s.events(c) & stack::kEventError);
    EXPECT_EQ(s.tcp().error(c), SocketError::TimedOut);
    s.expect_nothing_until(at(200s));
}

TEST(TcpScriptRtx, UserTimeoutCountsFromSendAfterIdleNotFromLastAck_Rfc9293S383) {
    Script s;
    auto c = open_with_rtt(s, Duration::millis(100));
    // Idle for 10 minutes, then data that is lost once: it must be retransmitted, not reset.
    s.advance_to(at(600s));
    s.send(c, bytes(100));
    s.expect({.at = at(600s), .flags = kPshAck, .seq = 1, .ack = 1001, .win = 65535, .len = 100});
    s.advance_to(at(600300ms));
    s.expect({.at = at(600300ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535, .len = 100});
    s.expect_nothing();
    EXPECT_FALSE(s.tcp().error(c).has_value());
}

TEST(TcpScriptRtx, ThreeDupAcksTriggerFastRetransmitAndNewRenoPartialAck_Rfc5681S32_Rfc6582) {
    Script s([](stack::StackConfig& c) { c.tcp.congestion = stack::tcp::CcAlgorithm::NewReno; });
    auto c = open_with_rtt(s, Duration::millis(100));
    s.send(c, bytes(14600));  // ten segments, the initial window
    for (std::uint32_t i = 0; i < 10; ++i)
        s.expect({.at = at(100ms),
                  .flags = i == 9 ? kPshAck : kAck,
                  .seq = 1 + i * 1460,
                  .ack = 1001,
                  .win = 65535,
                  .len = 1460});
    // Segments 1 and 5 are lost. Segments 2, 3, 4 produce three duplicate ACKs.
    s.inject(at(150ms), ack(1001, 1));
    s.inject(at(151ms), ack(1001, 1));
    s.expect_nothing();
    s.inject(at(152ms), ack(1001, 1));
    s.expect({.at = at(152ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1001,
              .win = 65535,
              .len = 1460});  // fast retransmit
    s.expect_nothing();
    EXPECT_EQ(s.stack().stats().tcp.fast_retransmits, 1u);
    EXPECT_EQ(s.tcp().info(c)->ssthresh, 7300u);                    // FlightSize / 2
    for (int i = 0; i < 5; ++i) s.inject(at(153ms), ack(1001, 1));  // segments 6..10
    s.discard_output();
    // The retransmission fills the first hole: a partial ACK (up to segment 5) retransmits segment 5
    // at once (RFC 6582 §3.2 step 4).
    s.inject(at(260ms), ack(1001, 5841));
    s.expect({.at = at(260ms), .flags = kAck, .seq = 5841, .ack = 1001, .win = 65535, .len = 1460});
    s.expect_nothing();
    // Full ACK: recovery ends, cwnd deflates to ssthresh (RFC 6582 §3.2 step 3).
    s.inject(at(370ms), ack(1001, 14601));
    s.expect_nothing();
    EXPECT_EQ(s.tcp().info(c)->cwnd, 7300u);
    EXPECT_EQ(s.stack().stats().tcp.rto, 0u);
}

TEST(TcpScriptRtx, SackRecoveryRetransmitsEachHole_Rfc6675) {
    Script s;
    auto c = open_with_rtt(s, Duration::millis(100), {.mss = 1460, .sack_ok = true});
    s.send(c, bytes(14600));
    for (std::uint32_t i = 0; i < 10; ++i)
        s.expect({.at = at(100ms),
                  .flags = i == 9 ? kPshAck : kAck,
                  .seq = 1 + i * 1460,
                  .ack = 1001,
                  .win = 65535,
                  .len = 1460});
    // Segments 1 and 3 are lost; every later arrival brings a duplicate ACK with SACK blocks.
    auto seg_start = [](std::uint32_t i) { return 1 + (i - 1) * 1460; };  // i = 1..10
    std::vector<Seg> acks;
    acks.push_back(ack(1001, 1).with_sack(seg_start(2), seg_start(3)));
    for (std::uint32_t last = 4; last <= 10; ++last) {
        acks.push_back(ack(1001, 1)
                           .with_sack(seg_start(4), seg_start(last + 1))
                           .with_sack(seg_start(2), seg_start(3)));
    }
    for (auto& a : acks) s.inject(at(150ms), a);
    // Both holes are retransmitted during recovery, first the oldest; nothing else is.
    std::vector<std::uint32_t> rexmits;
    while (s.pending() > 0) {
        Out o = s.expect({.at = at(150ms),
                          .flags = kAck,
                          .ack = 1001,
                          .win = 65535,
                          .len = 1460,
                          .any = Any::Seq});  // the order is checked below
        if (!o.payload.empty()) rexmits.push_back(o.rel_seq);
    }
    ASSERT_EQ(rexmits.size(), 2u);
    EXPECT_EQ(rexmits[0], seg_start(1));
    EXPECT_EQ(rexmits[1], seg_start(3));
    EXPECT_EQ(s.stack().stats().tcp.sack_recoveries, 1u);
    s.inject(at(260ms), ack(1001, seg_start(11)));
    s.expect_nothing_until(at(5s));
    EXPECT_EQ(s.stack().stats().tcp.rto, 0u);
    EXPECT_EQ(s.tcp().info(c)->send_queue, 0u);
}

TEST(TcpScriptRtx, RtoGoesBackToSndUnaWithOneSegmentWindow_Rfc5681S31) {
    Script s;
    auto c = open_with_rtt(s, Duration::millis(100));
    s.send(c, bytes(5840));
    for (std::uint32_t i = 0; i < 4; ++i)
        s.expect({.at = at(100ms),
                  .flags = i == 3 ? kPshAck : kAck,
                  .seq = 1 + i * 1460,
                  .ack = 1001,
                  .win = 65535,
                  .len = 1460});
    s.advance_to(at(400ms));
    s.expect({.at = at(400ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1001,
              .win = 65535,
              .len = 1460});  // one segment: cwnd = 1 SMSS
    s.expect_nothing();
    EXPECT_EQ(s.tcp().info(c)->cwnd, 1460u);
    s.inject(at(450ms), ack(1001, 1461));
    s.expect({.at = at(450ms), .flags = kAck, .seq = 1461, .ack = 1001, .win = 65535, .len = 1460});
    s.expect({.at = at(450ms), .flags = kAck, .seq = 2921, .ack = 1001, .win = 65535, .len = 1460});
    s.expect_nothing();
}

}  // namespace
}  // namespace tcpscript
