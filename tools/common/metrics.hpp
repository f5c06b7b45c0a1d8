// Metrics: the daemon's counters as data, and their two presentations, free of I/O (unit-tested in
// tests/tools/metrics_test.cpp).
//
// The source is generic: every layer reports "stat NAME VALUE" lines (Runtime::append_stats, the
// services' ServiceHost::append_stats, and whatever a later layer adds, e.g. tls.*), the same lines
// SIGUSR1 prints. parse_stat_lines() turns them into samples; nothing here knows a particular
// counter, so new counters show up in `tunstack stats` and in Prometheus without changes here.
//
// Counter or gauge, by name (is_gauge): a gauge is a name whose last segment is `active` or ends in
// `_active`, `_in_use`, `_in_flight` or `_current`, or that starts with `tcp.state.` or is
// `tcp.listeners`.
// Everything else is a monotonic counter.
//
// Prometheus names (text exposition format 0.0.4), prefix `tunstack_`, dots become underscores, any
// other character outside [A-Za-z0-9_] becomes `_`, counters end in `_total`. Dotted names of these
// shapes become one family with labels instead:
//   LAYER.drop.REASON      → tunstack_LAYER_drop_total{reason="REASON"}
//   LAYER.tx_drop.REASON   → tunstack_LAYER_tx_drop_total{reason="REASON"}
//   LAYER.failed.REASON, LAYER.X_failed.REASON → tunstack_LAYER_[X_]failed_total{reason="REASON"}
//                            (e.g. tls.handshake_failed.bad_version)
//   tcp.retransmit.CAUSE   → tunstack_tcp_retransmit_total{cause="CAUSE"}
//   tcp.state.STATE        → tunstack_tcp_connections{state="STATE"}              (gauge)
//   svc.KIND.PORT.NAME     → tunstack_svc_NAME[_total]{service="KIND",port="PORT"}
//   impair.DIR.NAME        → tunstack_impair_NAME_total{direction="DIR"}
//   svc.KIND.PORT.status_Nxx → tunstack_svc_responses_total{service,port,code="Nxx"}
//   svc.KIND.PORT.bytes_in/bytes_out → tunstack_svc_{received,sent}_bytes_total{service,port}
//   tcp.mem_in_use         → tunstack_tcp_mem_in_use_bytes                     (gauge, unit last)
//   ip.reasm_bytes_in_use  → tunstack_ip_reasm_in_use_bytes                    (gauge)
// e.g. ip.drop.bad_checksum → tunstack_ip_drop_total{reason="bad_checksum"}, icmp.rx_echo_request →
// tunstack_icmp_rx_echo_request_total. Samples of one family are written together under one HELP
// and one TYPE line, families in order of first appearance, after tunstack_build_info{version}.
// A counter that is the sum of a labelled family (tcp.retransmits = sum of tcp.retransmit.<cause>)
// is left out, so sum() over the family counts each retransmission once. HELP says what the family
// counts (a table of texts, else one derived from the dotted name).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tools {

struct Sample {
    std::string name;  // dotted, e.g. "ip.drop.bad_checksum"
    std::uint64_t value = 0;
};

// Every "stat NAME VALUE" line of `text` (other lines are ignored), in order.
std::vector<Sample> parse_stat_lines(std::string_view text);

bool is_gauge(std::string_view name);

struct PromSeries {
    std::string family;                                       // e.g. "tunstack_ip_drop_total"
    std::vector<std::pair<std::string, std::string>> labels;  // e.g. {"reason", "bad_checksum"}
    bool gauge = false;
    std::string help;  // the dotted name pattern it comes from, e.g. "ip.drop.<reason>"
};
PromSeries prometheus_series(std::string_view name);
// The HELP text of the family `s` belongs to.
std::string prometheus_help(const PromSeries& s);

// The Prometheus text exposition (version 0.0.4) of `samples`.
std::string format_prometheus(const std::vector<Sample>& samples);

// `tunstack stats --json`: one JSON object, dotted names to values, in order.
std::string format_json(const std::vector<Sample>& samples);
// `s` as a JSON string literal (quotes, backslashes and control characters escaped).
std::string json_string(std::string_view s);

// A readable table grouped by layer (the first dotted segment; svc.KIND.PORT for services), names
// aligned and values right-aligned; `nonzero` leaves out counters that are 0.
std::string format_table(const std::vector<Sample>& samples, bool nonzero = false);

}  // namespace tools
