// Scripted tests: opening connections (RFC 9293 §3.5, §3.10.7.1-3), options negotiation (RFC 9293
// §3.7.1, RFC 7323, RFC 2018), resets for closed ports, and the listen backlog.
#include <gtest/gtest.h>

#include "tests/tcp/script.hpp"

namespace tcpscript {
namespace {

// Default config: MTU 1500, receive buffer 512 KiB → we offer MSS 1460 and window scale 4.
constexpr std::uint16_t kOurMss = 1460;
constexpr std::uint8_t kOurWscale = 4;

TEST(TcpScriptOpen, PassiveOpenSynAckCarriesOurOptionsWhenAllOffered_Rfc7323_Rfc2018) {
    Script s;
    auto l = s.listen();
    s.inject(at(0ms), syn(1000, {.mss = 1400, .wscale = 7, .sack_ok = true, .tsval = 555}));
    Out sa = s.expect({.at = at(0ms),
                       .flags = kSynAck,
                       .seq = 0,
                       .ack = 1001,
                       .win = 65535,
                       .mss = 1460,
                       .wscale = 4,
                       .sack_ok = true,
                       .tsecr = 555});
    EXPECT_EQ(sa.tcp.options.mss, kOurMss);  // RFC 9293 §3.7.1: MTU - 40
    EXPECT_EQ(sa.tcp.options.window_scale, kOurWscale);
    EXPECT_TRUE(sa.tcp.options.sack_permitted);
    EXPECT_EQ(sa.tcp.options.sack_count, 0);
    s.expect_nothing();
    // The ACK completes the handshake: accept() returns it and reports kEventConnected.
    EXPECT_EQ(s.tcp().accept(l).error(), SocketError::WouldBlock);
    s.inject(at(10ms), ack(1001, 1).with_ts(556, sa.ts_val()));
    s.expect_nothing();
    EXPECT_TRUE(s.events(l) & stack::kEventReadable);
    auto c = s.tcp().accept(l);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(s.events(*c) & stack::kEventConnected);
    auto info = *s.tcp().info(*c);
    EXPECT_EQ(info.state, TcpState::Established);
    EXPECT_TRUE(info.sack);
    EXPECT_TRUE(info.timestamps);
    EXPECT_TRUE(info.window_scaling);
    EXPECT_EQ(info.snd_wscale, 7);
    EXPECT_EQ(info.rcv_wscale, kOurWscale);
    EXPECT_EQ(info.smss, 1400u - 12u);  // the peer's MSS less the timestamp option
    EXPECT_EQ(info.snd_wnd, 65535u << 7);
}

// RFC 6528 §3: the ISN offset is a PRF of the 4-tuple keyed by a secret of at least 128 bits. The daemon
// fills StackConfig::tcp_secret from getrandom(); the ISN must depend on that secret alone, not on the
// 64-bit seed (which once stretched into the key and capped its strength at 64 bits).
TEST(TcpScriptOpen, IsnIsKeyedByTheFullSecretNotTheSeed_Rfc6528S3) {
    auto iss_with = [](std::uint64_t seed, const std::array<std::uint8_t, 32>& secret) {
        Script s([&](stack::StackConfig& c) {
            c.seed = seed;
            c.tcp_secret = secret;
        });
        s.listen();
        s.inject(at(0ms), syn(1000));
        s.expect(
            {.at = at(0ms), .flags = kSynAck, .seq = 0, .ack = 1001, .win = 65535, .mss = 1460});
        return s.iss();
    };
    std::array<std::uint8_t, 32> a{};
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::uint8_t>(i * 7 + 1);
    auto b = a;
    b[15] ^= 0x80;  // the last byte of the ISN key
    auto c = a;
    c[16] ^= 0x01;  // the SYN-cookie half only
    EXPECT_EQ(iss_with(1, a), iss_with(2, a));
    EXPECT_NE(iss_with(1, a), iss_with(1, b));
    EXPECT_EQ(iss_with(1, a), iss_with(1, c));
}

TEST(TcpScriptOpen, PassiveOpenSynAckOmitsOptionsNotOffered_Rfc7323S2_Rfc2018S2) {
    Script s;
    s.listen();
    s.inject(at(0ms), syn(1000, {.mss = std::nullopt}));
    Out sa = s.expect(
        {.at = at(0ms), .flags = kSynAck, .seq = 0, .ack = 1001, .win = 65535, .mss = 1460});
    EXPECT_EQ(sa.tcp.options.mss, kOurMss);  // MSS may always be sent on a SYN
    EXPECT_FALSE(sa.tcp.options.window_scale.has_value());
    EXPECT_FALSE(sa.tcp.options.sack_permitted);
    EXPECT_FALSE(sa.tcp.options.timestamps.has_value());
    s.inject(at(1ms), ack(1001, 1));
    bool seen = false;
    s.tcp().for_each_connection([&](const stack::tcp::ConnectionInfo& i) {
        seen = true;
        EXPECT_EQ(i.state, TcpState::Established);
        EXPECT_EQ(i.smss, 536u);  // RFC 9293 §3.7.1 MUST-15: no MSS option means 536
        EXPECT_FALSE(i.sack);
        EXPECT_FALSE(i.timestamps);
        EXPECT_FALSE(i.window_scaling);
        EXPECT_EQ(i.rcv_wscale, 0);
    });
    EXPECT_TRUE(seen);
}

TEST(TcpScriptOpen, OurMssIsMtuMinus40_Rfc9293S3712) {
    Script s([](stack::StackConfig& c) { c.mtu = 1280; });
    s.listen();
    s.inject(at(0ms), syn(1, {.mss = 1460}));
    Out sa =
        s.expect({.at = at(0ms), .flags = kSynAck, .seq = 0, .ack = 2, .win = 65535, .mss = 1240});
    EXPECT_EQ(sa.tcp.options.mss, 1240);
}

TEST(TcpScriptOpen, SynAckRetransmittedWithExponentialBackoffThenDropped_Rfc6298S5) {
    Script s;
    auto l = s.listen();
    s.inject(at(0ms), syn(1000, {.mss = 1460}));
    s.expect({.at = at(0ms), .flags = kSynAck, .seq = 0, .ack = 1001, .win = 65535, .mss = 1460});
    // RFC 6298 §2.1: 1 s initial RTO, doubled on each expiry (§5.5), capped at 60 s (§2.5).
    for (std::int64_t t : {1, 3, 7, 15, 31, 63}) {
        s.expect_nothing_until(Instant::from_millis(t * 1000 - 1));
        s.advance_to(Instant::from_millis(t * 1000));
        s.expect({.at = Instant::from_millis(t * 1000),
                  .flags = kSynAck,
                  .seq = 0,
                  .ack = 1001,
                  .win = 65535,
                  .mss = 1460});
    }
    EXPECT_EQ(s.tcp().connection_count(), 1u);
    // syn_retries (6) used up: the next expiry (63 + 60 s) drops the embryonic connection silently.
    s.expect_nothing_until(at(123s));
    EXPECT_EQ(s.tcp().connection_count(), 0u);
    EXPECT_EQ(s.tcp().accept(l).error(), SocketError::WouldBlock);
    EXPECT_EQ(s.events(l), 0);
    // The listener's SYN queue slot is free again: a new SYN is answered.
    s.inject(at(124s), syn(7000, {.mss = 1460}));
    s.expect({.at = at(124s),
              .flags = kSynAck,
              .seq = 31000000,  // RFC 6528: the ISN clock ticks every 4 us (124 s)
              .ack = 7001,
              .win = 65535,
              .mss = 1460});
}

TEST(TcpScriptOpen, RetransmittedSynInSynReceivedIsAnsweredWithSynAck_Rfc9293S31074) {
    Script s;
    s.listen();
    s.inject(at(0ms), syn(1000, {.mss = 1460}));
    s.expect({.at = at(0ms), .flags = kSynAck, .seq = 0, .ack = 1001, .win = 65535, .mss = 1460});
    s.inject(at(500ms), syn(1000, {.mss = 1460}));
    s.expect({.at = at(500ms), .flags = kSynAck, .seq = 0, .ack = 1001, .win = 65535, .mss = 1460});
    s.expect_nothing();
    EXPECT_EQ(s.tcp().connection_count(), 1u);
}

TEST(TcpScriptOpen, RstInSynReceivedFreesTheEmbryonicConnectionSilently_Rfc9293S31074Step2) {
    Script s;
    auto l = s.listen();
    s.inject(at(0ms), syn(1000, {.mss = 1460}));
    s.expect({.at = at(0ms), .flags = kSynAck, .seq = 0, .ack = 1001, .win = 65535, .mss = 1460});
    s.inject(at(5ms), rst(1001));
    s.expect_nothing();
    EXPECT_EQ(s.tcp().connection_count(), 0u);
    EXPECT_EQ(s.events(l), 0);
    EXPECT_EQ(s.tcp().accept(l).error(), SocketError::WouldBlock);
    s.expect_nothing_until(at(10s));  // and no SYN-ACK retransmissions
}

TEST(TcpScriptOpen, BadAckInSynReceivedIsAnsweredWithReset_Rfc9293S31074Step5) {
    Script s;
    s.listen();
    s.inject(at(0ms), syn(1000, {.mss = 1460}));
    s.expect({.at = at(0ms), .flags = kSynAck, .seq = 0, .ack = 1001, .win = 65535, .mss = 1460});
    s.inject(at(5ms), ack(1001, 500));
    s.expect({.at = at(5ms), .flags = kRst, .seq = 500, .ack = 0, .win = 0});
    s.expect_nothing();
    EXPECT_EQ(s.state_of_only_connection(), TcpState::SynReceived);
}

TEST(TcpScriptOpen, DataAndFinOnTheHandshakeAckAreKept_Rfc9293S31074) {
    Script s;
    auto l = s.listen();
    s.inject(at(0ms), syn(1000, {.mss = 1460}));
    s.expect({.at = at(0ms), .flags = kSynAck, .seq = 0, .ack = 1001, .win = 65535, .mss = 1460});
    Seg d = data(1001, 1, bytes(100));
    d.with(TcpFlag::Fin);
    s.inject(at(5ms), d);
    s.expect({.at = at(5ms), .flags = kAck, .seq = 1, .ack = 1102, .win = 65535});
    auto c = s.tcp().accept(l);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(s.recv(*c), bytes(100));
    EXPECT_TRUE(*s.tcp().eof(*c));
    auto bits = s.events(*c);
    EXPECT_TRUE(bits & stack::kEventPeerClosed);
    EXPECT_EQ(*s.state_of_only_connection(), TcpState::CloseWait);
}

// ---- active open ----

TEST(TcpScriptOpen, ActiveOpenSendsSynWithAllOptionsThenAcksSynAck_Rfc9293S3101) {
    Script s;
    auto c = s.connect(8080);
    Out synp = s.expect({.at = at(0ms),
                         .flags = kSyn,
                         .seq = 0,
                         .ack = 0,
                         .win = 65535,
                         .mss = 1460,
                         .wscale = 4,
                         .sack_ok = true,
                         .tsecr = 0});
    EXPECT_EQ(synp.tcp.dst_port, 8080);
    EXPECT_GE(synp.tcp.src_port, 32768);
    EXPECT_EQ(synp.tcp.options.mss, kOurMss);
    EXPECT_EQ(synp.tcp.options.window_scale, kOurWscale);
    EXPECT_TRUE(synp.tcp.options.sack_permitted);
    ASSERT_TRUE(synp.tcp.options.timestamps.has_value());
    EXPECT_EQ(synp.ts_ecr(), 0u);
    EXPECT_EQ(s.events(c) & stack::kEventConnected, 0);

    Seg sa = syn(9000, {.mss = 1200, .wscale = 2, .sack_ok = true, .tsval = 77});
    sa.flags = kSynAck;
    sa.ack = 1;
    sa.sport = 8080;
    s.inject(at(30ms), sa);
    s.expect({.at = at(30ms), .flags = kAck, .seq = 1, .ack = 9001, .win = 32768, .tsecr = 77});
    s.expect_nothing();
    EXPECT_TRUE(s.events(c) & stack::kEventConnected);
    auto info = *s.tcp().info(c);
    EXPECT_EQ(info.state, TcpState::Established);
    EXPECT_EQ(info.smss, 1200u - 12u);
    EXPECT_EQ(info.snd_wscale, 2);
    EXPECT_EQ(info.snd_wnd, 65535u);  // a SYN's window is never scaled (RFC 7323 §2.2)
    EXPECT_EQ(info.srtt, Duration::millis(30));
    s.expect_nothing_until(at(5s));  // no SYN retransmission after it was acknowledged
}

TEST(TcpScriptOpen, ActiveOpenWithoutPeerOptionsDisablesThem_Rfc7323S2) {
    Script s;
    auto c = s.connect();
    s.expect({.at = at(0ms),
              .flags = kSyn,
              .seq = 0,
              .ack = 0,
              .win = 65535,
              .mss = 1460,
              .wscale = 4,
              .sack_ok = true,
              .tsecr = 0});
    Seg sa = syn(9000, {.mss = std::nullopt});
    sa.flags = kSynAck;
    sa.ack = 1;
    s.inject(at(10ms), sa);
    Out a = s.expect({.at = at(10ms), .flags = kAck, .seq = 1, .ack = 9001, .win = 65535});
    EXPECT_FALSE(a.tcp.options.timestamps.has_value());
    auto info = *s.tcp().info(c);
    EXPECT_FALSE(info.window_scaling);
    EXPECT_EQ(info.rcv_wscale, 0);
    EXPECT_FALSE(info.sack);
    EXPECT_EQ(info.smss, 536u);
}

TEST(TcpScriptOpen, SynRetransmittedWithBackoffThenTimedOut_Rfc6298S5_Rfc9293S3101) {
    Script s;
    auto c = s.connect();
    s.expect({.at = at(0ms),
              .flags = kSyn,
              .seq = 0,
              .ack = 0,
              .win = 65535,
              .mss = 1460,
              .wscale = 4,
              .sack_ok = true,
              .tsecr = 0});
    for (std::int64_t t : {1, 3, 7, 15, 31, 63}) {
        s.expect_nothing_until(Instant::from_millis(t * 1000 - 1));
        s.advance_to(Instant::from_millis(t * 1000));
        s.expect({.at = Instant::from_millis(t * 1000),
                  .flags = kSyn,
                  .seq = 0,
                  .ack = 0,
                  .win = 65535,
                  .mss = 1460,
                  .wscale = 4,
                  .sack_ok = true,
                  .tsecr = 0});
    }
    s.expect_nothing_until(at(123s));
    EXPECT_TRUE(s.events(c) & stack::kEventError);
    EXPECT_EQ(s.tcp().error(c), SocketError::TimedOut);
}

TEST(TcpScriptOpen, RstWithAcceptableAckInSynSentIsRefused_Rfc9293S31073) {
    Script s;
    auto c = s.connect();
    s.expect({.at = at(0ms),
              .flags = kSyn,
              .seq = 0,
              .ack = 0,
              .win = 65535,
              .mss = 1460,
              .wscale = 4,
              .sack_ok = true,
              .tsecr = 0});
    Seg r = rst(0);
    r.flags = kRstAck;
    r.ack = 1;
    s.inject(at(1ms), r);
    s.expect_nothing();
    EXPECT_TRUE(s.events(c) & stack::kEventError);
    EXPECT_EQ(s.tcp().error(c), SocketError::Refused);
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::Closed);
    s.expect_nothing_until(at(5s));
}

TEST(TcpScriptOpen, RstWithoutAckOrWithBadAckInSynSentIsIgnored_Rfc9293S31073_Rfc5961S3) {
    Script s;
    auto c = s.connect();
    s.expect({.at = at(0ms),
              .flags = kSyn,
              .seq = 0,
              .ack = 0,
              .win = 65535,
              .mss = 1460,
              .wscale = 4,
              .sack_ok = true,
              .tsecr = 0});
    s.inject(at(1ms), rst(0));  // no ACK: "drop the segment"
    Seg r = rst(0);
    r.flags = kRstAck;
    r.ack = 77;  // unacceptable ACK: drop (and no RST in reply to a RST)
    s.inject(at(2ms), r);
    s.expect_nothing();
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::SynSent);
    EXPECT_FALSE(s.tcp().error(c).has_value());
}

TEST(TcpScriptOpen, SynAckWithBadAckInSynSentIsAnsweredWithRstSeqSegAck_Rfc9293S31073) {
    Script s;
    auto c = s.connect();
    s.expect({.at = at(0ms),
              .flags = kSyn,
              .seq = 0,
              .ack = 0,
              .win = 65535,
              .mss = 1460,
              .wscale = 4,
              .sack_ok = true,
              .tsecr = 0});
    Seg sa = syn(9000);
    sa.flags = kSynAck;
    sa.ack = 12345;
    s.inject(at(1ms), sa);
    s.expect({.at = at(1ms), .flags = kRst, .seq = 12345, .ack = 0, .win = 0});
    s.expect_nothing();
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::SynSent);
    // Still waiting: the real SYN-ACK completes it.
    sa.ack = 1;
    s.inject(at(2ms), sa);
    s.expect({.at = at(2ms), .flags = kAck, .seq = 1, .ack = 9001, .win = 65535});
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::Established);
}

TEST(TcpScriptOpen, SimultaneousOpenSynCrossingThenSynAckEstablishes_Rfc9293Figure8) {
    Script s;
    auto c = s.connect();
    s.expect({.at = at(0ms),
              .flags = kSyn,
              .seq = 0,
              .ack = 0,
              .win = 65535,
              .mss = 1460,
              .wscale = 4,
              .sack_ok = true,
              .tsecr = 0});
    // The peer's own SYN crosses ours: SYN-RECEIVED, answer SYN,ACK (same ISS).
    s.inject(at(5ms), syn(3000, {.mss = 1460}));
    s.expect({.at = at(5ms), .flags = kSynAck, .seq = 0, .ack = 3001, .win = 65535, .mss = 1460});
    s.expect_nothing();
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::SynReceived);
    // Then the peer's SYN,ACK (its SYN again, acknowledging ours) completes the open.
    Seg sa = syn(3000, {.mss = 1460});
    sa.flags = kSynAck;
    sa.ack = 1;
    s.inject(at(10ms), sa);
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::Established);
    EXPECT_TRUE(s.events(c) & stack::kEventConnected);
    // No SYN-ACK is sent again (each side answering the other's SYN-ACK would loop forever); an ACK
    // would be harmless.
    while (s.pending() > 0) s.expect({.flags = kAck, .seq = 1, .ack = 3001});
    // Data flows both ways.
    s.inject(at(20ms), data(3001, 1, bytes(10)));
    s.expect_nothing_until(at(59ms));
    s.advance_to(at(60ms));
    s.expect({.at = at(60ms), .flags = kAck, .seq = 1, .ack = 3011, .win = 65535});
    EXPECT_EQ(s.recv(c), bytes(10));
}

TEST(TcpScriptOpen, SimultaneousOpenCompletedByPlainAck_Rfc9293S31074Step5) {
    // The peer acknowledges our SYN-ACK with a plain ACK (as after figure 8's line 5).
    Script s;
    auto c = s.connect();
    s.expect({.at = at(0ms),
              .flags = kSyn,
              .seq = 0,
              .ack = 0,
              .win = 65535,
              .mss = 1460,
              .wscale = 4,
              .sack_ok = true,
              .tsecr = 0});
    s.inject(at(5ms), syn(3000, {.mss = 1460}));
    s.expect({.at = at(5ms), .flags = kSynAck, .seq = 0, .ack = 3001, .win = 65535, .mss = 1460});
    s.inject(at(6ms), ack(3001, 1));  // the peer's plain ACK of our SYN-ACK
    s.expect_nothing();
    EXPECT_EQ(s.tcp().info(c)->state, TcpState::Established);
    EXPECT_TRUE(s.events(c) & stack::kEventConnected);
}

// ---- closed port (RFC 9293 §3.10.7.1) ----

TEST(TcpScriptOpen, SynToClosedPortGetsRstAckWithAckSeqPlusOne_Rfc9293S31071) {
    Script s;
    s.inject(at(0ms), syn(1000, {.mss = 1460}));
    s.expect({.at = at(0ms), .flags = kRstAck, .seq = 0, .ack = 1001, .win = 0});
    s.expect_nothing();
    EXPECT_EQ(s.stack().stats().tcp.drop_no_listener, 1u);
}

TEST(TcpScriptOpen, DataWithoutAckToClosedPortGetsRstAckCoveringIt_Rfc9293S31071) {
    Script s;
    Seg d = data(1000, 0, bytes(50));
    d.flags = TcpFlag::Psh | TcpFlag::Fin;
    s.inject(at(0ms), d);
    s.expect({.at = at(0ms), .flags = kRstAck, .seq = 0, .ack = 1051, .win = 0});
}

TEST(TcpScriptOpen, SegmentWithAckToClosedPortGetsRstSeqSegAck_Rfc9293S31071) {
    Script s;
    s.inject(at(0ms), data(1000, 777777, bytes(10)));
    Out r = s.expect({.at = at(0ms), .flags = kRst, .seq = 777777, .ack = 0, .win = 0});
    EXPECT_EQ(r.tcp.ack.value(), 0u);
    s.listen();  // a listener: an ACK still gets <SEQ=SEG.ACK><CTL=RST> (§3.10.7.2)
    s.inject(at(1ms), ack(5, 4242));
    s.expect({.at = at(1ms), .flags = kRst, .seq = 4242, .ack = 0, .win = 0});
}

TEST(TcpScriptOpen, RstToClosedPortOrListenerIsIgnored_Rfc9293S31071) {
    Script s;
    s.inject(at(0ms), rst(1000));
    Seg r = rst(1000);
    r.flags = kRstAck;
    s.inject(at(0ms), r);
    s.listen();
    s.inject(at(1ms), rst(1000));
    s.expect_nothing();
    EXPECT_EQ(s.stack().stats().tcp.tx_resets, 0u);
}

// ---- listen backlog ----

Seg syn_from(std::uint16_t port, SynOpts o = {.mss = 1460}) {
    Seg sy = syn(1000u * port, o);
    sy.sport = port;
    return sy;
}

// A full SYN queue answers with a SYN cookie (RFC 4987 §3.6) and keeps no state; a full accept queue
// drops SYNs silently (no RST: the peer retries), counted in tcp.drop.listen_overflow.
TEST(TcpScriptOpen, FullSynQueueAnswersWithCookieFullAcceptQueueDrops_Rfc4987_Issue3Sockets) {
    Script s;
    auto l = s.listen(kOurPort, 2);
    std::vector<std::uint32_t> iss;
    for (std::uint16_t port : {40000, 40001}) {
        s.inject(at(0ms), syn_from(port));
        iss.push_back(s.expect({.at = at(0ms),
                                .flags = kSynAck,
                                .ack = 1000u * port + 1,
                                .win = 65535,
                                .mss = 1460,
                                .any = Any::Seq})  // this 4-tuple's ISS
                          .tcp.seq.value());
    }
    // Two embryonic connections fill the SYN queue: the third SYN gets a cookie, which keeps the
    // window scale and SACK-permitted in its timestamp bits (issue 8: no longer MSS only).
    s.inject(at(1ms), syn_from(40002, {.mss = 1460, .wscale = 7, .sack_ok = true, .tsval = 5}));
    Out cookie = s.expect({.at = at(1ms),
                           .flags = kSynAck,
                           .seq = 3427711098,
                           .ack = 1000u * 40002 + 1,
                           .win = 65535,
                           .mss = 1460,
                           .wscale = 4,
                           .sack_ok = true,
                           .tsecr = 5,
                           .any = Any::TsVal});  // the cookie's encoded options
    EXPECT_EQ(cookie.tcp.options.mss, std::optional<std::uint16_t>(1460));
    EXPECT_TRUE(cookie.tcp.options.window_scale.has_value());
    EXPECT_TRUE(cookie.tcp.options.sack_permitted);
    ASSERT_TRUE(cookie.tcp.options.timestamps.has_value());
    EXPECT_EQ(cookie.ts_ecr(), 5u);
    EXPECT_EQ(s.stack().stats().tcp.syncookies_sent, 1u);
    EXPECT_EQ(s.tcp().connection_count(), 2u);  // no state for the cookie

    // The peer's ACK (with data) proves the handshake: the connection exists from here, established.
    Seg a = data(1000u * 40002 + 1, cookie.tcp.seq.value() + 1, bytes(100));
    a.absolute_ack = true;
    a.sport = 40002;
    a.with_ts(6, cookie.ts_val());
    s.inject(at(2ms), a);
    EXPECT_EQ(s.stack().stats().tcp.syncookies_ok, 1u);
    EXPECT_EQ(s.tcp().connection_count(), 3u);
    auto accepted = s.tcp().accept(l);
    ASSERT_TRUE(accepted.ok());
    std::uint8_t buf[200];
    auto n = s.tcp().recv(*accepted, stack::MutBytes(buf));
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 100u);
    auto info = s.tcp().info(*accepted);
    EXPECT_EQ(info->state, TcpState::Established);
    EXPECT_EQ(info->smss, 1460u - 12);  // timestamps on
    EXPECT_TRUE(info->sack && info->timestamps && info->window_scaling);
    EXPECT_EQ(info->snd_wscale, 7u);

    // The two embryonic ones complete: the accept queue (2) is full, so further SYNs are dropped.
    for (std::size_t i = 0; i < 2; ++i) {
        const auto port = static_cast<std::uint16_t>(40000 + i);
        Seg ok = ack(1000u * port + 1, iss[i] + 1);
        ok.absolute_ack = true;
        ok.sport = port;
        s.inject(at(3ms), ok);
    }
    s.inject(at(4ms), syn_from(40003));
    EXPECT_EQ(s.stack().stats().tcp.drop_listen_overflow, 1u);
    EXPECT_EQ(s.stack().stats().tcp.syncookies_sent, 1u);
    EXPECT_EQ(s.stack().stats().tcp.tx_resets, 0u);

    // The cookie connection acknowledges its 100 bytes after the delayed-ACK timer.
    s.advance_to(at(100ms));
    s.expect({.at = at(2ms),  // at once on the handshake-completing segment, not the timer
              .flags = kAck,
              .seq = cookie.tcp.seq.value() + 1 - s.iss(),
              .ack = 1000u * 40002 + 101,
              .win = 32768,
              .tsecr = 6});

    // accept() makes room: the peer's retransmitted SYN is now answered.
    ASSERT_TRUE(s.tcp().accept(l).ok());
    s.inject(at(1s), syn_from(40003));
    s.expect({.at = at(1s),
              .flags = kSynAck,
              .seq = 94527819,
              .ack = 1000u * 40003 + 1,
              .win = 65535,
              .mss = 1460});
}

// An ACK to a listener that carries no valid cookie (forged, for another 4-tuple, or older than the
// cookie lifetime) is answered as RFC 9293 §3.10.7.2 says: <SEQ=SEG.ACK><CTL=RST>.
TEST(TcpScriptOpen, ForgedOrStaleCookieAckIsReset_Rfc4987_Rfc9293S31072) {
    Script s;
    s.listen(kOurPort, 1);
    s.inject(at(0ms), syn_from(40000));
    s.expect(
        {.at = at(0ms), .flags = kSynAck, .seq = 0, .ack = 40000001, .win = 65535, .mss = 1460});
    s.inject(at(1ms), syn_from(40001));
    Out cookie = s.expect({.at = at(1ms),
                           .flags = kSynAck,
                           .seq = 3436998343,
                           .ack = 1000u * 40001 + 1,
                           .win = 65535,
                           .mss = 1460});
    // The embryonic connection goes away (RST in SYN-RECEIVED), so nothing else is sent later.
    Seg gone = rst(1000u * 40000 + 1);
    gone.sport = 40000;
    s.inject(at(1ms), gone);

    Seg forged = ack(1000u * 40001 + 1, cookie.tcp.seq.value() + 2);  // one off
    forged.absolute_ack = true;
    forged.sport = 40001;
    s.inject(at(2ms), forged);
    s.expect({.at = at(2ms),
              .flags = kRst,
              .seq = forged.ack - s.iss(),
              .ack = 0,
              .win = 0});  // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>
    Seg other = ack(1000u * 40001 + 1, cookie.tcp.seq.value() + 1);  // right cookie, other port
    other.absolute_ack = true;
    other.sport = 40002;
    s.inject(at(3ms), other);
    s.expect({.at = at(3ms),
              .flags = kRst,
              .seq = other.ack - s.iss(),
              .ack = 0,
              .win = 0});  // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>
    EXPECT_EQ(s.stack().stats().tcp.syncookies_failed, 2u);

    Seg late = ack(1000u * 40001 + 1, cookie.tcp.seq.value() + 1);  // right cookie, 4 minutes late
    late.absolute_ack = true;
    late.sport = 40001;
    s.inject(at(240s), late);
    s.expect({.at = at(240s),
              .flags = kRst,
              .seq = late.ack - s.iss(),
              .ack = 0,
              .win = 0});  // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>
    EXPECT_EQ(s.stack().stats().tcp.syncookies_ok, 0u);
    // No cookie sent for 4 minutes: not even tested as one (issue 8 point 7).
    EXPECT_EQ(s.stack().stats().tcp.syncookies_failed, 2u);
    EXPECT_EQ(s.stack().stats().tcp.syncookies_unchecked, 1u);
}

}  // namespace
}  // namespace tcpscript
