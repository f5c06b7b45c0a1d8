// CUBIC congestion control, RFC 9438, in bytes on the outside and segments (double) inside, as the RFC's
// formulas are written in segments.
//
//   W_cubic(t) = C*(t - K)^3 + W_max                                  (§4.2 eq. 1, C = 0.4)
//   K = cbrt((W_max - cwnd_epoch) / C)                                (§4.2 eq. 2)
//   W_est += alpha_cubic * segments_acked / cwnd                      (§4.3 eq. 4)
//   alpha_cubic = 3*(1 - beta)/(1 + beta), 1 once W_est >= cwnd_prior (§4.3)
// t is measured from the start of the congestion-avoidance epoch using the `now` the caller passes in:
// the epoch starts at the first on_ack() in congestion avoidance after a reduction (or at the first one
// ever), so time spent in recovery or slow start does not count.
// Per ACK in congestion avoidance (§4.4-§4.5): if W_cubic(t) < W_est the Reno-friendly region sets
// cwnd = W_est; otherwise target = W_cubic(t + RTT) clamped to [cwnd, 1.5*cwnd] and
// cwnd += (target - cwnd)/cwnd per SMSS acknowledged (the RFC's per-ACK step scaled by the segments this
// ACK covers, so delayed ACKs do not halve the growth). RTT is the latest sample passed in (the last
// non-zero one is remembered); with none yet, t + 0 is used.
// Congestion event (§4.6, §4.7): W_max = cwnd, or cwnd*(1+beta)/2 if cwnd < the previous W_max (fast
// convergence); cwnd_prior = cwnd; ssthresh = max(FlightSize*beta, 2*SMSS); cwnd = ssthresh.
// RTO (§4.8): ssthresh as in §4.6, cwnd = 1 SMSS, epoch reset; the next epoch uses K = 0 and W_max =
// cwnd at its start.
// Slow start below ssthresh is Reno's (RFC 5681 §3.1 with RFC 3465 L = 2); no HyStart.
#pragma once

#include <cstdint>

#include "stack/tcp/congestion.hpp"

namespace stack::tcp {

class Cubic final : public CongestionControl {
public:
    static constexpr double kC = 0.4;                                      // §5.1
    static constexpr double kBeta = 0.7;                                   // §4.6 beta_cubic
    static constexpr double kAlpha = 3.0 * (1.0 - kBeta) / (1.0 + kBeta);  // §4.3

    // cwnd starts at initial_window(smss), ssthresh at kInitialSsthresh. smss > 0.
    explicit Cubic(std::uint32_t smss);

    void on_ack(Instant now, std::uint32_t acked_bytes, std::uint32_t bytes_in_flight,
                Duration rtt) override;
    void on_congestion_event(Instant now, std::uint32_t bytes_in_flight) override;
    void on_rto(Instant now, std::uint32_t bytes_in_flight) override;
    void on_recovery_exit(Instant now) override;
    void on_idle_restart(Instant now) override;
    std::uint32_t cwnd() const override;
    std::uint32_t ssthresh() const override { return ssthresh_; }
    CcAlgorithm algorithm() const override { return CcAlgorithm::Cubic; }

    // Introspection, in segments / seconds (for tests and stats).
    double w_max() const { return w_max_; }
    double k() const { return k_; }
    double w_est() const { return w_est_; }
    bool in_epoch() const { return epoch_valid_; }
    // W_cubic(t) for t seconds after the current epoch start (eq. 1), in segments.
    double w_cubic(double t) const;

private:
    void start_epoch(Instant now);

    std::uint32_t smss_;
    double cwnd_;  // bytes, fractional so that small per-ACK increments accumulate
    std::uint32_t ssthresh_ = kInitialSsthresh;
    double w_max_ = 0;       // segments
    double cwnd_prior_ = 0;  // segments, cwnd when ssthresh was last set
    double w_est_ = 0;       // segments
    double k_ = 0;           // seconds
    Instant epoch_start_;
    bool epoch_valid_ = false;
    bool after_rto_ = false;
    Duration last_rtt_;
};

}  // namespace stack::tcp
