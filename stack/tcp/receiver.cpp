// The receiver's pure rules (receiver.hpp): PAWS, the advertised window, receiver SWS avoidance.
#include "stack/tcp/receiver.hpp"

#include <algorithm>

namespace stack::tcp {

Paws paws_test(std::uint32_t tsval, std::uint32_t ts_recent, Duration ts_recent_idle) {
    if (static_cast<std::int32_t>(tsval - ts_recent) >= 0) return Paws::Accept;
    if (ts_recent_idle > kPawsIdleLimit) return Paws::AcceptStale;
    return Paws::Reject;
}

std::uint32_t right_edge_growth(const ReceiveSpace& s, wire::SeqNumber rcv_adv) {
    const std::size_t cap = std::size_t{65535} << s.wscale;
    const wire::SeqNumber right = s.rcv_nxt + static_cast<std::uint32_t>(std::min(s.free, cap));
    return right > rcv_adv ? static_cast<std::uint32_t>(right - rcv_adv) : 0;
}

std::uint32_t advertise_window(const ReceiveSpace& s, wire::SeqNumber& rcv_adv) {
    const std::size_t cap = std::size_t{65535} << s.wscale;
    wire::SeqNumber right = s.rcv_nxt + static_cast<std::uint32_t>(std::min(s.free, cap));
    const wire::SeqNumber potential =
        s.rcv_nxt + static_cast<std::uint32_t>(std::min<std::size_t>(s.free, 1u << 30));
    if (rcv_adv >= s.rcv_nxt && right > rcv_adv &&
        static_cast<std::size_t>(potential - rcv_adv) <
            std::min<std::size_t>(s.capacity / 2, s.mss)) {
        right = rcv_adv;
    }
    if (right < rcv_adv) right = rcv_adv;  // never shrink the window (RFC 9293 §3.8.6.2.2 MUST)
    std::uint32_t field = static_cast<std::uint32_t>(right - s.rcv_nxt) >> s.wscale;
    field = std::min<std::uint32_t>(field, 65535);
    rcv_adv = wire::seq_max(rcv_adv, s.rcv_nxt + (field << s.wscale));
    return field;
}

}  // namespace stack::tcp
