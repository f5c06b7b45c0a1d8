// The counters' presentations (tools/common/metrics.hpp): parsing "stat NAME VALUE" lines, counter
// vs gauge, Prometheus names and labels, the exposition text and the table; and the logger's levels
// and rate limiting (tools/common/log.hpp).
#include "tools/common/metrics.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <set>
#include <string>

#include "stack/stack.hpp"
#include "tools/common/log.hpp"

namespace tools {
namespace {

TEST(Metrics, ParsesStatLinesAndIgnoresTheRest) {
    const auto s = parse_stat_lines(
        "tunstackd: stats\nstat ip.rx_packets 12\nstat  bad\nstat x.y notanumber\n"
        "stat svc.http.80.active 3\r\nnoise\nstat tls.handshakes_ok 18446744073709551615\n");
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0].name, "ip.rx_packets");
    EXPECT_EQ(s[0].value, 12u);
    EXPECT_EQ(s[1].name, "svc.http.80.active");
    EXPECT_EQ(s[1].value, 3u);
    EXPECT_EQ(s[2].name, "tls.handshakes_ok");
    EXPECT_EQ(s[2].value, 18446744073709551615u);
}

TEST(Metrics, GaugesByName) {
    for (const char* g : {"ip.reasm_bytes_in_use", "ip.reasm_datagrams_in_flight", "tcp.mem_in_use",
                          "tcp.state.established", "tcp.listeners", "svc.echo.7.active",
                          "tls.sessions_current", "tls.sessions_active"}) {
        EXPECT_TRUE(is_gauge(g)) << g;
    }
    for (const char* c :
         {"ip.rx_packets", "tcp.drop.max_connections", "svc.echo.7.accepted", "tcp.retransmit.rto",
          "tls.handshakes_failed.bad_cert", "tcp.established", "tls.sessions_rejected"}) {
        EXPECT_FALSE(is_gauge(c)) << c;
    }
}

TEST(Metrics, PrometheusNamesAndLabels) {
    auto s = prometheus_series("ip.drop.bad_checksum");
    EXPECT_EQ(s.family, "tunstack_ip_drop_total");
    ASSERT_EQ(s.labels.size(), 1u);
    EXPECT_EQ(s.labels[0], (std::pair<std::string, std::string>{"reason", "bad_checksum"}));
    EXPECT_EQ(prometheus_series("ip.tx_drop.df_too_big").family, "tunstack_ip_tx_drop_total");
    EXPECT_EQ(prometheus_series("icmp.rx_echo_request").family,
              "tunstack_icmp_rx_echo_request_total");
    EXPECT_TRUE(prometheus_series("icmp.rx_echo_request").labels.empty());
    s = prometheus_series("tcp.retransmit.rto");
    EXPECT_EQ(s.family, "tunstack_tcp_retransmit_total");
    EXPECT_EQ(s.labels[0].first, "cause");
    s = prometheus_series("tcp.state.time_wait");
    EXPECT_EQ(s.family, "tunstack_tcp_connections");
    EXPECT_TRUE(s.gauge);
    EXPECT_EQ(s.labels[0].second, "time_wait");
    // Issue 11: the status classes are one family with a code label (was one family per class,
    // tunstack_svc_status_2xx_total, ...), so sum by (code) and rate() work across classes.
    s = prometheus_series("svc.http.80.status_2xx");
    EXPECT_EQ(s.family, "tunstack_svc_responses_total");
    ASSERT_EQ(s.labels.size(), 3u);
    EXPECT_EQ(s.labels[0].second, "http");
    EXPECT_EQ(s.labels[1].second, "80");
    EXPECT_EQ(s.labels[2], (std::pair<std::string, std::string>{"code", "2xx"}));
    EXPECT_EQ(prometheus_series("svc.https.443.status_5xx").labels[2].second, "5xx");
    // Units last (Prometheus naming): bytes.
    EXPECT_EQ(prometheus_series("svc.http.80.bytes_in").family,
              "tunstack_svc_received_bytes_total");
    EXPECT_EQ(prometheus_series("svc.http.80.bytes_out").family, "tunstack_svc_sent_bytes_total");
    s = prometheus_series("tcp.mem_in_use");
    EXPECT_EQ(s.family, "tunstack_tcp_mem_in_use_bytes");
    EXPECT_TRUE(s.gauge);
    EXPECT_EQ(prometheus_series("ip.rx_bytes").family, "tunstack_ip_rx_bytes_total");
    EXPECT_EQ(prometheus_series("svc.http.80.active").family, "tunstack_svc_active");
    EXPECT_EQ(prometheus_series("impair.rx.dropped").family, "tunstack_impair_dropped_total");
    EXPECT_EQ(prometheus_series("ip.reasm_bytes_in_use").family, "tunstack_ip_reasm_in_use_bytes");
    // Names another layer may add later: always a valid metric name.
    EXPECT_EQ(prometheus_series("tls.handshakes-ok").family, "tunstack_tls_handshakes_ok_total");
    EXPECT_EQ(prometheus_series("tls.x_total").family, "tunstack_tls_x_total");
    s = prometheus_series("tls.failed.peer_closed");
    EXPECT_EQ(s.family, "tunstack_tls_failed_total");
    EXPECT_EQ(s.labels[0], (std::pair<std::string, std::string>{"reason", "peer_closed"}));
    EXPECT_EQ(prometheus_series("tls.handshake_failed.timeout").family,
              "tunstack_tls_handshake_failed_total");
}

// Every name the stack exports maps to a valid, unique Prometheus series, and the exposition
// follows the text format's grammar: HELP and TYPE once per family, before its samples, families
// contiguous.
TEST(Metrics, ExpositionOfEveryStackCounterIsWellFormed) {
    stack::Stats st;
    std::vector<Sample> samples;
    st.visit([&](std::string_view name, std::uint64_t v) {
        samples.push_back({std::string(name), v});
    });
    samples.push_back({"svc.http.80.requests", 5});
    samples.push_back({"svc.http.80.active", 1});
    samples.push_back({"svc.echo.7.requests", 0});
    samples.push_back({"tls.handshakes_failed.bad_cert", 2});
    samples.push_back({"tls.x.y.z", 3});
    const std::string text = format_prometheus(samples);
    const std::regex name_re("[a-zA-Z_:][a-zA-Z0-9_:]*");
    const std::regex sample_re(
        R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*",?)+\})? [0-9]+)");
    std::set<std::string> seen_families, seen_series;
    std::string current;
    std::size_t n_samples = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        ASSERT_NE(nl, std::string::npos) << "no final newline";
        const std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.rfind("# HELP ", 0) == 0) {
            const std::string fam = line.substr(7, line.find(' ', 7) - 7);
            ASSERT_TRUE(std::regex_match(fam, name_re)) << line;
            ASSERT_TRUE(seen_families.insert(fam).second) << "family twice: " << fam;
            current = fam;
            continue;
        }
        if (line.rfind("# TYPE ", 0) == 0) {
            EXPECT_TRUE(line == "# TYPE " + current + " counter" ||
                        line == "# TYPE " + current + " gauge")
                << line;
            if (current.size() > 6 && current.substr(current.size() - 6) == "_total") {
                EXPECT_EQ(line, "# TYPE " + current + " counter")
                    << "a _total family must be a counter";
            }
            continue;
        }
        std::smatch m;
        ASSERT_TRUE(std::regex_match(line, m, sample_re)) << line;
        EXPECT_EQ(m[1].str(), current) << "sample outside its family: " << line;
        const std::string series = line.substr(0, line.rfind(' '));
        EXPECT_TRUE(seen_series.insert(series).second) << "series twice: " << series;
        ++n_samples;
    }
    // Every sample but tcp.retransmits (the sum of tunstack_tcp_retransmit_total{cause}), plus
    // tunstack_build_info.
    EXPECT_EQ(n_samples, samples.size() - 1 + 1);
    EXPECT_NE(text.find("tunstack_ip_drop_total{reason=\"bad_checksum\"} 0\n"), std::string::npos);
    EXPECT_NE(text.find("tunstack_svc_requests_total{service=\"http\",port=\"80\"} 5\n"),
              std::string::npos);
    EXPECT_NE(text.find("# TYPE tunstack_tcp_connections gauge\n"), std::string::npos);
    // X_failed.REASON is labelled like a drop; other shapes stay flat (and valid).
    EXPECT_NE(text.find("tunstack_tls_handshakes_failed_total{reason=\"bad_cert\"} 2\n"),
              std::string::npos);
    EXPECT_NE(text.find("tunstack_tls_x_y_z_total 3\n"), std::string::npos);
}

TEST(Metrics, TableGroupsByLayerAndAligns) {
    const std::vector<Sample> s = {{"ip.rx_packets", 12},       {"ip.drop.bad_checksum", 0},
                                   {"icmp.rx_echo_request", 3}, {"svc.http.80.accepted", 1000},
                                   {"svc.http.80.active", 2},   {"tcp.state.established", 1}};
    const std::string t = format_table(s);
    EXPECT_EQ(t,
              "ip\n"
              "  rx_packets                 12\n"
              "  drop.bad_checksum           0\n"
              "\n"
              "icmp\n"
              "  rx_echo_request             3\n"
              "\n"
              "svc.http.80\n"
              "  accepted                 1000\n"
              "  active (now)                2\n"
              "\n"
              "tcp\n"
              "  state.established (now)     1\n");
    const std::string nz = format_table(s, /*nonzero=*/true);
    EXPECT_EQ(nz.find("bad_checksum"), std::string::npos);
    EXPECT_NE(nz.find("rx_packets"), std::string::npos);
}

TEST(Logger, LevelsAndFormat) {
    Logger log("tunstackd", LogLevel::Warn);
    EXPECT_TRUE(log.enabled(LogLevel::Error));
    EXPECT_TRUE(log.enabled(LogLevel::Warn));
    EXPECT_FALSE(log.enabled(LogLevel::Info));
    EXPECT_EQ(log.format(LogLevel::Error, "x"), "tunstackd: error: x\n");
    EXPECT_EQ(log.format(LogLevel::Warn, "x"), "tunstackd: warning: x\n");
    EXPECT_EQ(log.format(LogLevel::Info, "ready: a\nb"), "tunstackd: ready: a b\n");
    EXPECT_EQ(log.format(LogLevel::Debug, "x"), "tunstackd: debug: x\n");
    EXPECT_EQ(parse_log_level("debug"), LogLevel::Debug);
    EXPECT_EQ(parse_log_level("warn"), LogLevel::Warn);
    EXPECT_FALSE(parse_log_level("verbose").has_value());
}

TEST(Logger, RateLimitsPerKindWithATokenBucket) {
    Logger log("t", LogLevel::Debug);  // what passes is printed to the test's stderr
    log.set_rate(/*per_sec=*/2, /*burst=*/3);
    const stack::Instant t0 = stack::Instant::from_millis(1000);
    int printed = 0;
    for (int i = 0; i < 100; ++i)
        printed += log.limited(t0, LogLevel::Debug, "syn", "drop") ? 1 : 0;
    EXPECT_EQ(printed, 3);  // the burst
    EXPECT_EQ(log.suppressed_total(), 97u);
    // Another kind has its own bucket.
    EXPECT_TRUE(log.limited(t0, LogLevel::Debug, "other", "x"));
    // Half a second refills one token (2 per second).
    EXPECT_TRUE(log.limited(t0 + stack::Duration::millis(500), LogLevel::Debug, "syn", "drop"));
    EXPECT_FALSE(log.limited(t0 + stack::Duration::millis(500), LogLevel::Debug, "syn", "drop"));
    // Disabled levels are neither printed nor counted.
    log.set_level(LogLevel::Error);
    EXPECT_FALSE(log.limited(t0 + stack::Duration::seconds(10), LogLevel::Debug, "syn", "drop"));
    EXPECT_EQ(log.suppressed_total(), 98u);
}

// What the daemon's debug log relies on (test_ops_stats.sh checks only wall-clock-free facts): the
// first message of a kind after suppressions carries their count, once; the bucket refills at
// per_sec up to burst, in injected time.
TEST(Logger, SuppressedCountRidesOnTheNextPrintedMessage) {
    Logger log("t", LogLevel::Debug);
    log.set_rate(/*per_sec=*/1, /*burst=*/2);
    const stack::Instant t0 = stack::Instant::from_millis(5000);
    testing::internal::CaptureStderr();
    EXPECT_TRUE(log.limited(t0, LogLevel::Debug, "k", "a"));
    EXPECT_TRUE(log.limited(t0, LogLevel::Debug, "k", "b"));
    for (int i = 0; i < 7; ++i) EXPECT_FALSE(log.limited(t0, LogLevel::Debug, "k", "c"));
    // 999 ms: not yet a whole token.
    EXPECT_FALSE(log.limited(t0 + stack::Duration::millis(999), LogLevel::Debug, "k", "d"));
    EXPECT_TRUE(log.limited(t0 + stack::Duration::millis(1500), LogLevel::Debug, "k", "e"));
    EXPECT_FALSE(log.limited(t0 + stack::Duration::millis(1500), LogLevel::Debug, "k", "f"));
    // A long pause refills only up to the burst.
    const stack::Instant t1 = t0 + stack::Duration::seconds(100);
    EXPECT_TRUE(log.limited(t1, LogLevel::Debug, "k", "g"));
    EXPECT_TRUE(log.limited(t1, LogLevel::Debug, "k", "h"));
    EXPECT_FALSE(log.limited(t1, LogLevel::Debug, "k", "i"));
    EXPECT_TRUE(log.limited(t1 + stack::Duration::seconds(1), LogLevel::Debug, "k", "j"));
    EXPECT_EQ(testing::internal::GetCapturedStderr(),
              "t: debug: a\n"
              "t: debug: b\n"
              "t: debug: e (8 similar messages suppressed)\n"
              "t: debug: g (1 similar message suppressed)\n"
              "t: debug: h\n"
              "t: debug: j (1 similar message suppressed)\n");
    EXPECT_EQ(log.suppressed_total(), 10u);
}

// Issue 11: HELP explains each family (a text written for it, not the name again), every family the
// stack, the services and TLS export has one; a build_info gauge; no family that only sums another.
TEST(Metrics, HelpExplainsEveryExportedFamily) {
    stack::Stats st;
    std::vector<Sample> samples;
    st.visit([&](std::string_view name, std::uint64_t v) {
        samples.push_back({std::string(name), v});
    });
    for (const char* n : {"accepted", "active", "closed", "errors", "bytes_in", "bytes_out",
                          "requests", "status_2xx", "status_4xx", "status_5xx"}) {
        samples.push_back({std::string("svc.http.80.") + n, 1});
    }
    for (const char* n :
         {"tls.handshakes_ok", "tls.handshakes_resumed", "tls.close_notify_sent",
          "tls.close_notify_received", "tls.sessions_active", "tls.sessions_rejected",
          "tls.handshake_failed.timeout", "tls.failed.peer_closed", "tun.rx_packets",
          "tun.tx_packets", "tun.tx_full", "tun.tx_errors", "tun.rx_gso", "tun.rx_csum_completed",
          "tun.rx_bad_vnet", "tun.tx_gso", "tun.tx_gso_segments"}) {
        samples.push_back({n, 1});
    }
    std::set<std::string> families;
    for (const Sample& smp : samples) {
        const PromSeries s = prometheus_series(smp.name);
        const std::string help = prometheus_help(s);
        EXPECT_EQ(help.find("(a counter since start)"), std::string::npos)
            << smp.name << " → " << s.family << " has only the generic HELP: " << help;
        EXPECT_EQ(help.find("(a gauge: its value now)"), std::string::npos)
            << smp.name << " → " << s.family << " has only the generic HELP: " << help;
        families.insert(s.family);
    }
    const std::string text = format_prometheus(samples);
    for (const std::string& f : families) {
        if (f == "tunstack_tcp_retransmits_total") continue;
        EXPECT_NE(text.find("# HELP " + f + " "), std::string::npos) << f;
    }
    EXPECT_EQ(text.find("tunstack_tcp_retransmits_total"), std::string::npos)
        << "the sum of tunstack_tcp_retransmit_total{cause} is exported twice";
    EXPECT_EQ(text.rfind("# HELP tunstack_build_info ", 0), 0u) << text.substr(0, 200);
    EXPECT_NE(text.find("# TYPE tunstack_build_info gauge\ntunstack_build_info{version=\"" +
                        std::string(TUNSTACK_VERSION) + "\"} 1\n"),
              std::string::npos);
    EXPECT_NE(
        text.find("tunstack_svc_responses_total{service=\"http\",port=\"80\",code=\"4xx\"} 1\n"),
        std::string::npos);
    // A name nobody described yet still gets a readable HELP.
    EXPECT_EQ(prometheus_help(prometheus_series("foo.rx_widgets")),
              "foo: rx widgets (a counter since start)");
}

// Issue 11: not under journald the daemon's lines start with the UTC time, RFC 3339 with ms.
TEST(Logger, TimestampsAreRfc3339UtcWithMilliseconds) {
    EXPECT_EQ(Logger::format_timestamp(0), "1970-01-01T00:00:00.000Z ");
    EXPECT_EQ(Logger::format_timestamp(1'796'280'601'123'456), "2026-12-03T06:50:01.123Z ");
    Logger log("t", LogLevel::Info);
    EXPECT_FALSE(log.timestamps());
    log.set_timestamps(true);
    if (std::getenv("JOURNAL_STREAM") == nullptr) {
        EXPECT_TRUE(log.timestamps());
    }
    EXPECT_EQ(log.format(LogLevel::Info, "x"), "t: x\n");  // format() has neither prefix
}

TEST(Metrics, JsonIsOneObjectOfNamesToValues) {
    EXPECT_EQ(format_json({}), "{}\n");
    EXPECT_EQ(format_json({{"ip.rx_packets", 12}, {"svc.http.80.active", 3}}),
              "{\n  \"ip.rx_packets\": 12,\n  \"svc.http.80.active\": 3\n}\n");
    EXPECT_EQ(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
}

}  // namespace
}  // namespace tools
