// Connection: the receive side. Sequence acceptability and PAWS (step 1 of RFC 9293 §3.10.7.4 with
// RFC 7323 §5) and TS.Recent (RFC 7323 §4.3); text in order into the ring and out of order into the
// Assembler (steps 7, on_text); the FIN, in order only (step 8, check_fin / on_fin); the advertised
// window (receiver SWS avoidance) and the ACK policy (delayed ACKs). The pure rules are in
// receiver.hpp; what the segment's ACK means for the sender is in connection.cpp (on_ack), the
// sending of ACKs in connection_output.cpp.
#include <algorithm>

#include "stack/tcp/connection.hpp"
#include "stack/tcp/receiver.hpp"

namespace stack::tcp {

// ---- sequence acceptability, PAWS, TS.Recent --------------------------------------------------

// Step 1's acceptability test (RFC 9293 §3.10.7.4, the four cases): the segment must overlap the
// receive window [RCV.NXT, RCV.NXT + RCV.WND), RCV.WND being the window last advertised.
bool Connection::acceptable(const wire::TcpPacket& seg) const {
    const std::uint32_t len = seg.segment_len();
    const std::uint32_t wnd =
        rcv_adv_ > rcv_nxt_ ? static_cast<std::uint32_t>(rcv_adv_ - rcv_nxt_) : 0;
    const SeqNumber seq = seg.seq();
    if (wnd == 0) {
        // Also accept a segment at RCV.NXT with data in a zero window: its ACK and RST bits must be
        // processed (RFC 9293 §3.10.7.4 "special allowance"); its text is then trimmed to nothing.
        return seq == rcv_nxt_;
    }
    if (len == 0) return wire::seq_in_window(seq, rcv_nxt_, wnd);
    return wire::seq_in_window(seq, rcv_nxt_, wnd) ||
           wire::seq_in_window(seq + (len - 1), rcv_nxt_, wnd);
}

// RFC 7323 §5.3 R1, before the acceptability test (on_segment step 1): a segment (not an RST) whose
// SEG.TSval is older than TS.Recent is dropped and acknowledged (rate-limited, ack_invalid_segment);
// a TS.Recent idle for more than 24 days is no longer trusted (§5.5) and replaced. The test itself is
// paws_test (receiver.hpp).
bool Connection::check_paws(Instant now, const wire::TcpPacket& seg,
                            const wire::TcpOptions& options) {
    if (!ts_ok_ || !options.timestamps || seg.flags().rst()) return true;
    const auto tsval = options.timestamps->tsval;
    switch (paws_test(tsval, ts_recent_, now - ts_recent_age_)) {
        case Paws::Accept: return true;
        case Paws::AcceptStale: ts_recent_ = tsval; return true;
        case Paws::Reject: break;
    }
    ++layer_.stats().drop_paws;
    ack_invalid_segment(now, seg);
    output(now);
    return false;
}

// RFC 7323 §4.3 (2): remember the peer's timestamp if this segment covers Last.ACK.sent (PAWS has
// already checked SEG.TSval >= TS.Recent). Only for a segment whose ACK is acceptable (RFC 7323 §4.3
// and RFC 5961 §5, Linux tcp_replace_ts_recent after tcp_ack's checks): else a spoofed segment that is
// merely in the window (a blind attacker needs to guess only that) could carry a huge TSval into
// TS.Recent, and PAWS would then drop every genuine segment.
void Connection::update_ts_recent(Instant now, const wire::TcpPacket& seg,
                                  const wire::TcpOptions& options) {
    if (ts_ok_ && options.timestamps && seg.seq() <= last_ack_sent_) {
        ts_recent_ = options.timestamps->tsval;
        ts_recent_age_ = now;
    }
}

// ---- text and FIN (steps 7 and 8) -----------------------------------------------------------

// The first sequence number the user has not read: RCV.NXT less the readable bytes (and the FIN).
wire::SeqNumber Connection::read_seq() const {
    return rcv_nxt_ - static_cast<std::uint32_t>(rcv_buf_.size()) - (fin_received_ ? 1u : 0u);
}

// Step 7: text in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2 goes to the receive buffer (on_text); in the
// states after the peer's FIN it is ignored ("This should not occur since a FIN has been received"),
// the FIN acknowledged again. Returns false if the connection was reset here.
bool Connection::process_text(Instant now, const wire::TcpPacket& seg) {
    if (seg.payload().empty()) return true;
    if (orphaned_ && seg.seq() + static_cast<std::uint32_t>(seg.payload().size()) > rcv_nxt_ &&
        (state_ == TcpState::FinWait1 || state_ == TcpState::FinWait2)) {
        // The application closed (not shut down) this connection: nobody will read new text.
        // Reset rather than acknowledge data into a buffer no one drains (RFC 9293 §3.10.4,
        // RFC 2525 §2.17; Linux "TCPAbortOnData").
        ++layer_.stats().abort_on_data;
        abort(now);
        return false;
    }
    if (state_ == TcpState::Established || state_ == TcpState::FinWait1 ||
        state_ == TcpState::FinWait2) {
        on_text(now, seg);
    } else {
        ack_now_ = true;  // data after the peer's FIN: ignore it, keep acknowledging the FIN
    }
    return true;
}

// Text in the window: trimmed to what is new and to the window advertised; in order it is written to
// the ring (with any out-of-order data it reaches, and the FIN waiting there); out of order it is
// written in place ahead of the readable region and its range kept in ooo_ (the Assembler).
void Connection::on_text(Instant now, const wire::TcpPacket& seg) {
    Bytes payload = seg.payload();
    SeqNumber seq = seg.seq();
    if (seq < rcv_nxt_) {  // trim what we already have
        std::uint32_t skip = static_cast<std::uint32_t>(rcv_nxt_ - seq);
        if (skip >= payload.size()) {
            ack_now_ = true;  // a pure duplicate: acknowledge at once (RFC 5681 §4.2)
            return;
        }
        payload = payload.subspan(skip);
        seq = rcv_nxt_;
    }
    const std::size_t offset = static_cast<std::size_t>(seq - rcv_nxt_);
    // RFC 9293 §3.10.7.4 step 7 (and the acceptability test): only text inside the window we
    // advertised is taken, even when the buffer has more room; a probe into a zero window is not
    // accepted (else the window would reopen by a byte, a silly window, RFC 9293 §3.8.6.2.2).
    const std::size_t wnd = rcv_adv_ > rcv_nxt_ ? static_cast<std::size_t>(rcv_adv_ - rcv_nxt_) : 0;
    const std::size_t room = std::min(rcv_buf_.free(), wnd);
    if (offset >= room) {
        ack_now_ = true;
        return;
    }
    payload = payload.first(std::min(payload.size(), room - offset));
    if (payload.empty()) {
        ack_now_ = true;
        return;
    }
    // The peer's full-sized segment (for the delayed-ACK byte count): the largest seen, at most our
    // MSS (a GRO super-packet is larger but made of segments of at most that).
    rcv_mss_ = std::max<std::uint32_t>(
        rcv_mss_, static_cast<std::uint32_t>(std::min<std::size_t>(payload.size(), our_mss_)));
    if (offset == 0) {
        std::size_t n = rcv_buf_.write(payload);
        rcv_nxt_ += static_cast<std::uint32_t>(n);
        const bool filled_gap = !ooo_.empty();
        // Out-of-order data already sits in the ring just past the readable end: absorb it.
        const SeqNumber reach = ooo_.advance(rcv_nxt_);
        if (reach > rcv_nxt_) {
            rcv_buf_.commit(static_cast<std::size_t>(reach - rcv_nxt_));
            rcv_nxt_ = reach;
        }
        notify(kEventReadable);
        // RFC 5681 §4.2: ACK at once when a segment fills (part of) a gap; else delay.
        schedule_ack(now, filled_gap);
        if (ooo_fin_ && *ooo_fin_ == rcv_nxt_) on_fin(now);
        return;
    }
    // Out of order: track the range, store the bytes in place, ACK at once (with SACK blocks; RFC 5681
    // §4.2). With every range in use, a segment needing a new one is dropped (counted): the ranges
    // held, which SACK blocks may have reported, are never given up (no reneging, RFC 2018 §8), and the
    // sender retransmits the dropped segment as it would a lost one.
    ++layer_.stats().rx_out_of_order;
    ack_now_ = true;
    if (ooo_.insert(seq, seq + static_cast<std::uint32_t>(payload.size())) ==
        Assembler::Insert::Full) {
        ++layer_.stats().drop_ooo_full;
        return;
    }
    rcv_buf_.write_at(offset, payload);
}

// The peer's FIN, in order: RCV.NXT passes it; CLOSE-WAIT, CLOSING or TIME-WAIT (RFC 9293 §3.10.7.4
// step 8).
void Connection::on_fin(Instant now) {
    rcv_nxt_ += 1;
    fin_received_ = true;
    ooo_fin_.reset();
    ack_now_ = true;
    notify(kEventReadable | kEventPeerClosed);
    switch (state_) {
        case TcpState::SynReceived:
        case TcpState::Established: set_state(TcpState::CloseWait); break;
        case TcpState::FinWait1:
            if (fin_sent_ && snd_una_ == fin_seq_ + 1) {
                enter_time_wait(now);
            } else {
                set_state(TcpState::Closing);
            }
            break;
        case TcpState::FinWait2: enter_time_wait(now); break;
        default: break;
    }
}

// Step 8: the FIN is processed only in order (RCV.NXT reaches it): an early FIN is remembered and
// taken when the gap before it fills (on_text), and acknowledged at once meanwhile.
void Connection::check_fin(Instant now, const wire::TcpPacket& seg) {
    if (!seg.flags().fin() || fin_received_) return;
    SeqNumber fin_at = seg.seq() + static_cast<std::uint32_t>(seg.payload().size());
    if (fin_at == rcv_nxt_) {
        on_fin(now);
    } else if (fin_at > rcv_nxt_) {
        ooo_fin_ = fin_at;
        ack_now_ = true;
    }
}

// ---- the advertised window and the ACK policy --------------------------------------------------

ReceiveSpace Connection::receive_space() const {
    return ReceiveSpace{rcv_nxt_, rcv_buf_.free(), rcv_buf_.capacity(), rcv_wscale_, our_mss_};
}

// The window field to send (advertise_window, receiver.hpp: receiver-side silly window avoidance,
// RFC 9293 §3.8.6.2.2, RFC 1122 §4.2.3.3; the right edge never moves back); RCV.ADV follows it.
std::uint32_t Connection::advertised_window() {
    return advertise_window(receive_space(), rcv_adv_);
}

// How far the right edge of the advertised window would move if we advertised all the buffer space
// the window field can express now.
std::uint32_t Connection::window_right_edge_growth() const {
    return right_edge_growth(receive_space(), rcv_adv_);
}

// After the user read: RFC 9293 §3.8.6.2.2, announce the reopened window once its right edge can
// move by min(buffer/2, MSS) (the sender may be waiting on it); not when the window field is already
// at its maximum and nothing would change, nor after the peer's FIN (it sends no more).
bool Connection::window_update_due() const {
    return window_right_edge_growth() >= std::min<std::size_t>(rcv_buf_.capacity() / 2, our_mss_) &&
           !fin_received_;
}

// A segment of text was taken: ACK it at once or arm the delayed-ACK timer. RFC 9293 §3.8.6.3 / RFC
// 5681 §4.2: at least every second full-sized segment; at most 500 ms late (ours: config delayed_ack,
// 40 ms by default). Counted in segments and in bytes (ack_due, receiver.hpp).
void Connection::schedule_ack(Instant now, bool immediate) {
    ++unacked_segments_;
    const std::uint32_t unacked_bytes = static_cast<std::uint32_t>(rcv_nxt_ - last_ack_sent_);
    if (ack_due(immediate, unacked_segments_, unacked_bytes, rcv_mss_)) {
        ack_now_ = true;
    } else if (!armed(Timer::DelayedAck)) {
        arm(Timer::DelayedAck, now + config_.delayed_ack);
    }
}

}  // namespace stack::tcp
