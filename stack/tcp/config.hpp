// TcpConfig: every TCP tunable, with defaults a demanding user expects (Linux-like where Linux is sane).
#pragma once

#include <cstddef>
#include <cstdint>

#include "stack/base/time.hpp"
#include "stack/tcp/congestion.hpp"
#include "stack/tcp/rtt.hpp"
#include "stack/wire/tcp_options.hpp"

namespace stack::tcp {

struct TcpConfig {
    std::size_t send_buffer = 512 * 1024;  // bytes per connection
    std::size_t recv_buffer = 512 * 1024;  // bytes per connection; sets the window scale we offer
    // The socket table: listeners + connections (TIME-WAIT records live apart, see max_time_wait).
    // 0: sized from the connection limit, (max_connections, or 4096 when unlimited) +
    // kHalfOpenReserve + kListenerReserve. With no free slot a SYN is answered with a SYN cookie.
    std::size_t max_sockets = 0;
    static constexpr std::size_t kHalfOpenReserve = 1024;
    static constexpr std::size_t kListenerReserve = 64;
    // Admission limits (0: none). A SYN that would exceed one is dropped and counted
    // (tcp.drop.max_connections, tcp.drop.mem_budget): the peer retries, existing connections are
    // untouched. connect() fails with TooManySockets. max_connections counts connections in any state
    // but TIME-WAIT, half-open ones included; mem_budget bounds the bytes reserved by connection
    // buffers (send_buffer + recv_buffer each; gauge tcp.mem_in_use). A passive connection gets its
    // buffers only when the handshake completes (half-open state is small, issue 8): its SYN is
    // admitted against the buffers in use, and the completing ACK (or SYN cookie ACK) is dropped and
    // counted if the budget has no room by then (the peer retransmits it).
    std::size_t max_connections = 0;
    std::size_t mem_budget = 0;
    // TIME-WAIT records (compact: no buffers, no socket slot) at most; at the cap the oldest is
    // forgotten early (counted, tcp.time_wait_evicted), so TIME-WAIT never refuses a new connection.
    std::size_t max_time_wait = 16384;
    Duration msl = Duration::seconds(30);  // TIME-WAIT lasts 2*MSL (RFC 9293 §3.4.2)
    RttConfig rtt;                         // RFC 6298, min RTO 200 ms by default
    Duration delayed_ack = Duration::millis(40);
    Duration user_timeout = Duration::seconds(60);  // RFC 9293 §3.8.3 R2 / RFC 5482
    unsigned syn_retries = 6;
    CcAlgorithm congestion = CcAlgorithm::Cubic;
    bool window_scaling = true;                         // RFC 7323
    bool timestamps = true;                             // RFC 7323
    bool sack = true;                                   // RFC 2018
    Duration keepalive_idle = Duration::seconds(7200);  // RFC 1122 §4.2.3.6 default
    Duration keepalive_interval = Duration::seconds(75);
    unsigned keepalive_probes = 9;
    // Zero-window probes an orphaned connection (closed by the application, in FIN-WAIT-1, CLOSING or
    // LAST-ACK with data queued) gets while the peer keeps its window shut but answers: then it is
    // reset (tcp.orphan_probe_aborts). Linux's tcp_orphan_retries (0 there means 8). A connection the
    // application still holds probes for as long as the peer answers (RFC 9293 §3.8.6.1).
    unsigned orphan_retries = 8;
    // RFC 5961 §7: challenge ACKs for all connections, per second on average (each second's budget is
    // drawn from [limit/2, limit*3/2): CVE-2016-5696); Linux tcp_challenge_ack_limit.
    std::uint32_t challenge_ack_per_sec = 1000;
    // Per connection, at most one ACK per interval answers invalid segments (challenge ACKs, and ACKs
    // for out-of-window or PAWS-failed segments without data); Linux tcp_invalid_ratelimit.
    Duration invalid_ack_interval = Duration::millis(500);
    std::uint16_t ephemeral_first = 32768;  // Linux ip_local_port_range
    std::uint16_t ephemeral_last = 60999;
};

// The socket table's size for `c` (TcpConfig::max_sockets, derived when 0).
inline std::size_t socket_table_size(const TcpConfig& c) {
    if (c.max_sockets != 0) return c.max_sockets;
    return (c.max_connections != 0 ? c.max_connections : 4096) + TcpConfig::kHalfOpenReserve +
           TcpConfig::kListenerReserve;
}

// The window scale we offer (RFC 7323 §2.3): the smallest that lets the window cover recv_buffer.
inline std::uint8_t receive_window_scale(const TcpConfig& c) {
    std::uint8_t s = 0;
    if (c.window_scaling) {
        while ((c.recv_buffer >> s) > 65535 && s < wire::kTcpMaxWindowScale) ++s;
    }
    return s;
}

}  // namespace stack::tcp
