// The counters' exported names are a contract (the daemon's `stat NAME VALUE` lines, the Prometheus
// names of tools/common/metrics.cpp, the integration tests): the per-layer structs of stack/stats.hpp
// must export exactly these names, in this order, each once, and get() must find each one's own field.
#include "stack/stats.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace stack {
namespace {

// Every name Stats::visit() reports, in order (the list of the flat Stats before the per-layer split).
const std::vector<std::string> kNames = {
    "ip.rx_packets",
    "ip.rx_bytes",
    "ip.tx_packets",
    "ip.tx_bytes",
    "ip.rx_fragments",
    "ip.tx_fragments",
    "ip.reasm_ok",
    "ip.frag_ok",
    "ip.drop.empty",
    "ip.drop.ipv6",
    "ip.drop.bad_version",
    "ip.drop.truncated",
    "ip.drop.bad_ihl",
    "ip.drop.bad_total_length",
    "ip.drop.bad_checksum",
    "ip.drop.bad_source",
    "ip.drop.not_for_us",
    "ip.drop.unknown_protocol",
    "ip.drop.frag_overlap",
    "ip.drop.frag_inconsistent",
    "ip.drop.frag_duplicate",
    "ip.drop.frag_too_big",
    "ip.drop.frag_timeout",
    "ip.drop.frag_evicted",
    "ip.drop.frag_no_memory",
    "ip.tx_drop.df_too_big",
    "ip.tx_drop.queue_full",
    "ip.reasm_bytes_in_use",
    "ip.reasm_datagrams_in_flight",
    "icmp.rx_echo_request",
    "icmp.rx_echo_reply",
    "icmp.rx_dest_unreachable",
    "icmp.rx_time_exceeded",
    "icmp.rx_source_quench",
    "icmp.rx_redirect",
    "icmp.rx_parameter_problem",
    "icmp.rx_timestamp",
    "icmp.rx_timestamp_reply",
    "icmp.rx_other",
    "icmp.rx_messages",
    "icmp.rx_bytes",
    "icmp.tx_echo_reply",
    "icmp.tx_dest_unreachable",
    "icmp.tx_messages",
    "icmp.tx_bytes",
    "icmp.drop.truncated",
    "icmp.drop.bad_checksum",
    "icmp.drop.bad_quote",
    "icmp.error_unmatched",
    "icmp.error_suppressed",
    "icmp.error_rate_limited",
    "udp.rx_datagrams",
    "udp.rx_bytes",
    "udp.drop.truncated",
    "udp.drop.bad_length",
    "udp.drop.bad_checksum",
    "udp.drop.no_port",
    "tcp.rx_segments",
    "tcp.tx_segments",
    "tcp.rx_bytes",
    "tcp.tx_bytes",
    "tcp.rx_payload_bytes",
    "tcp.tx_payload_bytes",
    "tcp.tx_tso_packets",
    "tcp.active_opens",
    "tcp.passive_opens",
    "tcp.established",
    "tcp.tx_resets",
    "tcp.rx_resets",
    "tcp.retransmits",
    "tcp.retransmit.rto",
    "tcp.retransmit.fast",
    "tcp.retransmit.sack",
    "tcp.retransmit.partial_ack",
    "tcp.retransmit.syn",
    "tcp.rto",
    "tcp.fast_retransmits",
    "tcp.sack_recoveries",
    "tcp.sack_invalid_blocks",
    "tcp.idle_restarts",
    "tcp.orphan_probe_aborts",
    "tcp.timeouts",
    "tcp.abort_on_data",
    "tcp.challenge_acks",
    "tcp.challenge_limited_conn",
    "tcp.challenge_limited_global",
    "tcp.invalid_acks_limited",
    "tcp.window_probes",
    "tcp.keepalive_probes",
    "tcp.rx_out_of_order",
    "tcp.drop.out_of_window",
    "tcp.drop.paws",
    "tcp.drop.ooo_full",
    "tcp.drop.bad_options",
    "tcp.drop.listen_overflow",
    "tcp.syncookies_sent",
    "tcp.syncookies_ok",
    "tcp.syncookies_failed",
    "tcp.syncookies_unchecked",
    "tcp.time_wait_evicted",
    "tcp.time_wait_reused",
    "tcp.drop.no_memory",
    "tcp.drop.max_connections",
    "tcp.drop.mem_budget",
    "tcp.mem_in_use",
    "tcp.state.syn_sent",
    "tcp.state.syn_received",
    "tcp.state.established",
    "tcp.state.fin_wait1",
    "tcp.state.fin_wait2",
    "tcp.state.close_wait",
    "tcp.state.closing",
    "tcp.state.last_ack",
    "tcp.state.time_wait",
    "tcp.listeners",
    "tcp.drop.truncated",
    "tcp.drop.bad_offset",
    "tcp.drop.bad_checksum",
    "tcp.drop.no_listener",
};

std::vector<std::string> visited_names(const Stats& s) {
    std::vector<std::string> out;
    s.visit([&](std::string_view name, std::uint64_t) { out.emplace_back(name); });
    return out;
}

// Sets every counter of every layer to a distinct value, 1, 2, 3, ... in list order.
Stats numbered() {
    Stats s;
    std::uint64_t n = 0;
#define TUNSTACK_TEST_IP(field, name) s.ip.field = ++n;
#define TUNSTACK_TEST_ICMP(field, name) s.icmp.field = ++n;
#define TUNSTACK_TEST_UDP(field, name) s.udp.field = ++n;
#define TUNSTACK_TEST_TCP(field, name) s.tcp.field = ++n;
    TUNSTACK_IP_STATS(TUNSTACK_TEST_IP)
    TUNSTACK_ICMP_STATS(TUNSTACK_TEST_ICMP)
    TUNSTACK_UDP_STATS(TUNSTACK_TEST_UDP)
    TUNSTACK_TCP_STATS(TUNSTACK_TEST_TCP)
#undef TUNSTACK_TEST_TCP
#undef TUNSTACK_TEST_UDP
#undef TUNSTACK_TEST_ICMP
#undef TUNSTACK_TEST_IP
    return s;
}

// Each struct holds its listed counters and nothing else (a field outside the list would be neither
// exported nor reset by the list).
#define TUNSTACK_TEST_COUNT(field, name) +1
static_assert(sizeof(IpStats) ==
              (0 TUNSTACK_IP_STATS(TUNSTACK_TEST_COUNT)) * sizeof(std::uint64_t));
static_assert(sizeof(IcmpStats) ==
              (0 TUNSTACK_ICMP_STATS(TUNSTACK_TEST_COUNT)) * sizeof(std::uint64_t));
static_assert(sizeof(UdpStats) ==
              (0 TUNSTACK_UDP_STATS(TUNSTACK_TEST_COUNT)) * sizeof(std::uint64_t));
static_assert(sizeof(TcpStats) ==
              (0 TUNSTACK_TCP_STATS(TUNSTACK_TEST_COUNT)) * sizeof(std::uint64_t));
#undef TUNSTACK_TEST_COUNT
static_assert(sizeof(Stats) ==
              sizeof(IpStats) + sizeof(IcmpStats) + sizeof(UdpStats) + sizeof(TcpStats));

TEST(Stats, VisitReportsExactlyTheExportedNamesInOrder) {
    EXPECT_EQ(visited_names(Stats{}), kNames);
    EXPECT_EQ(std::set<std::string>(kNames.begin(), kNames.end()).size(), kNames.size())
        << "a name is exported twice";
}

TEST(Stats, EachLayerExportsOnlyItsOwnNamesAndTheyFollowOneAnother) {
    Stats s;
    std::vector<std::string> all;
    auto layer = [&](std::string_view prefix, auto& stats) {
        stats.visit([&](std::string_view name, std::uint64_t) {
            EXPECT_EQ(name.substr(0, prefix.size()), prefix) << name;
            all.emplace_back(name);
        });
    };
    layer("ip.", s.ip);
    layer("icmp.", s.icmp);
    layer("udp.", s.udp);
    layer("tcp.", s.tcp);
    EXPECT_EQ(all, kNames);
}

TEST(Stats, StartAtZero) {
    Stats{}.visit([](std::string_view name, std::uint64_t v) { EXPECT_EQ(v, 0u) << name; });
}

TEST(Stats, VisitAndGetReportEachCountersOwnField) {
    const Stats s = numbered();
    std::uint64_t expect = 0;
    s.visit([&](std::string_view name, std::uint64_t v) { EXPECT_EQ(v, ++expect) << name; });
    EXPECT_EQ(expect, kNames.size());
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        EXPECT_EQ(s.get(kNames[i]), static_cast<std::int64_t>(i + 1)) << kNames[i];
    }
    EXPECT_EQ(s.get("tcp.no_such_counter"), -1);
    EXPECT_EQ(s.get(""), -1);
    EXPECT_EQ(s.get("retransmits"), -1);  // a field name is not an exported name
}

TEST(Stats, LayerGetFindsOnlyItsOwnCounters) {
    const Stats s = numbered();
    EXPECT_EQ(s.ip.get("ip.drop.bad_checksum"), static_cast<std::int64_t>(s.ip.drop_bad_checksum));
    EXPECT_EQ(s.ip.get("tcp.retransmits"), -1);
    EXPECT_EQ(s.icmp.get("icmp.error_suppressed"),
              static_cast<std::int64_t>(s.icmp.error_suppressed));
    EXPECT_EQ(s.icmp.get("ip.rx_packets"), -1);
    EXPECT_EQ(s.udp.get("udp.drop.no_port"), static_cast<std::int64_t>(s.udp.drop_no_port));
    EXPECT_EQ(s.udp.get("tcp.drop.bad_checksum"), -1);
    EXPECT_EQ(s.tcp.get("tcp.retransmits"), static_cast<std::int64_t>(s.tcp.retransmits));
    EXPECT_EQ(s.tcp.get("tcp.retransmit.rto"), static_cast<std::int64_t>(s.tcp.retransmit_rto));
    EXPECT_EQ(s.tcp.get("ip.tx_drop.df_too_big"), -1);
    // Fields named without the layer, exported with it.
    EXPECT_EQ(s.get("ip.tx_drop.df_too_big"), static_cast<std::int64_t>(s.ip.tx_drop_df));
    EXPECT_EQ(s.get("tcp.state.time_wait"), static_cast<std::int64_t>(s.tcp.state_time_wait));
}

}  // namespace
}  // namespace stack
