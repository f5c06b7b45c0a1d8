// The TLS counters' exported names are a contract like the stack's (tests/base/stats_test.cpp): the
// `stat tls.*` lines of tunstackd, their Prometheus families, the integration tests.
#include "tls/stats.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tls {
namespace {

// Every name TlsStats::visit() reports, in order (what Counters::append_stats printed before).
const std::vector<std::string> kNames = {
    "tls.handshakes_ok",
    "tls.handshakes_resumed",
    "tls.close_notify_sent",
    "tls.close_notify_received",
    "tls.sessions_active",
    "tls.sessions_rejected",
    "tls.handshake_failed.no_shared_cipher",
    "tls.handshake_failed.bad_version",
    "tls.handshake_failed.alert_received",
    "tls.handshake_failed.peer_reset",
    "tls.handshake_failed.peer_closed",
    "tls.handshake_failed.timeout",
    "tls.handshake_failed.bad_record",
    "tls.handshake_failed.bad_handshake",
    "tls.handshake_failed.bad_certificate",
    "tls.handshake_failed.no_application_protocol",
    "tls.handshake_failed.internal",
    "tls.failed.no_shared_cipher",
    "tls.failed.bad_version",
    "tls.failed.alert_received",
    "tls.failed.peer_reset",
    "tls.failed.peer_closed",
    "tls.failed.timeout",
    "tls.failed.bad_record",
    "tls.failed.bad_handshake",
    "tls.failed.bad_certificate",
    "tls.failed.no_application_protocol",
    "tls.failed.internal",
};

TEST(TlsStats, VisitReportsExactlyTheExportedNamesInOrder) {
    std::vector<std::string> names;
    TlsStats{}.visit([&](std::string_view name, std::uint64_t v) {
        names.emplace_back(name);
        EXPECT_EQ(v, 0u) << name;
    });
    EXPECT_EQ(names, kNames);
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
}

TEST(TlsStats, VisitAndGetReportEachCountersOwnField) {
    TlsStats s;
    std::uint64_t n = 0;
#define TUNSTACK_TEST_SET(field, name) s.field = ++n;
    TUNSTACK_TLS_STATS(TUNSTACK_TEST_SET)
#undef TUNSTACK_TEST_SET
    for (auto& v : s.handshake_failed) v = ++n;
    for (auto& v : s.failed) v = ++n;
    std::uint64_t expect = 0;
    s.visit([&](std::string_view name, std::uint64_t v) { EXPECT_EQ(v, ++expect) << name; });
    EXPECT_EQ(expect, kNames.size());
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        EXPECT_EQ(s.get(kNames[i]), static_cast<std::int64_t>(i + 1)) << kNames[i];
    }
    EXPECT_EQ(s.get("tls.sessions_active"), static_cast<std::int64_t>(s.sessions_active));
    EXPECT_EQ(s.get("tls.failed.peer_closed"),
              static_cast<std::int64_t>(s.failed[static_cast<std::size_t>(Reason::PeerClosed)]));
    EXPECT_EQ(s.get("tls.failed"), -1);
    EXPECT_EQ(s.get("tls.failed.no_such_reason"), -1);
    EXPECT_EQ(s.get("tcp.retransmits"), -1);
}

}  // namespace
}  // namespace tls
