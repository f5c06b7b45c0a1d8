// Sender rules (stack/tcp/sender.hpp) on their own: the usable window, Nagle (RFC 896, RFC 9293
// §3.7.4), sender SWS avoidance (RFC 9293 §3.8.6.2.1) with the persist timer's override, and the TSO
// super-segment length (whole segments within window, cwnd and the device limit; the short tail only
// when the per-segment rules would send it).
#include "stack/tcp/sender.hpp"

#include <gtest/gtest.h>

namespace stack::tcp {
namespace {

using wire::SeqNumber;

constexpr std::uint32_t kMss = 1000;

SenderView view(std::uint32_t flight, std::uint32_t max_snd_wnd = 64000) {
    SenderView v;
    v.smss = kMss;
    v.flight = flight;
    v.max_snd_wnd = max_snd_wnd;
    return v;
}

TEST(Sender, WindowRoomIsTheSmallerOfPeerWindowAndCwnd) {
    // Peer window 10000 from SND.UNA = 1000; 3000 in flight: 7000 left by the peer.
    EXPECT_EQ(peer_room(SeqNumber(1000), 10000, SeqNumber(4000)), 7000u);
    EXPECT_EQ(window_room(SeqNumber(1000), 10000, SeqNumber(4000), 20000), 7000u);
    // cwnd 5000 with 3000 in flight: 2000.
    EXPECT_EQ(window_room(SeqNumber(1000), 10000, SeqNumber(4000), 5000), 2000u);
    // Beyond either edge: nothing (a probe byte past a zero window, a flight above cwnd).
    EXPECT_EQ(peer_room(SeqNumber(1000), 0, SeqNumber(1001)), 0u);
    EXPECT_EQ(window_room(SeqNumber(1000), 10000, SeqNumber(4000), 2000), 0u);
    // Across the sequence wrap.
    EXPECT_EQ(peer_room(SeqNumber(0xFFFFFF00u), 0x200, SeqNumber(0x10)), 0xF0u);
}

TEST(Sender, FullSegmentAlwaysGoes) {
    EXPECT_EQ(next_segment_length(view(5000), 5000, 64000, false), kMss);
    EXPECT_EQ(next_segment_length(view(0), kMss, kMss, false), kMss);
}

TEST(Sender, NothingToSendOrNoWindow) {
    EXPECT_EQ(next_segment_length(view(0), 0, 64000, false), 0u);
    EXPECT_EQ(next_segment_length(view(0), 5000, 0, false), 0u);
    EXPECT_EQ(next_segment_length(view(0), 5000, 0, true), 0u);
}

TEST(Sender, NagleHoldsShortSegmentWhileDataInFlight) {
    // 300 bytes queued, 1000 in flight: held (RFC 9293 §3.7.4).
    EXPECT_EQ(next_segment_length(view(1000), 300, 64000, false), 0u);
    EXPECT_FALSE(short_segment_allowed(view(1000), 300, 300, 1000));
    // Nothing in flight: everything we have goes at once.
    EXPECT_EQ(next_segment_length(view(0), 300, 64000, false), 300u);
}

TEST(Sender, NodelaySendsTheShortSegment) {
    SenderView v = view(1000);
    v.nodelay = true;
    EXPECT_EQ(next_segment_length(v, 300, 64000, false), 300u);
}

TEST(Sender, QueuedFinSendsTheShortSegment) {
    SenderView v = view(1000);
    v.fin_queued = true;
    EXPECT_EQ(next_segment_length(v, 300, 64000, false), 300u);
}

TEST(Sender, SwsAvoidanceHoldsAPartOfTheQueue) {
    // 5000 queued but only 300 of window: a short segment that is not all we have is silly even with
    // nothing in flight and no-delay set, unless it is half the largest window offered.
    SenderView v = view(0, 64000);
    v.nodelay = true;
    EXPECT_EQ(next_segment_length(v, 5000, 300, false), 0u);
    // The peer's largest window was 600: 300 is half of it.
    v.max_snd_wnd = 600;
    EXPECT_EQ(next_segment_length(v, 5000, 300, false), 300u);
    v.max_snd_wnd = 602;
    EXPECT_EQ(next_segment_length(v, 5000, 300, false), 0u);
    // No window seen yet: no half-window exception.
    v.max_snd_wnd = 0;
    EXPECT_EQ(next_segment_length(v, 5000, 300, false), 0u);
}

TEST(Sender, PersistOverrideSendsWhatTheWindowAllows) {
    // RFC 9293 §3.8.6.2.1: after the override timeout (the persist timer), send what fits.
    EXPECT_EQ(next_segment_length(view(0), 5000, 300, true), 300u);
    EXPECT_EQ(next_segment_length(view(1000), 300, 64000, true), 300u);
    // Never more than the window, the queue or SMSS.
    EXPECT_EQ(next_segment_length(view(0), 200, 300, true), 200u);
    EXPECT_EQ(next_segment_length(view(0), 5000, 64000, true), kMss);
}

TEST(Sender, MaxTsoPayloadIsWholeSegmentsWithinTheDeviceLimit) {
    // 65536 - 20 (IPv4) - 60 (largest TCP header) = 65456 → 65 segments of 1000.
    EXPECT_EQ(max_tso_payload(65536, 1500, kMss, false), 65000u);
    EXPECT_EQ(max_tso_payload(65536, 1500, 1448, true), 45u * 1448u);
    EXPECT_EQ(max_tso_payload(0, 1500, kMss, false), 0u);  // no TSO
    // One segment with headers does not fit the MTU: no TSO (20 + 20 + 12 + 536 > 576).
    EXPECT_EQ(max_tso_payload(65536, 576, 536, true), 0u);
    EXPECT_EQ(max_tso_payload(65536, 576, 536, false), 65456u / 536u * 536u);
}

TEST(Sender, TsoLengthCappedByWindowCwndAndMaxSize) {
    SenderView v = view(0);
    v.max_tso = 8000;
    // Plenty queued and room: the device limit.
    EXPECT_EQ(next_segment_length(v, 100000, 64000, false), 8000u);
    EXPECT_EQ(tso_length(v, 100000, 64000), 8000u);
    // The usable room (peer window or cwnd, whichever is smaller) caps it, rounded to whole segments.
    EXPECT_EQ(tso_length(v, 100000, 4500), 4000u);
    EXPECT_EQ(next_segment_length(v, 100000, 4500, false), 4000u);
    // The queue caps it too; its short tail is held by Nagle (segments in flight before it).
    EXPECT_EQ(tso_length(v, 3500, 64000), 3000u);
}

TEST(Sender, TsoTailOnlyWhenThePerSegmentPathWouldSendIt) {
    SenderView v = view(0);
    v.max_tso = 8000;
    // All we have, no-delay: the tail goes with the whole segments.
    v.nodelay = true;
    EXPECT_EQ(tso_length(v, 3500, 64000), 3500u);
    // Not all we have (window-limited): the tail is silly, held.
    EXPECT_EQ(tso_length(v, 100000, 4500), 4000u);
    v.nodelay = false;
    // A FIN follows the data: the tail goes.
    v.fin_queued = true;
    EXPECT_EQ(tso_length(v, 3500, 64000), 3500u);
    v.fin_queued = false;
    // A tail of at least half the peer's largest window goes.
    v.max_snd_wnd = 1000;
    EXPECT_EQ(tso_length(v, 3500, 64000), 3500u);
    EXPECT_EQ(tso_length(v, 100000, 4500), 4500u);
}

TEST(Sender, TsoOffOrRetransmittingIsOneSegment) {
    SenderView v = view(0);
    v.max_tso = 0;
    EXPECT_EQ(next_segment_length(v, 100000, 64000, false), kMss);
    v.max_tso = kMss;  // a limit of one segment is no TSO
    EXPECT_EQ(next_segment_length(v, 100000, 64000, false), kMss);
    v.max_tso = 8000;
    v.retransmitting = true;  // go-back-N below SND.MAX: one SMSS each
    EXPECT_EQ(next_segment_length(v, 100000, 64000, false), kMss);
}

}  // namespace
}  // namespace stack::tcp
