// Stats: every counter the stack keeps, one plain uint64 per counter (no locks, no atomics: a Stack is
// single-threaded), in one struct per layer: IpStats (Stack's input checks, ip::Ipv4Output,
// ip::Reassembler), IcmpStats (ip::Icmp), UdpStats (Stack's UDP input), TcpStats (tcp::TcpLayer and its
// Connections). Each layer is handed only its own struct; Stats aggregates them (stats.ip.rx_packets,
// stats.tcp.retransmits) for Stack::stats(). TLS keeps its own, tls::TlsStats (tls/stats.hpp).
//
// One X-macro list per layer is the single source of each field and its exported name: the field is
// the name without its layer (tcp.retransmit.rto -> TcpStats::retransmit_rto), the exported name
// carries the layer, so the daemon's `stat NAME VALUE` output, the Prometheus names and the structs
// never drift apart. visit() reports every counter in list order, Stats::visit() the layers in the
// order ip, icmp, udp, tcp; tests/base/stats_test.cpp holds the full list of names as the contract.
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

// Called with each counter's exported name and value.
using StatsVisitor = function_ref<void(std::string_view, std::uint64_t)>;

#define TUNSTACK_IP_STATS(X)                               \
    X(rx_packets, "ip.rx_packets")                         \
    X(rx_bytes, "ip.rx_bytes")                             \
    X(tx_packets, "ip.tx_packets")                         \
    X(tx_bytes, "ip.tx_bytes")                             \
    X(rx_fragments, "ip.rx_fragments")                     \
    X(tx_fragments, "ip.tx_fragments")                     \
    X(reasm_ok, "ip.reasm_ok")                             \
    X(frag_ok, "ip.frag_ok")                               \
    X(drop_empty, "ip.drop.empty")                         \
    X(drop_ipv6, "ip.drop.ipv6")                           \
    X(drop_bad_version, "ip.drop.bad_version")             \
    X(drop_truncated, "ip.drop.truncated")                 \
    X(drop_bad_ihl, "ip.drop.bad_ihl")                     \
    X(drop_bad_total_length, "ip.drop.bad_total_length")   \
    X(drop_bad_checksum, "ip.drop.bad_checksum")           \
    X(drop_bad_source, "ip.drop.bad_source")               \
    X(drop_not_for_us, "ip.drop.not_for_us")               \
    X(drop_unknown_protocol, "ip.drop.unknown_protocol")   \
    X(drop_frag_overlap, "ip.drop.frag_overlap")           \
    X(drop_frag_inconsistent, "ip.drop.frag_inconsistent") \
    X(drop_frag_duplicate, "ip.drop.frag_duplicate")       \
    X(drop_frag_too_big, "ip.drop.frag_too_big")           \
    X(drop_frag_timeout, "ip.drop.frag_timeout")           \
    X(drop_frag_evicted, "ip.drop.frag_evicted")           \
    X(drop_frag_no_memory, "ip.drop.frag_no_memory")       \
    X(tx_drop_df, "ip.tx_drop.df_too_big")                 \
    X(tx_drop_queue_full, "ip.tx_drop.queue_full")         \
    X(reasm_bytes_in_use, "ip.reasm_bytes_in_use")         \
    X(reasm_datagrams_in_flight, "ip.reasm_datagrams_in_flight")

#define TUNSTACK_ICMP_STATS(X)                           \
    X(rx_echo_request, "icmp.rx_echo_request")           \
    X(rx_echo_reply, "icmp.rx_echo_reply")               \
    X(rx_dest_unreachable, "icmp.rx_dest_unreachable")   \
    X(rx_time_exceeded, "icmp.rx_time_exceeded")         \
    X(rx_source_quench, "icmp.rx_source_quench")         \
    X(rx_redirect, "icmp.rx_redirect")                   \
    X(rx_parameter_problem, "icmp.rx_parameter_problem") \
    X(rx_timestamp, "icmp.rx_timestamp")                 \
    X(rx_timestamp_reply, "icmp.rx_timestamp_reply")     \
    X(rx_other, "icmp.rx_other")                         \
    X(rx_messages, "icmp.rx_messages")                   \
    X(rx_bytes, "icmp.rx_bytes")                         \
    X(tx_echo_reply, "icmp.tx_echo_reply")               \
    X(tx_dest_unreachable, "icmp.tx_dest_unreachable")   \
    X(tx_messages, "icmp.tx_messages")                   \
    X(tx_bytes, "icmp.tx_bytes")                         \
    X(drop_truncated, "icmp.drop.truncated")             \
    X(drop_bad_checksum, "icmp.drop.bad_checksum")       \
    X(drop_bad_quote, "icmp.drop.bad_quote")             \
    X(error_unmatched, "icmp.error_unmatched")           \
    X(error_suppressed, "icmp.error_suppressed")         \
    X(error_rate_limited, "icmp.error_rate_limited")

#define TUNSTACK_UDP_STATS(X)                     \
    X(rx_datagrams, "udp.rx_datagrams")           \
    X(rx_bytes, "udp.rx_bytes")                   \
    X(drop_truncated, "udp.drop.truncated")       \
    X(drop_bad_length, "udp.drop.bad_length")     \
    X(drop_bad_checksum, "udp.drop.bad_checksum") \
    X(drop_no_port, "udp.drop.no_port")

#define TUNSTACK_TCP_STATS(X)                                   \
    X(rx_segments, "tcp.rx_segments")                           \
    X(tx_segments, "tcp.tx_segments")                           \
    X(rx_bytes, "tcp.rx_bytes")                                 \
    X(tx_bytes, "tcp.tx_bytes")                                 \
    X(rx_payload_bytes, "tcp.rx_payload_bytes")                 \
    X(tx_payload_bytes, "tcp.tx_payload_bytes")                 \
    X(tx_tso_packets, "tcp.tx_tso_packets")                     \
    X(active_opens, "tcp.active_opens")                         \
    X(passive_opens, "tcp.passive_opens")                       \
    X(established, "tcp.established")                           \
    X(tx_resets, "tcp.tx_resets")                               \
    X(rx_resets, "tcp.rx_resets")                               \
    X(retransmits, "tcp.retransmits")                           \
    X(retransmit_rto, "tcp.retransmit.rto")                     \
    X(retransmit_fast, "tcp.retransmit.fast")                   \
    X(retransmit_sack, "tcp.retransmit.sack")                   \
    X(retransmit_partial_ack, "tcp.retransmit.partial_ack")     \
    X(retransmit_syn, "tcp.retransmit.syn")                     \
    X(rto, "tcp.rto")                                           \
    X(fast_retransmits, "tcp.fast_retransmits")                 \
    X(sack_recoveries, "tcp.sack_recoveries")                   \
    X(sack_invalid_blocks, "tcp.sack_invalid_blocks")           \
    X(idle_restarts, "tcp.idle_restarts")                       \
    X(orphan_probe_aborts, "tcp.orphan_probe_aborts")           \
    X(timeouts, "tcp.timeouts")                                 \
    X(abort_on_data, "tcp.abort_on_data")                       \
    X(challenge_acks, "tcp.challenge_acks")                     \
    X(challenge_limited_conn, "tcp.challenge_limited_conn")     \
    X(challenge_limited_global, "tcp.challenge_limited_global") \
    X(invalid_acks_limited, "tcp.invalid_acks_limited")         \
    X(window_probes, "tcp.window_probes")                       \
    X(keepalive_probes, "tcp.keepalive_probes")                 \
    X(rx_out_of_order, "tcp.rx_out_of_order")                   \
    X(drop_out_of_window, "tcp.drop.out_of_window")             \
    X(drop_paws, "tcp.drop.paws")                               \
    X(drop_ooo_full, "tcp.drop.ooo_full")                       \
    X(drop_bad_options, "tcp.drop.bad_options")                 \
    X(drop_listen_overflow, "tcp.drop.listen_overflow")         \
    X(syncookies_sent, "tcp.syncookies_sent")                   \
    X(syncookies_ok, "tcp.syncookies_ok")                       \
    X(syncookies_failed, "tcp.syncookies_failed")               \
    X(syncookies_unchecked, "tcp.syncookies_unchecked")         \
    X(time_wait_evicted, "tcp.time_wait_evicted")               \
    X(time_wait_reused, "tcp.time_wait_reused")                 \
    X(drop_no_memory, "tcp.drop.no_memory")                     \
    X(drop_max_connections, "tcp.drop.max_connections")         \
    X(drop_mem_budget, "tcp.drop.mem_budget")                   \
    X(mem_in_use, "tcp.mem_in_use")                             \
    X(state_syn_sent, "tcp.state.syn_sent")                     \
    X(state_syn_received, "tcp.state.syn_received")             \
    X(state_established, "tcp.state.established")               \
    X(state_fin_wait1, "tcp.state.fin_wait1")                   \
    X(state_fin_wait2, "tcp.state.fin_wait2")                   \
    X(state_close_wait, "tcp.state.close_wait")                 \
    X(state_closing, "tcp.state.closing")                       \
    X(state_last_ack, "tcp.state.last_ack")                     \
    X(state_time_wait, "tcp.state.time_wait")                   \
    X(listeners, "tcp.listeners")                               \
    X(drop_truncated, "tcp.drop.truncated")                     \
    X(drop_bad_offset, "tcp.drop.bad_offset")                   \
    X(drop_bad_checksum, "tcp.drop.bad_checksum")               \
    X(drop_no_listener, "tcp.drop.no_listener")

#define TUNSTACK_STATS_FIELD(field, name) std::uint64_t field = 0;

// Each struct: its counters, visit(fn) calling fn(name, value) for every one in list order, and
// get(name), the value of the counter exported as `name` or -1 if this layer has none (tests, tools).
struct IpStats {
    TUNSTACK_IP_STATS(TUNSTACK_STATS_FIELD)
    void visit(StatsVisitor fn) const;
    std::int64_t get(std::string_view name) const;
};

struct IcmpStats {
    TUNSTACK_ICMP_STATS(TUNSTACK_STATS_FIELD)
    void visit(StatsVisitor fn) const;
    std::int64_t get(std::string_view name) const;
};

struct UdpStats {
    TUNSTACK_UDP_STATS(TUNSTACK_STATS_FIELD)
    void visit(StatsVisitor fn) const;
    std::int64_t get(std::string_view name) const;
};

struct TcpStats {
    TUNSTACK_TCP_STATS(TUNSTACK_STATS_FIELD)
    void visit(StatsVisitor fn) const;
    std::int64_t get(std::string_view name) const;
};

#undef TUNSTACK_STATS_FIELD

// The stack's counters, by layer.
struct Stats {
    IpStats ip;
    IcmpStats icmp;
    UdpStats udp;
    TcpStats tcp;

    // Every counter: ip's, icmp's, udp's, then tcp's.
    void visit(StatsVisitor fn) const;
    // The value of the counter called `name`, or -1 if there is none.
    std::int64_t get(std::string_view name) const;
};

}  // namespace stack
