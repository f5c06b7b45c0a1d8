// Scripted tests for issue 8's listener hardening: half-open connections hold no buffers (the
// memory budget is applied when the handshake completes), SYN cookies keep window scale, SACK and
// timestamps (in the timestamp bits) and are tested only shortly after cookies were sent, TIME-WAIT
// is a compact capped record outside the socket table that lets a new SYN reuse its 4-tuple
// (RFC 6191, RFC 9293 §3.10.7.4), the socket table grows with the connection limit, and timestamps
// have a per-4-tuple secret offset (RFC 7323 §7.1).
#include <gtest/gtest.h>

#include "tests/tcp/script.hpp"

namespace tcpscript {
namespace {

using stack::testing::stat;

// One peer connection, by its source port; every sequence number absolute (each connection has
// its own ISS, so Script's relative ACKs do not apply).
struct Peer {
    std::uint16_t port = 0;
    std::uint32_t seq = 0;               // the peer's next sequence number
    std::uint32_t our = 0;               // our next sequence number (SYN-ACK's seq + 1 once known)
    std::uint32_t tsecr = 0;             // our last TSval
    std::optional<std::uint32_t> tsval;  // the peer's timestamps, if it uses them

    Seg stamp(Seg s) const {
        s.sport = port;
        s.absolute_ack = true;
        if (tsval) s.with_ts(*tsval, tsecr);
        return s;
    }
    Seg syn_seg(SynOpts o = {}) const {
        Seg y = syn(seq - 1, o);
        y.sport = port;
        return y;
    }
    Seg ack_seg() const { return stamp(ack(seq, our)); }
    Seg fin_seg() const { return stamp(fin(seq, our)); }
};

// SYN from p (ISS p.seq - 1) → SYN-ACK; fills in p.our and p.tsecr.
Out syn_synack(Script& s, Peer& p, SynOpts o = {}) {
    if (p.tsval) o.tsval = *p.tsval;
    const auto cookies = stat(s.stack(), "tcp.syncookies_sent");
    s.inject(p.syn_seg(o));
    Expect e = s.syn_ack_for(o, p.seq - 1);
    e.any = Any::Seq;  // this 4-tuple's ISS (RFC 6528), learnt here
    if (stat(s.stack(), "tcp.syncookies_sent") != cookies) {
        // A SYN cookie: its TSval carries the encoded options (SynCookies::encode_ts), which need
        // timestamps; without them only the MSS is offered (RFC 4987).
        e.any = e.any | Any::TsVal;
        if (!o.tsval) {
            e.wscale.reset();
            e.sack_ok = false;
        }
    }
    Out sa = s.expect(e);
    p.our = sa.tcp.seq.value() + 1;
    p.tsecr = sa.ts_val();
    return sa;
}

// A full handshake and accept().
SocketHandle open(Script& s, SocketHandle l, Peer& p, SynOpts o = {}) {
    syn_synack(s, p, o);
    s.inject(p.ack_seg());
    auto c = s.tcp().accept(l);
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : SocketHandle{};
}

// We close first (the server's close): FIN, the peer's ACK+FIN, our ACK → TIME-WAIT on our side.
void server_close(Script& s, SocketHandle c, Peer& p) {
    ASSERT_TRUE(s.tcp().close(s.now(), c).ok());
    s.poll();
    Out f = s.expect({.at = s.now(),
                      .flags = kFinAck,
                      .seq = p.our - s.iss(),
                      .ack = p.seq,
                      .win = 65535,
                      .tsecr = p.tsval});
    p.our = f.tcp.seq.value() + 1;
    if (f.tcp.options.timestamps) p.tsecr = f.ts_val();
    if (p.tsval) ++*p.tsval;
    s.inject(p.fin_seg());
    p.seq += 1;
    s.expect({.at = s.now(),
              .flags = kAck,
              .seq = p.our - s.iss(),
              .ack = p.seq,
              .win = 65535,
              .tsecr = p.tsval});
}

stack::tcp::TcpState state_of(Script& s, std::uint16_t port) {
    auto st = TcpState::Closed;
    s.tcp().for_each_connection([&](const stack::tcp::ConnectionInfo& i) {
        if (i.remote.port == port) st = i.state;
    });
    return st;
}

// ---- point 1: half-open connections are small --------------------------------------------------

// Before: each SYN-RECEIVED connection reserved send + receive buffers, so a few (spoofed) SYNs
// filled the budget and every further SYN was dropped (tcp.drop.mem_budget).
TEST(TcpListenHardening, HalfOpenConnectionsHoldNoBuffersAndDoNotFillTheBudget_Issue8) {
    constexpr std::size_t kBuf = 64 * 1024;
    Script s([](stack::StackConfig& c) {
        c.tcp.send_buffer = kBuf;
        c.tcp.recv_buffer = kBuf;
        c.tcp.mem_budget = 2 * 2 * kBuf;  // two connections' buffers
    });
    auto l = s.listen(kOurPort, 64);
    for (std::uint16_t i = 0; i < 20; ++i) {
        Peer spoofed{static_cast<std::uint16_t>(41000 + i), 5000u + i * 100u};
        Out sa = syn_synack(s, spoofed);
        EXPECT_EQ(sa.tcp.window, 65535u);  // the window of the buffers it will get
    }
    EXPECT_EQ(stat(s.stack(), "tcp.state.syn_received"), 20u);
    EXPECT_EQ(stat(s.stack(), "tcp.mem_in_use"), 0u);
    EXPECT_EQ(stat(s.stack(), "tcp.drop.mem_budget"), 0u);
    // A real client still gets in, and gets its buffers when established.
    Peer real{40000, 1001};
    auto c = open(s, l, real);
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::Established);
    EXPECT_EQ(stat(s.stack(), "tcp.mem_in_use"), 2 * kBuf);
}

// The budget is applied when the handshake completes: an ACK that would exceed it is dropped and
// counted (the connection stays SYN-RECEIVED, the peer retransmits), and admitted once there is room.
TEST(TcpListenHardening, BudgetIsAppliedWhenTheHandshakeCompletes_Issue8) {
    constexpr std::size_t kBuf = 64 * 1024;
    Script s([](stack::StackConfig& c) {
        c.tcp.send_buffer = kBuf;
        c.tcp.recv_buffer = kBuf;
        c.tcp.mem_budget = 2 * kBuf;  // one connection
    });
    auto l = s.listen(kOurPort, 16);
    Peer a{40001, 1001}, b{40002, 2001};
    syn_synack(s, a);
    syn_synack(s, b);
    s.inject(a.ack_seg());
    auto ca = s.tcp().accept(l);
    ASSERT_TRUE(ca.ok());
    s.inject(b.ack_seg());
    s.expect_nothing();
    EXPECT_EQ(stat(s.stack(), "tcp.drop.mem_budget"), 1u);
    EXPECT_EQ(state_of(s, 40002), TcpState::SynReceived);
    EXPECT_EQ(stat(s.stack(), "tcp.mem_in_use"), 2 * kBuf);
    ASSERT_TRUE(s.tcp().abort(s.now(), *ca).ok());
    s.poll();
    s.expect({.at = at(0ms), .flags = kRst, .seq = 1, .ack = 0, .win = 0});
    s.inject(b.ack_seg());  // the peer's retransmission (or its first data) gets in now
    EXPECT_EQ(state_of(s, 40002), TcpState::Established);
    EXPECT_TRUE(s.tcp().accept(l).ok());
    EXPECT_EQ(stat(s.stack(), "tcp.mem_in_use"), 2 * kBuf);
}

// ---- point 1: SYN cookies keep the options -------------------------------------------------------

// Before: a cookie connection had no window scaling, SACK or timestamps (a 64 KB window at most).
TEST(TcpListenHardening, CookieKeepsWindowScaleSackAndTimestampsInTimestampBits_Issue8) {
    Script s;
    auto l = s.listen(kOurPort, 1);
    Peer first{40000, 1001};
    syn_synack(s, first);  // fills the SYN queue
    Peer p{40001, 7001, 0, 0, 500};
    Out cookie = syn_synack(s, p, {.mss = 1460, .wscale = 9, .sack_ok = true});
    EXPECT_EQ(stat(s.stack(), "tcp.syncookies_sent"), 1u);
    ASSERT_TRUE(cookie.tcp.options.window_scale.has_value());
    EXPECT_EQ(*cookie.tcp.options.window_scale, 4u);  // ours, for a 512 KB receive buffer
    EXPECT_TRUE(cookie.tcp.options.sack_permitted);
    ASSERT_TRUE(cookie.tcp.options.timestamps.has_value());
    EXPECT_EQ(cookie.ts_ecr(), 500u);
    Seg a = p.stamp(ack(p.seq, p.our, 1000));  // a scaled window: 1000 << 9
    a.ts->tsval = 501;
    s.inject(a);
    EXPECT_EQ(stat(s.stack(), "tcp.syncookies_ok"), 1u);
    auto c = s.tcp().accept(l);
    ASSERT_TRUE(c.ok());
    auto i = s.tcp().info(*c);
    EXPECT_TRUE(i->window_scaling);
    EXPECT_TRUE(i->sack);
    EXPECT_TRUE(i->timestamps);
    EXPECT_EQ(i->snd_wscale, 9u);
    EXPECT_EQ(i->rcv_wscale, 4u);
    EXPECT_EQ(i->snd_wnd, 1000u << 9);
    // Our segments carry timestamps echoing the peer's and a scaled window field.
    s.send(*c, bytes(100));
    Out d = s.expect({.at = at(0ms),
                      .flags = kPshAck,
                      .seq = cookie.tcp.seq.value() + 1 - s.iss(),
                      .ack = 7001,
                      .win = 32768,
                      .len = 100,
                      .tsecr = 501});
    EXPECT_EQ(d.tcp.window, (512u * 1024) >> 4);
    EXPECT_GE(d.ts_val(), cookie.ts_val());  // TSval does not go backwards after the cookie
}

// Without timestamps nothing but the MSS survives (RFC 4987 §3.6), so none are offered.
TEST(TcpListenHardening, CookieWithoutTimestampsOffersOnlyTheMss_Rfc4987) {
    Script s;
    s.listen(kOurPort, 1);
    Peer first{40000, 1001};
    syn_synack(s, first);
    Peer p{40001, 7001};
    Out cookie = syn_synack(s, p, {.mss = 1460, .wscale = 9, .sack_ok = true});
    EXPECT_FALSE(cookie.tcp.options.window_scale.has_value());
    EXPECT_FALSE(cookie.tcp.options.sack_permitted);
    EXPECT_FALSE(cookie.tcp.options.timestamps.has_value());
}

// A cookie ACK whose TSecr is not one of our recent cookie TSvals is refused.
TEST(TcpListenHardening, CookieAckWithForgedTsecrIsReset_Issue8) {
    Script s;
    s.listen(kOurPort, 1);
    Peer first{40000, 1001};
    syn_synack(s, first);
    Peer p{40001, 7001, 0, 0, 500};
    syn_synack(s, p, {.mss = 1460, .wscale = 2});
    Seg a = p.ack_seg();
    a.ts->tsecr = p.tsecr + 400'000;  // from the future
    s.inject(a);
    s.expect({.at = at(0ms),
              .flags = kRst,
              .seq = a.ack - s.iss(),
              .ack = 0,
              .win = 0});             // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>
    a.ts->tsecr = p.tsecr - 400'000;  // older than any cookie
    s.inject(a);
    s.expect({.at = at(0ms),
              .flags = kRst,
              .seq = a.ack - s.iss(),
              .ack = 0,
              .win = 0});  // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>
    EXPECT_EQ(stat(s.stack(), "tcp.syncookies_failed"), 2u);
    EXPECT_EQ(stat(s.stack(), "tcp.syncookies_ok"), 0u);
    s.inject(p.ack_seg());  // the real one still works
    EXPECT_EQ(stat(s.stack(), "tcp.syncookies_ok"), 1u);
}

// ---- point 7: cookies only shortly after cookies were sent ---------------------------------------

// A cookie made at the start of a 64 s period is valid by its age for 3 periods (192 s), but the
// listener stops testing ACKs as cookies 128 s after it last sent one. Before: accepted.
TEST(TcpListenHardening, CookieAckTestedOnlyShortlyAfterCookiesWereSent_Issue8) {
    for (const bool late : {false, true}) {
        Script s;
        s.listen(kOurPort, 1);
        s.advance_to(at(64s));
        Peer first{40000, 1001};
        syn_synack(s, first);  // fills the SYN queue (its SYN-ACK retransmissions are discarded)
        Peer p{40001, 7001};
        syn_synack(s, p);
        ASSERT_EQ(stat(s.stack(), "tcp.syncookies_sent"), 1u) << late;
        s.advance_to(late ? at(64s + 130s) : at(64s + 100s));
        s.discard_output();  // SYN-ACK retransmissions of the embryonic one
        s.inject(p.ack_seg());
        if (late) {
            s.expect(
                {.at = at(194s),
                 .flags = kRst,
                 .seq = p.ack_seg().ack - s.iss(),  // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>
                 .ack = 0,
                 .win = 0});
            EXPECT_EQ(stat(s.stack(), "tcp.syncookies_unchecked"), 1u);
            EXPECT_EQ(stat(s.stack(), "tcp.syncookies_ok"), 0u);
        } else {
            EXPECT_EQ(stat(s.stack(), "tcp.syncookies_ok"), 1u);
            EXPECT_EQ(state_of(s, p.port), TcpState::Established);
        }
    }
}

// An ACK to a listener that never sent cookies is reset without being tested as one.
TEST(TcpListenHardening, AckToListenerThatSentNoCookiesIsResetUnchecked_Issue8) {
    Script s;
    s.listen();
    s.inject(at(1ms), ack(5, 4242));
    s.expect({.at = at(1ms), .flags = kRst, .seq = 4242, .ack = 0, .win = 0});
    EXPECT_EQ(stat(s.stack(), "tcp.syncookies_unchecked"), 1u);
    EXPECT_EQ(stat(s.stack(), "tcp.syncookies_failed"), 0u);
}

// ---- point 8: a per-4-tuple secret timestamp offset ----------------------------------------------

// RFC 7323 §7.1: TSval = clock + a secret offset per connection. Before, the offset was derived from
// the ISS (which changes with time for the same 4-tuple), so a new incarnation's TSvals jumped
// anywhere; keyed by the 4-tuple (as Linux), they continue the clock, which RFC 6191 relies on.
TEST(TcpListenHardening, TimestampOffsetIsPerFourTupleNotDerivedFromIss_Rfc7323S71) {
    Script s;
    s.listen();
    Peer p{40000, 1001, 0, 0, 100};
    Out first = syn_synack(s, p);
    s.inject(p.stamp(rst(p.seq)));
    s.advance_to(at(5s));
    s.discard_output();
    Peer again{40000, 900001, 0, 0, 200};
    Out second = syn_synack(s, again);
    EXPECT_NE(second.tcp.seq.value() - first.tcp.seq.value(), 0u);
    EXPECT_EQ(second.ts_val() - first.ts_val(), 5000u);  // the same offset, 5 s of clock later
    Peer other{40001, 1001, 0, 0, 100};
    Out third = syn_synack(s, other);
    EXPECT_NE(third.ts_val(), second.ts_val());  // another 4-tuple, another offset
    // And it is not the old function of the ISS.
    EXPECT_NE(first.ts_val(), first.tcp.seq.value() * 2654435761u);
}

// ---- point 2: TIME-WAIT --------------------------------------------------------------------------

// TIME-WAIT records live outside the socket table, hold no buffers, and are capped: at the cap the
// oldest is forgotten (counted). Before: each TIME-WAIT connection held a socket slot, so a table of
// 8 refused the 8th connection while 7 sat in TIME-WAIT.
TEST(TcpListenHardening, TimeWaitIsCappedOutsideTheSocketTable_Issue8) {
    Script s([](stack::StackConfig& c) {
        c.tcp.max_sockets = 8;
        c.tcp.max_time_wait = 3;
    });
    auto l = s.listen();
    for (std::uint16_t i = 0; i < 20; ++i) {
        Peer p{static_cast<std::uint16_t>(40000 + i), 1001u + i * 10u};
        auto c = open(s, l, p);
        server_close(s, c, p);
        EXPECT_EQ(state_of(s, p.port), TcpState::TimeWait) << i;
    }
    EXPECT_EQ(stat(s.stack(), "tcp.state.time_wait"), 3u);
    EXPECT_EQ(stat(s.stack(), "tcp.time_wait_evicted"), 17u);
    EXPECT_EQ(s.tcp().time_wait_count(), 3u);
    EXPECT_EQ(s.tcp().connection_count(), 3u);
    EXPECT_EQ(stat(s.stack(), "tcp.mem_in_use"), 0u);
    EXPECT_EQ(stat(s.stack(), "tcp.drop.no_memory"), 0u);
    // The newest three are kept.
    EXPECT_EQ(state_of(s, 40019), TcpState::TimeWait);
    EXPECT_EQ(state_of(s, 40016), TcpState::Closed);
    // 2*MSL later they are gone.
    s.advance_by(Duration::seconds(61));
    EXPECT_EQ(stat(s.stack(), "tcp.state.time_wait"), 0u);
    EXPECT_EQ(s.tcp().connection_count(), 0u);
}

// Before: a SYN on a TIME-WAIT 4-tuple got a challenge ACK, whatever its timestamp.
TEST(TcpListenHardening, SynWithNewerTimestampReopensTimeWaitTuple_Rfc6191) {
    Script s;
    auto l = s.listen();
    Peer p{40000, 1001, 0, 0, 100};
    auto c = open(s, l, p);
    server_close(s, c, p);
    const std::uint32_t old_snd_nxt = p.our;
    ASSERT_EQ(state_of(s, 40000), TcpState::TimeWait);
    // An older timestamp (a delayed duplicate SYN): not accepted, answered with an ACK.
    Peer stale{40000, 500, 0, 0, 50};
    s.inject(stale.syn_seg({.tsval = 50}));
    s.expect({.at = at(0ms), .flags = kAck, .seq = 2, .ack = p.seq, .win = 65535, .tsecr = 101});
    ASSERT_EQ(state_of(s, 40000), TcpState::TimeWait);
    // A newer one, even with a lower sequence number: a new connection.
    Peer next{40000, 500, 0, 0, 200};
    Out sa = syn_synack(s, next);
    EXPECT_EQ(sa.tcp.seq.value(), old_snd_nxt + 65537u);  // beyond the old incarnation's numbers
    EXPECT_EQ(stat(s.stack(), "tcp.time_wait_reused"), 1u);
    EXPECT_EQ(state_of(s, 40000), TcpState::SynReceived);
    s.inject(next.ack_seg());
    EXPECT_TRUE(s.tcp().accept(l).ok());
    EXPECT_EQ(stat(s.stack(), "tcp.state.time_wait"), 0u);
}

// Without timestamps: a SYN above the old RCV.NXT is accepted (RFC 9293 §3.10.7.4 / RFC 1122
// §4.2.2.13), one at or below it is not.
TEST(TcpListenHardening, SynAboveRcvNxtReopensTimeWaitTupleWithoutTimestamps_Rfc9293) {
    Script s;
    auto l = s.listen();
    Peer p{40000, 1001};
    auto c = open(s, l, p);
    server_close(s, c, p);
    Peer low{40000, p.seq};  // ISS = old RCV.NXT - 1
    s.inject(low.syn_seg());
    s.expect({.at = at(0ms), .flags = kAck, .seq = 2, .ack = p.seq, .win = 65535});
    EXPECT_EQ(state_of(s, 40000), TcpState::TimeWait);
    Peer high{40000, p.seq + 100000};
    syn_synack(s, high);
    EXPECT_EQ(state_of(s, 40000), TcpState::SynReceived);
    EXPECT_EQ(stat(s.stack(), "tcp.time_wait_reused"), 1u);
}

// The record still does TIME-WAIT's work: ACKs a retransmitted FIN with the same numbers (and
// timestamps), drops a PAWS-failing segment with an ACK, ends on a RST at RCV.NXT.
TEST(TcpListenHardening, TimeWaitRecordAcksFinAndHonoursPawsAndRst_Rfc9293S3611) {
    Script s;
    auto l = s.listen();
    Peer p{40000, 1001, 0, 0, 100};
    auto c = open(s, l, p);
    server_close(s, c, p);
    Seg again = fin(p.seq - 1, p.our);
    again.sport = 40000;
    again.absolute_ack = true;
    again.with_ts(*p.tsval + 1, p.tsecr);
    s.inject(at(1s), again);
    // TS.Recent stays the FIN's: a duplicate does not cover Last.ACK.sent (RFC 7323 §4.3).
    Out a = s.expect(
        {.at = at(1s), .flags = kAck, .seq = 2, .ack = p.seq, .win = 65535, .tsecr = *p.tsval});
    EXPECT_EQ(a.tcp.seq.value(), p.our);
    EXPECT_GT(a.tcp.window, 0u);
    EXPECT_EQ(a.ts_val() - p.tsecr, 1000u);  // the connection's TSval clock, 1 s on
    again.ts->tsval = 1;                     // PAWS
    s.inject(at(2s), again);
    s.expect({.at = at(2s), .flags = kAck, .seq = 2, .ack = 1002, .win = 65535, .tsecr = 101});
    EXPECT_EQ(stat(s.stack(), "tcp.drop.paws"), 1u);
    Seg r = rst(p.seq);
    r.sport = 40000;
    s.inject(at(3s), r);
    s.expect_nothing();
    EXPECT_EQ(s.tcp().connection_count(), 0u);
    EXPECT_EQ(stat(s.stack(), "tcp.state.time_wait"), 0u);
}

// A connection the application still holds stays whole in TIME-WAIT; close() turns it into a
// record.
TEST(TcpListenHardening, HeldTimeWaitConnectionBecomesARecordOnClose_Issue8) {
    Script s;
    auto l = s.listen();
    Peer p{40000, 1001};
    auto c = open(s, l, p);
    ASSERT_TRUE(s.tcp().shutdown(c).ok());
    s.poll();
    Out f = s.expect({.at = at(0ms), .flags = kFinAck, .seq = 1, .ack = 1001, .win = 65535});
    p.our = f.tcp.seq.value() + 1;
    s.inject(p.fin_seg());
    p.seq += 1;
    s.expect({.at = at(0ms), .flags = kAck, .seq = 2, .ack = p.seq, .win = 65534});
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::TimeWait);
    EXPECT_EQ(s.tcp().time_wait_count(), 0u);
    ASSERT_TRUE(s.tcp().close(s.now(), c).ok());
    EXPECT_EQ(s.tcp().time_wait_count(), 1u);
    EXPECT_EQ(stat(s.stack(), "tcp.state.time_wait"), 1u);
    EXPECT_EQ(state_of(s, 40000), TcpState::TimeWait);
    s.advance_by(Duration::seconds(61));
    EXPECT_EQ(s.tcp().connection_count(), 0u);
    EXPECT_EQ(stat(s.stack(), "tcp.state.time_wait"), 0u);
}

// The socket table grows with the connection limit. Before: 4096 slots whatever the limit.
TEST(TcpListenHardening, SocketTableGrowsWithTheConnectionLimit_Issue8) {
    Script s([](stack::StackConfig& c) {
        c.tcp.max_connections = 5000;
        c.tcp.send_buffer = 4096;
        c.tcp.recv_buffer = 4096;
    });
    EXPECT_GE(s.tcp().socket_table_size(), 5000u);
    auto l = s.listen(kOurPort, 8);
    std::size_t accepted = 0;
    for (std::uint32_t i = 0; i < 5000; ++i) {
        Peer p{static_cast<std::uint16_t>(10000 + i), 1001};
        syn_synack(s, p);
        s.inject(p.ack_seg());
        if (s.tcp().accept(l).ok()) ++accepted;
    }
    EXPECT_EQ(accepted, 5000u);
    EXPECT_EQ(stat(s.stack(), "tcp.drop.no_memory"), 0u);
    EXPECT_EQ(stat(s.stack(), "tcp.state.established"), 5000u);
}

}  // namespace
}  // namespace tcpscript

namespace stack::tcp {
namespace {

// The timestamp-bits codec: every window scale (or none) and SACK bit round-trips, the TSval never
// lies ahead of the clock, and TSecr outside the cookie lifetime is refused.
TEST(SynCookieTs, OptionsRoundTripThroughTheTimestampBits) {
    for (std::uint32_t clock : {0u, 63u, 64u, 1'000'000u, 0xffffffffu}) {
        for (int ws = -1; ws <= 14; ++ws) {
            for (bool sack : {false, true}) {
                CookieTsOptions o;
                if (ws >= 0) o.wscale = static_cast<std::uint8_t>(ws);
                o.sack = sack;
                const std::uint32_t ts = SynCookies::encode_ts(clock, o);
                EXPECT_LE(static_cast<std::int32_t>(ts - clock), 0) << clock;
                EXPECT_LT(clock - ts, 128u) << clock;
                EXPECT_EQ(SynCookies::decode_ts(clock + 1000, ts), std::optional(o)) << clock;
            }
        }
    }
    const std::uint32_t ts = SynCookies::encode_ts(5'000'000, {});
    EXPECT_FALSE(SynCookies::decode_ts(ts - 1, ts));          // from the future
    EXPECT_FALSE(SynCookies::decode_ts(ts + 200'000, ts));    // older than 3 periods
    EXPECT_FALSE(SynCookies::decode_ts(ts + 10, ts | 0x20));  // the spare bit
}

}  // namespace
}  // namespace stack::tcp
