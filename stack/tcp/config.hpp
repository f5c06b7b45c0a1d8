// TcpConfig: every TCP tunable, with defaults a demanding user expects (Linux-like where Linux is sane).
#pragma once

#include <cstddef>
#include <cstdint>

#include "stack/base/time.hpp"
#include "stack/tcp/congestion.hpp"
#include "stack/tcp/rtt.hpp"

namespace stack::tcp {

struct TcpConfig {
    std::size_t send_buffer = 512 * 1024;  // bytes per connection
    std::size_t recv_buffer = 512 * 1024;  // bytes per connection; sets the window scale we offer
    std::size_t max_sockets = 4096;        // listeners + connections (incl. TIME-WAIT)
    // Admission limits (0: none). A SYN (or a SYN cookie's ACK) that would exceed one is dropped and
    // counted (tcp.drop.max_connections, tcp.drop.mem_budget): the peer retries, existing connections
    // are untouched. connect() fails with TooManySockets. max_connections counts connections in any
    // state but TIME-WAIT (which holds no buffers, see Connection::enter_time_wait); mem_budget bounds
    // the bytes reserved by connection buffers (send_buffer + recv_buffer each; gauge tcp.mem_in_use).
    std::size_t max_connections = 0;
    std::size_t mem_budget = 0;
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
    // RFC 5961 §7: challenge ACKs for all connections, per second on average (each second's budget is
    // drawn from [limit/2, limit*3/2): CVE-2016-5696); Linux tcp_challenge_ack_limit.
    std::uint32_t challenge_ack_per_sec = 1000;
    // Per connection, at most one ACK per interval answers invalid segments (challenge ACKs, and ACKs
    // for out-of-window or PAWS-failed segments without data); Linux tcp_invalid_ratelimit.
    Duration invalid_ack_interval = Duration::millis(500);
    std::uint16_t ephemeral_first = 32768;  // Linux ip_local_port_range
    std::uint16_t ephemeral_last = 60999;
};

}  // namespace stack::tcp
