// Scripted tests for the TCP counters the operations tools export (opens, resets, retransmissions
// by cause, connections by state, bytes) and for the admission limits (TcpConfig::max_connections,
// mem_budget): past a limit a SYN is dropped and counted, existing connections keep working, and
// TIME-WAIT neither holds buffers nor counts against the limits.
#include <gtest/gtest.h>

#include "tests/tcp/script.hpp"

namespace tcpscript {
namespace {

using stack::testing::stat;

// Opens a connection from peer port `sport` (its ISS `iss`) to a listener on port 80; returns it
// accepted. `l` is the listener.
SocketHandle open_from(Script& s, SocketHandle l, std::uint16_t sport, std::uint32_t iss) {
    Seg y = syn(iss);
    y.sport = sport;
    s.inject(y);
    Expect e = s.syn_ack_for({}, iss);
    e.any = Any::Seq;  // this 4-tuple's ISS (RFC 6528)
    Out sa = s.expect(e);
    Seg a = ack(iss + 1, sa.tcp.seq.value() + 1);  // each connection has its own ISS: absolute
    a.absolute_ack = true;
    a.sport = sport;
    s.inject(a);
    auto c = s.tcp().accept(l);
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : SocketHandle{};
}

TEST(TcpCounters, PassiveAndActiveOpensAndStateGauges) {
    Script s;
    auto l = s.listen();
    EXPECT_EQ(stat(s.stack(), "tcp.listeners"), 1u);
    s.inject(at(0ms), syn(1000));
    s.expect({.at = at(0ms), .flags = kSynAck, .seq = 0, .ack = 1001, .win = 65535, .mss = 1460});
    EXPECT_EQ(stat(s.stack(), "tcp.state.syn_received"), 1u);
    s.inject(at(10ms), ack(1001, 1));
    auto c = *s.tcp().accept(l);
    EXPECT_EQ(stat(s.stack(), "tcp.passive_opens"), 1u);
    EXPECT_EQ(stat(s.stack(), "tcp.active_opens"), 0u);
    EXPECT_EQ(stat(s.stack(), "tcp.state.syn_received"), 0u);
    EXPECT_EQ(stat(s.stack(), "tcp.state.established"), 1u);

    auto a = s.connect(40001);  // active open to the peer
    s.expect({.at = at(10ms),
              .flags = kSyn,
              .seq = 4002978258,
              .ack = 0,
              .win = 65535,
              .mss = 1460,
              .wscale = 4,
              .sack_ok = true,
              .tsecr = 0});
    EXPECT_EQ(stat(s.stack(), "tcp.active_opens"), 1u);
    EXPECT_EQ(stat(s.stack(), "tcp.state.syn_sent"), 1u);
    ASSERT_TRUE(s.tcp().abort(s.now(), a).ok());  // no RST from SYN-SENT (RFC 9293 §3.10.5)
    s.expect_nothing();
    EXPECT_EQ(stat(s.stack(), "tcp.state.syn_sent"), 0u);

    // Our close: FIN-WAIT-1, then FIN-WAIT-2 when acknowledged, TIME-WAIT on the peer's FIN.
    ASSERT_TRUE(s.tcp().close(at(20ms), c).ok());
    s.poll();
    s.expect({.at = at(10ms), .flags = kFinAck, .seq = 1, .ack = 1001, .win = 65535});
    EXPECT_EQ(stat(s.stack(), "tcp.state.fin_wait1"), 1u);
    EXPECT_EQ(stat(s.stack(), "tcp.state.established"), 0u);
    s.inject(at(30ms), ack(1001, 2));
    EXPECT_EQ(stat(s.stack(), "tcp.state.fin_wait2"), 1u);
    s.inject(at(40ms), fin(1001, 2));
    s.expect({.at = at(40ms), .flags = kAck, .seq = 2, .ack = 1002, .win = 65535});
    EXPECT_EQ(stat(s.stack(), "tcp.state.time_wait"), 1u);
    EXPECT_EQ(stat(s.stack(), "tcp.state.fin_wait2"), 0u);
    // 2*MSL later the connection is gone and every gauge is back to zero.
    s.advance_to(at(40ms) + Duration::seconds(61));
    EXPECT_EQ(stat(s.stack(), "tcp.state.time_wait"), 0u);
    EXPECT_EQ(stat(s.stack(), "tcp.mem_in_use"), 0u);
    EXPECT_EQ(s.tcp().connection_count(), 0u);
}

TEST(TcpCounters, ResetsSentAndReceivedAndBytes) {
    Script s;
    auto c = s.passive_open(1000);
    const auto rx_before = stat(s.stack(), "tcp.rx_payload_bytes");
    s.inject(at(10ms), data(1001, 1, bytes(300)));
    EXPECT_EQ(stat(s.stack(), "tcp.rx_payload_bytes") - rx_before, 300u);
    s.recv(c);
    s.send(c, bytes(200));
    s.advance_to(at(100ms));
    s.discard_output();
    EXPECT_EQ(stat(s.stack(), "tcp.tx_payload_bytes"), 200u);
    // Every segment sent so far is in tcp.tx_bytes: the SYN-ACK (20 + MSS option) and the data
    // segment (20 + 200, carrying the ACK of the 300 bytes).
    EXPECT_EQ(stat(s.stack(), "tcp.tx_bytes"), 24u + 220u);

    // A reset received: exactly at RCV.NXT.
    s.inject(at(200ms), rst(1301));
    EXPECT_EQ(stat(s.stack(), "tcp.rx_resets"), 1u);
    EXPECT_EQ(stat(s.stack(), "tcp.state.established"), 0u);
    // A reset sent: a segment for a closed port.
    Seg stray = ack(5000, 77);
    stray.sport = 40009;
    stray.dport = 81;
    stray.absolute_ack = true;
    s.inject(at(300ms), stray);
    s.expect({.at = at(300ms),
              .flags = kRst,
              .seq = stray.ack - s.iss(),
              .ack = 0,
              .win = 0});  // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>
    EXPECT_EQ(stat(s.stack(), "tcp.tx_resets"), 1u);
}

TEST(TcpCounters, RetransmissionsCountedByCause) {
    // RTO and SYN-ACK retransmission.
    {
        Script s;
        auto l = s.listen();
        s.inject(at(0ms), syn(1000));
        s.expect(
            {.at = at(0ms), .flags = kSynAck, .seq = 0, .ack = 1001, .win = 65535, .mss = 1460});
        s.advance_to(at(1s));
        s.expect(
            {.at = at(1s), .flags = kSynAck, .seq = 0, .ack = 1001, .win = 65535, .mss = 1460});
        EXPECT_EQ(stat(s.stack(), "tcp.retransmit.syn"), 1u);
        s.inject(at(1100ms), ack(1001, 1));
        auto c = *s.tcp().accept(l);
        s.send(c, bytes(100));
        s.expect(
            {.at = at(1100ms), .flags = kPshAck, .seq = 1, .ack = 1001, .win = 65535, .len = 100});
        s.advance_to(at(4100ms));
        s.expect(
            {.at = at(4100ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535, .len = 100});
        EXPECT_EQ(stat(s.stack(), "tcp.retransmit.rto"), 1u);
        EXPECT_EQ(stat(s.stack(), "tcp.retransmits"), 2u);
        EXPECT_EQ(s.tcp().info(c)->retransmits, 2u);
    }
    // Fast retransmit then a NewReno partial ACK.
    {
        Script s(
            [](stack::StackConfig& c) { c.tcp.congestion = stack::tcp::CcAlgorithm::NewReno; });
        auto c = s.passive_open(1000);
        s.send(c, bytes(14600));
        for (std::uint32_t i = 0; i < 10; ++i)
            s.expect({.at = at(0ms),
                      .flags = i == 9 ? kPshAck : kAck,  // PSH: the send buffer is empty
                      .seq = 1 + i * 1460,
                      .ack = 1001,
                      .win = 65535,
                      .len = 1460});
        for (int i = 0; i < 3; ++i) s.inject(at(150ms), ack(1001, 1));
        s.expect(
            {.at = at(150ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535, .len = 1460});
        s.inject(at(260ms), ack(1001, 5841));
        s.expect(
            {.at = at(260ms), .flags = kAck, .seq = 5841, .ack = 1001, .win = 65535, .len = 1460});
        EXPECT_EQ(stat(s.stack(), "tcp.retransmit.fast"), 1u);
        EXPECT_EQ(stat(s.stack(), "tcp.retransmit.partial_ack"), 1u);
        EXPECT_EQ(stat(s.stack(), "tcp.retransmit.sack"), 0u);
        EXPECT_EQ(stat(s.stack(), "tcp.retransmits"), 2u);
    }
    // SACK recovery: the first hole is the fast retransmit, the second one a SACK retransmission.
    {
        Script s;
        auto c = s.passive_open(1000, {.mss = 1460, .sack_ok = true});
        s.send(c, bytes(14600));
        for (std::uint32_t i = 0; i < 10; ++i)
            s.expect({.at = at(0ms),
                      .flags = i == 9 ? kPshAck : kAck,  // PSH: the send buffer is empty
                      .seq = 1 + i * 1460,
                      .ack = 1001,
                      .win = 65535,
                      .len = 1460});
        auto start = [](std::uint32_t i) { return 1 + (i - 1) * 1460; };
        s.inject(at(150ms), ack(1001, 1).with_sack(start(2), start(3)));
        for (std::uint32_t last = 4; last <= 10; ++last) {
            s.inject(
                at(150ms),
                ack(1001, 1).with_sack(start(4), start(last + 1)).with_sack(start(2), start(3)));
        }
        s.discard_output();
        EXPECT_EQ(stat(s.stack(), "tcp.sack_recoveries"), 1u);
        EXPECT_EQ(stat(s.stack(), "tcp.retransmit.fast"), 1u);
        EXPECT_EQ(stat(s.stack(), "tcp.retransmit.sack"), 1u);
    }
}

TEST(TcpLimits, MaxConnectionsDropsNewSynsAndKeepsExistingOnes) {
    Script s([](stack::StackConfig& c) { c.tcp.max_connections = 2; });
    auto l = s.listen(80, 16);
    auto a = open_from(s, l, 40001, 1000);
    auto b = open_from(s, l, 40002, 2000);
    // The third SYN gets nothing back (dropped: the peer retransmits it), and is counted.
    Seg third = syn(3000);
    third.sport = 40003;
    s.inject(third);
    s.expect_nothing();
    EXPECT_EQ(stat(s.stack(), "tcp.drop.max_connections"), 1u);
    EXPECT_EQ(s.tcp().connection_count(), 2u);
    // The existing connections still work.
    Seg d = data(1001, 1, bytes(10));
    d.sport = 40001;
    s.inject(d);
    EXPECT_EQ(s.recv(a).size(), 10u);
    // One goes away (reset by its peer): the retransmitted SYN is now accepted.
    Seg r = rst(2001);
    r.sport = 40002;
    s.inject(r);
    ASSERT_TRUE(s.tcp().close(s.now(), b).ok());
    s.advance_to(at(500ms));
    s.discard_output();  // the delayed ACK of a's data
    s.inject(at(1s), third);
    s.expect({.at = at(1s),
              .flags = kSynAck,
              .seq = 3238429263,
              .ack = 3001,
              .win = 65535,
              .mss = 1460});
    EXPECT_EQ(stat(s.stack(), "tcp.drop.max_connections"), 1u);
    // connect() is refused with TooManySockets while the table is at the limit.
    auto c = s.tcp().connect(s.now(), kPeer, 9);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error(), SocketError::TooManySockets);
}

TEST(TcpLimits, MemoryBudgetBoundsConnectionBuffers) {
    constexpr std::size_t kBuf = 64 * 1024;
    Script s([](stack::StackConfig& c) {
        c.tcp.send_buffer = kBuf;
        c.tcp.recv_buffer = kBuf;
        c.tcp.mem_budget = 3 * 2 * kBuf + kBuf;  // room for three connections, not four
    });
    auto l = s.listen(80, 16);
    for (std::uint16_t i = 0; i < 3; ++i) {
        open_from(s, l, static_cast<std::uint16_t>(40001 + i), 1000u * (i + 1));
    }
    EXPECT_EQ(stat(s.stack(), "tcp.mem_in_use"), 3 * 2 * kBuf);
    Seg fourth = syn(9000);
    fourth.sport = 40004;
    s.inject(fourth);
    s.expect_nothing();
    EXPECT_EQ(stat(s.stack(), "tcp.drop.mem_budget"), 1u);
    EXPECT_EQ(stat(s.stack(), "tcp.drop.max_connections"), 0u);
    EXPECT_LE(stat(s.stack(), "tcp.mem_in_use"), 3 * 2 * kBuf + kBuf);
}

TEST(TcpLimits, TimeWaitReleasesBuffersAndDoesNotCountAgainstLimits) {
    constexpr std::size_t kBuf = 64 * 1024;
    Script s([](stack::StackConfig& c) {
        c.tcp.send_buffer = kBuf;
        c.tcp.recv_buffer = kBuf;
        c.tcp.max_connections = 1;
    });
    auto l = s.listen(80, 16);
    auto a = open_from(s, l, 40001, 1000);
    EXPECT_EQ(stat(s.stack(), "tcp.mem_in_use"), 2 * kBuf);
    // We close first and end in TIME-WAIT.
    ASSERT_TRUE(s.tcp().close(at(10ms), a).ok());
    s.poll();
    s.expect({.at = at(0ms), .flags = kFinAck, .seq = 1, .ack = 1001, .win = 65535});
    Seg fa = fin(1001, 2);
    fa.sport = 40001;
    s.inject(at(20ms), fa);
    s.expect({.at = at(20ms), .flags = kAck, .seq = 2, .ack = 1002, .win = 65534});
    EXPECT_EQ(stat(s.stack(), "tcp.state.time_wait"), 1u);
    EXPECT_EQ(stat(s.stack(), "tcp.mem_in_use"), 0u);
    // A retransmitted FIN is still answered from TIME-WAIT, with the window it had.
    s.inject(at(30ms), fa);
    Out again = s.expect({.at = at(30ms), .flags = kAck, .seq = 2, .ack = 1002, .win = 65534});
    EXPECT_GT(again.tcp.window, 0u);
    // And a new connection is admitted although the TIME-WAIT one is still in the table.
    open_from(s, l, 40002, 5000);
    EXPECT_EQ(stat(s.stack(), "tcp.drop.max_connections"), 0u);
    EXPECT_EQ(s.tcp().connection_count(), 2u);
}

TEST(TcpLimits, AbortAllResetsUnfinishedConnectionsOnly) {
    Script s;
    auto l = s.listen(80, 16);
    auto b = open_from(s, l, 40002, 2000);  // first: the script's relative ACKs use its ISS
    auto a = open_from(s, l, 40001, 1000);
    (void)a;
    // b ends in TIME-WAIT; a stays established.
    ASSERT_TRUE(s.tcp().close(at(10ms), b).ok());
    s.poll();
    s.expect({.at = at(0ms), .flags = kFinAck, .seq = 1, .ack = 2001, .win = 65535});
    Seg fb = fin(2001, 2);
    fb.sport = 40002;
    s.inject(at(20ms), fb);
    s.expect({.at = at(20ms), .flags = kAck, .seq = 2, .ack = 2002, .win = 65535});
    EXPECT_EQ(s.tcp().abort_all(at(30ms)), 1u);
    s.poll();
    Out r = s.expect({.at = at(20ms), .flags = kRst, .seq = 2369928980, .ack = 0, .win = 0});
    EXPECT_EQ(r.tcp.dst_port, 40001);
    s.expect_nothing();
    EXPECT_EQ(stat(s.stack(), "tcp.state.established"), 0u);
}

}  // namespace
}  // namespace tcpscript
