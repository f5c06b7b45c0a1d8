// NewReno (RFC 5681, RFC 3465, RFC 6582) and CUBIC (RFC 9438) driven by simulated ACK clocks: `now`
// advances by exact amounts, no real time is involved.
#include "stack/tcp/congestion.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "stack/tcp/cubic.hpp"
#include "stack/tcp/newreno.hpp"

namespace stack::tcp {
namespace {

constexpr std::uint32_t kSmss = 1460;

// One RTT of ACK clock: one ACK per SMSS of the window at the start of the round, evenly spaced.
void run_rtt(CongestionControl& cc, Instant& now, Duration rtt) {
    const std::uint32_t n = std::max<std::uint32_t>(1, cc.cwnd() / kSmss);
    for (std::uint32_t i = 0; i < n; ++i) {
        now += rtt / n;
        cc.on_ack(now, kSmss, cc.cwnd(), rtt);
    }
}

// Slow start from the initial window until cwnd reaches `segments` SMSS.
void grow_to(CongestionControl& cc, Instant& now, std::uint32_t segments) {
    while (cc.cwnd() < segments * kSmss) cc.on_ack(now, kSmss, cc.cwnd(), Duration::millis(100));
    ASSERT_EQ(cc.cwnd(), segments * kSmss);
}

TEST(NewRenoFactory, ParseAndNameAlgorithms) {
    EXPECT_EQ(parse_cc("cubic"), CcAlgorithm::Cubic);
    EXPECT_EQ(parse_cc("NewReno"), CcAlgorithm::NewReno);
    EXPECT_EQ(parse_cc("reno"), CcAlgorithm::NewReno);
    EXPECT_EQ(parse_cc("bbr"), std::nullopt);
    EXPECT_EQ(parse_cc(""), std::nullopt);
    EXPECT_EQ(to_string(CcAlgorithm::Cubic), "cubic");
    EXPECT_EQ(to_string(CcAlgorithm::NewReno), "newreno");
    EXPECT_EQ(make_congestion_control(CcAlgorithm::Cubic, kSmss)->algorithm(), CcAlgorithm::Cubic);
    EXPECT_EQ(make_congestion_control(CcAlgorithm::NewReno, kSmss)->algorithm(),
              CcAlgorithm::NewReno);
}

TEST(NewReno, InitialWindowPerRfc6928) {
    EXPECT_EQ(initial_window(1460), 14600u);  // 10 segments
    EXPECT_EQ(initial_window(536), 5360u);    // 10 segments (10*SMSS is the smaller)
    EXPECT_EQ(initial_window(9000), 18000u);  // max(2*SMSS, 14600) = 18000
    NewReno cc(kSmss);
    EXPECT_EQ(cc.cwnd(), 14600u);
    EXPECT_EQ(cc.ssthresh(), kInitialSsthresh);
}

TEST(NewReno, SlowStartGrowsPerAckWithByteCountingLimitTwoSmss) {  // RFC 5681 §3.1, RFC 3465 L=2
    NewReno cc(kSmss);
    const Instant now;
    cc.on_ack(now, kSmss, 0, Duration::zero());
    EXPECT_EQ(cc.cwnd(), 11 * kSmss);
    cc.on_ack(now, 100, 0, Duration::zero());  // a partial segment counts its bytes
    EXPECT_EQ(cc.cwnd(), 11 * kSmss + 100);
    cc.on_ack(now, 5 * kSmss, 0, Duration::zero());  // a stretch ACK: at most 2*SMSS
    EXPECT_EQ(cc.cwnd(), 13 * kSmss + 100);
}

TEST(NewReno, SlowStartDoublesPerRtt) {
    NewReno cc(kSmss);
    Instant now;
    run_rtt(cc, now, Duration::millis(50));
    EXPECT_EQ(cc.cwnd(), 20 * kSmss);
    run_rtt(cc, now, Duration::millis(50));
    EXPECT_EQ(cc.cwnd(), 40 * kSmss);
}

TEST(NewReno, CongestionAvoidanceAddsOneSmssPerRtt) {  // RFC 5681 §3.1 byte counting
    NewReno cc(kSmss);
    Instant now;
    cc.on_congestion_event(now, 40 * kSmss);  // ssthresh = cwnd = 20 segments
    ASSERT_EQ(cc.cwnd(), 20 * kSmss);
    for (std::uint32_t rtt = 1; rtt <= 10; ++rtt) {
        run_rtt(cc, now, Duration::millis(50));
        EXPECT_EQ(cc.cwnd(), (20 + rtt) * kSmss);
    }
}

TEST(NewReno, CongestionAvoidanceWithDelayedAcksStillOneSmssPerRtt) {
    NewReno cc(kSmss);
    const Instant now;
    cc.on_congestion_event(now, 40 * kSmss);
    for (int i = 0; i < 10; ++i)
        cc.on_ack(now, 2 * kSmss, 0, Duration::zero());  // 20 segments ACKed
    EXPECT_EQ(cc.cwnd(), 21 * kSmss);
}

TEST(NewReno, SsthreshAfterCongestionEventIsHalfFlightSize) {  // RFC 5681 eq. 4
    NewReno cc(kSmss);
    const Instant now;
    cc.on_congestion_event(now, 100000);
    EXPECT_EQ(cc.ssthresh(), 50000u);
    EXPECT_EQ(cc.cwnd(), 50000u);
    cc.on_congestion_event(now, 1000);  // floor of 2*SMSS
    EXPECT_EQ(cc.ssthresh(), 2 * kSmss);
    cc.on_recovery_exit(now);  // RFC 6582 §3.2 step 3
    EXPECT_EQ(cc.cwnd(), cc.ssthresh());
}

TEST(NewReno, RtoSetsLossWindowThenSlowStartsToSsthresh) {  // RFC 5681 §3.1
    NewReno cc(kSmss);
    const Instant now;
    cc.on_rto(now, 30 * kSmss);
    EXPECT_EQ(cc.cwnd(), kSmss);
    EXPECT_EQ(cc.ssthresh(), 15 * kSmss);
    for (int i = 0; i < 14; ++i) cc.on_ack(now, kSmss, 0, Duration::zero());
    EXPECT_EQ(cc.cwnd(), 15 * kSmss);
    cc.on_ack(now, 2 * kSmss, 0, Duration::zero());  // now congestion avoidance: no per-ACK jump
    EXPECT_EQ(cc.cwnd(), 15 * kSmss);
}

TEST(NewReno, SlowStartStopsAtSsthresh) {
    NewReno cc(kSmss);
    const Instant now;
    cc.on_rto(now, 5 * kSmss);  // ssthresh 2.5 segments
    cc.on_ack(now, 2 * kSmss, 0, Duration::zero());
    EXPECT_EQ(cc.cwnd(), 5 * kSmss / 2);
}

TEST(NewReno, IdleRestartLimitsToInitialWindow) {  // RFC 5681 §4.1
    NewReno cc(kSmss);
    Instant now;
    run_rtt(cc, now, Duration::millis(10));
    run_rtt(cc, now, Duration::millis(10));
    cc.on_idle_restart(now);
    EXPECT_EQ(cc.cwnd(), initial_window(kSmss));
}

// ---- CUBIC -----------------------------------------------------------------------------------------

TEST(Cubic, SlowStartIsReno) {
    Cubic cc(kSmss);
    Instant now;
    EXPECT_EQ(cc.cwnd(), 10 * kSmss);
    run_rtt(cc, now, Duration::millis(50));
    EXPECT_EQ(cc.cwnd(), 20 * kSmss);
}

TEST(Cubic, LossReducesToBetaTimesWmax) {  // RFC 9438 §4.6
    Cubic cc(kSmss);
    Instant now;
    grow_to(cc, now, 100);
    cc.on_congestion_event(now, cc.cwnd());
    EXPECT_EQ(cc.cwnd(), 70 * kSmss);
    EXPECT_EQ(cc.ssthresh(), 70 * kSmss);
    EXPECT_DOUBLE_EQ(cc.w_max(), 100.0);
}

// After a loss at W_max = 1000 segments with RTT 100 ms the window grows concavely back to W_max around
// K = cbrt((1000 - 700) / 0.4) = 9.09 s, flattens there, then grows convexly beyond (RFC 9438 §4.4-4.5).
// (With W_max this large the Reno-friendly estimate, ~0.53 segments per RTT, stays below the curve.)
TEST(Cubic, ConcaveRecoveryToWmaxThenConvexProbing) {
    Cubic cc(kSmss);
    Instant now;
    grow_to(cc, now, 1000);
    cc.on_congestion_event(now, cc.cwnd());
    cc.on_recovery_exit(now);
    ASSERT_EQ(cc.cwnd(), 700 * kSmss);
    const Duration rtt = Duration::millis(100);
    const double rtt_s = 0.1;
    const Instant loss = now;
    std::vector<double> t;
    std::vector<double> w;
    for (int i = 0; i < 180; ++i) {
        const double before = cc.cwnd();
        run_rtt(cc, now, rtt);
        t.push_back(static_cast<double>((now - loss).as_micros()) / 1e6);
        w.push_back(static_cast<double>(cc.cwnd()) / kSmss);
        EXPECT_GE(cc.cwnd(), before);                // never shrinks without loss
        EXPECT_LE(cc.cwnd(), before * 1.5 + kSmss);  // §4.4: target at most 1.5*cwnd
    }
    EXPECT_NEAR(cc.k(), std::cbrt(750.0), 1e-9);
    EXPECT_GT(cc.w_cubic(t.back()), cc.w_est());  // the cubic curve governed this run
    // Concave: big steps at first, tiny ones as cwnd nears W_max.
    EXPECT_GT(w[1] - w[0], 5.0);
    std::size_t at_k = 0;
    while (t[at_k] < cc.k()) ++at_k;
    EXPECT_NEAR(w[at_k], 1000.0, 2.0);
    EXPECT_LT(w[at_k] - w[at_k - 1], 1.0);
    for (std::size_t i = 0; i + 2 < at_k; ++i) EXPECT_LE(w[i], 1000.0) << "round " << i;
    // Convex: steps grow again well past K (dW/dt = 3*C*(t-K)^2, about 9.5 segments per RTT at t=2K).
    EXPECT_GT(w.back() - w[w.size() - 2], 8.0);
    EXPECT_GT(w.back(), 1250.0);
    // Each round ends on the curve: between W_cubic one RTT back and one RTT ahead.
    for (std::size_t i = 1; i < w.size(); ++i) {
        EXPECT_GE(w[i], cc.w_cubic(t[i] - rtt_s) - 1.0) << "round " << i;
        EXPECT_LE(w[i], cc.w_cubic(t[i] + rtt_s) + 1.0) << "round " << i;
    }
}

TEST(Cubic, FastConvergenceLowersWmax) {  // RFC 9438 §4.7
    Cubic cc(kSmss);
    Instant now;
    grow_to(cc, now, 100);
    cc.on_congestion_event(now, cc.cwnd());
    cc.on_recovery_exit(now);
    while (cc.cwnd() < 80 * kSmss) run_rtt(cc, now, Duration::millis(100));
    const double w = static_cast<double>(cc.cwnd()) / kSmss;
    ASSERT_LT(w, 100.0);
    cc.on_congestion_event(now, cc.cwnd());
    EXPECT_NEAR(cc.w_max(), w * (1.0 + 0.7) / 2.0, 1e-3);  // w is the truncated cwnd
    EXPECT_LT(cc.w_max(), w);
}

TEST(Cubic, NoFastConvergenceAboveWmax) {
    Cubic cc(kSmss);
    Instant now;
    grow_to(cc, now, 100);
    cc.on_congestion_event(now, cc.cwnd());
    cc.on_recovery_exit(now);
    while (cc.cwnd() < 105 * kSmss) run_rtt(cc, now, Duration::millis(100));
    const double w = static_cast<double>(cc.cwnd()) / kSmss;
    cc.on_congestion_event(now, cc.cwnd());
    EXPECT_NEAR(cc.w_max(), w, 1e-3);
}

// With a 1 ms RTT Reno would grow far faster in wall-clock time than the cubic curve: the Reno-friendly
// estimate (§4.3) dominates.
TEST(Cubic, RenoFriendlyRegionDominatesForShortRtt) {
    Cubic cc(kSmss);
    Instant now;
    grow_to(cc, now, 100);
    cc.on_congestion_event(now, cc.cwnd());
    cc.on_recovery_exit(now);
    const Instant loss = now;
    for (int i = 0; i < 300; ++i) run_rtt(cc, now, Duration::millis(1));
    const double t = static_cast<double>((now - loss).as_micros()) / 1e6;
    const double w = static_cast<double>(cc.cwnd()) / kSmss;
    EXPECT_LT(cc.w_cubic(t), 100.0);  // still on the concave side of the curve
    EXPECT_NEAR(w, cc.w_est(), 1.0);
    // alpha 0.53 per RTT until W_est reaches cwnd_prior = 100 (57 RTTs), then 1 per RTT.
    EXPECT_GT(w, 300.0);
    EXPECT_LT(w, 370.0);
}

TEST(Cubic, RtoResetsToOneSegmentAndRestartsEpochWithKZero) {  // RFC 9438 §4.8
    Cubic cc(kSmss);
    Instant now;
    grow_to(cc, now, 100);
    cc.on_rto(now, 100 * kSmss);
    EXPECT_EQ(cc.cwnd(), kSmss);
    EXPECT_EQ(cc.ssthresh(), 70 * kSmss);
    EXPECT_FALSE(cc.in_epoch());
    while (cc.cwnd() < cc.ssthresh())
        cc.on_ack(now, kSmss, 0, Duration::millis(100));  // slow start
    now += Duration::millis(100);
    cc.on_ack(now, kSmss, 0, Duration::millis(100));
    EXPECT_TRUE(cc.in_epoch());
    EXPECT_EQ(cc.k(), 0.0);
    EXPECT_DOUBLE_EQ(cc.w_max(), 70.0);
}

TEST(Cubic, SsthreshFloorIsTwoSegments) {
    Cubic cc(kSmss);
    const Instant now;
    cc.on_congestion_event(now, kSmss);
    EXPECT_EQ(cc.ssthresh(), 2 * kSmss);
    EXPECT_EQ(cc.cwnd(), 2 * kSmss);
}

TEST(Cubic, TimeComesOnlyFromNow) {
    // Two instances fed the same ACK sequence end identical: no hidden clock.
    Cubic a(kSmss);
    Cubic b(kSmss);
    Instant ta;
    Instant tb;
    for (Cubic* cc : {&a, &b}) {
        Instant& now = cc == &a ? ta : tb;
        grow_to(*cc, now, 50);
        cc->on_congestion_event(now, cc->cwnd());
        cc->on_recovery_exit(now);
        for (int i = 0; i < 30; ++i) run_rtt(*cc, now, Duration::millis(40));
    }
    EXPECT_EQ(a.cwnd(), b.cwnd());
}

}  // namespace
}  // namespace stack::tcp
