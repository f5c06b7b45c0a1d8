// Connection: segment output. Building and emitting segments (send_segment: options, SACK blocks,
// checksum, TSO hand-off), pure ACKs, challenge ACKs and RSTs, retransmission of one segment, and
// the output path (output → send_new_data / recovery_output) that asks the sender rules
// (sender.hpp: Nagle, SWS avoidance, usable window, TSO length) how much each segment may carry.
// The timers (RTO, persist, keepalive, delayed ACK, TIME-WAIT) are in connection_timers.cpp.
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
    // A super-segment (more than one MSS: only with TSO, see tso_length() in sender.hpp) leaves the
    // device the checksums of its segments; with a partial checksum the field holds only the
    // pseudo-header sum over the super-segment's length (virtio NEEDS_CSUM, as Linux's TSO does).
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

// The inputs of the sender rules (sender.hpp) for a segment of new data at SND.NXT.
SenderView Connection::sender_view() const {
    SenderView v;
    v.smss = smss_;
    v.flight = flight();
    v.max_snd_wnd = max_snd_wnd_;
    v.max_tso = max_tso_payload(layer_.tso_max_size(), static_cast<std::uint32_t>(layer_.mtu()),
                                smss_, ts_ok_);
    v.nodelay = nodelay_;
    v.fin_queued = fin_queued_;
    v.retransmitting = snd_nxt_ < snd_max_;
    return v;
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
    // Nagle, sender SWS avoidance and the TSO length: sender.hpp.
    const std::uint32_t len = next_segment_length(sender_view(), avail, usable, override_sws);
    if (len == 0) return SendResult::Idle;
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

// The usable window (sender.hpp): the peer's window and cwnd - flight.
std::uint32_t Connection::send_window_room() const {
    return window_room(snd_una_, snd_wnd_, snd_nxt_, cc_->cwnd());
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
        switch (send_new_data(now, std::min(peer_room(snd_una_, snd_wnd_, snd_nxt_), smss_))) {
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

}  // namespace stack::tcp
