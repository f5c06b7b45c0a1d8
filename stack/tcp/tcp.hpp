// TcpLayer: the TCP half of the stack: the socket table, demultiplexing, listeners and their queues,
// the timer wheel, and the socket API the application uses (reached through Stack::tcp()).
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
#include "stack/ip/output.hpp"
#include "stack/socket/socket.hpp"
#include "stack/stats.hpp"
#include "stack/tcp/config.hpp"
#include "stack/tcp/connection.hpp"
#include "stack/tcp/isn.hpp"
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
    // Runs due timers and sends what connections have pending.
    void poll(Instant now);
    Instant poll_at() const;
    // True while some connection has output held back (e.g. by a full TX queue).
    bool has_dirty() const { return !dirty_.empty(); }

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
    std::size_t socket_table_size() const { return slots_.size(); }
    // Bytes reserved by connection buffers (TcpConfig::mem_budget).
    std::size_t memory_in_use() const { return mem_in_use_; }

    // Resets (RST) every connection that is not finished (all but TIME-WAIT and FIN-WAIT-2, whose
    // FIN is acknowledged), owned by the application or not; handles stay valid until close().
    // For a daemon's shutdown after its drain timeout. Returns how many were reset.
    std::size_t abort_all(Instant now);

    // ---- for Connection ----
    bool emit(const Connection& c, Bytes header, Bytes payload1, Bytes payload2);
    // A super-segment (TSO): header + payload1 + payload2 cut by the device into segments of
    // `gso_size` payload bytes; `partial_checksum` as GsoInfo::csum_partial.
    bool emit_gso(const Connection& c, Bytes header, Bytes payload1, Bytes payload2,
                  std::uint32_t gso_size, bool partial_checksum);
    void notify(std::uint32_t index, std::uint8_t bits);
    void timers_changed(const Connection& c);
    void mark_dirty(const Connection& c);
    void on_established(Connection& c);
    void on_closed(Connection& c);
    // The global challenge-ACK budget (RFC 5961 §7), drawn at random each second; consumes one if true.
    bool challenge_ack_allowed(Instant now);
    // Every state change of a connection (Connection::set_state), for the tcp.state.* gauges.
    void state_changed(TcpState from, TcpState to);
    // A connection took or gave back buffer memory, for the memory budget.
    void buffers_allocated(std::size_t bytes);
    void buffers_released(std::size_t bytes);
    // An orphaned connection entered TIME-WAIT: keep its compact record (the connection then closes).
    void add_time_wait(const TimeWaitState& tw);
    // The TSval offset for a connection (IsnGenerator::ts_offset).
    std::uint32_t ts_offset(const Endpoint& local, const Endpoint& remote) const {
        return isn_.ts_offset(local.addr, local.port, remote.addr, remote.port);
    }
    TcpStats& stats() { return stats_; }
    const TcpConfig& config() const { return config_; }
    std::uint16_t mtu() const { return output_.mtu(); }
    // 0 without TSO; else the largest super-packet (StackConfig::tso_max_size).
    std::uint32_t tso_max_size() const { return output_.tso_max_size(); }
    bool tso_partial_checksum() const { return output_.tso_partial_checksum(); }

private:
    struct Slot {
        enum class Kind : std::uint8_t { Free, Listener, Connection };
        std::uint32_t generation = 1;
        Kind kind = Kind::Free;
        bool user_owned = false;
        bool queued_event = false;
        bool dirty = false;
        bool embryonic = false;  // counted in its listener's SYN queue (SYN-RECEIVED, not a cookie)
        std::uint8_t pending = 0;
        std::unique_ptr<Connection> conn;
        // Listener fields.
        std::uint16_t port = 0;
        std::uint32_t backlog = 0;
        std::uint32_t syn_queue = 0;
        std::vector<std::uint32_t> accept_queue;  // (a vector: a deque allocates even when empty)
        Instant last_cookie;                      // when this listener last sent a SYN cookie
        bool sent_cookies = false;
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

    static std::uint64_t key(wire::Ipv4Address raddr, std::uint16_t rport, std::uint16_t lport) {
        return std::uint64_t{raddr.value} << 32 | std::uint32_t{rport} << 16 | lport;
    }
    Slot* lookup(SocketHandle h);
    const Slot* lookup(SocketHandle h) const;
    Connection* connection(SocketHandle h);
    std::optional<std::uint32_t> allocate_slot();
    void free_slot(std::uint32_t index);
    SocketHandle handle_of(std::uint32_t index) const { return {index, slots_[index].generation}; }
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
    IsnGenerator isn_;
    SynCookies cookies_;
    std::uint64_t rng_;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> free_slots_;
    std::unordered_map<std::uint64_t, std::uint32_t> conns_;
    std::unordered_map<std::uint16_t, std::uint32_t> listeners_;
    TimerWheel wheel_;
    std::vector<std::uint32_t> events_;  // ring of slot indices with pending event bits
    std::size_t events_head_ = 0, events_count_ = 0;
    std::vector<std::uint32_t> dirty_;
    std::vector<std::uint32_t> to_free_;
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
