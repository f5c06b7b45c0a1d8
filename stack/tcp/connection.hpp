// Connection: one TCP connection's control block (TCB) and the protocol logic that drives it.
//
// Input follows RFC 9293 §3.10.7 "SEGMENT ARRIVES" step by step (on_segment → handshake states,
// then the numbered checks for synchronized states), with RFC 5961 (blind reset/SYN/data injection),
// RFC 7323 (window scale, timestamps, PAWS) and RFC 2018 (SACK) folded in where the RFCs place them;
// the urgent pointer (step 6) is tracked by an UrgentPointer (urgent.hpp), urgent data read in line.
// Output (output(), connection_output.cpp) sends whatever the windows, Nagle and SWS avoidance allow
// (how much each segment may carry: sender.hpp), then a pure ACK if one is owed. Timers
// (connection_timers.cpp) are plain deadlines in the TCB; the TcpLayer keeps the earliest one in its
// timer wheel.
//
// Files: connection.cpp (construction, on_segment's step dispatch, the ACK's meaning for the sender,
// closing, user calls), connection_handshake.cpp (active/passive/cookie open, negotiation, the one
// complete_handshake), connection_receive.cpp (PAWS and TS.Recent, text, FIN, the advertised window,
// the ACK policy; its pure rules in receiver.hpp), connection_output.cpp (output, timers).
//
// Its surroundings are a ConnectionEnv (connection_env.hpp: output, challenge-ACK budget, path facts,
// config, counters); what happens to it is collected in ConnectionEvents and taken by the owner with
// take_events() after each call (TcpLayer::settle), which also reads state(), next_deadline() and
// buffer_bytes() to keep the timer wheel, the state gauges and the memory budget current.
//
// Buffers: send data lives in snd_buf_ from snd_buf_seq_ (= the first unacknowledged data byte) until
// acknowledged; received data is committed to rcv_buf_ in order, out-of-order data is written in place
// ahead of the readable region (RingBuffer::write_at) and tracked in ooo_ (an Assembler, its ranges
// bounded in proportion to the receive buffer), so every payload byte is copied exactly once into the
// ring and once out of it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "stack/base/ring_buffer.hpp"
#include "stack/base/time.hpp"
#include "stack/socket/socket.hpp"
#include "stack/tcp/assembler.hpp"
#include "stack/tcp/config.hpp"
#include "stack/tcp/congestion.hpp"
#include "stack/tcp/connection_env.hpp"
#include "stack/tcp/receiver.hpp"
#include "stack/tcp/recovery.hpp"
#include "stack/tcp/rtt.hpp"
#include "stack/tcp/sack_scoreboard.hpp"
#include "stack/tcp/sender.hpp"
#include "stack/tcp/state.hpp"
#include "stack/tcp/urgent.hpp"
#include "stack/wire/address.hpp"
#include "stack/wire/seq.hpp"
#include "stack/wire/tcp.hpp"

namespace stack::tcp {

struct Endpoint {
    wire::Ipv4Address addr;
    std::uint16_t port = 0;
    bool operator==(const Endpoint&) const = default;
};

// A snapshot for tools (`tunstack conns`) and tests.
struct ConnectionInfo {
    Endpoint local, remote;
    TcpState state = TcpState::Closed;
    std::size_t send_queue = 0;  // bytes not yet acknowledged (incl. unsent)
    std::size_t recv_queue = 0;  // bytes readable
    std::uint32_t cwnd = 0, ssthresh = 0, snd_wnd = 0, rcv_wnd = 0;
    std::uint32_t smss = 0;
    Duration srtt, rttvar, rto;
    std::uint64_t retransmits = 0;
    bool sack = false, timestamps = false, window_scaling = false;
    std::uint8_t snd_wscale = 0, rcv_wscale = 0;
    // Receive urgent pointer (RFC 9293 §3.8.5, urgent.hpp): urgent data not yet read, and how many
    // bytes lie between the read point and RCV.UP (the octet after the urgent data; the urgent bytes
    // themselves are read in line with the rest of the stream).
    bool urgent_pending = false;
    std::uint32_t urgent_remaining = 0;
};

// What TIME-WAIT needs of a finished connection (RFC 9293 §3.6.1): the TcpLayer keeps this compact
// record, without buffers or a socket slot, instead of the Connection (issue 8: cheap TIME-WAIT).
struct TimeWaitState {
    Endpoint local, remote;
    wire::SeqNumber snd_nxt, rcv_nxt;
    std::uint32_t ts_recent = 0;  // RFC 7323: the peer's last TSval (PAWS, RFC 6191)
    std::uint32_t ts_offset = 0;  // our TSval clock (IsnGenerator::ts_offset)
    Instant deadline;          // 2*MSL after entering TIME-WAIT (restarted by a retransmitted FIN)
    std::uint16_t window = 0;  // the window field of our ACKs
    std::uint8_t rcv_wscale = 0;
    bool ts_ok = false;
};

// What happened to a connection since its owner last looked (Connection::take_events).
struct ConnectionEvents {
    std::uint8_t socket = 0;   // SocketEventBits for the application, OR-ed
    bool established = false;  // the handshake completed (active or passive open)
    bool output = false;       // a user call left something to send: output() at the next poll
    // An orphaned connection entered TIME-WAIT: the compact record to keep (it is CLOSED now).
    std::optional<TimeWaitState> time_wait;
};

class Connection {
public:
    using SeqNumber = wire::SeqNumber;

    // `env` outlives the connection; the configuration is env.config().
    Connection(ConnectionEnv& env, std::uint32_t index, Endpoint local, Endpoint remote);
    Connection(const Connection&) = delete;  // recovery_ points into this object
    Connection& operator=(const Connection&) = delete;

    // Active open: chooses the ISS, sends SYN (RFC 9293 §3.10.1).
    void open_active(Instant now, SeqNumber iss);
    // Passive open from a listener's SYN (RFC 9293 §3.10.7.2): records the peer's options, sends SYN-ACK.
    void open_passive(Instant now, SeqNumber iss, const wire::TcpPacket& syn,
                      const wire::TcpOptions& options);

    // Passive open completed by a valid SYN cookie in the peer's ACK (TcpLayer checked it);
    // `offered`: the SYN's options as the cookie recorded them (MSS; window scale, SACK-permitted and
    // timestamps when the cookie carried them in TSecr, see syn_cookie.hpp).
    void open_from_cookie(Instant now, SeqNumber iss, const wire::TcpPacket& ack,
                          const wire::TcpOptions& offered);

    // A segment for this connection (already checksum-verified and demultiplexed).
    void on_segment(Instant now, const wire::TcpPacket& seg, const wire::TcpOptions& options);

    // Runs the timers due at `now`.
    void on_timer(Instant now);
    // The earliest timer deadline, or Instant::never().
    Instant next_deadline() const;

    // Sends what may be sent now (data, FIN, a pending ACK). Returns false if the TX queue filled up.
    bool output(Instant now);

    // ---- user calls ----
    std::size_t send(Bytes data);
    // Copies up to out.size() readable bytes out; returns the count (0 if none).
    std::size_t recv(MutBytes out);
    void shutdown_send();     // queue a FIN after the data (sent by output())
    void abort(Instant now);  // RST now (RFC 9293 §3.10.5 ABORT)
    void set_nodelay(bool on) { nodelay_ = on; }
    void set_keepalive(Instant now, bool on);

    TcpState state() const { return state_; }
    const Endpoint& local() const { return local_; }
    const Endpoint& remote() const { return remote_; }
    std::uint32_t index() const { return index_; }
    bool readable() const { return rcv_buf_.size() > 0; }
    bool eof() const { return fin_received_ && rcv_buf_.size() == 0; }
    bool fin_received() const { return fin_received_; }
    bool send_shut() const { return fin_queued_; }
    std::size_t send_space() const { return snd_buf_.free(); }
    std::size_t recv_available() const { return rcv_buf_.size(); }
    std::optional<SocketError> error() const { return error_; }
    ConnectionInfo info() const;
    // Bytes reserved by the send and receive buffers (TcpConfig::mem_budget accounting). A passive
    // connection has none until its handshake completes (half-open state is small).
    std::size_t buffer_bytes() const { return snd_buf_.capacity() + rcv_buf_.capacity(); }
    // The TIME-WAIT record for this connection (in TIME-WAIT: what the TcpLayer keeps after it).
    TimeWaitState time_wait_state(Instant now) const;

    // The events since the last call (and clears them).
    ConnectionEvents take_events() { return std::exchange(events_, ConnectionEvents{}); }

    // Set by the layer: the listener a passive connection belongs to until accept().
    std::uint32_t listener = ~std::uint32_t{0};

private:
    static constexpr std::uint32_t kTimestampOptionLen = 12;  // 10 bytes + 2 NOPs of padding
    enum class Timer : std::uint8_t { Retransmit, DelayedAck, Persist, Keepalive, TimeWait, Count };

    // Receive space for the window of a SYN or SYN-ACK (before the buffers exist: their size).
    std::size_t syn_receive_space() const {
        return rcv_buf_.capacity() != 0 ? rcv_buf_.free() : config_.recv_buffer;
    }

    // ---- Handshake (connection_handshake.cpp): active, passive and cookie open, SYN-SENT, option
    // negotiation; every path to ESTABLISHED goes through complete_handshake.
    void allocate_buffers();
    void init_send_space(Instant now, SeqNumber iss);
    void send_syn(Instant now, wire::TcpFlags flags);
    void take_peer_syn(Instant now, SeqNumber irs, const wire::TcpOptions& options);
    void negotiate(const wire::TcpOptions& options);
    void on_syn_sent(Instant now, const wire::TcpPacket& seg, const wire::TcpOptions& options);
    void complete_handshake(Instant now, SeqNumber ack, std::uint32_t wnd, SeqNumber seq);

    // ---- Receiver (connection_receive.cpp; its pure rules in receiver.hpp): acceptability, PAWS and
    // TS.Recent, text in order and out of order, the FIN, the advertised window, the ACK policy.
    bool acceptable(const wire::TcpPacket& seg) const;
    bool check_paws(Instant now, const wire::TcpPacket& seg, const wire::TcpOptions& options);
    void update_ts_recent(Instant now, const wire::TcpPacket& seg, const wire::TcpOptions& options);
    SeqNumber read_seq() const;  // the first sequence number the user has not read
    bool process_text(Instant now, const wire::TcpPacket& seg);  // step 7
    void on_text(Instant now, const wire::TcpPacket& seg);
    void check_fin(Instant now, const wire::TcpPacket& seg);  // step 8
    void on_fin(Instant now);
    ReceiveSpace receive_space() const;
    std::uint32_t advertised_window();
    std::uint32_t window_right_edge_growth() const;
    bool window_update_due() const;
    void schedule_ack(Instant now, bool immediate);

    // RFC 9293 §3.10.7 steps.
    bool check_sequence(Instant now, const wire::TcpPacket& seg);  // step 1
    void check_urg(const wire::TcpPacket& seg);                    // step 6
    void on_rst(Instant now, const wire::TcpPacket& seg);
    bool on_ack(Instant now, const wire::TcpPacket& seg, const wire::TcpOptions& options);
    void on_new_ack(Instant now, SeqNumber ack, const wire::TcpOptions& options);
    void on_dup_ack(Instant now);
    bool take_sack(SeqNumber snd_una, const wire::TcpOptions& options);
    void maybe_start_recovery(Instant now);
    void update_window(const wire::TcpPacket& seg);

    // Output.
    enum class SendResult : std::uint8_t { Sent, Idle, Blocked };
    SendResult send_new_data(Instant now, std::uint32_t usable, bool override_sws = false);
    bool send_segment(Instant now, SeqNumber seq, std::uint32_t len, wire::TcpFlags flags);
    bool send_ack(Instant now);
    // The sequence number of a pure ACK: SND.MAX within the peer's window (send_ack explains why).
    SeqNumber pure_ack_seq() const;
    void send_challenge_ack(Instant now);
    bool invalid_ack_allowed(Instant now);
    void ack_invalid_segment(Instant now, const wire::TcpPacket& seg);
    void send_rst(Instant now, SeqNumber seq);
    SeqNumber rst_seq() const;
    // What made a segment go out again (the tcp.retransmit.CAUSE counters).
    enum class Rexmit : std::uint8_t { Rto, Fast, Sack, PartialAck, Syn };
    void count_retransmit(Rexmit cause);
    bool retransmit_one(Instant now, SeqNumber seq, std::uint32_t max_len, Rexmit cause);
    bool recovery_output(Instant now);
    std::uint32_t unsent_data() const;
    SeqNumber data_end() const;  // sequence number after the last byte in snd_buf_
    std::uint32_t flight() const { return static_cast<std::uint32_t>(snd_nxt_ - snd_una_); }
    std::uint32_t ts_now(Instant now) const;

    // Sender rules (sender.hpp: Nagle, sender SWS avoidance, usable window, TSO length), fed from
    // the TCB by connection_output.cpp.
    SenderView sender_view() const;
    std::uint32_t send_window_room() const;  // window_room(): min(peer's window, cwnd - flight)

    // Timers (connection_timers.cpp: RFC 6298 retransmission, persist, keepalive, delayed ACK,
    // TIME-WAIT).
    void arm(Timer t, Instant at);
    void disarm(Timer t);
    bool armed(Timer t) const { return timers_[static_cast<int>(t)] != Instant::never(); }
    void restart_rtx(Instant now);
    void start_rtx(Instant now);
    Duration persist_interval() const;
    void on_rto(Instant now);
    void on_persist(Instant now);
    void on_keepalive(Instant now);

    void set_state(TcpState s);
    void enter_time_wait(Instant now);
    void close_with(std::optional<SocketError> err);
    void notify(std::uint8_t bits);

    ConnectionEnv& layer_;  // (named for the layer that is its usual implementation)
    ConnectionEvents events_;
    std::uint32_t index_;
    const TcpConfig& config_;
    Endpoint local_, remote_;
    TcpState state_ = TcpState::Closed;
    std::optional<SocketError> error_;

    // Send sequence space (RFC 9293 §3.3.1).
    SeqNumber iss_, snd_una_, snd_nxt_, snd_max_, snd_wl1_, snd_wl2_;
    std::uint32_t snd_wnd_ = 0;
    std::uint32_t max_snd_wnd_ = 0;
    SeqNumber snd_buf_seq_;  // sequence number of snd_buf_'s first byte
    RingBuffer snd_buf_;
    bool fin_queued_ = false;
    bool fin_sent_ = false;
    SeqNumber fin_seq_;

    // Receive sequence space.
    SeqNumber irs_, rcv_nxt_, rcv_adv_;  // rcv_adv_: right edge of the window last advertised
    RingBuffer rcv_buf_;
    // Out-of-order data held beyond RCV.NXT (and the SACK blocks reporting it); never reneges.
    Assembler ooo_{Assembler::capacity_for(config_.recv_buffer)};
    std::optional<SeqNumber> ooo_fin_;
    bool fin_received_ = false;
    UrgentPointer urg_;  // RCV.UP (step 6); urgent data stays in line in rcv_buf_

    // Negotiated options.
    std::uint32_t smss_ = 536;  // effective send MSS (data bytes per segment, options excluded)
    std::uint16_t our_mss_ = 1460;
    std::uint8_t snd_wscale_ = 0, rcv_wscale_ = 0;
    bool ws_ok_ = false, ts_ok_ = false, sack_ok_ = false;
    std::uint32_t ts_recent_ = 0;
    Instant ts_recent_age_;
    std::uint32_t ts_offset_ = 0;
    SeqNumber last_ack_sent_;

    // Timers, RTT, congestion control, loss recovery.
    std::array<Instant, static_cast<int>(Timer::Count)> timers_;
    RttEstimator rtt_;
    bool rtt_timing_ = false;
    SeqNumber rtt_seq_;
    Instant rtt_sent_at_;
    std::unique_ptr<CongestionControl> cc_;
    SackScoreboard scoreboard_;
    // Loss recovery (recovery.hpp): NewReno without SACK, RFC 6675 with it (chosen by negotiate()).
    NewRenoRecovery newreno_recovery_;
    SackRecovery sack_recovery_{scoreboard_};
    LossRecovery* recovery_ = &newreno_recovery_;
    // RFC 7661 (cwnd validation): the largest flight of the current round (it ends when SND.UNA
    // reaches flight_round_end_); cwnd grows only if that flight reached half of it.
    std::uint32_t max_flight_ = 0;
    SeqNumber flight_round_end_;
    bool flight_round_open_ = false;
    Instant last_data_sent_;  // RFC 5681 §4.1 restart after idle
    unsigned syn_retries_ = 0;
    unsigned persist_backoff_ = 0;
    unsigned keepalive_sent_ = 0;
    bool keepalive_ = false;
    Instant last_progress_;  // last time the peer acknowledged new data (user timeout base)
    Instant last_received_;  // keepalive idle base

    // ACK policy.
    bool ack_now_ = false;
    bool invalid_acked_ = false;  // last_invalid_ack_ is set (invalid_ack_allowed)
    Instant last_invalid_ack_;
    unsigned unacked_segments_ = 0;
    std::uint32_t rcv_mss_ =
        536;  // the peer's full-sized segment as seen (RFC 9293 §3.7.1 default)
    bool nodelay_ = false;
    bool want_writable_ = false;
    std::uint64_t retransmits_ = 0;

public:
    // Set by the layer when the application has released the handle (close()).
    bool orphaned_ = false;
};

}  // namespace stack::tcp
