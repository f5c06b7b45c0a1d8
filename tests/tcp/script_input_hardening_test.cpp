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
        s.expect({.at = at(10ms),
                  .flags = kAck,
                  .seq = 1,
                  .ack = 1001,
                  .win = 65535,
                  .tsecr = 101});  // challenge ACK
    }
    s.expect_nothing();
    s.inject(at(20ms), data(1001, 1, bytes(10)).with_ts(102, 0));
    EXPECT_EQ(s.stack().stats().tcp.drop_paws, 0u);
    EXPECT_EQ(s.tcp().info(c)->recv_queue, 10u);
    s.advance_to(at(60ms));
    s.expect({.at = at(60ms), .flags = kAck, .seq = 1, .ack = 1011, .win = 65535, .tsecr = 102});
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
    s.expect({.at = at(20ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535, .tsecr = 5000});
    EXPECT_EQ(s.stack().stats().tcp.drop_paws, 1u);
}

// ---- RST at SND.MAX, window updates (RFC 9293 §3.10.5, §3.10.7.4 step 5) ----

// Passive open whose handshake takes 100 ms (one RTT sample: RTO 300 ms).
SocketHandle open_100ms(Script& s, std::uint16_t win = 65535) {
    auto l = s.listen();
    s.inject(syn(1000));
    s.expect({.at = at(0ms), .flags = kSynAck, .seq = 0, .ack = 1001, .win = 65535, .mss = 1460});
    s.inject(s.now() + Duration::millis(100), ack(1001, 1, win));
    auto c = s.tcp().accept(l);
    EXPECT_TRUE(c.ok());
    return *c;
}

// Three segments out, none acknowledged; the RTO goes back to SND.UNA (SND.NXT = 1461, SND.MAX = 4381).
// The peer may hold everything up to SND.MAX (only its ACKs were lost): an RST at SND.NXT would be left
// of its window and ignored, one at SND.MAX is in it.
TEST(TcpScriptHardening, AbortAfterRtoSendsRstAtSndMax_Rfc9293S3105) {
    Script s;
    auto c = open_100ms(s);
    s.send(c, bytes(3 * 1460));
    for (std::uint32_t i = 0; i < 3; ++i)
        s.expect({.at = at(100ms),
                  .flags = i == 2 ? kPshAck : kAck,
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
              .len = 1460});  // go back to SND.UNA
    s.expect_nothing();
    ASSERT_TRUE(s.tcp().abort(s.now(), c).ok());
    s.poll();
    s.expect({.at = at(400ms), .flags = kRst, .seq = 1 + 3 * 1460, .ack = 0, .win = 0});
}

TEST(TcpScriptHardening, UserTimeoutRstIsAtSndMax_Rfc9293S383) {
    Script s([](stack::StackConfig& c) { c.tcp.user_timeout = Duration::seconds(5); });
    auto c = open_100ms(s);
    s.send(c, bytes(3 * 1460));
    s.advance_to(at(5100ms));
    for (std::uint32_t i = 0; i < 3; ++i) {
        s.expect({.at = at(100ms),
                  .flags = i == 2 ? kPshAck : kAck,
                  .seq = 1 + i * 1460,
                  .ack = 1001,
                  .win = 65535,
                  .len = 1460});
    }
    // RFC 6298 §5.5: the RTO (300 ms) doubles after each expiry.
    for (std::int64_t t : {400, 1000, 2200, 4600}) {
        s.expect({.at = at(std::chrono::milliseconds(t)),
                  .flags = kAck,
                  .seq = 1,
                  .ack = 1001,
                  .win = 65535,
                  .len = 1460});
    }
    s.expect({.at = at(5100ms), .flags = kRst, .seq = 1 + 3 * 1460, .ack = 0, .win = 0});
    EXPECT_EQ(s.tcp().error(c), SocketError::TimedOut);
}

// A zero-window probe put SND.MAX one byte past the peer's closed window: the RST stays at the window's
// edge (SND.UNA + SND.WND = RCV.NXT for the peer), the one sequence number it accepts.
TEST(TcpScriptHardening, PersistTimeoutRstStaysInsideAClosedWindow_Rfc9293S3105) {
    Script s([](stack::StackConfig& c) { c.tcp.user_timeout = Duration::seconds(5); });
    auto c = open_100ms(s, 0);
    s.send(c, bytes(100));
    s.advance_to(at(30s));
    // Probes (one byte beyond the closed window), the persist timer backing off from RTO 300 ms.
    for (std::int64_t t : {400, 1000, 2200, 4600}) {
        s.expect({.at = at(std::chrono::milliseconds(t)),
                  .flags = kAck,
                  .seq = 1,
                  .ack = 1001,
                  .win = 65535,
                  .len = 1});
    }
    s.expect({.at = at(9400ms), .flags = kRst, .seq = 1, .ack = 0, .win = 0});
    EXPECT_EQ(s.tcp().error(c), SocketError::TimedOut);
}

// A segment whose ACK is older than SND.UNA (still acceptable under RFC 5961 §5.2) but whose SEG.SEQ is
// newer than SND.WL1 must not set the send window: here it would close it, stalling the sender.
TEST(TcpScriptHardening, OldAckDoesNotUpdateTheSendWindow_Rfc9293S31074Step5) {
    Script s;
    auto c = open_100ms(s);
    s.send(c, bytes(1000));
    s.expect({.at = at(100ms), .flags = kPshAck, .seq = 1, .ack = 1001, .win = 65535, .len = 1000});
    s.inject(at(200ms), data(1001, 1001, bytes(10)));  // SND.UNA = 1001, SND.WL1 = 1001
    s.inject(at(210ms), data(1011, 1, bytes(10), 0));  // SEG.ACK < SND.UNA, SEG.SEQ > SND.WL1
    EXPECT_EQ(s.tcp().info(c)->snd_wnd, 65535u);
    s.discard_output();
    s.send(c, bytes(500));
    s.expect(
        {.at = at(210ms), .flags = kPshAck, .seq = 1001, .ack = 1021, .win = 65535, .len = 500});
}

// ---- delayed ACKs count bytes (RFC 5681 §4.2, RFC 9293 §3.8.6.3) ----

// With GRO (the TUN's vnet_hdr offloads) one segment may carry many full-sized ones: an ACK is owed
// at once, not after the delayed-ACK timer or a second super-packet.
TEST(TcpScriptHardening, GroSuperPacketOfSeveralFullSegmentsIsAckedAtOnce_Rfc5681S42) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460, .wscale = 7});
    s.inject(at(100ms), data(1001, 1, bytes(1460)));  // learn the peer's segment size
    s.advance_to(at(140ms));
    s.expect({.at = at(140ms),
              .flags = kAck,
              .seq = 1,
              .ack = 2461,
              .win = 32676});  // one segment: delayed
    s.inject(at(200ms), data(2461, 1, bytes(10 * 1460, 2)));
    s.expect({.at = at(200ms), .flags = kAck, .seq = 1, .ack = 2461 + 10 * 1460, .win = 31763});
    s.expect_nothing_until(at(400ms));
    EXPECT_EQ(s.recv(c).size(), 11u * 1460);
}

// The same with timestamps: full-sized segments carry 1448 bytes, and the first super-packet comes
// before any plain segment taught us the size.
TEST(TcpScriptHardening, FirstGroSuperPacketWithTimestampsIsAckedAtOnce_Rfc5681S42) {
    Script s;
    s.passive_open(1000, {.mss = 1460, .wscale = 7, .tsval = 100});
    s.inject(at(100ms), data(1001, 1, bytes(2 * 1448)).with_ts(200, 0));
    s.expect({.at = at(100ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1001 + 2 * 1448,
              .win = 32587,
              .tsecr = 200});
}

// Counting bytes does not ACK a single segment shorter than full-sized at once: the delayed ACK stays.
TEST(TcpScriptHardening, ShortSegmentsStillDelayTheAck_Rfc5681S42) {
    Script s;
    s.passive_open(1000);
    s.inject(at(100ms), data(1001, 1, bytes(1400)));
    s.expect_nothing_until(at(139ms));
    s.advance_to(at(140ms));
    s.expect({.at = at(140ms), .flags = kAck, .seq = 1, .ack = 2401, .win = 65535});
}

// ---- challenge ACK and invalid-segment ACK limits (RFC 5961 §7, CVE-2016-5696) ----

struct Peer {
    std::uint16_t port = 0;
    std::uint32_t iss = 0;      // the peer's
    std::uint32_t our_iss = 0;  // ours, on this connection
    SocketHandle handle;
};

// Opens n connections to port 80 from ports 41000.. (each with its own ISS pair).
std::vector<Peer> open_many(Script& s, std::uint32_t n) {
    auto l = s.listen(kOurPort, n + 1);
    std::vector<Peer> peers;
    for (std::uint32_t i = 0; i < n; ++i) {
        Peer p;
        p.port = static_cast<std::uint16_t>(41000 + i);
        p.iss = 1000 + i * 100'000;
        Seg sy = syn(p.iss);
        sy.sport = p.port;
        s.inject(sy);
        Out sa = s.expect({.at = at(0ms),
                           .flags = kSynAck,
                           .ack = p.iss + 1,
                           .win = 65535,
                           .mss = 1460,
                           .any = Any::Seq});  // this 4-tuple's ISS
        p.our_iss = sa.tcp.seq.value();
        Seg a = ack(p.iss + 1, p.our_iss + 1);
        a.absolute_ack = true;
        a.sport = p.port;
        s.inject(a);
        auto h = s.tcp().accept(l);
        EXPECT_TRUE(h.ok());
        p.handle = h.ok() ? *h : SocketHandle{};
        peers.push_back(p);
    }
    s.expect_nothing();
    return peers;
}

// An RST inside the window but not at RCV.NXT: answered with a challenge ACK (RFC 5961 §3.2).
Seg blind_rst(const Peer& p) {
    Seg r = rst(p.iss + 1 + 5000);
    r.sport = p.port;
    return r;
}

// How many segments went to each peer port since the last call (then forgets them).
std::map<std::uint16_t, std::size_t> sent_per_peer(Script& s) {
    std::map<std::uint16_t, std::size_t> n;
    for (const auto& o : s.captured()) ++n[o.tcp.dst_port];
    s.discard_output();
    return n;
}

// One connection flooded with blind RSTs gets one challenge ACK per 500 ms (Linux
// tcp_invalid_ratelimit); the global budget stays available to every other connection.
TEST(TcpScriptHardening, OneConnectionCannotConsumeTheChallengeAckBudget_Rfc5961S7) {
    Script s([](stack::StackConfig& c) { c.tcp.challenge_ack_per_sec = 20; });
    auto peers = open_many(s, 6);
    s.advance_to(at(1s));
    for (int i = 0; i < 1000; ++i)
        s.inject(at(1s) + Duration::micros(100 * i), blind_rst(peers[0]));
    for (std::size_t i = 1; i < peers.size(); ++i) s.inject(at(1100ms), blind_rst(peers[i]));
    auto n = sent_per_peer(s);
    EXPECT_EQ(n[peers[0].port], 1u);
    for (std::size_t i = 1; i < peers.size(); ++i) EXPECT_EQ(n[peers[i].port], 1u) << i;
    // 500 ms later the flooded connection may be answered again, once.
    for (int i = 0; i < 100; ++i)
        s.inject(at(1500ms) + Duration::micros(100 * i), blind_rst(peers[0]));
    EXPECT_EQ(sent_per_peer(s)[peers[0].port], 1u);
    EXPECT_EQ(s.stack().stats().tcp.challenge_acks, 7u);
    EXPECT_EQ(s.stack().stats().get("tcp.challenge_limited_conn"), 1098);
    for (const auto& p : peers) EXPECT_EQ(s.tcp().info(p.handle)->state, TcpState::Established);
}

// The global budget is drawn afresh each second, uniformly from [limit/2, limit*3/2), so an off-path
// attacker counting the challenge ACKs on its own connections cannot learn how many were spent on
// others (CVE-2016-5696, which exploited Linux's fixed 100 per second). 40 connections each provoke one
// challenge ACK a second for 20 seconds: the count per second stays within the bounds, varies, and
// differs between two stacks with different seeds.
std::vector<std::size_t> challenge_acks_per_second(std::uint64_t seed) {
    Script s([seed](stack::StackConfig& c) {
        c.seed = seed;
        c.tcp.challenge_ack_per_sec = 20;
    });
    auto peers = open_many(s, 40);
    std::vector<std::size_t> counts;
    for (int sec = 1; sec <= 20; ++sec) {
        for (std::size_t i = 0; i < peers.size(); ++i) {
            s.inject(at(std::chrono::seconds(sec)) + Duration::millis(static_cast<std::int64_t>(i)),
                     blind_rst(peers[i]));
        }
        counts.push_back(s.pending());
        for (const auto& o : s.captured()) EXPECT_TRUE(o.tcp.flags.ack() && !o.tcp.flags.rst());
        s.discard_output();
    }
    return counts;
}

TEST(TcpScriptHardening, ChallengeAckBudgetPerSecondIsRandomised_Rfc5961S7_Cve20165696) {
    const auto a = challenge_acks_per_second(7);
    const auto b = challenge_acks_per_second(8);
    std::set<std::size_t> distinct;
    std::size_t total = 0;
    for (std::size_t v : a) {
        EXPECT_GE(v, 10u);
        EXPECT_LT(v, 30u);
        distinct.insert(v);
        total += v;
    }
    for (std::size_t v : b) {
        EXPECT_GE(v, 10u);
        EXPECT_LT(v, 30u);
    }
    EXPECT_GE(distinct.size(), 5u) << "the per-second budget is (nearly) a fixed number";
    EXPECT_NE(a, b) << "two seeds gave the same budgets";
    // On average it is still about the configured limit (20 per second): 20 draws from [10, 30).
    EXPECT_GT(total, 20u * 14);
    EXPECT_LT(total, 20u * 26);
}

// ACKs answering out-of-window or PAWS-failed segments without data are limited per connection (one
// per 500 ms, shared with challenge ACKs), so two ends cannot ACK each other in a loop and a flood of
// such segments is not answered one for one. Segments carrying data are always answered (Linux
// tcp_oow_rate_limited): a retransmission of data we already hold needs our ACK.
TEST(TcpScriptHardening, OutOfWindowAndPawsFailedAcksAreRateLimitedPerConnection) {
    Script s;
    auto peers = open_many(s, 2);
    auto oow = [&](const Peer& p) {
        Seg a = ack(p.iss + 1 + 200'000, p.our_iss + 1);  // beyond the window
        a.absolute_ack = true;
        a.sport = p.port;
        return a;
    };
    s.advance_to(at(1s));
    for (int i = 0; i < 50; ++i) s.inject(at(1s) + Duration::millis(i), oow(peers[0]));
    s.inject(at(1060ms), oow(peers[1]));
    auto n = sent_per_peer(s);
    EXPECT_EQ(n[peers[0].port], 1u);
    EXPECT_EQ(n[peers[1].port], 1u);
    EXPECT_EQ(s.stack().stats().tcp.drop_out_of_window, 51u);
    EXPECT_EQ(s.stack().stats().get("tcp.invalid_acks_limited"), 49);
    s.inject(at(1500ms), oow(peers[0]));
    EXPECT_EQ(sent_per_peer(s)[peers[0].port], 1u);
    // Old data (entirely below RCV.NXT): every copy is acknowledged.
    for (int i = 0; i < 3; ++i) {
        Seg d = data(peers[0].iss - 99, peers[0].our_iss + 1, bytes(100));
        d.absolute_ack = true;
        d.sport = peers[0].port;
        s.inject(at(1600ms) + Duration::millis(i), d);
    }
    EXPECT_EQ(sent_per_peer(s)[peers[0].port], 3u);
}

TEST(TcpScriptHardening, PawsFailedAcksAreRateLimitedPerConnection_Rfc7323S5) {
    Script s;
    s.passive_open(1000, {.mss = 1460, .tsval = 100});
    for (int i = 0; i < 20; ++i)
        s.inject(at(10ms) + Duration::millis(i), ack(1001, 1).with_ts(50, 0));
    EXPECT_EQ(s.pending(), 1u);
    EXPECT_EQ(s.stack().stats().tcp.drop_paws, 20u);
    s.discard_output();
    s.inject(at(600ms), ack(1001, 1).with_ts(50, 0));
    EXPECT_EQ(s.pending(), 1u);
}

// ---- out-of-order data: the assembler (stack/tcp/assembler.hpp) ----

// `len` bytes of one deterministic stream starting at the peer's sequence number `seq` (ISS 1000).
Seg stream_seg(const Packet& stream, std::uint32_t seq, std::uint32_t len) {
    const auto from = stream.begin() + static_cast<std::ptrdiff_t>(seq - 1001);
    return data(seq, 1, Packet(from, from + len));
}

// A hundred holes, each filled in order afterwards: every out-of-order byte was kept (the old receiver
// kept 16 ranges and forgot the rest).
TEST(TcpScriptHardening, MoreThanSixteenOutOfOrderRangesAreKept_Rfc2018) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460, .sack_ok = true});
    const Packet stream = bytes(200, 3);
    for (std::uint32_t k = 0; k < 100; ++k) s.inject(at(10ms), stream_seg(stream, 1002 + 2 * k, 1));
    s.discard_output();
    for (std::uint32_t k = 0; k < 100; ++k) s.inject(at(20ms), stream_seg(stream, 1001 + 2 * k, 1));
    Out last = s.captured().back();
    EXPECT_EQ(last.tcp.ack.value(), 1201u);
    EXPECT_EQ(s.recv(c), stream);
    EXPECT_EQ(s.stack().stats().get("tcp.drop.ooo_full"), 0);
}

// A receive buffer of 8 KB allows 16 ranges. With 16 held (and reported in SACK blocks), a segment
// needing a 17th range is dropped and counted; nothing held is given up: the block SACK reported
// last stays reported and its byte is delivered once the data before it arrives (the old receiver
// forgot its highest range to make room: it reneged on data it had SACKed).
TEST(TcpScriptHardening, FullAssemblerDropsNewRangesAndNeverRenegesOnSackedData_Rfc2018S8) {
    Script s([](stack::StackConfig& c) { c.tcp.recv_buffer = 8192; });
    auto c = s.passive_open(1000, {.mss = 1460, .sack_ok = true});
    const Packet stream = bytes(100, 5);
    for (std::uint32_t k = 0; k < 16; ++k) s.inject(at(10ms), stream_seg(stream, 1003 + 4 * k, 1));
    Out before = s.captured().back();
    ASSERT_GE(before.tcp.options.sack_count, 1u);
    EXPECT_EQ(before.tcp.options.sack_blocks[0].left.value(), 1063u);
    s.discard_output();
    s.inject(at(20ms), stream_seg(stream, 1005, 1));  // between two held ranges: a 17th
    EXPECT_EQ(s.stack().stats().get("tcp.drop.ooo_full"), 1);
    Out after = s.expect({.at = at(20ms),
                          .flags = kAck,
                          .seq = 1,
                          .ack = 1001,
                          .win = 8192,
                          .sack = {{1063, 1064}, {1059, 1060}, {1055, 1056}, {1051, 1052}}});
    ASSERT_GE(after.tcp.options.sack_count, 1u);
    for (std::size_t i = 0; i < after.tcp.options.sack_count; ++i) {
        EXPECT_NE(after.tcp.options.sack_blocks[i].left.value(), 1005u) << "SACKed a dropped byte";
    }
    EXPECT_EQ(after.tcp.options.sack_blocks[0].left.value(), 1063u);
    // Everything below the highest held byte arrives in order: the held byte is delivered too.
    s.inject(at(30ms), stream_seg(stream, 1001, 62));
    s.expect({.at = at(30ms), .flags = kAck, .seq = 1, .ack = 1064, .win = 8129, .sack_blocks = 0});
    EXPECT_EQ(s.recv(c), Packet(stream.begin(), stream.begin() + 63));
}

}  // namespace
}  // namespace tcpscript
