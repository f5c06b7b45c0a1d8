// Scripted tests: data transfer. Receiving (delayed ACKs RFC 5681 §4.2 / RFC 9293 §3.8.6.3, out-of-order
// data and SACK RFC 2018 §4, window advertisement RFC 7323 §2.3, receiver SWS avoidance RFC 9293
// §3.8.6.2.2) and sending (Nagle RFC 9293 §3.7.4, MSS RFC 9293 §3.7.1 / RFC 6691, windows RFC 5681 §3,
// zero-window probing RFC 9293 §3.8.6.1).
#include <gtest/gtest.h>

#include "tests/tcp/script.hpp"

namespace tcpscript {
namespace {

// ---- receiving ----

TEST(TcpScriptData, InOrderSegmentIsDeliveredAndAckedAfterDelayedAckTimer_Rfc5681S42) {
    Script s;
    auto c = s.passive_open(1000);
    s.inject(at(100ms), data(1001, 1, bytes(100)));
    EXPECT_TRUE(s.events(c) & stack::kEventReadable);
    s.expect_nothing_until(at(139ms));
    s.advance_to(at(140ms));
    s.expect({.at = at(140ms), .flags = kAck, .seq = 1, .ack = 1101, .win = 65535});
    EXPECT_EQ(s.recv(c), bytes(100));
    s.expect_nothing_until(at(1s));  // reading 100 bytes is no reason for a window update
}

TEST(TcpScriptData, SecondFullSizedSegmentIsAckedAtOnce_Rfc5681S42) {
    Script s;
    auto c = s.passive_open(1000);
    s.inject(at(100ms), data(1001, 1, bytes(1460, 1)));
    s.expect_nothing();
    s.inject(at(110ms), data(2461, 1, bytes(1460, 2)));
    s.expect({.at = at(110ms), .flags = kAck, .seq = 1, .ack = 3921, .win = 65535});
    s.expect_nothing_until(at(500ms));  // the delayed-ACK timer was cancelled by that ACK
    EXPECT_EQ(s.recv(c), concat({bytes(1460, 1), bytes(1460, 2)}));
}

TEST(TcpScriptData, OutOfOrderSegmentsAreAckedAtOnceWithMostRecentSackBlockFirst_Rfc2018S4) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460, .sack_ok = true});
    s.inject(at(100ms), data(2461, 1, bytes(1460, 2)));
    Out a1 = s.expect({.at = at(100ms),
                       .flags = kAck,
                       .seq = 1,
                       .ack = 1001,
                       .win = 65535,
                       .sack_blocks = 1,
                       .sack = {{2461, 3921}}});
    EXPECT_EQ(a1.tcp.options.sack_blocks[0].left.value(), 2461u);
    EXPECT_EQ(a1.tcp.options.sack_blocks[0].right.value(), 3921u);
    EXPECT_FALSE(s.events(c) & stack::kEventReadable);

    s.inject(at(110ms), data(5381, 1, bytes(1460, 4)));
    Out a2 = s.expect({.at = at(110ms),
                       .flags = kAck,
                       .seq = 1,
                       .ack = 1001,
                       .win = 65535,
                       .sack_blocks = 2,
                       .sack = {{5381, 6841}, {2461, 3921}}});
    EXPECT_EQ(a2.tcp.options.sack_blocks[0].left.value(), 5381u);  // the most recent first
    EXPECT_EQ(a2.tcp.options.sack_blocks[0].right.value(), 6841u);
    EXPECT_EQ(a2.tcp.options.sack_blocks[1].left.value(), 2461u);
    EXPECT_EQ(a2.tcp.options.sack_blocks[1].right.value(), 3921u);

    // Filling the first hole: an immediate cumulative ACK (RFC 5681 §4.2), the remaining block only.
    s.inject(at(120ms), data(1001, 1, bytes(1460, 1)));
    Out a3 = s.expect({.at = at(120ms),
                       .flags = kAck,
                       .seq = 1,
                       .ack = 3921,
                       .win = 65535,
                       .sack_blocks = 1,
                       .sack = {{5381, 6841}}});
    EXPECT_EQ(a3.tcp.options.sack_blocks[0].left.value(), 5381u);
    s.inject(at(130ms), data(3921, 1, bytes(1460, 3)));
    s.expect(
        {.at = at(130ms), .flags = kAck, .seq = 1, .ack = 6841, .win = 65535, .sack_blocks = 0});
    s.expect_nothing();
    EXPECT_EQ(s.recv(c), concat({bytes(1460, 1), bytes(1460, 2), bytes(1460, 3), bytes(1460, 4)}));
    EXPECT_EQ(s.stack().stats().tcp.rx_out_of_order, 2u);
}

// Regression (found against the kernel with tunstackd's echo under loss): while we hold out-of-order
// data, a full-sized data segment has no room for SACK blocks (20 + 20 + 12 TS + 1448 = 1500). It used
// to carry them anyway, exceeded the MTU with DF set, was dropped before the wire, and blocked all
// further output (ACKs included): the connection stalled. Data segments now carry only the SACK
// blocks that fit (RFC 2018 §3 allows fewer); pure ACKs carry them all.
TEST(TcpScriptData, DataSegmentsWithSackBlocksStayWithinTheMtu_Rfc2018S3) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460, .sack_ok = true, .tsval = 100});
    s.inject(at(100ms), data(2461, 1, bytes(1448, 2)).with_ts(200, 0));  // a hole at 1001
    Out a = s.expect({.at = at(100ms),
                      .flags = kAck,
                      .seq = 1,
                      .ack = 1001,
                      .win = 65535,
                      .tsecr = 101,
                      .sack_blocks = 1,
                      .sack = {{2461, 3909}}});
    s.send(c, bytes(3 * 1448, 9));
    for (std::uint32_t i = 0; i < 3; ++i) {
        Out d = s.expect({.at = at(100ms),
                          .flags = i == 2 ? kPshAck : kAck,
                          .seq = 1 + i * 1448,
                          .ack = 1001,
                          .win = 65535,
                          .len = 1448,
                          .tsecr = 101});
        EXPECT_LE(20 + d.tcp.header_len() + d.payload.size(), 1500u);
        EXPECT_EQ(d.tcp.options.sack_count, 0u);  // no room at full size
    }
    EXPECT_EQ(s.stack().stats().ip.tx_drop_df, 0u);
    // A short segment still has room and carries the block.
    s.send(c, bytes(100, 9));
    s.inject(at(150ms), ack(1001, 1 + 3 * 1448).with_ts(300, a.ts_val()));
    Out small = s.expect({.at = at(150ms),
                          .flags = kPshAck,
                          .seq = 1 + 3 * 1448,
                          .ack = 1001,
                          .win = 65535,
                          .len = 100,
                          .tsecr = 300,
                          .sack = {{2461, 3909}}});
    EXPECT_EQ(small.tcp.options.sack_count, 1u);
}

TEST(TcpScriptData, SackBlockOfDataJustMadeInOrderIsNotReported_Rfc2018S4) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460, .sack_ok = true});
    s.inject(at(100ms), data(5381, 1, bytes(1460, 4)));
    s.expect({.at = at(100ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1001,
              .win = 65535,
              .sack_blocks = 1,
              .sack = {{5381, 6841}}});
    s.inject(at(110ms), data(2461, 1, bytes(1460, 2)));  // most recent block: [2461, 3921)
    s.expect({.at = at(110ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1001,
              .win = 65535,
              .sack_blocks = 2,
              .sack = {{2461, 3921}, {5381, 6841}}});
    // The gap fill absorbs the most recent block: it is below RCV.NXT now and must not be reported
    // (RFC 2018 §4: blocks report data the receiver holds beyond the cumulative ACK).
    s.inject(at(120ms), data(1001, 1, bytes(1460, 1)));
    Out a = s.expect({.at = at(120ms),
                      .flags = kAck,
                      .seq = 1,
                      .ack = 3921,
                      .win = 65535,
                      .sack_blocks = 1,
                      .sack = {{5381, 6841}}});
    EXPECT_EQ(a.tcp.options.sack_blocks[0].left.value(), 5381u);
    EXPECT_EQ(a.tcp.options.sack_blocks[0].right.value(), 6841u);
    (void)c;
}

TEST(TcpScriptData, NoSackBlocksWithoutSackPermitted_Rfc2018S2) {
    Script s;
    s.passive_open(1000);
    s.inject(at(100ms), data(2461, 1, bytes(1460, 2)));
    s.expect(
        {.at = at(100ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535, .sack_blocks = 0});
}

TEST(TcpScriptData, DuplicateSegmentIsAckedAtOnce_Rfc5681S42) {
    Script s;
    s.passive_open(1000);
    s.inject(at(100ms), data(1001, 1, bytes(100)));
    s.advance_to(at(140ms));
    s.expect({.at = at(140ms), .flags = kAck, .seq = 1, .ack = 1101, .win = 65535});
    s.inject(at(200ms), data(1001, 1, bytes(100)));
    s.expect({.at = at(200ms), .flags = kAck, .seq = 1, .ack = 1101, .win = 65535});
}

TEST(TcpScriptData, WindowIsScaledByOurShiftAfterTheSyn_Rfc7323S23) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460, .wscale = 7});
    s.inject(at(100ms), data(1001, 1, bytes(1000)));
    s.advance_to(at(140ms));
    // 512 KiB buffer, shift 4: (524288 - 1000) >> 4.
    s.expect({.at = at(140ms), .flags = kAck, .seq = 1, .ack = 2001, .win = (524288 - 1000) >> 4});
    EXPECT_EQ(s.recv(c).size(), 1000u);
    s.expect_nothing();  // 1000 bytes freed < one MSS: no window update
}

TEST(TcpScriptData, ReceiverSwsNoTinyWindowUpdatesAndUpdateAfterZeroWindow_Rfc9293S386222) {
    Script s([](stack::StackConfig& c) { c.tcp.recv_buffer = 4000; });
    auto c = s.passive_open(1000);
    s.inject(at(100ms), data(1001, 1, bytes(1460, 1)));
    s.inject(at(101ms), data(2461, 1, bytes(1460, 2)));
    s.expect({.at = at(101ms), .flags = kAck, .seq = 1, .ack = 3921, .win = 1080});
    s.inject(at(102ms), data(3921, 1, bytes(1080, 3)));
    s.advance_to(at(142ms));
    s.expect({.at = at(142ms), .flags = kAck, .seq = 1, .ack = 5001, .win = 0});
    // The application reads 100 bytes: the window may not reopen by such a small amount.
    EXPECT_EQ(s.recv(c, 100).size(), 100u);
    s.expect_nothing();
    // A zero-window probe (one byte at RCV.NXT) is answered with the still-closed window, and the
    // byte beyond the advertised window is not taken (RFC 9293 §3.10.7.4: text is trimmed to it).
    s.inject(at(300ms), data(5001, 1, bytes(1, 9)));
    s.expect({.at = at(300ms), .flags = kAck, .seq = 1, .ack = 5001, .win = 0});
    // Reading 1400 more frees 1500 >= min(buffer/2, MSS): a window update goes out at once.
    EXPECT_EQ(s.recv(c, 1400).size(), 1400u);
    s.expect({.at = at(300ms), .flags = kAck, .seq = 1, .ack = 5001, .win = 1500});
    s.expect_nothing_until(at(2s));
}

TEST(TcpScriptData, DataBeyondTheAdvertisedWindowIsTrimmed_Rfc9293S31074Step7) {
    Script s([](stack::StackConfig& c) { c.tcp.recv_buffer = 4000; });
    auto c = s.passive_open(1000);
    s.inject(at(100ms), data(1001, 1, bytes(1460, 1)));
    s.inject(at(101ms), data(2461, 1, bytes(1460, 2)));
    s.expect({.at = at(101ms), .flags = kAck, .seq = 1, .ack = 3921, .win = 1080});
    EXPECT_EQ(s.recv(c, 500).size(), 500u);  // buffer room 1580, advertised window still 1080
    s.expect_nothing();
    s.inject(at(110ms), data(3921, 1, bytes(1460, 3)));
    s.advance_to(at(150ms));
    // Only the 1080 bytes inside the window are taken; the 500 bytes of room left stay unadvertised
    // (less than min(buffer/2, MSS): receiver SWS avoidance).
    s.expect({.at = at(150ms), .flags = kAck, .seq = 1, .ack = 5001, .win = 0});
    EXPECT_EQ(s.recv(c).size(), 3500u);
}

// ---- sending ----

TEST(TcpScriptData, NagleHoldsSecondSmallSegmentUntilFirstIsAcked_Rfc9293S374) {
    Script s;
    auto c = s.passive_open(1000);
    s.send(c, bytes(100, 1));
    Out d1 = s.expect({.at = at(0ms),
                       .flags = kAck,
                       .seq = 1,
                       .ack = 1001,
                       .win = 65535,
                       .len = 100,
                       .psh = true});
    EXPECT_EQ(d1.payload, bytes(100, 1));
    s.send(c, bytes(100, 2));
    s.expect_nothing_until(at(50ms));
    s.inject(at(50ms), ack(1001, 101));
    Out d2 = s.expect(
        {.at = at(50ms), .flags = kPshAck, .seq = 101, .ack = 1001, .win = 65535, .len = 100});
    EXPECT_EQ(d2.payload, bytes(100, 2));
}

TEST(TcpScriptData, NoDelaySendsSmallSegmentsAtOnce_Rfc9293S374) {
    Script s;
    auto c = s.passive_open(1000);
    ASSERT_TRUE(s.tcp().set_nodelay(c, true).ok());
    s.send(c, bytes(100, 1));
    s.expect({.at = at(0ms), .flags = kPshAck, .seq = 1, .ack = 1001, .win = 65535, .len = 100});
    s.send(c, bytes(100, 2));
    s.expect({.at = at(0ms), .flags = kPshAck, .seq = 101, .ack = 1001, .win = 65535, .len = 100});
}

TEST(TcpScriptData, SegmentsRespectPeerMssLessTimestampOption_Rfc6691_Rfc7323) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1000, .tsval = 10});
    s.send(c, bytes(3000));
    s.expect({.at = at(0ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1001,
              .win = 65535,
              .len = 988,
              .tsecr = 11});
    s.expect({.at = at(0ms),
              .flags = kAck,
              .seq = 989,
              .ack = 1001,
              .win = 65535,
              .len = 988,
              .tsecr = 11});
    s.expect({.at = at(0ms),
              .flags = kAck,
              .seq = 1977,
              .ack = 1001,
              .win = 65535,
              .len = 988,
              .tsecr = 11});
    s.expect_nothing();  // the 36-byte tail waits (Nagle)
}

TEST(TcpScriptData, SenderStaysWithinPeerWindowAndSwsAvoidance_Rfc9293S386221) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460}, 65535, /*final_win=*/4000);
    s.send(c, bytes(10000));
    s.expect({.at = at(0ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535, .len = 1460});
    s.expect({.at = at(0ms), .flags = kAck, .seq = 1461, .ack = 1001, .win = 65535, .len = 1460});
    s.expect_nothing();  // 1080 usable < half the max window: no silly segment
    s.inject(at(50ms), ack(1001, 2921, 4000));
    s.expect({.at = at(50ms), .flags = kAck, .seq = 2921, .ack = 1001, .win = 65535, .len = 1460});
    s.expect({.at = at(50ms), .flags = kAck, .seq = 4381, .ack = 1001, .win = 65535, .len = 1460});
    s.expect_nothing();
}

// Regression: everything acknowledged, but the peer's window stays below one MSS and below half its
// largest window. SWS avoidance holds the data, nothing is in flight, so no ACK will ever come: the
// override timeout (RFC 9293 §3.8.6.2.1) must send what the window allows instead of stalling forever.
TEST(TcpScriptData, SmallWindowWithNothingInFlightIsSentAfterTheSwsOverrideTimeout_Rfc9293S386221) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460}, 65535, /*final_win=*/4000);
    const Duration rto = s.tcp().info(c)->rto;
    s.send(c, bytes(10000));
    s.expect({.at = at(0ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535, .len = 1460});
    s.expect({.at = at(0ms), .flags = kAck, .seq = 1461, .ack = 1001, .win = 65535, .len = 1460});
    s.expect_nothing();
    s.inject(at(50ms), ack(1001, 2921, 1000));
    s.expect_nothing_until(at(50ms) + rto - Duration::millis(1));
    s.advance_to(at(50ms) + rto);
    s.expect(
        {.at = at(50ms) + rto, .flags = kAck, .seq = 2921, .ack = 1001, .win = 65535, .len = 1000});
    // The peer takes it and keeps the window small: the sender keeps going, one window at a time.
    s.inject(at(50ms) + rto + Duration::millis(10), ack(1001, 3921, 1000));
    s.advance_to(at(50ms) + rto * 3);
    s.expect({.at = at(460ms), .flags = kAck, .seq = 3921, .ack = 1001, .win = 65535, .len = 1000});
}

TEST(TcpScriptData, SenderStaysWithinInitialCongestionWindow_Rfc6928_Rfc5681S3) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460, .wscale = 7});
    s.send(c, bytes(60000));
    for (std::uint32_t i = 0; i < 10; ++i)
        s.expect({.at = at(0ms),
                  .flags = kAck,
                  .seq = 1 + i * 1460,
                  .ack = 1001,
                  .win = 32768,
                  .len = 1460});
    s.expect_nothing();
    // One ACK for everything: slow start grows cwnd by at most 2*SMSS (RFC 3465 L=2): 12 segments.
    s.inject(at(50ms), ack(1001, 14601));
    for (std::uint32_t i = 0; i < 12; ++i) {
        s.expect({.at = at(50ms),
                  .flags = kAck,
                  .seq = 14601 + i * 1460,
                  .ack = 1001,
                  .win = 32768,
                  .len = 1460});
    }
    s.expect_nothing();
}

TEST(TcpScriptData, ZeroWindowIsProbedWithBackoffAndKeptOpenWhileAnswered_Rfc9293S38261) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460}, 65535, /*final_win=*/0);
    const Duration rto = s.tcp().info(c)->rto;
    EXPECT_EQ(rto, Duration::millis(200));
    s.send(c, bytes(100));
    s.expect_nothing();
    // Probes: one byte, at RTO, then doubling intervals; each answered with a zero window. The
    // connection must stay open as long as the probes are answered (MUST-36), past the user timeout.
    Instant t = at(0ms);
    Duration interval = rto;
    int probes = 0;
    while (t < at(200s)) {
        t = t + interval;
        s.expect_nothing_until(t - Duration::millis(1));
        s.advance_to(t);
        Out p = s.expect({.at = t, .flags = kAck, .seq = 1, .ack = 1001, .win = 65535, .len = 1});
        EXPECT_EQ(p.payload.size(), 1u);
        ASSERT_EQ(s.tcp().info(c)->state, TcpState::Established);
        s.inject(t + Duration::millis(10), ack(1001, 1, 0));
        s.expect_nothing();
        interval = std::min(interval * 2, Duration::seconds(60));
        ++probes;
    }
    EXPECT_GE(probes, 8);
    EXPECT_FALSE(s.tcp().error(c).has_value());
    // The window opens: the data flows at once.
    s.inject(t + Duration::millis(20), ack(1001, 1, 65535));
    s.expect(
        {.at = at(222220ms), .flags = kPshAck, .seq = 1, .ack = 1001, .win = 65535, .len = 100});
    s.expect_nothing();
    s.inject(t + Duration::millis(30), ack(1001, 101));
    s.expect_nothing_until(t + Duration::seconds(100));
}

TEST(TcpScriptData, ZeroWindowProbeAcceptedByPeerThenWindowOpens_Rfc9293S38261) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460}, 65535, /*final_win=*/0);
    s.send(c, bytes(100));
    s.advance_to(at(200ms));
    s.expect({.at = at(200ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535, .len = 1});
    // The peer takes the probe byte and opens its window: the rest follows.
    s.inject(at(210ms), ack(1001, 2, 1000));
    s.expect({.at = at(210ms), .flags = kPshAck, .seq = 2, .ack = 1001, .win = 65535, .len = 99});
    s.inject(at(220ms), ack(1001, 101, 1000));
    s.expect_nothing_until(at(10s));
}

TEST(TcpScriptData, WindowUpdateAfterProbeRestartsRetransmissionOfProbeByte_Rfc6298S51) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460}, 65535, /*final_win=*/0);
    s.send(c, bytes(1));
    s.advance_to(at(200ms));
    s.expect({.at = at(200ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535, .len = 1});
    // A window update that does not take the probe byte: the byte is outstanding and must be
    // retransmitted on RTO (RFC 6298 §5.1: the timer runs while data is outstanding).
    s.inject(at(210ms), ack(1001, 1, 1000));
    s.advance_to(at(2s));
    ASSERT_GE(s.pending(), 1u);
    s.expect({.at = at(210ms), .flags = kPshAck, .seq = 1, .ack = 1001, .win = 65535, .len = 1});
    s.discard_output();
    (void)c;
}

}  // namespace
}  // namespace tcpscript
