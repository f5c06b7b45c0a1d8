#include "tools/common/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>

namespace tools {

namespace {

std::vector<std::string_view> split_dots(std::string_view name) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = name.find('.', start);
        parts.push_back(name.substr(start, dot == std::string_view::npos ? dot : dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return parts;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A metric-name fragment: [A-Za-z0-9_] kept, everything else '_'.
std::string sanitize(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        out += ok ? c : '_';
    }
    return out;
}

std::string escape_label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

// HELP text escaping (text format 0.0.4): backslash and newline.
std::string escape_help(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string counter_name(std::string base, bool gauge) {
    if (!gauge && !ends_with(base, "_total")) base += "_total";
    return base;
}

}  // namespace

std::vector<Sample> parse_stat_lines(std::string_view text) {
    std::vector<Sample> out;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        // The daemon's log lines may carry a prefix ("tunstackd: stat ..." never; but be lenient
        // about leading spaces).
        while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
        if (line.substr(0, 5) != "stat ") continue;
        line.remove_prefix(5);
        const std::size_t sp = line.find(' ');
        if (sp == std::string_view::npos || sp == 0) continue;
        const std::string_view name = line.substr(0, sp);
        const std::string_view value = line.substr(sp + 1);
        std::uint64_t v = 0;
        auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec != std::errc() || ptr != value.data() + value.size()) continue;
        out.push_back(Sample{std::string(name), v});
    }
    return out;
}

bool is_gauge(std::string_view name) {
    if (name.substr(0, 10) == "tcp.state." || name == "tcp.listeners") return true;
    const std::size_t dot = name.rfind('.');
    const std::string_view last = dot == std::string_view::npos ? name : name.substr(dot + 1);
    return last == "active" || ends_with(last, "_active") || ends_with(last, "_in_use") ||
           ends_with(last, "_in_flight") || ends_with(last, "_current");
}

namespace {
// What each family means, for its HELP line. Keys are the family names; a family not listed gets
// a text derived from its dotted name (help_from_name), so a new counter is still explained.
const std::map<std::string, std::string, std::less<>>& help_texts() {
    static const std::map<std::string, std::string, std::less<>> kTexts = {
        {"tunstack_build_info", "Build information: the tunstack version as a label; always 1"},
        {"tunstack_ip_rx_packets_total", "IPv4 packets received from the device (any validity)"},
        {"tunstack_ip_rx_bytes_total", "Bytes of IPv4 packets received from the device"},
        {"tunstack_ip_tx_packets_total",
         "IPv4 packets handed to the device (a TSO super-packet counts once)"},
        {"tunstack_ip_tx_bytes_total", "Bytes of IPv4 packets handed to the device"},
        {"tunstack_ip_rx_fragments_total", "IPv4 fragments received"},
        {"tunstack_ip_tx_fragments_total", "IPv4 fragments sent (RFC 791 fragmentation)"},
        {"tunstack_ip_reasm_ok_total", "IPv4 datagrams reassembled from fragments"},
        {"tunstack_ip_frag_ok_total", "IPv4 datagrams fragmented for sending"},
        {"tunstack_ip_drop_total", "IPv4 packets dropped on input, by first reason"},
        {"tunstack_ip_tx_drop_total", "IPv4 packets not sent, by reason"},
        {"tunstack_ip_reasm_in_use_bytes", "Bytes held by IPv4 reassembly buffers now"},
        {"tunstack_ip_reasm_datagrams_in_flight", "IPv4 datagrams being reassembled now"},
        {"tunstack_icmp_drop_total", "ICMP messages dropped, by reason"},
        {"tunstack_icmp_error_unmatched_total",
         "ICMP errors about a datagram we sent that no transport claimed"},
        {"tunstack_icmp_rx_echo_request_total", "ICMP echo requests received (ping)"},
        {"tunstack_icmp_rx_echo_reply_total", "ICMP echo replies received"},
        {"tunstack_icmp_rx_dest_unreachable_total", "ICMP destination unreachable received"},
        {"tunstack_icmp_rx_time_exceeded_total", "ICMP time exceeded received"},
        {"tunstack_icmp_rx_source_quench_total", "ICMP source quench received (ignored)"},
        {"tunstack_icmp_rx_redirect_total", "ICMP redirects received (ignored)"},
        {"tunstack_icmp_rx_parameter_problem_total", "ICMP parameter problem received"},
        {"tunstack_icmp_rx_timestamp_total", "ICMP timestamp requests received"},
        {"tunstack_icmp_rx_timestamp_reply_total", "ICMP timestamp replies received"},
        {"tunstack_icmp_rx_other_total", "ICMP messages of other types received"},
        {"tunstack_icmp_rx_bytes_total", "Bytes of ICMP messages received"},
        {"tunstack_icmp_tx_echo_reply_total", "ICMP echo replies sent"},
        {"tunstack_icmp_tx_dest_unreachable_total",
         "ICMP destination unreachable sent (port or protocol unreachable)"},
        {"tunstack_icmp_tx_bytes_total", "Bytes of ICMP messages sent"},
        {"tunstack_udp_rx_datagrams_total", "UDP datagrams received"},
        {"tunstack_udp_rx_bytes_total", "Bytes of UDP datagrams received"},
        {"tunstack_tcp_retransmits_total",
         "TCP segments retransmitted (not exported: the sum of tunstack_tcp_retransmit_total)"},
        {"tunstack_icmp_rx_messages_total", "ICMP messages received (all types)"},
        {"tunstack_icmp_tx_messages_total", "ICMP messages sent (all types)"},
        {"tunstack_icmp_error_suppressed_total",
         "ICMP errors not sent because RFC 1122 forbids them (e.g. about a broadcast)"},
        {"tunstack_icmp_error_rate_limited_total", "ICMP errors not sent by the rate limit"},
        {"tunstack_udp_drop_total",
         "UDP datagrams dropped, by reason (no_port: answered with port unreachable)"},
        {"tunstack_tcp_rx_segments_total", "TCP segments received"},
        {"tunstack_tcp_tx_segments_total", "TCP segments sent (those of TSO super-packets each)"},
        {"tunstack_tcp_rx_bytes_total", "Bytes of TCP segments received, headers included"},
        {"tunstack_tcp_tx_bytes_total", "Bytes of TCP segments sent, headers included"},
        {"tunstack_tcp_rx_payload_bytes_total", "TCP payload bytes received"},
        {"tunstack_tcp_tx_payload_bytes_total", "TCP payload bytes sent, retransmissions included"},
        {"tunstack_tcp_tx_tso_packets_total", "TCP super-packets built for segmentation offload"},
        {"tunstack_tcp_active_opens_total", "TCP connections opened by connect()"},
        {"tunstack_tcp_passive_opens_total", "TCP connections accepted from a listener's SYN"},
        {"tunstack_tcp_established_total", "TCP connections that reached ESTABLISHED"},
        {"tunstack_tcp_tx_resets_total", "TCP resets (RST) sent"},
        {"tunstack_tcp_rx_resets_total", "TCP resets (RST) received and accepted"},
        {"tunstack_tcp_retransmit_total",
         "TCP segments retransmitted, by cause (rto, fast, sack, partial_ack, syn)"},
        {"tunstack_tcp_rto_total", "TCP retransmission timer expiries (RFC 6298)"},
        {"tunstack_tcp_fast_retransmits_total",
         "TCP loss recoveries entered by three duplicate ACKs (RFC 5681)"},
        {"tunstack_tcp_sack_recoveries_total", "TCP loss recoveries driven by SACK (RFC 6675)"},
        {"tunstack_tcp_timeouts_total", "TCP connections ended by the user timeout"},
        {"tunstack_tcp_abort_on_data_total",
         "TCP connections reset because they were closed with unread data"},
        {"tunstack_tcp_challenge_acks_total", "TCP challenge ACKs sent (RFC 5961)"},
        {"tunstack_tcp_challenge_limited_conn_total",
         "TCP challenge ACKs not sent: the connection's limit (one per 500 ms)"},
        {"tunstack_tcp_challenge_limited_global_total",
         "TCP challenge ACKs not sent: the randomised global budget per second (CVE-2016-5696)"},
        {"tunstack_tcp_invalid_acks_limited_total",
         "ACKs for out-of-window or PAWS-failed segments not sent (one per connection per 500 ms)"},
        {"tunstack_tcp_window_probes_total", "TCP zero-window probes sent"},
        {"tunstack_tcp_keepalive_probes_total", "TCP keep-alive probes sent"},
        {"tunstack_tcp_rx_out_of_order_total", "TCP segments received out of order"},
        {"tunstack_tcp_drop_total", "TCP segments dropped, by reason"},
        {"tunstack_tcp_syncookies_sent_total", "SYN cookies sent with a SYN-ACK"},
        {"tunstack_tcp_syncookies_ok_total", "SYN cookies validated by the peer's ACK"},
        {"tunstack_tcp_syncookies_failed_total", "ACKs with an invalid SYN cookie"},
        {"tunstack_tcp_syncookies_unchecked_total",
         "ACKs to a listener that sent no SYN cookie in the last 128 s, reset without a cookie "
         "test"},
        {"tunstack_tcp_time_wait_evicted_total",
         "TIME-WAIT records forgotten early at the --max-time-wait cap"},
        {"tunstack_tcp_time_wait_reused_total",
         "SYNs that reopened a TIME-WAIT 4-tuple (newer timestamp, RFC 6191, or higher sequence)"},
        {"tunstack_tcp_sack_invalid_blocks_total",
         "SACK blocks ignored: beyond SND.MAX, below SND.UNA or impossibly long"},
        {"tunstack_tcp_idle_restarts_total",
         "Congestion windows reset to the initial window after an idle period (RFC 5681 4.1)"},
        {"tunstack_tcp_orphan_probe_aborts_total",
         "Closed connections reset after their zero-window probes ran out (orphan retries)"},
        {"tunstack_tcp_mem_in_use_bytes", "Bytes reserved by TCP connection buffers now"},
        {"tunstack_tcp_connections", "TCP connections in each state now"},
        {"tunstack_tcp_listeners", "TCP listening sockets now"},
        {"tunstack_svc_accepted_total", "Connections a service accepted"},
        {"tunstack_svc_active", "Connections a service is handling now"},
        {"tunstack_svc_closed_total", "Connections a service finished"},
        {"tunstack_svc_errors_total", "Connections a service ended with an error"},
        {"tunstack_svc_received_bytes_total", "Bytes a service read from its clients (plaintext)"},
        {"tunstack_svc_sent_bytes_total", "Bytes a service wrote to its clients (plaintext)"},
        {"tunstack_svc_requests_total", "HTTP requests a service answered"},
        {"tunstack_svc_responses_total", "HTTP responses a service sent, by status class (code)"},
        {"tunstack_svc_timeout_header_total",
         "HTTP connections closed because the request head was not complete in --header-timeout"},
        {"tunstack_svc_timeout_keepalive_total",
         "Idle HTTP keep-alive connections closed at --keepalive-timeout"},
        {"tunstack_svc_timeout_body_total",
         "HTTP connections ended for no body or response progress in --body-timeout"},
        {"tunstack_svc_lingering_total",
         "HTTP closes that lingered (send side shut, input drained) so the reply was delivered"},
        {"tunstack_svc_tests_total", "iperf3 tests started"},
        {"tunstack_svc_tests_done_total", "iperf3 tests that ran to the end and exchanged results"},
        {"tunstack_svc_tests_aborted_total",
         "iperf3 tests ended early (client gone, error, drain)"},
        {"tunstack_svc_streams_total", "iperf3 data streams opened"},
        {"tunstack_svc_busy_total", "iperf3 clients refused because a test was running"},
        {"tunstack_svc_bad_cookie_total", "iperf3 connections with a malformed or unknown cookie"},
        {"tunstack_svc_bad_params_total", "iperf3 parameter messages that were not valid JSON"},
        {"tunstack_svc_refused_params_total",
         "iperf3 tests refused for parameters the server does not support or allow"},
        {"tunstack_svc_bad_message_total", "iperf3 control messages malformed or too long"},
        {"tunstack_svc_timeouts_total", "iperf3 tests ended because a phase passed its deadline"},
        {"tunstack_tls_handshakes_ok_total", "TLS handshakes completed"},
        {"tunstack_tls_handshakes_resumed_total", "TLS handshakes that resumed a session"},
        {"tunstack_tls_handshake_failed_total", "TLS handshakes that failed, by reason"},
        {"tunstack_tls_failed_total", "TLS sessions that failed after the handshake, by reason"},
        {"tunstack_tls_close_notify_sent_total", "TLS close_notify alerts sent"},
        {"tunstack_tls_close_notify_received_total", "TLS close_notify alerts received"},
        {"tunstack_tls_sessions_active", "TLS sessions open now"},
        {"tunstack_tls_sessions_rejected_total", "TLS connections reset at --tls-max-sessions"},
        {"tunstack_tun_rx_packets_total", "Packets read from the TUN device"},
        {"tunstack_tun_tx_packets_total", "Packets written to the TUN device"},
        {"tunstack_tun_tx_full_total", "Writes to the TUN device refused as full (retried)"},
        {"tunstack_tun_tx_errors_total", "Writes to the TUN device that failed"},
        {"tunstack_tun_rx_gso_total", "TCP super-packets read from the TUN device (offload)"},
        {"tunstack_tun_rx_csum_completed_total",
         "Partial checksums completed by the driver (offload)"},
        {"tunstack_tun_rx_bad_vnet_total", "Packets with an unusable virtio_net_hdr dropped"},
        {"tunstack_tun_tx_gso_total", "TCP super-packets written to the TUN device (TSO)"},
        {"tunstack_tun_tx_gso_segments_total", "Segments the written super-packets make"},
    };
    return kTexts;
}

// "ip.rx_fragments" → "ip: rx fragments (counter)": the fallback for a family not in help_texts().
std::string help_from_name(std::string_view pattern, bool gauge) {
    std::string out;
    for (char c : pattern) out += c == '_' ? ' ' : c;
    const std::size_t dot = out.find('.');
    if (dot != std::string::npos) out.replace(dot, 1, ": ");
    return out + (gauge ? " (a gauge: its value now)" : " (a counter since start)");
}

// Counters whose value is the sum of a labelled family's series: left out of the exposition, so a
// sum() over the labelled family is not double-counted (tunstack_tcp_retransmit_total{cause}).
bool is_sum_of_family(std::string_view name) { return name == "tcp.retransmits"; }

std::string series_line(const PromSeries& s, std::uint64_t value) {
    std::string line = s.family;
    if (!s.labels.empty()) {
        line += '{';
        for (std::size_t i = 0; i < s.labels.size(); ++i) {
            if (i > 0) line += ',';
            line += s.labels[i].first + "=\"" + escape_label(s.labels[i].second) + "\"";
        }
        line += '}';
    }
    line += ' ';
    line += std::to_string(value);
    return line;
}
}  // namespace

PromSeries prometheus_series(std::string_view name) {
    PromSeries s;
    s.gauge = is_gauge(name);
    const auto parts = split_dots(name);
    const std::size_t n = parts.size();
    if (n == 3 && (parts[1] == "drop" || parts[1] == "tx_drop" || parts[1] == "failed" ||
                   ends_with(parts[1], "_failed"))) {
        s.family =
            counter_name("tunstack_" + sanitize(parts[0]) + "_" + std::string(parts[1]), s.gauge);
        s.labels = {{"reason", std::string(parts[2])}};
        s.help = std::string(parts[0]) + "." + std::string(parts[1]) + ".<reason>";
    } else if (n == 3 && parts[0] == "tcp" && parts[1] == "retransmit") {
        s.family = counter_name("tunstack_tcp_retransmit", s.gauge);
        s.labels = {{"cause", std::string(parts[2])}};
        s.help = "tcp.retransmit.<cause>";
    } else if (n == 3 && parts[0] == "tcp" && parts[1] == "state") {
        s.family = "tunstack_tcp_connections";
        s.gauge = true;
        s.labels = {{"state", std::string(parts[2])}};
        s.help = "tcp.state.<state> (connections in each TCP state)";
    } else if (n == 4 && parts[0] == "svc") {
        s.labels = {{"service", std::string(parts[1])}, {"port", std::string(parts[2])}};
        const std::string_view leaf = parts[3];
        if (leaf.size() == 10 && leaf.substr(0, 7) == "status_" && leaf.substr(8) == "xx") {
            // status_2xx, status_4xx, ...: one family with the class as the code label.
            s.family = "tunstack_svc_responses_total";
            s.labels.emplace_back("code", std::string(leaf.substr(7)));
        } else if (leaf == "bytes_in" || leaf == "bytes_out") {
            s.family = leaf == "bytes_in" ? "tunstack_svc_received_bytes_total"
                                          : "tunstack_svc_sent_bytes_total";
        } else {
            s.family = counter_name("tunstack_svc_" + sanitize(leaf), s.gauge);
        }
        s.help = "svc.<service>.<port>." + std::string(leaf);
    } else if (n == 3 && parts[0] == "impair") {
        s.family = counter_name("tunstack_impair_" + sanitize(parts[2]), s.gauge);
        s.labels = {{"direction", std::string(parts[1])}};
        s.help = "impair.<direction>." + std::string(parts[2]);
    } else if (name == "tcp.mem_in_use" || name == "ip.reasm_bytes_in_use") {
        // Gauges of bytes: the unit goes last (Prometheus naming).
        s.family = name == "tcp.mem_in_use" ? "tunstack_tcp_mem_in_use_bytes"
                                            : "tunstack_ip_reasm_in_use_bytes";
        s.help = std::string(name);
    } else {
        std::string flat = "tunstack";
        for (auto p : parts) flat += "_" + sanitize(p);
        s.family = counter_name(std::move(flat), s.gauge);
        s.help = std::string(name);
    }
    return s;
}

std::string prometheus_help(const PromSeries& s) {
    const auto& texts = help_texts();
    if (auto it = texts.find(s.family); it != texts.end()) return it->second;
    return help_from_name(s.help, s.gauge);
}

std::string format_prometheus(const std::vector<Sample>& samples) {
    struct Family {
        PromSeries first;
        std::vector<std::string> lines;
    };
    std::vector<std::string> order;
    std::map<std::string, Family> families;
    auto add = [&](const PromSeries& s, std::uint64_t value) {
        auto [it, fresh] = families.try_emplace(s.family);
        if (fresh) {
            order.push_back(s.family);
            it->second.first = s;
        }
        it->second.lines.push_back(series_line(s, value));
    };
    PromSeries build;
    build.family = "tunstack_build_info";
    build.gauge = true;
    build.labels = {{"version", TUNSTACK_VERSION}};
    add(build, 1);
    for (const Sample& smp : samples) {
        if (is_sum_of_family(smp.name)) continue;
        add(prometheus_series(smp.name), smp.value);
    }
    std::string out;
    for (const std::string& name : order) {
        const Family& f = families[name];
        out += "# HELP " + name + " " + escape_help(prometheus_help(f.first)) + "\n";
        out += "# TYPE " + name + (f.first.gauge ? " gauge\n" : " counter\n");
        for (const std::string& l : f.lines) out += l + "\n";
    }
    return out;
}

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string format_json(const std::vector<Sample>& samples) {
    std::string out = "{";
    for (std::size_t i = 0; i < samples.size(); ++i) {
        out += i == 0 ? "\n  " : ",\n  ";
        out += json_string(samples[i].name) + ": " + std::to_string(samples[i].value);
    }
    out += samples.empty() ? "}\n" : "\n}\n";
    return out;
}

std::string format_table(const std::vector<Sample>& samples, bool nonzero) {
    struct Row {
        std::string name, value;
    };
    std::vector<std::string> order;
    std::map<std::string, std::vector<Row>> groups;
    std::size_t name_w = 0, value_w = 0;
    for (const Sample& s : samples) {
        if (nonzero && s.value == 0) continue;
        const auto parts = split_dots(s.name);
        std::size_t take = 1;
        if (parts[0] == "svc" && parts.size() >= 4) take = 3;
        if (parts[0] == "impair" && parts.size() >= 3) take = 2;
        std::string group, rest;
        for (std::size_t i = 0; i < parts.size(); ++i) {
            std::string& dst = i < take ? group : rest;
            if (!dst.empty()) dst += '.';
            dst += parts[i];
        }
        if (rest.empty()) rest = group;
        Row r{rest + (is_gauge(s.name) ? " (now)" : ""), std::to_string(s.value)};
        name_w = std::max(name_w, r.name.size());
        value_w = std::max(value_w, r.value.size());
        auto [it, fresh] = groups.try_emplace(group);
        if (fresh) order.push_back(group);
        it->second.push_back(std::move(r));
    }
    std::string out;
    for (const std::string& g : order) {
        if (!out.empty()) out += '\n';
        out += g + "\n";
        for (const Row& r : groups[g]) {
            out += "  " + r.name + std::string(name_w - r.name.size() + 2, ' ') +
                   std::string(value_w - r.value.size(), ' ') + r.value + "\n";
        }
    }
    return out;
}

}  // namespace tools
