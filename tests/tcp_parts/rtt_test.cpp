// RttEstimator against RFC 6298 sequences computed by hand (§2.1-§2.5, §5.5).
#include "stack/tcp/rtt.hpp"

#include <gtest/gtest.h>

namespace stack::tcp {
namespace {

Duration ms(std::int64_t v) { return Duration::millis(v); }
Duration us(std::int64_t v) { return Duration::micros(v); }

TEST(Rtt, InitialRtoIsOneSecondWithoutSample) {  // §2.1
    RttEstimator r{RttConfig{}};
    EXPECT_FALSE(r.has_sample());
    EXPECT_EQ(r.rto(), Duration::seconds(1));
}

TEST(Rtt, FirstSampleSetsSrttAndHalfVariance) {  // §2.2
    RttEstimator r{RttConfig{}};
    r.on_sample(ms(100));
    EXPECT_TRUE(r.has_sample());
    EXPECT_EQ(r.srtt(), ms(100));
    EXPECT_EQ(r.rttvar(), ms(50));
    EXPECT_EQ(r.rto(), ms(300));  // 100 + max(G, 4*50)
}

TEST(Rtt, SubsequentSamplesUseAlphaEighthBetaQuarter) {  // §2.3
    RttEstimator r{RttConfig{}};
    r.on_sample(ms(100));
    r.on_sample(ms(200));
    // RTTVAR = 3/4*50 + 1/4*|100-200| = 62.5 ms (using the old SRTT); SRTT = 7/8*100 + 1/8*200 = 112.5
    EXPECT_EQ(r.rttvar(), us(62500));
    EXPECT_EQ(r.srtt(), us(112500));
    EXPECT_EQ(r.rto(), us(112500 + 4 * 62500));
    r.on_sample(ms(50));
    // RTTVAR = 3/4*62.5 + 1/4*62.5 = 62.5; SRTT = (7*112.5 + 50)/8 = 104.6875 ms (truncated to us)
    EXPECT_EQ(r.rttvar(), us(62500));
    EXPECT_EQ(r.srtt(), us(104687));
    EXPECT_EQ(r.rto(), us(104687 + 250000));
}

TEST(Rtt, RtoClampedToMinimum) {  // §2.4
    RttEstimator r{RttConfig{}};
    r.on_sample(ms(10));  // 10 + 4*5 = 30 ms < 200 ms
    EXPECT_EQ(r.rto(), ms(200));
}

TEST(Rtt, GranularityFloorsTheVarianceTerm) {  // §2.3: RTO = SRTT + max(G, K*RTTVAR)
    RttConfig cfg;
    cfg.min_rto = Duration::zero();
    cfg.granularity = ms(5);
    RttEstimator r{cfg};
    for (int i = 0; i < 200; ++i) r.on_sample(ms(10));  // RTTVAR decays to 0
    EXPECT_EQ(r.srtt(), ms(10));
    EXPECT_EQ(r.rttvar(), Duration::zero());
    EXPECT_EQ(r.rto(), ms(15));
}

TEST(Rtt, RtoClampedToMaximum) {  // §2.5
    RttEstimator r{RttConfig{}};
    r.on_sample(Duration::seconds(30));  // 30 + 60 = 90 s
    EXPECT_EQ(r.rto(), Duration::seconds(60));
}

TEST(Rtt, BackoffDoublesUntilMaxAndResets) {  // §5.5
    RttEstimator r{RttConfig{}};
    r.on_sample(ms(100));
    EXPECT_EQ(r.rto(), ms(300));
    r.backoff();
    EXPECT_EQ(r.rto(), ms(600));
    r.backoff();
    EXPECT_EQ(r.rto(), ms(1200));
    EXPECT_EQ(r.backoffs(), 2u);
    for (int i = 0; i < 20; ++i) r.backoff();
    EXPECT_EQ(r.rto(), Duration::seconds(60));
    EXPECT_EQ(r.backoffs(), 22u);  // keeps counting at the cap
    r.reset_backoff();
    EXPECT_EQ(r.rto(), ms(300));
}

TEST(Rtt, BackoffAppliesToInitialRto) {  // SYN retransmissions: 1 s, 2 s, 4 s
    RttEstimator r{RttConfig{}};
    r.backoff();
    EXPECT_EQ(r.rto(), Duration::seconds(2));
    r.backoff();
    EXPECT_EQ(r.rto(), Duration::seconds(4));
}

TEST(Rtt, NewSampleClearsBackoff) {  // Karn: a valid sample recomputes RTO (§5.7 note, RFC 6298 §3)
    RttEstimator r{RttConfig{}};
    r.on_sample(ms(100));
    r.backoff();
    r.backoff();
    r.on_sample(ms(100));
    EXPECT_EQ(r.backoffs(), 0u);
    EXPECT_EQ(r.rto(), us(100000 + 4 * 37500));  // RTTVAR = 3/4*50 + 0 = 37.5 ms
}

TEST(Rtt, NegativeSampleIgnored) {
    RttEstimator r{RttConfig{}};
    r.on_sample(ms(-5));
    EXPECT_FALSE(r.has_sample());
}

TEST(Rtt, RtoNeverBelowMinEvenWithLargeBackoffOfZeroRtt) {
    RttConfig cfg;
    cfg.min_rto = ms(200);
    RttEstimator r{cfg};
    r.on_sample(Duration::zero());  // 0 + max(1 ms, 0) = 1 ms -> 200 ms
    EXPECT_EQ(r.rto(), ms(200));
    r.backoff();
    EXPECT_EQ(r.rto(), ms(400));
}

}  // namespace
}  // namespace stack::tcp
