// Scripted tests: hardening of segment input against off-path and misbehaving peers (issue 8).
//   - TS.Recent is taken from a segment only once it passed the sequence, RST, SYN and ACK checks
//     (RFC 7323 §4.3 with RFC 5961 §5): a spoofed in-window segment cannot poison PAWS.
//   - RST on abort and on the user timeout is sent at SND.MAX (within the peer's window), and the send
//     window is updated only from ACKs with SND.UNA =< SEG.ACK (RFC 9293 §3.10.7.4 step 5).
//   - Delayed ACKs count bytes (RFC 5681 §4.2, RFC 9293 §3.8.6.3): a GRO super-packet carrying
//     several full-sized segments is acknowledged at once.
//   - Challenge ACKs (RFC 5961 §7) are limited per connection and by a global budget whose size is
//     drawn at random every second (CVE-2016-5696), and ACKs for out-of-window or PAWS-failed
//     segments are limited per connection (Linux tcp_invalid_ratelimit).
#include <gtest/gtest.h>

#include <set>

#include "tests/tcp/script.hpp"

namespace tcpscript {
namespace {

// ---- TS.Recent (RFC 7323 §4.3, RFC 5961 §5) ----

// ts_recent is 101 after the handshake. `bad` carries a huge TSval and fails a check after the
// sequence test; the next legitimate segment (TSval 102) must still pass PAWS and be delivered, and
// our ACKs keep echoing the legitimate TSval.
void expect_ts_recent_not_poisoned(const Seg& bad, bool answered) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460, .tsval = 100});
    s.inject(at(10ms), bad);
    if (answered) {
        s.expect({.at = at(10ms), .flags = kAck, .ack = 1001, .tsecr = 101});  // challenge ACK
    }
    s.expect_nothing();
    s.inject(at(20ms), data(1001, 1, bytes(10)).with_ts(102, 0));
    EXPECT_EQ(s.stack().stats().tcp_drop_paws, 0u);
    EXPECT_EQ(s.tcp().info(c)->recv_queue, 10u);
    s.advance_to(at(60ms));
    s.expect({.at = at(60ms), .flags = kAck, .ack = 1011, .tsecr = 102});
}

TEST(TcpScriptHardening, AckAboveSndMaxDoesNotUpdateTsRecent_Rfc7323S43_Rfc5961S5) {
    expect_ts_recent_not_poisoned(data(1001, 5000, bytes(10)).with_ts(0x7000'0000, 0), true);
}

TEST(TcpScriptHardening, AckBelowSndUnaMinusMaxWindowDoesNotUpdateTsRecent_Rfc5961S52) {
    Seg bad = data(1001, 0, bytes(10)).with_ts(0x7000'0000, 0);
    bad.ack = -200'000;  // relative to our ISS: far below SND.UNA - MAX.SND.WND
    expect_ts_recent_not_poisoned(bad, true);
}

// (An in-window RST other than at RCV.NXT cannot cover Last.ACK.sent, so it never could.)
TEST(TcpScriptHardening, InWindowSynDoesNotUpdateTsRecent_Rfc5961S42) {
    Seg bad = syn(1001);
    bad.with_ts(0x7000'0000, 0);
    expect_ts_recent_not_poisoned(bad, true);
}

TEST(TcpScriptHardening, SegmentWithoutAckBitDoesNotUpdateTsRecent_Rfc9293S31074Step5) {
    Seg bad = data(1001, 1, bytes(10)).with_ts(0x7000'0000, 0);
    bad.flags = TcpFlag::Psh;
    expect_ts_recent_not_poisoned(bad, false);
}

// The legitimate path still works: an acceptable segment at Last.ACK.sent updates TS.Recent.
TEST(TcpScriptHardening, AcceptableSegmentStillUpdatesTsRecent_Rfc7323S43) {
    Script s;
    s.passive_open(1000, {.mss = 1460, .tsval = 100});
    s.inject(at(10ms), ack(1001, 1).with_ts(5000, 0));
    s.inject(at(20ms), data(1001, 1, bytes(10)).with_ts(4999, 0));  // older than 5000: PAWS
    s.expect({.at = at(20ms), .flags = kAck, .ack = 1001, .tsecr = 5000});
    EXPECT_EQ(s.stack().stats().tcp_drop_paws, 1u);
}

}  // namespace
}  // namespace tcpscript
