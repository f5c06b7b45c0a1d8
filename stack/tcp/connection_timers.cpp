// Connection: the timers (Connection member functions; the deadlines live in timers_, and the
// TcpLayer keeps the earliest in its timer wheel through next_deadline()).
//
// - Retransmission (RFC 6298): armed whenever data is outstanding (§5.1), restarted on new ACKs
//   (§5.3), the RTO backed off on expiry (§5.5) with go-back-N from SND.UNA, the loss window and no
//   fast retransmit for earlier losses (RFC 5681 §3.1, RFC 6582 §4); it never runs past the user
//   timeout (RFC 9293 §3.8.3 R2, RFC 5482), which aborts with RST. SYN/SYN-ACK retransmission is
//   bounded by TcpConfig::syn_retries.
// - Persist (RFC 9293 §3.8.6.1, MUST-36): zero-window probes of one new byte with exponential
//   backoff (RFC 1122 §4.2.2.17), the window may stay closed as long as the peer answers; with a
//   non-zero window too small for SWS avoidance the same timer is the override timeout (RFC 9293
//   §3.8.6.2.1). Orphans in a closing state get a bounded number of probes.
// - Keepalive (RFC 1122 §4.2.3.6): probes SEG.SEQ = SND.NXT-1 only after the idle interval with
//   nothing received, at most keepalive_probes unanswered, then RST.
// - Delayed ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2): when it fires the owed ACK is sent now.
// - TIME-WAIT (RFC 9293 §3.6.1): 2*MSL, then CLOSED.
#include <algorithm>

#include "stack/tcp/connection.hpp"

namespace stack::tcp {

using wire::TcpFlag;
using wire::TcpFlags;

void Connection::arm(Timer t, Instant at) { timers_[static_cast<int>(t)] = at; }
void Connection::disarm(Timer t) { timers_[static_cast<int>(t)] = Instant::never(); }

// RFC 6298 §5.1/§5.3. The timer never runs past the user timeout (RFC 9293 §3.8.3 R2, RFC 5482):
// the connection is aborted when it expires, not up to one (backed-off, up to 60 s) RTO later.
void Connection::restart_rtx(Instant now) {
    Instant at = now + rtt_.rto();
    if (is_synchronized(state_)) at = std::min(at, last_progress_ + config_.user_timeout);
    arm(Timer::Retransmit, at);
}

// Starts the retransmission timer when nothing was outstanding: the user timeout counts from here,
// not from the last progress before an idle period.
void Connection::start_rtx(Instant now) {
    last_progress_ = now;
    restart_rtx(now);
}

// The persist timer's interval: the RTO doubled per unanswered probe, at most max_rto (RFC 1122
// §4.2.2.17: exponential backoff).
Duration Connection::persist_interval() const {
    Duration d = rtt_.rto();
    const Duration max = rtt_.config().max_rto;
    for (unsigned i = 0; i < persist_backoff_ && d < max; ++i) d = d * 2;
    return std::min(d, max);
}

Instant Connection::next_deadline() const {
    return *std::min_element(timers_.begin(), timers_.end());
}

void Connection::on_timer(Instant now) {
    for (int i = 0; i < static_cast<int>(Timer::Count); ++i) {
        if (timers_[i] > now) continue;
        timers_[i] = Instant::never();
        switch (static_cast<Timer>(i)) {
            case Timer::Retransmit: on_rto(now); break;
            case Timer::DelayedAck: ack_now_ = true; break;
            case Timer::Persist: on_persist(now); break;
            case Timer::Keepalive: on_keepalive(now); break;
            case Timer::TimeWait: close_with(std::nullopt); return;
            case Timer::Count: break;
        }
        if (state_ == TcpState::Closed) return;
    }
    output(now);
}

void Connection::on_rto(Instant now) {
    ++layer_.stats().rto;
    rtt_.backoff();
    rtt_timing_ = false;
    if (state_ == TcpState::SynSent || state_ == TcpState::SynReceived) {
        if (++syn_retries_ > config_.syn_retries) {
            ++layer_.stats().timeouts;
            close_with(SocketError::TimedOut);
            return;
        }
        send_segment(
            now, iss_, 0,
            state_ == TcpState::SynSent ? TcpFlags(TcpFlag::Syn) : TcpFlag::Syn | TcpFlag::Ack);
        count_retransmit(Rexmit::Syn);
        restart_rtx(now);
        return;
    }
    if (snd_una_ == snd_max_) return;  // nothing outstanding
    // RFC 9293 §3.8.3 R2: give up when retransmissions go unanswered for the user timeout.
    if (now - last_progress_ >= config_.user_timeout) {
        ++layer_.stats().timeouts;
        send_rst(now, rst_seq());
        close_with(SocketError::TimedOut);
        return;
    }
    // RFC 5681 §3.1 / RFC 6582 §4: loss window, go back to SND.UNA, no fast retransmit for losses
    // from before this point.
    if (rtt_.backoffs() <= 1) cc_->on_rto(now, flight());  // RFC 5681 §3.1: only the first timeout
    recovery_->on_rto(snd_una_, snd_max_);
    scoreboard_.reset();
    snd_nxt_ = snd_una_;
    retransmit_one(now, snd_una_, smss_, Rexmit::Rto);
    restart_rtx(now);
}

void Connection::on_persist(Instant now) {
    if (unsent_data() == 0) return;
    if (snd_wnd_ != 0) {
        // SWS override: send what the window allows now rather than wait for a bigger window.
        if (flight() == 0) send_new_data(now, send_window_room(), /*override_sws=*/true);
        return;
    }
    // The peer stays silent (not even answering probes) for the user timeout: give up. As long as it
    // answers, the window may stay closed indefinitely (RFC 9293 §3.8.6.1 MUST-37, MAY-8).
    if (now - last_received_ >= config_.user_timeout) {
        ++layer_.stats().timeouts;
        send_rst(now, rst_seq());
        close_with(SocketError::TimedOut);
        return;
    }
    // An orphan (nobody will ever read or write it again) in a closing state gets a bounded number
    // of probes, answered or not (Linux tcp_orphan_retries): a peer that keeps its window shut must
    // not hold it forever. The RST carries SND.UNA + SND.WND (with a zero window the peer accepts a
    // RST only at its RCV.NXT, RFC 9293 §3.10.7.4), never beyond SND.MAX.
    if (orphaned_ && persist_backoff_ >= config_.orphan_retries &&
        (state_ == TcpState::FinWait1 || state_ == TcpState::Closing ||
         state_ == TcpState::LastAck)) {
        ++layer_.stats().orphan_probe_aborts;
        send_rst(now, wire::seq_min(snd_una_ + snd_wnd_, snd_max_));
        close_with(SocketError::TimedOut);
        return;
    }
    // Probe with one byte of new data beyond the closed window (RFC 9293 §3.8.6.1). SND.NXT stays
    // put: the byte goes out again as ordinary data once the window opens, and probes are timed by
    // the persist timer with its own backoff, not by the retransmission timer (a closed window is not
    // congestion: no RTO, no cwnd collapse, no user timeout while the peer answers). SND.MAX covers
    // the byte so that an ACK taking it is acceptable.
    ++layer_.stats().window_probes;
    send_segment(now, snd_nxt_, 1, TcpFlag::Ack);
    snd_max_ = wire::seq_max(snd_max_, snd_nxt_ + 1);
    ++persist_backoff_;
    arm(Timer::Persist, now + persist_interval());
}

void Connection::on_keepalive(Instant now) {
    if (!keepalive_ || !is_synchronized(state_)) return;
    // RFC 1122 §4.2.3.6: probes MUST only be sent when nothing was received for the idle interval.
    // Any segment received (traffic, or the answer to a probe) clears keepalive_sent_ and restarts
    // the idle period from last_received_.
    if (keepalive_sent_ == 0 && now - last_received_ < config_.keepalive_idle) {
        arm(Timer::Keepalive, last_received_ + config_.keepalive_idle);
        return;
    }
    if (keepalive_sent_ >= config_.keepalive_probes) {
        ++layer_.stats().timeouts;
        send_rst(now, rst_seq());
        close_with(SocketError::TimedOut);
        return;
    }
    // RFC 1122 §4.2.3.6: a segment with SEG.SEQ = SND.NXT-1 elicits an ACK from a live peer.
    ++keepalive_sent_;
    ++layer_.stats().keepalive_probes;
    send_segment(now, snd_nxt_ - 1, 0, TcpFlag::Ack);
    arm(Timer::Keepalive, now + config_.keepalive_interval);
}

}  // namespace stack::tcp
