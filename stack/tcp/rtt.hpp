// RttEstimator: the retransmission timer's round-trip estimate and timeout, RFC 6298.
//
// Contract with the connection:
//   - feed on_sample() only with RTTs of segments that were not retransmitted (Karn's algorithm, RFC 6298
//     §3); with timestamps (RFC 7323 §4) every ACK that advances SND.UNA may give a sample;
//   - call backoff() when the retransmission timer expires (§5.5), reset_backoff() if the connection
//     wants to drop the backoff without a new sample; a valid sample also clears the backoff (§5.7's
//     "RTO is recomputed" after Karn: the next timer uses the freshly computed RTO);
//   - rto() is the value to arm the timer with (§5.1, §5.3).
// All arithmetic is integer microseconds; the §2.3 gains are exact shifts (alpha = 1/8, beta = 1/4).
#pragma once

#include "stack/base/time.hpp"

namespace stack::tcp {

struct RttConfig {
    // RFC 6298 §2.4 says 1 s; like Linux we default lower (200 ms), which §2.4 allows as a local choice.
    Duration min_rto = Duration::millis(200);
    // §2.5: a maximum of at least 60 s may be placed on RTO.
    Duration max_rto = Duration::seconds(60);
    // §2.1: until a sample exists RTO is 1 s (RFC 6298 changed this from 3 s).
    Duration initial_rto = Duration::seconds(1);
    // G, the clock granularity of §2.2/§2.3: the floor for the variance term.
    Duration granularity = Duration::millis(1);
};

class RttEstimator {
public:
    explicit RttEstimator(const RttConfig& config);

    // Takes one measurement R (§2.2 first sample, §2.3 later ones). Negative samples are ignored. Clears
    // the backoff.
    void on_sample(Duration rtt);

    // The current RTO: SRTT + max(G, 4*RTTVAR) (or initial_rto before any sample), doubled once per
    // backoff(), clamped to [min_rto, max_rto].
    Duration rto() const;

    // §5.5: the timer expired, double the RTO (the value saturates at max_rto; backoffs() keeps
    // counting).
    void backoff();
    void reset_backoff() { backoffs_ = 0; }
    // §5.7: the SYN (or SYN-ACK) timed out and no sample was taken: until the first sample, RTO is at
    // least 3 s once data transmission begins.
    void syn_timed_out() { syn_fallback_ = true; }

    bool has_sample() const { return has_sample_; }
    Duration srtt() const { return srtt_; }      // zero before the first sample
    Duration rttvar() const { return rttvar_; }  // zero before the first sample
    unsigned backoffs() const { return backoffs_; }
    const RttConfig& config() const { return config_; }

private:
    RttConfig config_;
    Duration srtt_;
    Duration rttvar_;
    unsigned backoffs_ = 0;
    bool has_sample_ = false;
    bool syn_fallback_ = false;
};

}  // namespace stack::tcp
