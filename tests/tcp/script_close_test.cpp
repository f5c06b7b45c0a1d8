// Scripted tests: closing (RFC 9293 §3.6, §3.10.4, TIME-WAIT §3.6.1), RST/SYN/ACK validation (RFC 5961),
// PAWS and ts_recent (RFC 7323 §4.3, §5), keepalive (RFC 1122 §4.2.3.6).
#include <gtest/gtest.h>

#include "tests/tcp/script.hpp"

namespace tcpscript {
namespace {

// ---- close ----

TEST(TcpScriptClose, ActiveCloseFinWait1FinWait2TimeWaitFreedAfter2Msl_Rfc9293S36) {
    Script s;
    auto c = s.passive_open(1000);
    ASSERT_TRUE(s.tcp().close(s.now(), c).ok());
    s.poll();
    s.expect({.at = at(0ms), .flags = kFinAck, .seq = 1, .ack = 1001, .win = 65535});
    EXPECT_EQ(s.state_of_only_connection(), TcpState::FinWait1);
    s.inject(at(10ms), ack(1001, 2));
    s.expect_nothing();
    EXPECT_EQ(s.state_of_only_connection(), TcpState::FinWait2);
    s.inject(at(20ms), fin(1001, 2));
    s.expect({.at = at(20ms), .flags = kAck, .seq = 2, .ack = 1002, .win = 65535});
    EXPECT_EQ(s.state_of_only_connection(), TcpState::TimeWait);
    s.expect_nothing_until(at(60019ms));
    EXPECT_EQ(s.tcp().connection_count(), 1u);
    s.advance_to(at(60020ms));  // 2 * MSL (30 s)
    EXPECT_EQ(s.tcp().connection_count(), 0u);
    s.expect_nothing();
}

// After close() nobody will ever read: new data arriving in FIN-WAIT is answered with RST and the
// connection is dropped (RFC 9293 §3.10.4 / RFC 2525 §2.17, as Linux's "abort on data"), instead of
// being acknowledged into a buffer no one drains. A pure retransmission of old data is only ACKed.
TEST(TcpScriptClose, NewDataAfterCloseIsAnsweredWithRst_Rfc2525S217) {
    Script s;
    auto c = s.passive_open(1000);
    ASSERT_TRUE(s.tcp().close(s.now(), c).ok());
    s.poll();
    s.expect({.at = at(0ms), .flags = kFinAck, .seq = 1, .ack = 1001, .win = 65535});
    s.inject(at(10ms), ack(1001, 2));
    EXPECT_EQ(s.state_of_only_connection(), TcpState::FinWait2);
    s.inject(at(15ms), data(1001, 2, Packet(0)));  // a pure ACK-like segment without text: nothing
    s.expect_nothing();
    s.inject(at(20ms), data(1001, 2, Packet(100, 'x')));
    s.expect({.at = at(20ms), .flags = kRst, .seq = 2, .ack = 0, .win = 0});
    s.expect_nothing();
    EXPECT_EQ(s.tcp().connection_count(), 0u);
    EXPECT_EQ(s.stack().stats().tcp.abort_on_data, 1u);
}

TEST(TcpScriptClose, DataAfterShutdownIsStillReceived_Rfc9293S3104) {
    Script s;
    auto c = s.passive_open(1000);
    ASSERT_TRUE(s.tcp().shutdown(c).ok());
    s.poll();
    s.expect({.at = at(0ms), .flags = kFinAck, .seq = 1, .ack = 1001, .win = 65535});
    s.inject(at(10ms), ack(1001, 2));
    s.inject(at(20ms), data(1001, 2, Packet(100, 'x')));
    s.advance_to(at(100ms));
    s.expect({.at = at(60ms), .flags = kAck, .seq = 2, .ack = 1101, .win = 65535});
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::FinWait2);
    EXPECT_EQ(s.stack().stats().tcp.abort_on_data, 0u);
}

TEST(TcpScriptClose, PassiveCloseCloseWaitLastAckClosed_Rfc9293S36) {
    Script s;
    auto c = s.passive_open(1000);
    s.inject(at(10ms), fin(1001, 1));
    s.expect({.at = at(10ms), .flags = kAck, .seq = 1, .ack = 1002, .win = 65535});
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::CloseWait);
    EXPECT_TRUE(s.events(c) & stack::kEventPeerClosed);
    EXPECT_TRUE(*s.tcp().eof(c));
    ASSERT_TRUE(s.tcp().close(s.now(), c).ok());
    s.poll();
    s.expect({.at = at(10ms), .flags = kFinAck, .seq = 1, .ack = 1002, .win = 65535});
    EXPECT_EQ(s.state_of_only_connection(), TcpState::LastAck);
    s.inject(at(20ms), ack(1002, 2));
    s.expect_nothing();
    EXPECT_EQ(s.tcp().connection_count(), 0u);
}

TEST(TcpScriptClose, SimultaneousCloseClosingThenTimeWait_Rfc9293S36Figure13) {
    Script s;
    auto c = s.passive_open(1000);
    ASSERT_TRUE(s.tcp().shutdown(c).ok());
    s.poll();
    s.expect({.at = at(0ms), .flags = kFinAck, .seq = 1, .ack = 1001, .win = 65535});
    s.inject(at(10ms), fin(1001, 1));  // the peer's FIN crosses ours
    s.expect({.at = at(10ms), .flags = kAck, .seq = 2, .ack = 1002, .win = 65535});
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::Closing);
    s.inject(at(20ms), ack(1002, 2));
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::TimeWait);
    s.expect_nothing();
}

TEST(TcpScriptClose, HalfCloseKeepsReceivingAfterOurFin_Rfc9293S3104) {
    Script s;
    auto c = s.passive_open(1000);
    ASSERT_TRUE(s.tcp().shutdown(c).ok());
    s.poll();
    s.expect({.at = at(0ms), .flags = kFinAck, .seq = 1, .ack = 1001, .win = 65535});
    s.inject(at(10ms), ack(1001, 2));
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::FinWait2);
    EXPECT_EQ(s.tcp().send(c, Bytes(bytes(10))).error(), SocketError::Closed);
    s.inject(at(20ms), data(1001, 2, bytes(1460, 1)));
    s.inject(at(21ms), data(2461, 2, bytes(1460, 2)));
    s.expect({.at = at(21ms), .flags = kAck, .seq = 2, .ack = 3921, .win = 65535});
    Packet got = s.recv(c);
    EXPECT_EQ(got.size(), 2920u);
    s.inject(at(30ms), fin(3921, 2));
    s.expect({.at = at(30ms), .flags = kAck, .seq = 2, .ack = 3922, .win = 65534});
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::TimeWait);
    EXPECT_TRUE(*s.tcp().eof(c));
}

TEST(TcpScriptClose, CloseWithUnreadDataSendsRst_Rfc9293S3104_Rfc2525S217) {
    Script s;
    auto c = s.passive_open(1000);
    s.inject(at(10ms), data(1001, 1, bytes(100)));
    ASSERT_TRUE(s.tcp().close(s.now(), c).ok());
    s.poll();
    s.expect({.at = at(10ms), .flags = kRst, .seq = 1, .ack = 0, .win = 0});
    s.expect_nothing_until(at(10s));
    EXPECT_EQ(s.tcp().connection_count(), 0u);
}

TEST(TcpScriptClose, FinIsRetransmittedOnRto_Rfc9293S36) {
    Script s;
    auto c = s.passive_open(1000);  // RTT sample 0: RTO = 200 ms
    ASSERT_TRUE(s.tcp().close(s.now(), c).ok());
    s.poll();
    s.expect({.at = at(0ms), .flags = kFinAck, .seq = 1, .ack = 1001, .win = 65535});
    s.expect_nothing_until(at(199ms));
    s.advance_to(at(200ms));
    s.expect({.at = at(200ms), .flags = kFinAck, .seq = 1, .ack = 1001, .win = 65535});
    s.advance_to(at(600ms));
    s.expect({.at = at(600ms), .flags = kFinAck, .seq = 1, .ack = 1001, .win = 65535});
}

TEST(TcpScriptClose, RetransmittedFinInTimeWaitIsAckedAndRestarts2Msl_Rfc9293S31074) {
    Script s;
    auto c = s.passive_open(1000);
    ASSERT_TRUE(s.tcp().close(s.now(), c).ok());
    s.poll();
    s.expect({.at = at(0ms), .flags = kFinAck, .seq = 1, .ack = 1001, .win = 65535});
    s.inject(at(10ms), ack(1001, 2));
    s.inject(at(20ms), fin(1001, 2));
    s.expect({.at = at(20ms), .flags = kAck, .seq = 2, .ack = 1002, .win = 65535});
    s.inject(at(30s), fin(1001, 2));  // our ACK was lost: the peer retransmits its FIN
    s.expect({.at = at(30s), .flags = kAck, .seq = 2, .ack = 1002, .win = 65535});
    s.expect_nothing_until(at(89999ms));
    EXPECT_EQ(s.tcp().connection_count(), 1u);
    s.advance_to(at(90s));
    EXPECT_EQ(s.tcp().connection_count(), 0u);
}

// ---- RFC 5961 ----

TEST(TcpScriptRfc5961, RstAtRcvNxtResetsTheConnection_Rfc5961S32) {
    Script s;
    auto c = s.passive_open(1000);
    s.inject(at(10ms), rst(1001));
    s.expect_nothing();
    EXPECT_TRUE(s.events(c) & stack::kEventError);
    EXPECT_EQ(s.tcp().error(c), SocketError::Reset);
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::Closed);
}

TEST(TcpScriptRfc5961, InWindowRstNotAtRcvNxtGetsChallengeAck_Rfc5961S32) {
    Script s;
    auto c = s.passive_open(1000);
    s.inject(at(10ms), rst(1500));
    s.expect({.at = at(10ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535});
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::Established);
    s.inject(at(11ms), rst(1001 + 70000));  // outside the window: silently dropped
    s.expect_nothing();
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::Established);
    EXPECT_EQ(s.stack().stats().tcp.challenge_acks, 1u);
}

TEST(TcpScriptRfc5961, SynInEstablishedGetsChallengeAck_Rfc5961S42) {
    Script s;
    auto c = s.passive_open(1000);
    s.inject(at(10ms), syn(1200));
    s.expect({.at = at(10ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535});
    // Out of window too. Later than 500 ms: ACKs for invalid segments are limited to one per 500 ms
    // per connection (TcpConfig::invalid_ack_interval, Linux tcp_invalid_ratelimit).
    s.inject(at(520ms), syn(999999));
    s.expect({.at = at(520ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535});
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::Established);
}

TEST(TcpScriptRfc5961, AckAboveSndNxtGetsChallengeAckAndDataIsDropped_Rfc5961S52) {
    Script s;
    auto c = s.passive_open(1000);
    s.inject(at(10ms), data(1001, 5000, bytes(10)));
    s.expect({.at = at(10ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535});
    EXPECT_EQ(s.tcp().info(c)->recv_queue, 0u);
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::Established);
}

// One connection gets at most one challenge ACK per 500 ms (per-connection limit, before the global
// budget: see script_input_hardening_test.cpp for the randomised global budget).
TEST(TcpScriptRfc5961, ChallengeAcksAreRateLimited_Rfc5961S7) {
    Script s([](stack::StackConfig& c) { c.tcp.challenge_ack_per_sec = 2; });
    s.passive_open(1000);
    for (int i = 0; i < 5; ++i) s.inject(at(10ms), rst(1500));
    EXPECT_EQ(s.pending(), 1u);
    s.discard_output();
    s.inject(at(1100ms), rst(1500));
    EXPECT_EQ(s.pending(), 1u);
}

// ---- RFC 7323 ----

TEST(TcpScriptPaws, SegmentWithOlderTsvalIsDroppedAndAcked_Rfc7323S5) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460, .tsval = 100});  // ts_recent = 101 after the ACK
    s.inject(at(10ms), data(1001, 1, bytes(10)).with_ts(50, 0));
    s.expect({.at = at(10ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535, .tsecr = 101});
    EXPECT_EQ(s.tcp().info(c)->recv_queue, 0u);
    EXPECT_EQ(s.stack().stats().tcp.drop_paws, 1u);
    s.inject(at(20ms), data(1001, 1, bytes(10)).with_ts(102, 0));
    s.advance_to(at(60ms));
    s.expect({.at = at(60ms), .flags = kAck, .seq = 1, .ack = 1011, .win = 65535, .tsecr = 102});
}

TEST(TcpScriptPaws, TsRecentUpdatedOnlyBySegmentsCoveringLastAckSent_Rfc7323S43) {
    Script s;
    s.passive_open(1000, {.mss = 1460, .sack_ok = true, .tsval = 100});
    // Out of order (SEG.SEQ > Last.ACK.sent): its TSval must not become ts_recent.
    s.inject(at(10ms), data(2461, 1, bytes(1460)).with_ts(500, 0));
    s.expect({.at = at(10ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1001,
              .win = 65535,
              .tsecr = 101,
              .sack = {{2461, 3921}}});
    // In order: it is echoed.
    s.inject(at(20ms), data(1001, 1, bytes(1460)).with_ts(200, 0));
    s.expect({.at = at(20ms), .flags = kAck, .seq = 1, .ack = 3921, .win = 65535, .tsecr = 200});
}

// ---- keepalive ----

void short_keepalive(stack::StackConfig& c) {
    c.tcp.keepalive_idle = Duration::seconds(10);
    c.tcp.keepalive_interval = Duration::seconds(2);
    c.tcp.keepalive_probes = 3;
}

TEST(TcpScriptKeepalive, ProbesAfterIdleThenAbortAfterUnansweredProbes_Rfc1122S42363) {
    Script s(short_keepalive);
    auto c = s.passive_open(1000);
    ASSERT_TRUE(s.tcp().set_keepalive(s.now(), c, true).ok());
    s.expect_nothing_until(at(9999ms));
    for (std::int64_t t : {10, 12, 14}) {
        s.advance_to(Instant::from_millis(t * 1000));
        s.expect({.at = Instant::from_millis(t * 1000),
                  .flags = kAck,
                  .seq = 0,
                  .ack = 1001,
                  .win = 65535,
                  .len = 0});
    }
    s.advance_to(at(16s));
    s.expect({.at = at(16s), .flags = kRst, .seq = 1, .ack = 0, .win = 0});
    EXPECT_EQ(s.tcp().error(c), SocketError::TimedOut);
}

TEST(TcpScriptKeepalive, AnsweredProbeOrTrafficPostponesProbes_Rfc1122S42363) {
    Script s(short_keepalive);
    auto c = s.passive_open(1000);
    ASSERT_TRUE(s.tcp().set_keepalive(s.now(), c, true).ok());
    // Traffic at 5 s: no probe before 15 s (MUST only be sent when nothing was received for idle).
    s.inject(at(5s), ack(1001, 1));
    s.expect_nothing_until(at(14999ms));
    s.advance_to(at(15s));
    s.expect({.at = at(15s), .flags = kAck, .seq = 0, .ack = 1001, .win = 65535});
    s.inject(at(15100ms), ack(1001, 1));  // answered: the next probe after another idle period
    s.expect_nothing_until(at(25099ms));
    s.advance_to(at(25100ms));
    s.expect({.at = at(25100ms), .flags = kAck, .seq = 0, .ack = 1001, .win = 65535});
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::Established);
}

}  // namespace
}  // namespace tcpscript
