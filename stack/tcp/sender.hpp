// Sender: how many bytes the next segment of new data may carry, written once.
//
// Plain functions over plain inputs (no Connection, no clock): the Connection's output path
// (send_new_data, recovery_output, connection_output.cpp) fills a SenderView and asks
//   - window_room / peer_room: the usable window, bounded by the peer's window (from SND.UNA) and
//     by the congestion window (cwnd - flight), RFC 9293 §3.8.6 / RFC 5681 §3.1;
//   - short_segment_allowed: Nagle (RFC 896, RFC 9293 §3.7.4 MUST-65/SHLD-7) and sender silly window
//     avoidance (RFC 9293 §3.8.6.2.1 SHLD-38): a segment shorter than SMSS goes out only if it is
//     everything queued and nothing is in flight (or no-delay is set, or a FIN follows it), or if it
//     is at least half of the largest window the peer has offered;
//   - next_segment_length: the length of the next segment at SND.NXT (0: hold), with the SWS override
//     of the persist timer (§3.8.6.2.1: the override timeout) and TSO;
//   - max_tso_payload / tso_length: a TSO super-segment as whole SMSS-sized segments within the
//     device's limit, plus the short tail exactly when the per-segment rules above would send it.
#pragma once

#include <cstdint>

#include "stack/wire/seq.hpp"

namespace stack::tcp {

// What the sender rules look at for one segment of new data at SND.NXT.
struct SenderView {
    std::uint32_t smss = 536;       // effective send MSS
    std::uint32_t flight = 0;       // SND.NXT - SND.UNA
    std::uint32_t max_snd_wnd = 0;  // the largest window the peer has offered (0: none yet)
    std::uint32_t max_tso = 0;      // max_tso_payload(): 0 without TSO
    bool nodelay = false;           // Nagle off (TCP_NODELAY)
    bool fin_queued = false;        // a FIN follows the queued data
    bool retransmitting = false;    // SND.NXT < SND.MAX: go-back-N after an RTO, one SMSS each
};

// Bytes the peer's window leaves at SND.NXT: SND.UNA + SND.WND - SND.NXT, 0 if beyond it.
std::uint32_t peer_room(wire::SeqNumber snd_una, std::uint32_t snd_wnd, wire::SeqNumber snd_nxt);
// The usable window: min(peer_room, cwnd - flight).
std::uint32_t window_room(wire::SeqNumber snd_una, std::uint32_t snd_wnd, wire::SeqNumber snd_nxt,
                          std::uint32_t cwnd);

// Nagle and sender SWS avoidance for a segment of `len` < SMSS bytes out of `unsent` queued, with
// `flight` bytes outstanding when it would be sent.
bool short_segment_allowed(const SenderView& v, std::uint32_t len, std::uint32_t unsent,
                           std::uint32_t flight);

// The most payload one super-segment may carry: whole SMSS-sized segments within the device's TSO
// limit `tso_max_size` (0: no TSO), leaving room for the IPv4 header and the largest TCP header; 0
// when even one segment with its headers (timestamps included) exceeds the MTU.
std::uint32_t max_tso_payload(std::uint32_t tso_max_size, std::uint32_t mtu, std::uint32_t smss,
                              bool timestamps);

// TSO: how far a full-sized segment of new data may grow, given `unsent` queued bytes and `usable`
// bytes of window room. SMSS without TSO (or when retransmitting).
std::uint32_t tso_length(const SenderView& v, std::uint32_t unsent, std::uint32_t usable);

// The payload length of the next segment of new data at SND.NXT: min(unsent, SMSS, usable), held
// (0) by Nagle/SWS avoidance unless `override_sws` (the persist timer's override timeout), grown
// by TSO when full-sized. 0: send nothing now.
std::uint32_t next_segment_length(const SenderView& v, std::uint32_t unsent, std::uint32_t usable,
                                  bool override_sws);

}  // namespace stack::tcp
