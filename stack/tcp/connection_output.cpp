// Connection: output (data, FIN, ACKs, retransmissions, recovery) and timers.
#include <algorithm>

#include "stack/base/checksum.hpp"
#include "stack/tcp/connection.hpp"
#include "stack/wire/ipv4.hpp"

namespace stack::tcp {

using wire::SeqNumber;
using wire::TcpFlag;
using wire::TcpFlags;

std::uint32_t Connection::ts_now(Instant now) const {
    return static_cast<std::uint32_t>(now.as_millis()) + ts_offset_;
}

SeqNumber Connection::data_end() const {
    return snd_buf_seq_ + static_cast<std::uint32_t>(snd_buf_.size());
}

std::uint32_t Connection::unsent_data() const {
    const SeqNumber end = data_end();
    return end > snd_nxt_ ? static_cast<std::uint32_t>(end - snd_nxt_) : 0;
}

bool Connection::send_segment(Instant now, SeqNumber seq, std::uint32_t len, TcpFlags flags) {
    wire::TcpRepr r;
    r.src_port = local_.port;
    r.dst_port = remote_.port;
    r.seq = seq;
    r.flags = flags;
    if (flags.ack()) r.ack = rcv_nxt_;
    if (flags.syn()) {
        // RFC 7323 §2.2: the window in a SYN/SYN-ACK is not scaled.
        std::uint32_t wnd =
            static_cast<std::uint32_t>(std::min<std::size_t>(syn_receive_space(), 65535));
        r.window = static_cast<std::uint16_t>(wnd);
        if (flags.ack()) rcv_adv_ = rcv_nxt_ + wnd;
        const bool answering = flags.ack();  // SYN-ACK: echo only what the peer offered
        r.options.mss = our_mss_;
        if (config_.window_scaling && (!answering || ws_ok_)) r.options.window_scale = rcv_wscale_;
        if (config_.sack && (!answering || sack_ok_)) r.options.sack_permitted = true;
        if (config_.timestamps && (!answering || ts_ok_)) {
            r.options.timestamps = wire::TcpTimestamps{ts_now(now), answering ? ts_recent_ : 0};
        }
    } else if (!flags.rst()) {
        r.window = static_cast<std::uint16_t>(advertised_window());
        if (ts_ok_) r.options.timestamps = wire::TcpTimestamps{ts_now(now), ts_recent_};
        if (sack_ok_ && !ooo_.empty()) {
            // RFC 2018 §4: the first block holds the most recent out-of-order segment, then the
            // other most recently reported ones (Assembler::sack_blocks). Blocks made in-order since
            // (a gap fill) are no longer held beyond RCV.NXT and are not reported.
            std::array<Assembler::Range, 4> blocks{};
            const std::size_t n = ooo_.sack_blocks(std::span(blocks.data(), ts_ok_ ? 3 : 4));
            for (std::size_t i = 0; i < n; ++i) {
                r.options.sack_blocks[i] = {blocks[i].begin, blocks[i].end};
            }
            r.options.sack_count = static_cast<std::uint8_t>(n);
            // The segment must fit the MTU (DF is set): a full-sized data segment has no room left
            // for SACK blocks, so it carries only those that fit, the most recent first (RFC 2018
            // §3 allows fewer); pure ACKs carry them all.
            // A super-segment (TSO) repeats its header in every segment of smss_ bytes.
            const std::size_t room = layer_.mtu() - wire::kIpv4MinHeaderLen - std::min(len, smss_);
            while (r.options.sack_count > 0 && r.header_len() > room) --r.options.sack_count;
        }
    }
    // Header first (checksummed over the header alone), then fix the checksum to cover the payload,
    // which is copied once, from the send ring straight into the outbound frame.
    std::uint8_t header[wire::kTcpMaxHeaderLen];
    r.payload_len = 0;
    const std::size_t hlen = r.header_len();
    r.emit(MutBytes(header, hlen), local_.addr, remote_.addr, Bytes());
    auto [p1, p2] = len > 0 ? snd_buf_.readable(static_cast<std::size_t>(seq - snd_buf_seq_), len)
                            : std::pair<Bytes, Bytes>{};
    STACK_ASSERT(p1.size() + p2.size() == len);
    store_be16(header + 16, 0);
    std::uint32_t sum = checksum::pseudo_header_v4(local_.addr.value, remote_.addr.value, 6,
                                                   static_cast<std::uint16_t>(hlen + len));
    // A super-segment (more than one MSS: only with TSO, see tso_length()) leaves the device the
    // checksums of its segments; with a partial checksum the field holds only the pseudo-header sum
    // over the super-segment's length (virtio NEEDS_CSUM, as Linux's own TSO output does).
    const bool tso = len > smss_;
    const bool partial = tso && layer_.tso_partial_checksum();
    if (partial) {
        store_be16(header + 16, checksum::fold(sum));
    } else {
        sum = checksum::combine(sum, checksum::partial(Bytes(header, hlen)), 0);
        sum = checksum::combine(sum, checksum::partial(p1), hlen);
        sum = checksum::combine(sum, checksum::partial(p2), hlen + p1.size());
        store_be16(header + 16, checksum::finish(sum));
    }
    const bool emitted = tso ? layer_.emit_gso(*this, Bytes(header, hlen), p1, p2, smss_, partial)
                             : layer_.emit(*this, Bytes(header, hlen), p1, p2);
    if (!emitted) return false;
    if (flags.ack()) {
        last_ack_sent_ = rcv_nxt_;
        ack_now_ = false;
        unacked_segments_ = 0;
        disarm(Timer::DelayedAck);
    }
    return true;
}

bool Connection::send_ack(Instant now) {
    if (state_ == TcpState::SynReceived) {
        return send_segment(now, iss_, 0, TcpFlag::Syn | TcpFlag::Ack);
    }
    return send_segment(now, pure_ack_seq(), 0, TcpFlag::Ack);
}

// RFC 9293 §3.10.7.4 sends <SEQ=SND.NXT>, but after a retransmission timeout SND.NXT is rewound to
// SND.UNA (go-back-N, on_rto) while the peer may already hold bytes up to SND.MAX (only its ACKs
// were lost). An ACK at the rewound SND.NXT is then left of the peer's window, fails its
// acceptability test and is dropped unread; when both ends are retransmitting, neither ever sees the
// other's ACK and the connection stalls until the user timeout. So a segment without data, SYN or FIN
// carries the first octet never sent, SND.MAX (as 4.4BSD's tcp_output does), but never beyond the
// right edge of the peer's window (SND.UNA + SND.WND: a zero-window probe puts SND.MAX one byte past
// it, Linux's tcp_acceptable_seq makes the same bound), and never below SND.NXT.
SeqNumber Connection::pure_ack_seq() const {
    return wire::seq_max(snd_nxt_, wire::seq_min(snd_max_, snd_una_ + snd_wnd_));
}

// RFC 5961 §7: challenge ACKs are limited per connection first (so that one connection flooded with
// spoofed segments spends none of the others' share), then by the layer's randomised global budget.
void Connection::send_challenge_ack(Instant now) {
    if (!invalid_ack_allowed(now)) {
        ++layer_.stats().challenge_limited_conn;
        return;
    }
    if (!layer_.challenge_ack_allowed(now)) {
        ++layer_.stats().challenge_limited_global;
        return;
    }
    ++layer_.stats().challenge_acks;
    send_ack(now);
}

// At most one ACK per TcpConfig::invalid_ack_interval for segments that failed a check (Linux
// tcp_oow_rate_limited): two ends that each find the other's segments unacceptable would otherwise ACK
// each other in a loop, and a flood of spoofed segments would be answered one for one.
bool Connection::invalid_ack_allowed(Instant now) {
    if (invalid_acked_ && now - last_invalid_ack_ < config_.invalid_ack_interval) return false;
    invalid_acked_ = true;
    last_invalid_ack_ = now;
    return true;
}

// The ACK owed for a segment that failed the sequence test or PAWS (RFC 9293 §3.10.7.4 step 1, RFC
// 7323 §5.3 R1), rate-limited per connection. A segment occupying sequence space (data or FIN, without
// SYN) is always answered, as in Linux: it is typically a retransmission of something we already hold
// because our ACK was lost, and the peer needs that ACK to make progress.
void Connection::ack_invalid_segment(Instant now, const wire::TcpPacket& seg) {
    if ((seg.segment_len() == 0 || seg.flags().syn()) && !invalid_ack_allowed(now)) {
        ++layer_.stats().invalid_acks_limited;
        return;
    }
    ack_now_ = true;
}

// The sequence number of an RST we originate (abort, user timeout, keepalive and persist timeouts).
// RFC 9293 §3.10.5 says SND.NXT, but after a retransmission timeout SND.NXT is back at SND.UNA while
// the peer may hold everything up to SND.MAX (only its ACKs were lost): an RST at SND.NXT would then
// fall left of its window and be ignored. SND.MAX is in the window, except after a zero-window probe
// sent a byte past it: then the window's right edge SND.UNA + SND.WND (as Linux tcp_acceptable_seq),
// but never below SND.NXT (RFC 9293's choice; e.g. a SYN-RECEIVED peer with a zero window expects
// ISS+1).
SeqNumber Connection::rst_seq() const {
    const SeqNumber right = snd_una_ + snd_wnd_;
    return snd_max_ <= right ? snd_max_ : wire::seq_max(right, snd_nxt_);
}

void Connection::send_rst(Instant now, SeqNumber seq) {
    if (send_segment(now, seq, 0, TcpFlag::Rst)) ++layer_.stats().tx_resets;
}

void Connection::count_retransmit(Rexmit cause) {
    ++retransmits_;
    TcpStats& st = layer_.stats();
    ++st.retransmits;
    switch (cause) {
        case Rexmit::Rto: ++st.retransmit_rto; break;
        case Rexmit::Fast: ++st.retransmit_fast; break;
        case Rexmit::Sack: ++st.retransmit_sack; break;
        case Rexmit::PartialAck: ++st.retransmit_partial_ack; break;
        case Rexmit::Syn: ++st.retransmit_syn; break;
    }
}

bool Connection::retransmit_one(Instant now, SeqNumber seq, std::uint32_t max_len, Rexmit cause) {
    const SeqNumber end = data_end();
    std::uint32_t len = seq < end ? std::min<std::uint32_t>(static_cast<std::uint32_t>(end - seq),
                                                            std::min(max_len, smss_))
                                  : 0;
    TcpFlags flags = TcpFlag::Ack;
    const bool with_fin = fin_sent_ && seq + len == fin_seq_;
    if (with_fin) flags |= TcpFlag::Fin;
    if (len == 0 && !with_fin) return true;
    if (!send_segment(now, seq, len, flags)) return false;
    count_retransmit(cause);
    if (rtt_timing_ && seq <= rtt_seq_) {
        rtt_timing_ = false;  // Karn: no sample from a retransmission
    }
    if (len > 0) last_data_sent_ = now;
    const SeqNumber sent_end = seq + len + (with_fin ? 1u : 0u);
    recovery_->retransmitted_to(sent_end);
    if (snd_nxt_ < sent_end) snd_nxt_ = sent_end;
    // A retransmission may carry bytes never sent before (the original segment was short and more
    // data was queued since: RFC 9293 §3.8.1 allows repacketizing). SND.MAX covers them, or the
    // peer's ACK of them would be taken for an ACK of unsent data and dropped (on_ack).
    snd_max_ = wire::seq_max(snd_max_, snd_nxt_);
    return true;
}

// The most payload one super-segment may carry: whole MSS-sized segments within the device's TSO
// limit, leaving room for the IPv4 header and the largest TCP header. 0 without TSO, and 0 when even
// one segment with its headers (timestamps included; SACK blocks are trimmed to fit) exceeds the MTU,
// as it can with a tiny MTU and the minimum SMSS: the device could not cut such a super-packet into
// segments that fit.
std::uint32_t Connection::max_tso_payload() const {
    const std::uint32_t max = layer_.tso_max_size();
    if (max == 0) return 0;
    const std::uint32_t headers = static_cast<std::uint32_t>(
        wire::kIpv4MinHeaderLen + wire::kTcpMinHeaderLen + (ts_ok_ ? kTimestampOptionLen : 0));
    if (headers + smss_ > layer_.mtu()) return 0;
    const std::uint32_t room =
        max - static_cast<std::uint32_t>(wire::kIpv4MinHeaderLen + wire::kTcpMaxHeaderLen);
    return room / smss_ * smss_;
}

// TSO: how far a full-sized segment of new data at SND.NXT may grow, given `avail` unsent bytes and
// `usable` bytes of window room (the smaller of the peer's window and cwnd, so a super-segment never
// exceeds either). It takes as many whole MSS-sized segments as fit, up to max_tso_payload(), plus the
// short tail the per-segment path would send right after them: with those segments in flight, Nagle
// and sender SWS avoidance allow it only if it is all we have and no-delay is set or a FIN is queued,
// or if it is at least half the peer's largest window. So the bytes and segment boundaries on the wire
// are those the per-segment path would send; only the number of packets handed to the device differs.
// Retransmissions (go-back-N after an RTO, below SND.MAX) stay one MSS each.
std::uint32_t Connection::tso_length(std::uint32_t avail, std::uint32_t usable) const {
    const std::uint32_t max = max_tso_payload();
    if (max <= smss_ || snd_nxt_ < snd_max_) return smss_;
    const std::uint32_t room = std::min({avail, usable, max});
    const std::uint32_t full = room / smss_ * smss_;
    const std::uint32_t tail = room - full;
    if (tail > 0) {
        const bool all = room == avail;
        const bool push_ok = all && (nodelay_ || fin_queued_);
        const bool half_window = max_snd_wnd_ > 0 && tail >= max_snd_wnd_ / 2;
        if (push_ok || half_window) return room;
    }
    return full;
}

// Sends one segment of new data if the windows and Nagle allow it (with TSO, a super-segment of
// several). Returns Sent, Idle, or Blocked.
Connection::SendResult Connection::send_new_data(Instant now, std::uint32_t usable,
                                                 bool override_sws) {
    const std::uint32_t avail = unsent_data();
    if (avail == 0) return SendResult::Idle;
    // RFC 5681 §4.1: after more than an RTO without sending data (nothing in flight), restart from
    // RW = min(IW, cwnd) rather than burst a window whose ACK clock is gone.
    if (flight() == 0 && snd_nxt_ == snd_max_ && now - last_data_sent_ > rtt_.rto()) {
        const std::uint32_t before = cc_->cwnd();
        cc_->on_idle_restart(now);
        if (cc_->cwnd() < before) {
            ++layer_.stats().idle_restarts;
            usable = std::min(usable, send_window_room());
        }
    }
    std::uint32_t len = std::min({avail, smss_, usable});
    if (len == 0) return SendResult::Idle;
    if (len < smss_ && !override_sws) {
        // Sender SWS avoidance and Nagle (RFC 9293 §3.8.6.2.1, §3.7.4): a short segment only if it
        // is everything we have and nothing is outstanding (or no-delay), or if it is at least half of
        // the largest window the peer offered.
        const bool all = len == avail;
        const bool push_ok = all && (nodelay_ || flight() == 0 || fin_queued_);
        const bool half_window = max_snd_wnd_ > 0 && len >= max_snd_wnd_ / 2;
        if (!push_ok && !half_window) return SendResult::Idle;
    } else if (len == smss_) {
        len = tso_length(avail, usable);
    }
    const bool fin = fin_queued_ && len == avail;
    TcpFlags flags = TcpFlag::Ack;
    if (len == avail) flags |= TcpFlag::Psh;
    if (fin) flags |= TcpFlag::Fin;
    if (!send_segment(now, snd_nxt_, len, flags)) return SendResult::Blocked;
    const bool is_rexmit = snd_nxt_ < snd_max_;
    if (is_rexmit) {
        count_retransmit(Rexmit::Rto);  // go-back-N from SND.UNA after a timeout (on_rto)
    } else if (!rtt_timing_ && !ts_ok_) {
        rtt_timing_ = true;
        rtt_seq_ = snd_nxt_;
        rtt_sent_at_ = now;
    }
    snd_nxt_ += len;
    if (fin) {
        fin_sent_ = true;
        fin_seq_ = snd_nxt_;
        snd_nxt_ += 1;
    }
    snd_max_ = wire::seq_max(snd_max_, snd_nxt_);
    last_data_sent_ = now;
    // RFC 7661 cwnd validation: the largest flight per round (a round ends when SND.UNA passes the
    // SND.NXT at which it began), as Linux's tcp_cwnd_validate() keeps it.
    if (!flight_round_open_ || snd_una_ >= flight_round_end_ || flight() > max_flight_) {
        max_flight_ = flight();
        flight_round_end_ = snd_nxt_;
        flight_round_open_ = true;
    }
    if (!armed(Timer::Retransmit)) start_rtx(now);
    return SendResult::Sent;
}

std::uint32_t Connection::send_window_room() const {
    // Bounded by the peer's window (from SND.UNA) and by the congestion window (in flight).
    const SeqNumber right = snd_una_ + snd_wnd_;
    const std::uint32_t by_peer =
        right > snd_nxt_ ? static_cast<std::uint32_t>(right - snd_nxt_) : 0;
    const std::uint32_t cwnd = cc_->cwnd();
    const std::uint32_t by_cc = cwnd > flight() ? cwnd - flight() : 0;
    return std::min(by_peer, by_cc);
}

// RFC 6675 §5 (C) with SACK; RFC 6582 with NewReno, where cwnd stays at ssthresh and the RFC's
// window inflation (one SMSS per duplicate ACK, deflation on partial ACKs) is subtracted from the
// flight instead: cwnd - pipe is then the RFC's inflated cwnd - FlightSize. The pipe and what to send
// next come from the strategy (recovery.hpp): SetPipe() and NextSeg() with SACK, new data without.
bool Connection::recovery_output(Instant now) {
    for (int guard = 0; guard < 1000; ++guard) {
        const std::uint32_t pipe = recovery_->pipe(flight(), snd_una_, snd_nxt_, smss_);
        const std::uint32_t cwnd = cc_->cwnd();
        if (pipe + smss_ > cwnd) return true;
        const auto next = recovery_->next_seg(snd_una_, snd_nxt_, smss_, unsent_data() > 0);
        if (next.action == LossRecovery::NextSeg::Action::Retransmit) {
            const std::uint32_t len = std::min<std::uint32_t>(
                static_cast<std::uint32_t>(next.range.end - next.range.begin), smss_);
            if (!retransmit_one(now, next.range.begin, len, Rexmit::Sack)) return false;
            continue;
        }
        if (next.action == LossRecovery::NextSeg::Action::Nothing) return true;
        const SeqNumber right = snd_una_ + snd_wnd_;
        const std::uint32_t by_peer =
            right > snd_nxt_ ? static_cast<std::uint32_t>(right - snd_nxt_) : 0;
        switch (send_new_data(now, std::min(by_peer, smss_))) {
            case SendResult::Sent: continue;
            case SendResult::Blocked: return false;
            case SendResult::Idle: return true;
        }
    }
    return true;
}

bool Connection::output(Instant now) {
    if (state_ == TcpState::Closed || state_ == TcpState::Listen) return true;
    if (state_ == TcpState::SynSent || state_ == TcpState::SynReceived) {
        return ack_now_ ? send_ack(now) : true;
    }
    bool ok = true;
    if (state_ != TcpState::TimeWait) {
        if (recovery_->in_recovery()) {
            ok = recovery_output(now);
        } else {
            for (int guard = 0; guard < 4096; ++guard) {
                auto r = send_new_data(now, send_window_room());
                if (r == SendResult::Blocked) ok = false;
                if (r != SendResult::Sent) break;
            }
        }
        // A FIN with no data left to carry it.
        if (ok && fin_queued_ && snd_nxt_ == data_end() && (!fin_sent_ || snd_nxt_ == fin_seq_)) {
            if (send_segment(now, snd_nxt_, 0, TcpFlag::Ack | TcpFlag::Fin)) {
                fin_sent_ = true;
                fin_seq_ = snd_nxt_;
                snd_nxt_ += 1;
                snd_max_ = wire::seq_max(snd_max_, snd_nxt_);
                if (!armed(Timer::Retransmit)) start_rtx(now);
            } else {
                ok = false;
            }
        }
        // Data waiting and nothing in flight, so no ACK will come to restart sending: with a zero
        // window, probe (RFC 9293 §3.8.6.1); with a window too small for SWS avoidance, the same
        // timer is the override timeout of RFC 9293 §3.8.6.2.1.
        if (unsent_data() > 0 && flight() == 0 && !armed(Timer::Persist) &&
            !armed(Timer::Retransmit)) {
            arm(Timer::Persist, now + rtt_.rto());
        }
        // RFC 6298 §5.1: whenever data is outstanding the retransmission timer runs (e.g. a probe
        // byte the peer did not take when its window reopened).
        if (flight() > 0 && !armed(Timer::Retransmit) && !armed(Timer::Persist)) start_rtx(now);
    }
    if (ok && ack_now_) ok = send_ack(now);
    return ok;
}

// ---- timers -----------------------------------------------------------------------------------

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
    // answers, the window may stay closed indefinitely (RFC 9293 §3.8.6.1 MUST-36).
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
