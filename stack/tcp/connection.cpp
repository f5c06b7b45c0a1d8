// Connection: setup, SEGMENT ARRIVES (RFC 9293 §3.10.7; on_segment lists §3.10.7.4's eight steps in
// order, the ACK's meaning for the sender, closing) and user calls. The handshake is in
// connection_handshake.cpp, the receive side (PAWS, text, FIN, window, ACK policy) in
// connection_receive.cpp, segment output in connection_output.cpp, timers in connection_timers.cpp.
#include "stack/tcp/connection.hpp"

#include <algorithm>

namespace stack::tcp {

using wire::TcpFlag;

namespace {
constexpr std::uint32_t kTcpIpHeaders = 40;  // IPv4 + TCP without options
}  // namespace

Connection::Connection(ConnectionEnv& layer, std::uint32_t index, Endpoint local, Endpoint remote)
    : layer_(layer),
      index_(index),
      config_(layer.config()),
      local_(local),
      remote_(remote),
      snd_buf_(0),
      rcv_buf_(0),
      rtt_(config_.rtt) {
    timers_.fill(Instant::never());
    our_mss_ = static_cast<std::uint16_t>(layer.mtu() - kTcpIpHeaders);
    rcv_wscale_ = receive_window_scale(config_);
    ts_offset_ = layer.ts_offset(local, remote);  // RFC 7323 §7.1, see IsnGenerator::ts_offset
    cc_ = make_congestion_control(config_.congestion, smss_);
}

void Connection::set_state(TcpState s) { state_ = s; }

void Connection::notify(std::uint8_t bits) { events_.socket |= bits; }

// ---- SEGMENT ARRIVES --------------------------------------------------------------------------

// RFC 9293 §3.10.7: SYN-SENT has its own checks (§3.10.7.3, on_syn_sent); every other state that
// has a TCB runs the eight steps of §3.10.7.4 in the RFC's order, each labelled with the RFC's own
// words. MUST-nn are the numbers of RFC 9293 appendix B. Each step either lets the segment go on to
// the next one or ends its processing (dropped, answered, or the connection closed).
void Connection::on_segment(Instant now, const wire::TcpPacket& seg,
                            const wire::TcpOptions& options) {
    last_received_ = now;
    keepalive_sent_ = 0;
    if (state_ == TcpState::SynSent) {
        on_syn_sent(now, seg, options);
        output(now);
        return;
    }
    if (state_ == TcpState::Closed) return;

    // Simultaneous open (RFC 9293 §3.5 figure 8, line 6; MUST-10: simultaneous open is supported):
    // in SYN-RECEIVED the peer's SYN,ACK repeats its SYN (SEG.SEQ = IRS, left of the window) while
    // acknowledging ours. Taken literally the acceptability test rejects it, and two ends that each
    // answer the other's SYN,ACK with their own never leave SYN-RECEIVED. Like Linux
    // (tcp_validate_incoming), take it as the handshake's ACK.
    if (state_ == TcpState::SynReceived && seg.flags().syn() && seg.flags().ack() &&
        !seg.flags().rst() && seg.seq() == irs_) {
        if (snd_una_ < seg.ack() && seg.ack() <= snd_max_) {
            complete_handshake(now, seg.ack(), seg.window(),
                               seg.seq());  // a SYN's window: unscaled
        } else {
            ack_now_ = true;
        }
        output(now);
        return;
    }

    // First, check sequence number. RFC 7323 §5.3 R1: PAWS (check_paws) comes before the
    // acceptability test; TS.Recent is updated only once the segment has passed the RST, SYN and ACK
    // checks too (update_ts_recent, called from step 5: see there).
    if (!check_paws(now, seg, options)) return;
    if (!check_sequence(now, seg)) return;

    // Second, check the RST bit (RFC 5961 §3.2: only an RST at exactly RCV.NXT resets; one merely in
    // the window gets a challenge ACK; MUST-66: processed even when the window is zero).
    if (seg.flags().rst()) {
        on_rst(now, seg);
        return;
    }

    // Third, check security: not implemented. The stack neither sends nor parses IP security /
    // compartment options (RFC 1108; RFC 9293 §3.10.7.4 step 3), so every segment is taken as
    // matching the connection's (none) and goes on.

    // Fourth, check the SYN bit: in a synchronized state or SYN-RECEIVED a SYN, in the window or not,
    // gets a challenge ACK and is dropped (RFC 5961 §4.2, as RFC 9293 §3.10.7.4 step 4 recommends),
    // rate-limited (RFC 5961 §7, send_challenge_ack).
    if (seg.flags().syn()) {
        send_challenge_ack(now);
        return;
    }

    // Fifth, check the ACK field: a segment without ACK is dropped; SYN-RECEIVED completes the
    // handshake on an acceptable ACK (else RST); RFC 5961 §5.2 bounds an acceptable SEG.ACK (else a
    // challenge ACK); then SND.UNA, the send window (SND.WL1/WL2), RTT, congestion control and loss
    // recovery, and the closing states' "our FIN acknowledged" transitions (on_ack).
    if (!seg.flags().ack()) return;
    if (!on_ack(now, seg, options)) return;

    // Sixth, check the URG bit: RCV.UP <- max(RCV.UP, SEG.UP) (check_urg; RFC 9293 §3.8.5, RFC
    // 6093). The urgent data itself is text like any other: step 7 delivers it in line.
    check_urg(seg);

    // Seventh, process the segment text.
    if (!process_text(now, seg)) return;

    // Eighth, check the FIN bit.
    check_fin(now, seg);
    output(now);
}

// Step 1 (RFC 9293 §3.10.7.4, the acceptability table, on_segment): an unacceptable segment is
// dropped and, unless it is an RST, answered with an ACK (rate-limited, ack_invalid_segment); in
// TIME-WAIT a retransmitted FIN restarts the 2 MSL timer (RFC 9293 §3.10.7.4 step 8 / MUST-13).
bool Connection::check_sequence(Instant now, const wire::TcpPacket& seg) {
    if (acceptable(seg)) return true;
    ++layer_.stats().drop_out_of_window;
    if (!seg.flags().rst()) {
        if (state_ == TcpState::TimeWait && seg.flags().fin()) {
            arm(Timer::TimeWait, now + config_.msl * 2);  // a retransmitted FIN: restart 2MSL
        }
        ack_invalid_segment(now, seg);
        output(now);
    }
    return false;
}

// Step 6: in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2 the urgent pointer is tracked (UrgentPointer,
// urgent.hpp: MUST-30/31/62, the pointer names the octet after the urgent data); after the peer's
// FIN (CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT) the URG bit is ignored. MUST-32 (signal the user
// asynchronously) is not implemented: the socket API has no urgent event; the mark is visible in
// ConnectionInfo (urgent_pending, urgent_remaining: MUST-33), and the data arrives in line anyway.
void Connection::check_urg(const wire::TcpPacket& seg) {
    if (!seg.flags().urg()) return;
    if (state_ != TcpState::Established && state_ != TcpState::FinWait1 &&
        state_ != TcpState::FinWait2) {
        return;
    }
    (void)urg_.on_segment(seg.seq(), seg.urgent(), read_seq());
}

// Step 2 for the synchronized states and SYN-RECEIVED, RFC 5961 §3.2: (1) an RST outside the window
// was already dropped silently by step 1; (2) one at exactly RCV.NXT resets the connection; (3) one
// merely in the window gets a challenge ACK (rate-limited, RFC 5961 §7) and is dropped.
void Connection::on_rst(Instant now, const wire::TcpPacket& seg) {
    if (seg.seq() != rcv_nxt_) {  // in the window but not exact: maybe blind, challenge it
        send_challenge_ack(now);
        return;
    }
    ++layer_.stats().rx_resets;
    if (state_ == TcpState::SynReceived && listener != ~std::uint32_t{0}) {
        close_with(std::nullopt);  // a passive open is simply forgotten (RFC 9293 §3.10.7.4 step 2)
        return;
    }
    if (state_ == TcpState::TimeWait || state_ == TcpState::Closing ||
        state_ == TcpState::LastAck) {
        close_with(std::nullopt);
        return;
    }
    close_with(SocketError::Reset);
}

bool Connection::on_ack(Instant now, const wire::TcpPacket& seg, const wire::TcpOptions& options) {
    const SeqNumber ack = seg.ack();
    if (state_ == TcpState::SynReceived) {
        if (!(snd_una_ < ack && ack <= snd_max_)) {
            send_rst(now, ack);  // RFC 9293 §3.10.7.4 step 5, SYN-RECEIVED
            return false;
        }
        update_ts_recent(now, seg, options);
        complete_handshake(now, ack, static_cast<std::uint32_t>(seg.window()) << snd_wscale_,
                           seg.seq());
        // fall through: the ACK may carry data and FIN
        return true;
    }
    // RFC 5961 §5.2: SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT, else challenge/discard. (RFC 9293
    // §3.10.7.4 step 5: an ACK of something not yet sent is answered with an ACK and dropped; RFC 5961
    // makes that ACK a rate-limited challenge ACK, and adds the lower bound against blind injection.)
    if (ack > snd_max_) {
        send_challenge_ack(now);
        return false;
    }
    if (ack < snd_una_ - std::max<std::uint32_t>(max_snd_wnd_, 1)) {
        send_challenge_ack(now);
        return false;
    }
    update_ts_recent(now, seg, options);
    const std::uint32_t old_wnd = snd_wnd_;
    if (ack > snd_una_) {
        on_new_ack(now, ack, options);
    } else {
        const bool new_sack = take_sack(snd_una_, options);
        // RFC 5681 §2 "DUPLICATE ACKNOWLEDGMENT". Not while the peer's window is closed: those ACKs
        // answer window probes (RFC 9293 §3.8.6.1) and say nothing about loss.
        const bool classic = seg.payload().empty() && !seg.flags().fin() && old_wnd != 0 &&
                             (static_cast<std::uint32_t>(seg.window()) << snd_wscale_) == old_wnd;
        // RFC 6675 §2: with SACK, an ACK that SACKs new data is a duplicate "even if it carries new
        // data, changes the advertised window, or moves the cumulative acknowledgment point", and
        // one that SACKs nothing new is not. A SACK-permitted peer that sends no SACK option at all
        // is still judged by RFC 5681's rule.
        const bool dup = sack_ok_ ? new_sack || (classic && options.sack_count == 0) : classic;
        if (ack == snd_una_ && snd_max_ != snd_una_ && dup) on_dup_ack(now);
    }
    update_window(seg);
    // A peer that answers with a closed window is alive, just not reading: the user timeout is for
    // unanswered retransmissions (RFC 9293 §3.8.6.1 MUST-37: stay open while probes are answered).
    if (snd_wnd_ == 0) last_progress_ = now;

    // Our FIN acknowledged?
    const bool fin_acked = fin_sent_ && snd_una_ == fin_seq_ + 1;
    switch (state_) {
        case TcpState::FinWait1:
            if (fin_acked) {
                set_state(TcpState::FinWait2);
                if (orphaned_) arm(Timer::TimeWait, now + config_.msl * 2);  // FIN-WAIT-2 timeout
            }
            break;
        case TcpState::Closing:
            if (fin_acked) enter_time_wait(now);
            break;
        case TcpState::LastAck:
            if (fin_acked) {
                close_with(std::nullopt);
                return false;
            }
            break;
        default: break;
    }
    return true;
}

void Connection::on_new_ack(Instant now, SeqNumber ack, const wire::TcpOptions& options) {
    const std::uint32_t newly_acked = static_cast<std::uint32_t>(ack - snd_una_);
    const SeqNumber data_acked_to = (fin_sent_ && ack > fin_seq_) ? fin_seq_ : ack;
    std::uint32_t data_acked = 0;
    if (data_acked_to > snd_buf_seq_) {
        data_acked = static_cast<std::uint32_t>(data_acked_to - snd_buf_seq_);
        snd_buf_.consume(data_acked);
        snd_buf_seq_ = data_acked_to;
    }
    snd_una_ = ack;
    if (snd_nxt_ < snd_una_) snd_nxt_ = snd_una_;

    // RTT (RFC 6298 §3 Karn / RFC 7323 §4.2 timestamps).
    Duration sample = Duration::zero();
    bool have_sample = false;
    if (ts_ok_ && options.timestamps && options.timestamps->tsecr != 0) {
        std::int32_t ms = static_cast<std::int32_t>(ts_now(now) - options.timestamps->tsecr);
        if (ms >= 0) {
            sample = Duration::millis(ms);
            have_sample = true;
        }
    } else if (rtt_timing_ && ack > rtt_seq_) {
        sample = now - rtt_sent_at_;
        have_sample = true;
        rtt_timing_ = false;
    }
    if (have_sample) rtt_.on_sample(sample);
    rtt_.reset_backoff();
    last_progress_ = now;
    persist_backoff_ = 0;

    const bool new_sack = take_sack(ack, options);
    // Loss recovery (recovery.hpp) first: it raises HighRxt to SND.UNA, ends a recovery on a full
    // ACK, and says on a partial one whether the next hole goes now (NewReno).
    switch (recovery_->on_new_ack(ack, newly_acked, smss_)) {
        case LossRecovery::AckResult::Exit: cc_->on_recovery_exit(now); break;
        case LossRecovery::AckResult::RetransmitFirst:
            retransmit_one(now, snd_una_, smss_, Rexmit::PartialAck);
            break;
        case LossRecovery::AckResult::Stay: break;
        case LossRecovery::AckResult::None:
            // RFC 7661 §4.3: cwnd grows only while validated, i.e. the flight of the round this
            // ACK closes reached at least half of it; an application-limited sender keeps its cwnd.
            if (2ull * max_flight_ >= cc_->cwnd()) {
                cc_->on_ack(now, data_acked, flight(), have_sample ? sample : Duration::zero());
            }
            // RFC 6675 §5: a cumulative ACK resets DupAcks; if it also SACKs new data it is itself
            // a duplicate ACK, and IsLost(HighACK + 1) may already hold.
            if (new_sack && snd_una_ != snd_max_) {
                recovery_->restart_dupacks_at_one();
                maybe_start_recovery(now);
            }
            break;
    }
    // RFC 6298 §5.2/§5.3.
    if (snd_una_ == snd_max_) {
        disarm(Timer::Retransmit);
    } else {
        restart_rtx(now);
    }
    if (data_acked > 0 && want_writable_ && snd_buf_.free() > 0) {
        want_writable_ = false;
        notify(kEventWritable);
    }
}

// SACK option intake (RFC 6675 Update()). Blocks that cannot be true (beyond SND.MAX: data never sent;
// wrapped or impossibly long) never reach the scoreboard and are counted. Returns whether the ACK
// SACKed data not SACKed before (RFC 6675 §2 duplicate ACK).
bool Connection::take_sack(SeqNumber snd_una, const wire::TcpOptions& options) {
    if (!sack_ok_) return false;
    const auto r = scoreboard_.on_ack(snd_una, snd_max_,
                                      std::span(options.sack_blocks.data(), options.sack_count));
    layer_.stats().sack_invalid_blocks += r.invalid;
    return r.new_info;
}

// Whether a loss detected now may start a new recovery (LossRecovery::should_enter): recover_ is
// SND.MAX when the last one (or the last RTO) began, one past the highest octet then sent (RFC 6582's
// "recover", RFC 6675's RecoveryPoint); once SND.UNA has passed it, LossRecovery::on_new_ack() keeps
// it at SND.UNA - 1 so that it never falls 2^31 behind (a modular comparison against it would flip).
//  - SACK, RFC 6675 §5 / §5.1: once HighACK (SND.UNA - 1) >= RecoveryPoint, i.e. SND.UNA >= recover_:
//    an ACK equal to the old SND.MAX qualifies; the scoreboard tells new losses from old ones.
//  - NewReno, RFC 6582 §3.2 step 2 ("careful" variant): "ack_number - 1 > recover", one byte beyond
//    the old SND.MAX; duplicate ACKs exactly at it may be caused by retransmissions the receiver
//    already had (after an RTO), and the RFC leaves those to the retransmission timer.
void Connection::on_dup_ack(Instant now) {
    // RFC 5681 §3.2 step 4: in recovery each further duplicate ACK inflates cwnd by one SMSS
    // (NewReno; with SACK, recovery_output() uses the scoreboard's pipe instead).
    if (recovery_->on_dup_ack(smss_)) maybe_start_recovery(now);
}

// RFC 5681 §3.2 steps 2-3 / RFC 6675 §5 steps (1), (2) and (4): DupThresh duplicate ACKs, or (SACK)
// IsLost(HighACK + 1), start fast retransmit and recovery.
void Connection::maybe_start_recovery(Instant now) {
    if (!recovery_->should_enter(snd_una_, smss_)) return;
    recovery_->enter(snd_una_, snd_max_, smss_);  // cwnd = ssthresh + 3*SMSS (NewReno)
    ++layer_.stats().fast_retransmits;
    if (sack_ok_) ++layer_.stats().sack_recoveries;
    cc_->on_congestion_event(now, flight());
    retransmit_one(now, snd_una_, smss_, Rexmit::Fast);
    restart_rtx(now);
}

// RFC 9293 §3.10.7.4 step 5: "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated",
// from the most recent segment only (SND.WL1/WL2). An older ACK, acceptable under RFC 5961 §5.2 but
// below SND.UNA, says nothing about the window now (a reordered or forged segment could close it).
void Connection::update_window(const wire::TcpPacket& seg) {
    if (seg.ack() < snd_una_) return;
    if (snd_wl1_ < seg.seq() || (snd_wl1_ == seg.seq() && snd_wl2_ <= seg.ack())) {
        snd_wnd_ = static_cast<std::uint32_t>(seg.window()) << snd_wscale_;
        max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
        snd_wl1_ = seg.seq();
        snd_wl2_ = seg.ack();
        if (snd_wnd_ > 0) {
            disarm(Timer::Persist);
            persist_backoff_ = 0;
        }
    }
}

void Connection::enter_time_wait(Instant now) {
    if (orphaned_) {
        // Nobody holds the handle: a compact record replaces the connection (TcpLayer keeps it,
        // capped by TcpConfig::max_time_wait). The ACK of the peer's FIN goes now, from here.
        if (ack_now_) send_ack(now);
        set_state(TcpState::TimeWait);
        arm(Timer::TimeWait, now + config_.msl * 2);
        events_.time_wait = time_wait_state(now);
        close_with(std::nullopt);
        return;
    }
    set_state(TcpState::TimeWait);
    // TIME-WAIT only answers retransmitted FINs: everything we sent is acknowledged, so the send
    // buffer is empty and goes; the receive buffer too unless the application still has to read
    // from it. (The advertised window does not shrink: advertised_window() never moves the right
    // edge back.) This keeps closed connections out of the memory budget.
    snd_buf_ = RingBuffer(0);
    if (rcv_buf_.empty()) rcv_buf_ = RingBuffer(0);
    for (auto& t : timers_) t = Instant::never();
    arm(Timer::TimeWait, now + config_.msl * 2);
    notify(kEventClosed);
}

TimeWaitState Connection::time_wait_state(Instant now) const {
    TimeWaitState tw;
    tw.local = local_;
    tw.remote = remote_;
    tw.snd_nxt = snd_nxt_;
    tw.rcv_nxt = rcv_nxt_;
    tw.ts_recent = ts_recent_;
    tw.ts_offset = ts_offset_;
    tw.ts_ok = ts_ok_;
    tw.rcv_wscale = rcv_wscale_;
    const auto deadline = timers_[static_cast<int>(Timer::TimeWait)];
    tw.deadline = deadline != Instant::never() ? deadline : now + config_.msl * 2;
    // The window last advertised: TIME-WAIT never shrinks it (RFC 9293 §3.8.6.2.2).
    const std::uint32_t wnd =
        rcv_adv_ > rcv_nxt_ ? static_cast<std::uint32_t>(rcv_adv_ - rcv_nxt_) : 0;
    tw.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(wnd >> rcv_wscale_, 65535));
    return tw;
}

void Connection::close_with(std::optional<SocketError> err) {
    error_ = err;
    set_state(TcpState::Closed);
    for (auto& t : timers_) t = Instant::never();
    notify(static_cast<std::uint8_t>(kEventClosed | (err ? kEventError : 0)));
}

// ---- user calls -------------------------------------------------------------------------------

std::size_t Connection::send(Bytes data) {
    std::size_t n = snd_buf_.write(data);
    if (n < data.size()) want_writable_ = true;
    if (n > 0) events_.output = true;
    return n;
}

std::size_t Connection::recv(MutBytes out) {
    std::size_t n = rcv_buf_.read(out);
    if (n > 0) urg_.on_read(read_seq());
    if (n > 0 && is_synchronized(state_)) {
        if (window_update_due()) {  // the reopened window is worth announcing (RFC 9293 §3.8.6.2.2)
            ack_now_ = true;
            events_.output = true;
        }
    }
    return n;
}

void Connection::shutdown_send() {
    if (fin_queued_) return;
    switch (state_) {
        case TcpState::SynSent: close_with(std::nullopt); return;
        case TcpState::SynReceived:
        case TcpState::Established: set_state(TcpState::FinWait1); break;
        case TcpState::CloseWait: set_state(TcpState::LastAck); break;
        default: return;
    }
    fin_queued_ = true;
    events_.output = true;
}

void Connection::abort(Instant now) {
    if (state_ != TcpState::Closed && state_ != TcpState::SynSent && state_ != TcpState::TimeWait) {
        send_rst(now, rst_seq());  // RFC 9293 §3.10.5: <SEQ=SND.NXT><CTL=RST>, see rst_seq()
    }
    close_with(SocketError::Aborted);
}

void Connection::set_keepalive(Instant now, bool on) {
    keepalive_ = on;
    keepalive_sent_ = 0;
    if (on && is_synchronized(state_)) {
        arm(Timer::Keepalive, now + config_.keepalive_idle);
    } else {
        disarm(Timer::Keepalive);
    }
}

ConnectionInfo Connection::info() const {
    ConnectionInfo i;
    i.local = local_;
    i.remote = remote_;
    i.state = state_;
    i.send_queue = snd_buf_.size();
    i.recv_queue = rcv_buf_.size();
    i.cwnd = cc_->cwnd();
    i.ssthresh = cc_->ssthresh();
    i.snd_wnd = snd_wnd_;
    i.rcv_wnd = rcv_adv_ > rcv_nxt_ ? static_cast<std::uint32_t>(rcv_adv_ - rcv_nxt_) : 0;
    i.smss = smss_;
    i.srtt = rtt_.srtt();
    i.rttvar = rtt_.rttvar();
    i.rto = rtt_.rto();
    i.retransmits = retransmits_;
    i.sack = sack_ok_;
    i.timestamps = ts_ok_;
    i.window_scaling = ws_ok_;
    i.snd_wscale = snd_wscale_;
    i.rcv_wscale = rcv_wscale_;
    i.urgent_pending = urg_.pending(read_seq());
    i.urgent_remaining = urg_.remaining(read_seq());
    return i;
}

}  // namespace stack::tcp
