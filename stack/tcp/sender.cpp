// Sender: Nagle, sender SWS avoidance, usable window and TSO length (sender.hpp).
#include "stack/tcp/sender.hpp"

#include <algorithm>

#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace stack::tcp {

namespace {
constexpr std::uint32_t kTimestampOptionLen = 12;  // 10 bytes + 2 NOPs of padding
}

std::uint32_t peer_room(wire::SeqNumber snd_una, std::uint32_t snd_wnd, wire::SeqNumber snd_nxt) {
    const wire::SeqNumber right = snd_una + snd_wnd;
    return right > snd_nxt ? static_cast<std::uint32_t>(right - snd_nxt) : 0;
}

std::uint32_t window_room(wire::SeqNumber snd_una, std::uint32_t snd_wnd, wire::SeqNumber snd_nxt,
                          std::uint32_t cwnd) {
    // Bounded by the peer's window (from SND.UNA) and by the congestion window (in flight).
    const std::uint32_t flight = static_cast<std::uint32_t>(snd_nxt - snd_una);
    const std::uint32_t by_cc = cwnd > flight ? cwnd - flight : 0;
    return std::min(peer_room(snd_una, snd_wnd, snd_nxt), by_cc);
}

// Sender SWS avoidance and Nagle (RFC 9293 §3.8.6.2.1, §3.7.4): a short segment only if it is
// everything we have and nothing is outstanding (or no-delay, or a FIN is queued), or if it is at
// least half of the largest window the peer offered.
bool short_segment_allowed(const SenderView& v, std::uint32_t len, std::uint32_t unsent,
                           std::uint32_t flight) {
    const bool all = len == unsent;
    const bool push_ok = all && (v.nodelay || flight == 0 || v.fin_queued);
    const bool half_window = v.max_snd_wnd > 0 && len >= v.max_snd_wnd / 2;
    return push_ok || half_window;
}

// 0 without TSO, and 0 when even one segment with its headers (timestamps included; SACK blocks are
// trimmed to fit) exceeds the MTU, as it can with a tiny MTU and the minimum SMSS: the device could
// not cut such a super-packet into segments that fit.
std::uint32_t max_tso_payload(std::uint32_t tso_max_size, std::uint32_t mtu, std::uint32_t smss,
                              bool timestamps) {
    if (tso_max_size == 0) return 0;
    const std::uint32_t headers = static_cast<std::uint32_t>(
        wire::kIpv4MinHeaderLen + wire::kTcpMinHeaderLen + (timestamps ? kTimestampOptionLen : 0));
    if (headers + smss > mtu) return 0;
    const std::uint32_t room =
        tso_max_size - static_cast<std::uint32_t>(wire::kIpv4MinHeaderLen + wire::kTcpMaxHeaderLen);
    return room / smss * smss;
}

// The usable room is the smaller of the peer's window and cwnd, so a super-segment never exceeds
// either. It takes as many whole SMSS-sized segments as fit, up to max_tso, plus the short tail the
// per-segment path would send right after them: with those segments in flight, Nagle and sender
// SWS avoidance (short_segment_allowed) allow it only if it is all we have and no-delay is set or a
// FIN is queued, or if it is at least half the peer's largest window. So the bytes and segment
// boundaries on the wire are those the per-segment path would send; only the number of packets
// handed to the device differs. Retransmissions (go-back-N after an RTO, below SND.MAX) stay one
// SMSS each.
std::uint32_t tso_length(const SenderView& v, std::uint32_t unsent, std::uint32_t usable) {
    if (v.max_tso <= v.smss || v.retransmitting) return v.smss;
    const std::uint32_t room = std::min({unsent, usable, v.max_tso});
    const std::uint32_t full = room / v.smss * v.smss;
    const std::uint32_t tail = room - full;
    // The tail would follow `full` bytes already in flight (full >= smss > 0).
    if (tail > 0 && short_segment_allowed(v, tail, unsent - full, v.flight + full)) return room;
    return full;
}

std::uint32_t next_segment_length(const SenderView& v, std::uint32_t unsent, std::uint32_t usable,
                                  bool override_sws) {
    const std::uint32_t len = std::min({unsent, v.smss, usable});
    if (len == 0) return 0;
    if (len < v.smss) {
        return override_sws || short_segment_allowed(v, len, unsent, v.flight) ? len : 0;
    }
    return tso_length(v, unsent, usable);
}

}  // namespace stack::tcp
