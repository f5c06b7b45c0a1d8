// Stats: every counter the stack keeps, one plain uint64 per counter (no locks, no atomics: a Stack is
// single-threaded). The X-macro list is the single source of the field and its exported name, so the
// daemon's `stat NAME VALUE` output and the struct never drift apart.
//
// Naming: LAYER.rx_* / LAYER.tx_* for traffic, LAYER.drop.REASON for every discarded packet (each drop is
// counted exactly once, under the first reason found), gauges for state in use (names ending in
// `_in_use` or `_in_flight`: tools/common/metrics.hpp tells gauges from counters by name).
//
// Byte counters per layer: ip.{rx,tx}_bytes whole packets; icmp.{rx,tx}_bytes ICMP messages (header
// included); udp.rx_bytes UDP datagrams (header included); tcp.{rx,tx}_bytes TCP segments (header
// included), tcp.{rx,tx}_payload_bytes the data in them (retransmissions included on tx). With TSO,
// tcp.tx_tso_packets counts the super-packets handed to the device; tcp.tx_segments and tcp.tx_bytes
// count the segments the device cuts them into (each with its copy of the header).
// tcp.retransmits is the total; tcp.retransmit.CAUSE splits it by what triggered each retransmitted
// segment: rto (the retransmission timer, RFC 6298, incl. the go-back-N resend after it), fast (the
// first retransmission on entering loss recovery, RFC 5681 §3.2), sack (further holes during SACK
// recovery, RFC 6675), partial_ack (NewReno partial ACKs, RFC 6582), syn (SYN and SYN-ACK).
// Gauges kept by the TCP layer: tcp.state.STATE (connections in each state, from the socket table),
// tcp.listeners, tcp.mem_in_use (bytes reserved by connection buffers). tcp.state.time_wait counts
// TIME-WAIT records too (TcpConfig::max_time_wait); tcp.time_wait_evicted the records forgotten early
// at that cap, tcp.time_wait_reused the SYNs that opened a new connection on a TIME-WAIT 4-tuple
// (RFC 6191), tcp.syncookies_unchecked the ACKs to a listener that had sent no SYN cookie recently
// (answered with RST without being tested as cookies).
#pragma once

#include <cstdint>
#include <string_view>

#include "stack/base/function_ref.hpp"

namespace stack {

#define TUNSTACK_STATS(X)                                           \
    X(ip_rx_packets, "ip.rx_packets")                               \
    X(ip_rx_bytes, "ip.rx_bytes")                                   \
    X(ip_tx_packets, "ip.tx_packets")                               \
    X(ip_tx_bytes, "ip.tx_bytes")                                   \
    X(ip_rx_fragments, "ip.rx_fragments")                           \
    X(ip_tx_fragments, "ip.tx_fragments")                           \
    X(ip_reasm_ok, "ip.reasm_ok")                                   \
    X(ip_frag_ok, "ip.frag_ok")                                     \
    X(ip_drop_empty, "ip.drop.empty")                               \
    X(ip_drop_ipv6, "ip.drop.ipv6")                                 \
    X(ip_drop_bad_version, "ip.drop.bad_version")                   \
    X(ip_drop_truncated, "ip.drop.truncated")                       \
    X(ip_drop_bad_ihl, "ip.drop.bad_ihl")                           \
    X(ip_drop_bad_total_length, "ip.drop.bad_total_length")         \
    X(ip_drop_bad_checksum, "ip.drop.bad_checksum")                 \
    X(ip_drop_bad_source, "ip.drop.bad_source")                     \
    X(ip_drop_not_for_us, "ip.drop.not_for_us")                     \
    X(ip_drop_unknown_protocol, "ip.drop.unknown_protocol")         \
    X(ip_drop_frag_overlap, "ip.drop.frag_overlap")                 \
    X(ip_drop_frag_inconsistent, "ip.drop.frag_inconsistent")       \
    X(ip_drop_frag_duplicate, "ip.drop.frag_duplicate")             \
    X(ip_drop_frag_too_big, "ip.drop.frag_too_big")                 \
    X(ip_drop_frag_timeout, "ip.drop.frag_timeout")                 \
    X(ip_drop_frag_evicted, "ip.drop.frag_evicted")                 \
    X(ip_drop_frag_no_memory, "ip.drop.frag_no_memory")             \
    X(ip_tx_drop_df, "ip.tx_drop.df_too_big")                       \
    X(ip_tx_drop_queue_full, "ip.tx_drop.queue_full")               \
    X(ip_reasm_bytes_in_use, "ip.reasm_bytes_in_use")               \
    X(ip_reasm_datagrams_in_flight, "ip.reasm_datagrams_in_flight") \
    X(icmp_rx_echo_request, "icmp.rx_echo_request")                 \
    X(icmp_rx_echo_reply, "icmp.rx_echo_reply")                     \
    X(icmp_rx_dest_unreachable, "icmp.rx_dest_unreachable")         \
    X(icmp_rx_time_exceeded, "icmp.rx_time_exceeded")               \
    X(icmp_rx_source_quench, "icmp.rx_source_quench")               \
    X(icmp_rx_redirect, "icmp.rx_redirect")                         \
    X(icmp_rx_parameter_problem, "icmp.rx_parameter_problem")       \
    X(icmp_rx_timestamp, "icmp.rx_timestamp")                       \
    X(icmp_rx_timestamp_reply, "icmp.rx_timestamp_reply")           \
    X(icmp_rx_other, "icmp.rx_other")                               \
    X(icmp_rx_messages, "icmp.rx_messages")                         \
    X(icmp_rx_bytes, "icmp.rx_bytes")                               \
    X(icmp_tx_echo_reply, "icmp.tx_echo_reply")                     \
    X(icmp_tx_dest_unreachable, "icmp.tx_dest_unreachable")         \
    X(icmp_tx_messages, "icmp.tx_messages")                         \
    X(icmp_tx_bytes, "icmp.tx_bytes")                               \
    X(icmp_drop_truncated, "icmp.drop.truncated")                   \
    X(icmp_drop_bad_checksum, "icmp.drop.bad_checksum")             \
    X(icmp_error_suppressed, "icmp.error_suppressed")               \
    X(icmp_error_rate_limited, "icmp.error_rate_limited")           \
    X(udp_rx_datagrams, "udp.rx_datagrams")                         \
    X(udp_rx_bytes, "udp.rx_bytes")                                 \
    X(udp_drop_truncated, "udp.drop.truncated")                     \
    X(udp_drop_bad_length, "udp.drop.bad_length")                   \
    X(udp_drop_bad_checksum, "udp.drop.bad_checksum")               \
    X(udp_drop_no_port, "udp.drop.no_port")                         \
    X(tcp_rx_segments, "tcp.rx_segments")                           \
    X(tcp_tx_segments, "tcp.tx_segments")                           \
    X(tcp_rx_bytes, "tcp.rx_bytes")                                 \
    X(tcp_tx_bytes, "tcp.tx_bytes")                                 \
    X(tcp_rx_payload_bytes, "tcp.rx_payload_bytes")                 \
    X(tcp_tx_payload_bytes, "tcp.tx_payload_bytes")                 \
    X(tcp_tx_tso_packets, "tcp.tx_tso_packets")                     \
    X(tcp_active_opens, "tcp.active_opens")                         \
    X(tcp_passive_opens, "tcp.passive_opens")                       \
    X(tcp_established, "tcp.established")                           \
    X(tcp_tx_resets, "tcp.tx_resets")                               \
    X(tcp_rx_resets, "tcp.rx_resets")                               \
    X(tcp_retransmits, "tcp.retransmits")                           \
    X(tcp_retransmit_rto, "tcp.retransmit.rto")                     \
    X(tcp_retransmit_fast, "tcp.retransmit.fast")                   \
    X(tcp_retransmit_sack, "tcp.retransmit.sack")                   \
    X(tcp_retransmit_partial_ack, "tcp.retransmit.partial_ack")     \
    X(tcp_retransmit_syn, "tcp.retransmit.syn")                     \
    X(tcp_rto, "tcp.rto")                                           \
    X(tcp_fast_retransmits, "tcp.fast_retransmits")                 \
    X(tcp_sack_recoveries, "tcp.sack_recoveries")                   \
    X(tcp_sack_invalid_blocks, "tcp.sack_invalid_blocks")           \
    X(tcp_idle_restarts, "tcp.idle_restarts")                       \
    X(tcp_orphan_probe_aborts, "tcp.orphan_probe_aborts")           \
    X(tcp_timeouts, "tcp.timeouts")                                 \
    X(tcp_abort_on_data, "tcp.abort_on_data")                       \
    X(tcp_challenge_acks, "tcp.challenge_acks")                     \
    X(tcp_challenge_limited_conn, "tcp.challenge_limited_conn")     \
    X(tcp_challenge_limited_global, "tcp.challenge_limited_global") \
    X(tcp_invalid_acks_limited, "tcp.invalid_acks_limited")         \
    X(tcp_window_probes, "tcp.window_probes")                       \
    X(tcp_keepalive_probes, "tcp.keepalive_probes")                 \
    X(tcp_rx_out_of_order, "tcp.rx_out_of_order")                   \
    X(tcp_drop_out_of_window, "tcp.drop.out_of_window")             \
    X(tcp_drop_paws, "tcp.drop.paws")                               \
    X(tcp_drop_ooo_full, "tcp.drop.ooo_full")                       \
    X(tcp_drop_bad_options, "tcp.drop.bad_options")                 \
    X(tcp_drop_listen_overflow, "tcp.drop.listen_overflow")         \
    X(tcp_syncookies_sent, "tcp.syncookies_sent")                   \
    X(tcp_syncookies_ok, "tcp.syncookies_ok")                       \
    X(tcp_syncookies_failed, "tcp.syncookies_failed")               \
    X(tcp_syncookies_unchecked, "tcp.syncookies_unchecked")         \
    X(tcp_time_wait_evicted, "tcp.time_wait_evicted")               \
    X(tcp_time_wait_reused, "tcp.time_wait_reused")                 \
    X(tcp_drop_no_memory, "tcp.drop.no_memory")                     \
    X(tcp_drop_max_connections, "tcp.drop.max_connections")         \
    X(tcp_drop_mem_budget, "tcp.drop.mem_budget")                   \
    X(tcp_mem_in_use, "tcp.mem_in_use")                             \
    X(tcp_state_syn_sent, "tcp.state.syn_sent")                     \
    X(tcp_state_syn_received, "tcp.state.syn_received")             \
    X(tcp_state_established, "tcp.state.established")               \
    X(tcp_state_fin_wait1, "tcp.state.fin_wait1")                   \
    X(tcp_state_fin_wait2, "tcp.state.fin_wait2")                   \
    X(tcp_state_close_wait, "tcp.state.close_wait")                 \
    X(tcp_state_closing, "tcp.state.closing")                       \
    X(tcp_state_last_ack, "tcp.state.last_ack")                     \
    X(tcp_state_time_wait, "tcp.state.time_wait")                   \
    X(tcp_listeners, "tcp.listeners")                               \
    X(tcp_drop_truncated, "tcp.drop.truncated")                     \
    X(tcp_drop_bad_offset, "tcp.drop.bad_offset")                   \
    X(tcp_drop_bad_checksum, "tcp.drop.bad_checksum")               \
    X(tcp_drop_no_listener, "tcp.drop.no_listener")

struct Stats {
#define TUNSTACK_STATS_FIELD(field, name) std::uint64_t field = 0;
    TUNSTACK_STATS(TUNSTACK_STATS_FIELD)
#undef TUNSTACK_STATS_FIELD

    // Calls fn(name, value) for every counter, in declaration order.
    void visit(function_ref<void(std::string_view, std::uint64_t)> fn) const;
    // The value of the counter called `name`, or -1 if there is none (tests, tools).
    std::int64_t get(std::string_view name) const;
};

}  // namespace stack
