// TcpLayer: the TCP half of the stack: the socket table (SocketTable, stack/socket/socket_table.hpp),
// demultiplexing, listeners and their queues (Listener, listener.hpp), SYN cookies, TIME-WAIT records,
// the timer wheel, and the socket API the application uses (reached through Stack::tcp()).
//
// Connections (connection.hpp) see the layer only through a ConnectionEnv (connection_env.hpp:
// output, challenge-ACK budget, path facts, config, counters). Everything else is bookkeeping done
// here in one place, settle(index), after every call into a connection (segment input, timers,
// output, user calls): it takes the connection's events (readiness bits, handshake completed,
// TIME-WAIT record, output pending) and updates the timer wheel, the tcp.state.* gauges, the memory
// budget, the listener's queues, the dirty list, and frees the slot of a finished connection nobody
// holds.
//
// The socket API (non-blocking, event-driven; see stack/socket/socket.hpp for handles and events):
//   listen(port, backlog)       a listener. At most `backlog` connections wait in SYN-RECEIVED (small:
//                               no buffers until established) and at most `backlog` established ones
//                               wait for accept(). A SYN beyond the SYN queue (or with no free socket
//                               slot) is answered with a SYN cookie (RFC 4987 §3.6, syn_cookie.hpp);
//                               one beyond the accept queue is dropped silently (the peer retries).
//   accept(listener)            the next established connection, or WouldBlock.
//   connect(now, addr, port)    active open from an ephemeral port; kEventConnected when established,
//                               kEventError (Refused, TimedOut) if not.
//   send(h, bytes)              copies what fits in the send buffer and returns that count (0 when
//                               full: wait for kEventWritable). Data is transmitted by poll().
//   recv(h, buf)                copies out what is readable; 0 means nothing now — eof() tells
//                               whether the peer has finished sending.
//   shutdown(h)                 half-close: FIN after the queued data (sent by poll()); reading
//                               continues.
//   close(now, h)               full close: FIN after the queued data, the handle is released at once
//                               and the connection finishes (FIN-WAIT, TIME-WAIT) on its own. Closing
//                               with unread received data resets the connection (RFC 9293 §3.10.4 /
//                               RFC 2525 §2.17) as Linux does.
//   abort(now, h)               RST now; the handle is released.
//   next_event(ev)              drains readiness events (one per socket, bits OR-ed together).
// A connection that is reset or times out keeps its handle (state CLOSED, error() set, kEventError)
// until the application calls close().
//
// TIME-WAIT (RFC 9293 §3.6.1): a connection the application has closed leaves a compact record
// (TimeWaitState: no buffers, no socket slot) in a table of its own, at most
// TcpConfig::max_time_wait (the oldest is forgotten early at the cap), expiring after 2*MSL. It
// acknowledges retransmitted FINs, and a new SYN on its 4-tuple opens a new connection when its
// timestamp (RFC 6191) or, without timestamps, its sequence number (RFC 9293 §3.10.7.4, RFC 1122
// §4.2.2.13) is above the old connection's. A connection still held by the application stays a full
// Connection in TIME-WAIT (it may hold unread data) until close().
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "stack/base/function_ref.hpp"
#include "stack/base/result.hpp"
#include "stack/ip/icmp_error.hpp"
#include "stack/ip/output.hpp"
#include "stack/socket/socket.hpp"
#include "stack/socket/socket_table.hpp"
#include "stack/stats.hpp"
#include "stack/tcp/config.hpp"
#include "stack/tcp/connection.hpp"
#include "stack/tcp/connection_env.hpp"
#include "stack/tcp/isn.hpp"
#include "stack/tcp/listener.hpp"
#include "stack/tcp/syn_cookie.hpp"
#include "stack/tcp/timer_wheel.hpp"
#include "stack/wire/ipv4.hpp"

namespace stack::tcp {

class TcpLayer {
public:
    // `secret`: ISN key (bytes 0..15) and SYN-cookie key (16..31); derived from `seed` when unset.
    TcpLayer(const TcpConfig& config, ip::Ipv4Output& output, TcpStats& stats, std::uint64_t seed,
             const std::optional<std::array<std::uint8_t, 32>>& secret = std::nullopt);
    ~TcpLayer();
    TcpLayer(const TcpLayer&) = delete;
    TcpLayer& operator=(const TcpLayer&) = delete;

    // ---- from the stack ----
    // A TCP segment addressed to us (IP already validated; checksum not yet verified).
    void on_segment(Instant now, const wire::Ipv4Repr& ip, Bytes payload);
    // An ICMP error quoting a TCP segment we sent (stack/ip/icmp_error.hpp).
    void on_icmp_error(Instant now, const ip::IcmpErrorReport& error);
    // Runs due timers and sends what connections have pending.
    void poll(Instant now);
    // The earliest timer deadline (retransmission, delayed ACK, ..., TIME-WAIT expiry), or
    // Instant::never(). Pending output is not a timer: see has_dirty().
    Instant poll_at() const;
    // True while some connection has output to send at the next poll(): queued by a user call
    // (send, shutdown, ...), or held back by a full TX queue.
    bool has_dirty() const { return !dirty_.empty(); }
    // When that output became due: the latest instant the layer was given (never() if none is
    // pending), so a caller sleeping until min(poll_at(), output_due()) polls at once.
    Instant output_due() const { return dirty_.empty() ? Instant::never() : clock_; }

    // ---- the socket API (contracts above) ----
    Result<SocketHandle, SocketError> listen(std::uint16_t port, std::uint32_t backlog);
    Result<SocketHandle, SocketError> accept(SocketHandle listener);
    Result<SocketHandle, SocketError> connect(Instant now, wire::Ipv4Address addr,
                                              std::uint16_t port);
    Result<std::size_t, SocketError> send(SocketHandle h, Bytes data);
    Result<std::size_t, SocketError> recv(SocketHandle h, MutBytes out);
    Result<bool, SocketError> eof(SocketHandle h) const;
    Result<void, SocketError> shutdown(SocketHandle h);
    Result<void, SocketError> close(Instant now, SocketHandle h);
    Result<void, SocketError> abort(Instant now, SocketHandle h);
    Result<void, SocketError> set_nodelay(SocketHandle h, bool on);
    Result<void, SocketError> set_keepalive(Instant now, SocketHandle h, bool on);
    Result<ConnectionInfo, SocketError> info(SocketHandle h) const;
    // The error that ended a connection (Reset, Refused, TimedOut), if any.
    std::optional<SocketError> error(SocketHandle h) const;
    bool next_event(SocketEvent& out);

    // Every live connection (including those not owned by the application, e.g. in TIME-WAIT).
    void for_each_connection(function_ref<void(const ConnectionInfo&)> fn) const;
    std::size_t connection_count() const { return conns_.size() + tw_.size(); }
    // Connections counted against TcpConfig::max_connections (all but TIME-WAIT).
    std::size_t active_connection_count() const { return conns_.size() - time_wait_; }
    // TIME-WAIT records (TcpConfig::max_time_wait), not counting held connections in TIME-WAIT.
    std::size_t time_wait_count() const { return tw_.size(); }
    // Slots in the socket table (TcpConfig::max_sockets / socket_table_size()).
    std::size_t socket_table_size() const { return table_.capacity(); }
    // Bytes reserved by connection buffers (TcpConfig::mem_budget).
    std::size_t memory_in_use() const { return mem_in_use_; }
    const TcpConfig& config() const { return config_; }

    // Resets (RST) every connection that is not finished (all but TIME-WAIT and FIN-WAIT-2, whose
    // FIN is acknowledged), owned by the application or not; handles stay valid until close().
    // For a daemon's shutdown after its drain timeout. Returns how many were reset.
    std::size_t abort_all(Instant now);

private:
    // A slot of the socket table: a listener or a connection, and what settle() last recorded of it.
    struct TcpSocket {
        enum class Kind : std::uint8_t { Free, Listener, Connection };
        Kind kind = Kind::Free;
        bool dirty = false;      // in dirty_: output() at the next poll
        bool embryonic = false;  // counted in its listener's SYN queue (SYN-RECEIVED, not a cookie)
        bool reap = false;  // free it once nobody holds it, whatever its state (TIME-WAIT record)
        TcpState state = TcpState::Closed;    // for the tcp.state.* gauges
        Instant deadline = Instant::never();  // scheduled in wheel_
        std::size_t buffer_bytes = 0;         // counted in mem_in_use_
        std::unique_ptr<Connection> conn;
        Listener listener;
    };
    // What connections see of the layer (connection_env.hpp).
    class Env final : public ConnectionEnv {
    public:
        explicit Env(TcpLayer& layer) : layer_(layer) {}
        bool emit(const Connection& c, Bytes header, Bytes payload1, Bytes payload2) override;
        bool emit_gso(const Connection& c, Bytes header, Bytes payload1, Bytes payload2,
                      std::uint32_t gso_size, bool partial_checksum) override;
        bool challenge_ack_allowed(Instant now) override {
            return layer_.challenge_ack_allowed(now);
        }
        std::uint32_t ts_offset(const Endpoint& local, const Endpoint& remote) const override;
        std::uint16_t mtu() const override { return layer_.output_.mtu(); }
        std::uint32_t tso_max_size() const override { return layer_.output_.tso_max_size(); }
        bool tso_partial_checksum() const override { return layer_.output_.tso_partial_checksum(); }
        const TcpConfig& config() const override { return layer_.config_; }
        TcpStats& stats() override { return layer_.stats_; }

    private:
        TcpLayer& layer_;
    };
    struct TimeWaitEntry {
        TimeWaitState tw;
        std::uint64_t id = 0;  // which tw_order_ entry is current
    };
    struct TimeWaitOrder {
        std::uint64_t key = 0;
        std::uint64_t id = 0;
        Instant deadline;
    };
    static constexpr std::uint32_t kNoListener = ~std::uint32_t{0};

    static std::uint64_t key(wire::Ipv4Address raddr, std::uint16_t rport, std::uint16_t lport) {
        return std::uint64_t{raddr.value} << 32 | std::uint32_t{rport} << 16 | lport;
    }
    Connection* connection(SocketHandle h);
    // The bookkeeping after every call into a connection, in one place: takes its events (readiness
    // for the application, handshake done, a TIME-WAIT record, output pending) and brings the timer
    // wheel, the tcp.state.* gauges, the memory budget, the listener queues and the dirty list in
    // line with it; frees the slot when the connection is finished and nobody holds it.
    void settle(std::uint32_t index);
    void free_slot(std::uint32_t index);
    void on_established(std::uint32_t index);
    void leave_listener(std::uint32_t index);
    void state_changed(TcpState from, TcpState to);
    void mark_dirty(std::uint32_t index);
    bool challenge_ack_allowed(Instant now);
    void add_time_wait(const TimeWaitState& tw);
    void reset_closed(Instant now, const wire::Ipv4Repr& ip, const wire::TcpPacket& seg);
    void on_listen(Instant now, std::uint32_t listener, const wire::Ipv4Repr& ip,
                   const wire::TcpPacket& seg, const wire::TcpOptions& options,
                   std::optional<wire::SeqNumber> iss = std::nullopt);
    Connection* new_passive(std::uint32_t listener, const wire::Ipv4Repr& ip,
                            const wire::TcpPacket& seg);
    // Checks the admission limits for one more connection; counts the drop if refused.
    bool admit(bool count_drop);
    // Checks that one more connection may hold buffers (a passive open completing its handshake).
    bool admit_buffers(bool count_drop);
    // TIME-WAIT records: a segment for one (returns the ISS for a new incarnation when the segment
    // is a SYN that may open one, after which the record is gone), expiry, eviction at the cap.
    std::optional<wire::SeqNumber> on_time_wait(Instant now, std::uint64_t k,
                                                const wire::TcpPacket& seg,
                                                const wire::TcpOptions& options);
    void send_time_wait_ack(Instant now, const TimeWaitState& tw);
    void remove_time_wait(std::uint64_t k);
    void expire_time_wait(Instant now);
    void order_time_wait(std::uint64_t k, TimeWaitEntry& e);
    Instant time_wait_deadline() const;
    Connection* make_connection(std::uint32_t index, Endpoint local, Endpoint remote);
    void send_cookie_synack(Instant now, const wire::Ipv4Repr& ip, const wire::TcpPacket& seg,
                            const wire::TcpOptions& options);
    bool accept_cookie(Instant now, std::uint32_t listener, const wire::Ipv4Repr& ip,
                       const wire::TcpPacket& seg, const wire::TcpOptions& options);
    void flush_dirty(Instant now);

    TcpConfig config_;
    ip::Ipv4Output& output_;
    TcpStats& stats_;
    Env env_{*this};
    IsnGenerator isn_;
    SynCookies cookies_;
    std::uint64_t rng_;
    SocketTable<TcpSocket> table_;
    std::unordered_map<std::uint64_t, std::uint32_t> conns_;
    std::unordered_map<std::uint16_t, std::uint32_t> listeners_;
    TimerWheel wheel_;
    std::vector<std::uint32_t> dirty_;
    Instant clock_;  // the latest `now` the layer was given (output_due())
    std::uint64_t challenge_budget_ =
        0;  // challenge ACKs left in this period (challenge_ack_allowed)
    std::size_t time_wait_ = 0;
    std::size_t mem_in_use_ = 0;
    std::size_t half_open_ = 0;  // embryonic connections (all listeners)
    Instant challenge_period_end_;
    std::unordered_map<std::uint64_t, TimeWaitEntry> tw_;
    // By deadline, oldest first (every deadline is 2*MSL after its push, so pushing at the back keeps
    // the order); an entry whose id is not its record's current one is stale and skipped.
    std::deque<TimeWaitOrder> tw_order_;
    std::uint64_t tw_next_id_ = 1;
};

}  // namespace stack::tcp
