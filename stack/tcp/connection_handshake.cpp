// Connection: the handshake (RFC 9293 §3.5, §3.10.1, §3.10.7.2-3). Three ways in (open_active and
// on_syn_sent; open_passive from a listener's SYN; open_from_cookie from a SYN cookie's ACK), one
// way out: complete_handshake, the only place a connection becomes ESTABLISHED by its handshake.
// Options are negotiated once, from the peer's SYN (negotiate, take_peer_syn).
#include <algorithm>

#include "stack/tcp/connection.hpp"

namespace stack::tcp {

using wire::TcpFlag;

namespace {
constexpr std::uint32_t kMinMss = 64;
}  // namespace

// The send and receive rings, once per connection: at open_active(), or when a passive handshake
// completes (the TcpLayer admitted them against TcpConfig::mem_budget before).
void Connection::allocate_buffers() {
    if (snd_buf_.capacity() != 0 || rcv_buf_.capacity() != 0) return;
    snd_buf_ = RingBuffer(config_.send_buffer);
    rcv_buf_ = RingBuffer(config_.recv_buffer);
}

// The send sequence space starts at the ISS; the SYN occupies it and data starts at ISS+1.
void Connection::init_send_space(Instant now, SeqNumber iss) {
    iss_ = iss;
    snd_una_ = iss;
    snd_nxt_ = iss;
    snd_max_ = iss;
    recovery_->reset(iss);
    snd_buf_seq_ = iss + 1;
    last_progress_ = now;
    last_received_ = now;
}

// Sends our SYN (or SYN,ACK) and times it: it is the first RTT sample unless retransmitted (Karn).
void Connection::send_syn(Instant now, wire::TcpFlags flags) {
    send_segment(now, iss_, 0, flags);
    snd_nxt_ = iss_ + 1;
    snd_max_ = snd_nxt_;
    rtt_timing_ = true;
    rtt_seq_ = iss_;
    rtt_sent_at_ = now;
    arm(Timer::Retransmit, now + rtt_.rto());
}

// The peer's SYN (its sequence number `irs` and options): the receive sequence space starts after
// it, the options are negotiated, and its TSval is the first TS.Recent (RFC 7323 §4.3). After
// init_send_space (negotiate resets the loss recovery at the ISS).
void Connection::take_peer_syn(Instant now, SeqNumber irs, const wire::TcpOptions& options) {
    irs_ = irs;
    rcv_nxt_ = irs_ + 1;
    rcv_adv_ = rcv_nxt_;
    negotiate(options);
    if (ts_ok_) {
        ts_recent_ = options.timestamps->tsval;
        ts_recent_age_ = now;
    }
}

// RFC 7323 §2.2/§3.2, RFC 2018 §2, RFC 9293 §3.7.1: an option is used only if both sides offered it.
void Connection::negotiate(const wire::TcpOptions& options) {
    ws_ok_ = config_.window_scaling && options.window_scale.has_value();
    snd_wscale_ = ws_ok_ ? *options.window_scale : 0;
    if (!ws_ok_) rcv_wscale_ = 0;
    ts_ok_ = config_.timestamps && options.timestamps.has_value();
    sack_ok_ = config_.sack && options.sack_permitted;
    // RFC 9293 §3.7.1 (MUST-15): without the option, assume 536; never exceed what we can send.
    std::uint32_t peer_mss = options.mss.value_or(536);
    std::uint32_t mss = std::min<std::uint32_t>(peer_mss, our_mss_);
    if (ts_ok_) mss -= std::min(mss, kTimestampOptionLen);
    smss_ = std::max(mss, kMinMss);
    cc_ = make_congestion_control(config_.congestion, smss_);
    // Loss recovery: RFC 6675 with SACK, else RFC 6582 NewReno (recovery.hpp).
    recovery_ = sack_ok_ ? static_cast<LossRecovery*>(&sack_recovery_) : &newreno_recovery_;
    recovery_->reset(iss_);
}

// Active open (RFC 9293 §3.10.1): SYN-SENT, our SYN sent; on_syn_sent takes the answer.
void Connection::open_active(Instant now, SeqNumber iss) {
    allocate_buffers();  // the application may queue data before the handshake completes
    init_send_space(now, iss);
    set_state(TcpState::SynSent);
    send_syn(now, TcpFlag::Syn);
}

// Passive open (RFC 9293 §3.10.7.2): SYN-RECEIVED, our SYN,ACK sent; step 5 of on_segment
// (on_ack) completes the handshake on the peer's ACK.
void Connection::open_passive(Instant now, SeqNumber iss, const wire::TcpPacket& syn,
                              const wire::TcpOptions& options) {
    init_send_space(now, iss);
    take_peer_syn(now, syn.seq(), options);
    snd_wnd_ = syn.window();  // RFC 7323 §2.2: the window in a SYN is never scaled
    max_snd_wnd_ = snd_wnd_;
    snd_wl1_ = syn.seq();
    snd_wl2_ = iss;
    set_state(TcpState::SynReceived);
    send_syn(now, TcpFlag::Syn | TcpFlag::Ack);
}

// The handshake completed statelessly (RFC 4987 §3.6): `ack` is the peer's ACK of our cookie SYN-ACK
// (the TcpLayer checked the cookie: SEG.ACK = ISS + 1). The options are those the cookie kept
// (`offered`); the window we offered in the SYN-ACK was unscaled (RFC 7323 §2.2). The peer's window
// is taken from the ACK's field as it stands (unscaled), as before the handshake split.
void Connection::open_from_cookie(Instant now, SeqNumber iss, const wire::TcpPacket& ack,
                                  const wire::TcpOptions& offered) {
    allocate_buffers();
    init_send_space(now, iss);
    take_peer_syn(now, ack.seq() - 1, offered);
    rcv_adv_ = rcv_nxt_ + static_cast<std::uint32_t>(std::min<std::size_t>(rcv_buf_.free(), 65535));
    snd_nxt_ = iss + 1;  // our SYN,ACK was sent (by the listener, statelessly)
    snd_max_ = snd_nxt_;
    last_ack_sent_ = rcv_nxt_;
    complete_handshake(now, ack.ack(), ack.window(), ack.seq());
}

// RFC 9293 §3.10.7.3, SYN-SENT: the first through fourth checks (the third, security, is not
// implemented: see on_segment). A SYN,ACK completes the handshake; a bare SYN is a simultaneous open.
void Connection::on_syn_sent(Instant now, const wire::TcpPacket& seg,
                             const wire::TcpOptions& options) {
    const auto flags = seg.flags();
    // First: the ACK must acknowledge our SYN (RFC 9293 §3.10.7.3).
    if (flags.ack() && (seg.ack() <= iss_ || seg.ack() > snd_max_)) {
        if (!flags.rst()) send_rst(now, seg.ack());
        return;
    }
    // Second: RST, valid only with an acceptable ACK (RFC 5961 §3.2 for SYN-SENT).
    if (flags.rst()) {
        if (flags.ack()) {
            ++layer_.stats().rx_resets;
            close_with(SocketError::Refused);
        }
        return;
    }
    if (!flags.syn()) return;
    // Fourth: SYN.
    take_peer_syn(now, seg.seq(), options);
    if (flags.ack()) {
        complete_handshake(now, seg.ack(), seg.window(), seg.seq());  // never scaled in a SYN
        ack_now_ = true;                                              // acknowledge the peer's SYN
        return;
    }
    // Simultaneous open (RFC 9293 §3.5, figure 8): SYN-RECEIVED, answer with SYN,ACK.
    snd_wnd_ = seg.window();
    max_snd_wnd_ = snd_wnd_;
    snd_wl1_ = seg.seq();
    set_state(TcpState::SynReceived);
    send_segment(now, iss_, 0, TcpFlag::Syn | TcpFlag::Ack);
}

// → ESTABLISHED: every handshake ends here (SYN-SENT on a SYN,ACK, on_syn_sent; SYN-RECEIVED on an
// acceptable ACK, RFC 9293 §3.10.7.4 step 5, on_ack, or on a simultaneous open's SYN,ACK; a SYN
// cookie's ACK, open_from_cookie). `ack` acknowledges our SYN; `wnd` is the peer's send window
// (already scaled where that applies) from the segment at `seq`. The SYN's RTT sample (Karn: none if
// it was retransmitted; RFC 6298 §5.7), the retransmission timer stopped.
void Connection::complete_handshake(Instant now, SeqNumber ack, std::uint32_t wnd, SeqNumber seq) {
    allocate_buffers();  // a passive open's buffers (admitted by TcpLayer::on_segment)
    snd_una_ = ack;
    snd_wnd_ = wnd;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seq;
    snd_wl2_ = ack;
    if (rtt_timing_ && syn_retries_ == 0) rtt_.on_sample(now - rtt_sent_at_);  // Karn
    if (syn_retries_ > 0 && !rtt_.has_sample()) rtt_.syn_timed_out();          // RFC 6298 §5.7
    rtt_timing_ = false;
    rtt_.reset_backoff();
    disarm(Timer::Retransmit);
    last_progress_ = now;
    set_state(TcpState::Established);
    events_.established = true;
}

}  // namespace stack::tcp
