// The receiver's rules that are pure computations on numbers (the Connection applies them in
// connection_receive.cpp; tests/tcp_parts/receiver_test.cpp tests them on their own):
//  - PAWS (RFC 7323 §5.3 R1, §5.5): paws_test;
//  - the advertised window with receiver-side silly window avoidance (RFC 9293 §3.8.6.2.2, RFC 1122
//    §4.2.3.3): advertise_window, right_edge_growth;
//  - when an ACK is owed at once rather than delayed (RFC 5681 §4.2, RFC 9293 §3.8.6.3): ack_due.
#pragma once

#include <cstddef>
#include <cstdint>

#include "stack/base/time.hpp"
#include "stack/wire/seq.hpp"

namespace stack::tcp {

// RFC 7323 §5.3 R1: a segment whose SEG.TSval is older than TS.Recent is rejected, unless TS.Recent
// is older than 24 days (§5.5: the peer's timestamp clock may have wrapped meanwhile; TS.Recent is
// then invalid and the segment accepted, TS.Recent taken from it: AcceptStale).
enum class Paws : std::uint8_t { Accept, AcceptStale, Reject };
inline constexpr Duration kPawsIdleLimit = Duration::seconds(std::int64_t{24} * 24 * 3600);
Paws paws_test(std::uint32_t tsval, std::uint32_t ts_recent, Duration ts_recent_idle);

// What the advertised window is computed from: RCV.NXT, the buffer space free (RCV.BUFF - RCV.USER),
// the buffer's capacity, our window scale and our MSS.
struct ReceiveSpace {
    wire::SeqNumber rcv_nxt;
    std::size_t free = 0;
    std::size_t capacity = 0;
    std::uint8_t wscale = 0;
    std::uint32_t mss = 0;
};

// The window field to send; moves `rcv_adv` (the right edge last advertised) to the edge it
// announces. The right edge never moves left (RFC 9293 §3.8.6.2.2 MUST: no shrinking), and moves
// right only once the space beyond it reaches min(capacity/2, MSS) (receiver SWS avoidance). The test
// is on the buffer space, not on the 16-bit field's cap: a window held at the cap is not a silly
// window and follows RCV.NXT.
std::uint32_t advertise_window(const ReceiveSpace& s, wire::SeqNumber& rcv_adv);

// How far the right edge would move if all the buffer space the window field can express were
// advertised now (0 if not at all).
std::uint32_t right_edge_growth(const ReceiveSpace& s, wire::SeqNumber rcv_adv);

// RFC 5681 §4.2 / RFC 9293 §3.8.6.3: an ACK is due at once (rather than after the delayed-ACK timer)
// when asked for (`immediate`: a gap filled, ...), for every second segment, or when more than one
// full-sized segment's worth of bytes is unacknowledged (one GRO super-packet counts as a single
// segment but carries many full-sized ones; as Linux __tcp_ack_snd_check).
constexpr bool ack_due(bool immediate, unsigned unacked_segments, std::uint32_t unacked_bytes,
                       std::uint32_t full_segment) {
    return immediate || unacked_segments >= 2 || unacked_bytes > full_segment;
}

}  // namespace stack::tcp
