// Scripted tests: the urgent mechanism on receive (RFC 9293 §3.8.5 and §3.10.7.4 step 6, RFC 6093).
// Urgent data is delivered in line, byte-exact, as part of the stream (RFC 6093 §6: never out of
// band); RCV.UP = SEG.SEQ + SEG.UP points to the octet after the urgent data (RFC 9293 MUST-62) and
// is exposed in ConnectionInfo (urgent_pending / urgent_remaining, MUST-33). Step 6 runs after the
// RST, SYN and ACK checks and before the text: a segment those drop leaves RCV.UP alone.
#include <gtest/gtest.h>

#include "tests/tcp/script.hpp"

namespace tcpscript {
namespace {

// Injects `seg` (at the current time) with the URG bit and SEG.UP = `up`. script.hpp's Seg has no
// urgent pointer, so the field is written into the built packet and the checksum updated.
void inject_urg(Script& s, Seg seg, std::uint16_t up) {
    seg.with(TcpFlag::Urg);
    Packet p = s.build(seg);
    const std::size_t ihl = std::size_t{p[0] & 0x0Fu} * 4;
    const std::uint16_t sum = stack::load_be16(&p[ihl + 16]);
    EXPECT_EQ(stack::load_be16(&p[ihl + 18]), 0u);
    stack::store_be16(&p[ihl + 18], up);
    stack::store_be16(&p[ihl + 16], stack::checksum::update16(sum, 0, up));
    s.stack().ingress(s.now(), Bytes(p));
    s.poll();
}

stack::tcp::ConnectionInfo info(Script& s) {
    stack::tcp::ConnectionInfo i;
    int n = 0;
    s.tcp().for_each_connection([&](const stack::tcp::ConnectionInfo& c) {
        i = c;
        ++n;
    });
    EXPECT_EQ(n, 1);
    return i;
}

TEST(TcpScriptUrgent, UrgentDataArrivesInlineByteExact_Rfc6093S6) {
    Script s;
    auto c = s.passive_open(1000);
    EXPECT_FALSE(info(s).urgent_pending);
    s.advance_to(at(100ms));
    inject_urg(s, data(1001, 1, bytes(100)), 100);  // all 100 bytes urgent: RCV.UP = 1101
    EXPECT_TRUE(s.events(c) & stack::kEventReadable);
    EXPECT_TRUE(info(s).urgent_pending);
    EXPECT_EQ(info(s).urgent_remaining, 100u);
    EXPECT_EQ(info(s).recv_queue, 100u);  // in the stream, not held aside
    // Acknowledged like any other data (the delayed ACK).
    s.advance_to(at(140ms));
    s.expect({.at = at(140ms), .flags = kAck, .seq = 1, .ack = 1101, .win = 65535});
    // Read in two parts: the mark stays until the read point reaches it.
    const Packet sent = bytes(100);
    EXPECT_EQ(s.recv(c, 60), Packet(sent.begin(), sent.begin() + 60));
    EXPECT_TRUE(info(s).urgent_pending);
    EXPECT_EQ(info(s).urgent_remaining, 40u);
    EXPECT_EQ(s.recv(c), Packet(sent.begin() + 60, sent.end()));
    EXPECT_FALSE(info(s).urgent_pending);
    EXPECT_EQ(info(s).urgent_remaining, 0u);
    // Normal data after it is just data.
    s.inject(at(200ms), data(1101, 1, bytes(50, 2)));
    EXPECT_FALSE(info(s).urgent_pending);
    EXPECT_EQ(s.recv(c), bytes(50, 2));
}

TEST(TcpScriptUrgent, PointerTrackedAcrossSegments_Rfc9293S385) {
    Script s;
    auto c = s.passive_open(1000);
    s.advance_to(at(100ms));
    // The urgent data spans three segments; the first two point beyond their own data (1301).
    inject_urg(s, data(1001, 1, bytes(100, 1)), 300);
    EXPECT_EQ(info(s).urgent_remaining, 300u);
    inject_urg(s, data(1101, 1, bytes(100, 2)), 200);  // the same mark
    s.expect({.at = at(100ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1201,
              .win = 65535});  // every second segment
    EXPECT_EQ(info(s).urgent_remaining, 300u);
    // A reordered (older) pointer never moves RCV.UP back.
    inject_urg(s, ack(1201, 1), 0);
    EXPECT_EQ(info(s).urgent_remaining, 300u);
    inject_urg(s, data(1201, 1, bytes(100, 3)), 100);  // the same mark again
    EXPECT_EQ(info(s).urgent_remaining, 300u);
    // The next urgent byte sequence advances the mark past data not yet arrived (1451 > 1401).
    inject_urg(s, data(1301, 1, bytes(100, 4)), 150);
    s.expect({.at = at(100ms), .flags = kAck, .seq = 1, .ack = 1401, .win = 65535});
    EXPECT_EQ(info(s).urgent_remaining, 450u);
    EXPECT_EQ(s.recv(c, 300), concat({bytes(100, 1), bytes(100, 2), bytes(100, 3)}));
    EXPECT_TRUE(info(s).urgent_pending);
    EXPECT_EQ(info(s).urgent_remaining, 150u);
    EXPECT_EQ(s.recv(c), bytes(100, 4));
    EXPECT_TRUE(info(s).urgent_pending);  // 50 urgent bytes still to come
    EXPECT_EQ(info(s).urgent_remaining, 50u);
    s.inject(data(1401, 1, bytes(100, 5)));
    EXPECT_EQ(s.recv(c), bytes(100, 5));
    EXPECT_FALSE(info(s).urgent_pending);
}

TEST(TcpScriptUrgent, UrgOutsideTheWindowIsDroppedInStep1) {
    Script s;
    auto c = s.passive_open(1000, {}, 65535);
    s.advance_to(at(100ms));
    // Beyond the right edge of our window: unacceptable, answered with an ACK, URG never seen.
    inject_urg(s, data(1001 + 600000, 1, bytes(10)), 10);
    s.expect({.at = at(100ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535});
    EXPECT_FALSE(info(s).urgent_pending);
    // Entirely left of the window (an old duplicate): the same.
    s.inject(at(200ms), data(1001, 1, bytes(100)));
    EXPECT_EQ(s.recv(c), bytes(100));
    s.advance_to(at(300ms));
    s.discard_output();
    inject_urg(s, data(901, 1, bytes(100)), 100);
    s.expect({.at = at(300ms), .flags = kAck, .seq = 1, .ack = 1101, .win = 65535});
    EXPECT_FALSE(info(s).urgent_pending);
    EXPECT_EQ(info(s).recv_queue, 0u);
}

TEST(TcpScriptUrgent, UrgWithoutDataIsHandledSafely) {
    Script s;
    auto c = s.passive_open(1000);
    s.advance_to(at(100ms));
    // SEG.UP = 0 at the read point: no urgent data at all.
    inject_urg(s, ack(1001, 1), 0);
    s.expect_nothing();
    EXPECT_FALSE(info(s).urgent_pending);
    // A pure ACK announcing urgent data ahead (the sender may do so even into a closed window,
    // MUST-66): the mark is a number only, far beyond anything received; nothing becomes readable.
    inject_urg(s, ack(1001, 1), 65535);
    s.expect_nothing();
    EXPECT_TRUE(info(s).urgent_pending);
    EXPECT_EQ(info(s).urgent_remaining, 65535u);
    EXPECT_EQ(info(s).recv_queue, 0u);
    EXPECT_FALSE(s.events(c) & stack::kEventReadable);
    // The stream continues unchanged.
    s.inject(at(200ms), data(1001, 1, bytes(100)));
    EXPECT_EQ(s.recv(c), bytes(100));
    EXPECT_EQ(info(s).urgent_remaining, 65435u);
}

TEST(TcpScriptUrgent, UrgIsStep6_SegmentsDroppedByStepsTwoToFiveLeaveRcvUpAlone) {
    Script s;
    auto c = s.passive_open(1000);
    s.advance_to(at(100ms));
    // Step 2: an RST in the window but not at RCV.NXT gets a challenge ACK (RFC 5961 §3.2).
    Seg r = rst(1011);
    r.with(TcpFlag::Ack);
    r.ack = 1;
    inject_urg(s, r, 10);
    s.expect({.at = at(100ms), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535});
    EXPECT_FALSE(info(s).urgent_pending);
    // Step 4: a SYN gets a challenge ACK (RFC 5961 §4.2; later than invalid_ack_interval, so not
    // rate-limited).
    s.advance_to(at(2s));
    Seg y = data(1001, 1, bytes(10));
    y.with(TcpFlag::Syn);
    inject_urg(s, y, 10);
    s.expect({.at = at(2s), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535});
    EXPECT_FALSE(info(s).urgent_pending);
    // Step 5: no ACK bit: dropped.
    Seg n = data(1001, 1, bytes(10));
    n.flags = TcpFlag::Psh;
    inject_urg(s, n, 10);
    EXPECT_FALSE(info(s).urgent_pending);
    EXPECT_EQ(info(s).recv_queue, 0u);
    // Step 5: an ACK of data never sent: a challenge ACK (RFC 5961 §5.2), dropped.
    s.advance_to(at(4s));
    inject_urg(s, data(1001, 100, bytes(10)), 10);
    s.expect({.at = at(4s), .flags = kAck, .seq = 1, .ack = 1001, .win = 65535});
    EXPECT_FALSE(info(s).urgent_pending);
    EXPECT_EQ(info(s).recv_queue, 0u);
    s.expect_nothing();
    // Passing step 5, the same segment's URG is taken before its text (step 7) and FIN (step 8).
    Seg f = data(1001, 1, bytes(10, 9));
    f.with(TcpFlag::Fin);
    inject_urg(s, f, 4);
    s.expect({.at = at(4s), .flags = kAck, .seq = 1, .ack = 1012, .win = 65535});
    EXPECT_EQ(info(s).state, TcpState::CloseWait);
    EXPECT_TRUE(info(s).urgent_pending);
    EXPECT_EQ(info(s).urgent_remaining, 4u);
    EXPECT_EQ(s.recv(c), bytes(10, 9));
    EXPECT_FALSE(info(s).urgent_pending);
    // After the peer's FIN (CLOSE-WAIT) the URG bit is ignored (RFC 9293 §3.10.7.4 step 6).
    inject_urg(s, ack(1012, 1), 100);
    EXPECT_FALSE(info(s).urgent_pending);
}

TEST(TcpScriptUrgent, UrgIsProcessedInAZeroWindow_Must66) {
    Script s([](stack::StackConfig& c) { c.tcp.recv_buffer = 4096; });
    auto c = s.passive_open(1000);
    s.advance_to(at(100ms));
    s.inject(data(1001, 1, bytes(1460, 1)));
    s.inject(data(2461, 1, bytes(1460, 2)));
    s.inject(data(3921, 1, bytes(1176, 3)));  // fills the 4096-byte buffer
    s.discard_output();
    EXPECT_EQ(info(s).rcv_wnd, 0u);
    // At RCV.NXT in a zero window: acceptable for its ACK, RST and URG (its text is not taken).
    inject_urg(s, data(5097, 1, bytes(10)), 20);
    EXPECT_TRUE(info(s).urgent_pending);
    EXPECT_EQ(info(s).urgent_remaining, 4096u + 20u);
    EXPECT_EQ(info(s).recv_queue, 4096u);
    EXPECT_EQ(s.recv(c), concat({bytes(1460, 1), bytes(1460, 2), bytes(1176, 3)}));
    EXPECT_EQ(info(s).urgent_remaining, 20u);
}

}  // namespace
}  // namespace tcpscript
