// NewReno congestion control: RFC 5681 slow start and congestion avoidance, with the window reductions
// RFC 6582 (NewReno) and RFC 6675 (SACK recovery) expect. The recovery procedure itself (which segment
// to retransmit, when recovery ends) belongs to the connection; see congestion.hpp for the contract.
//
// Slow start (cwnd < ssthresh): cwnd += min(acked, 2*SMSS) per ACK (RFC 5681 §3.1 eq. 2 with RFC 3465's
// appropriate byte counting, L = 2), never past ssthresh in one step.
// Congestion avoidance: byte counting, RFC 5681 §3.1's recommended method (and RFC 3465 §2.1): once the
// bytes ACKed since the last increase reach cwnd, cwnd += SMSS. That is one SMSS per RTT whatever the
// ACK pattern (delayed or stretch ACKs), unlike the per-ACK SMSS*SMSS/cwnd formula (eq. 3).
// Reductions: ssthresh = max(FlightSize / 2, 2*SMSS) (eq. 4); fast recovery sets cwnd = ssthresh (the
// RFC 6675 §5 form, where "pipe" rather than an inflated cwnd clocks out data), RTO sets cwnd = 1 SMSS.
#pragma once

#include <cstdint>

#include "stack/tcp/congestion.hpp"

namespace stack::tcp {

class NewReno final : public CongestionControl {
public:
    // cwnd starts at initial_window(smss), ssthresh at kInitialSsthresh. smss > 0.
    explicit NewReno(std::uint32_t smss);

    void on_ack(Instant now, std::uint32_t acked_bytes, std::uint32_t bytes_in_flight,
                Duration rtt) override;
    void on_congestion_event(Instant now, std::uint32_t bytes_in_flight) override;
    void on_rto(Instant now, std::uint32_t bytes_in_flight) override;
    void on_recovery_exit(Instant now) override;
    void on_idle_restart(Instant now) override;
    std::uint32_t cwnd() const override { return cwnd_; }
    std::uint32_t ssthresh() const override { return ssthresh_; }
    CcAlgorithm algorithm() const override { return CcAlgorithm::NewReno; }

    std::uint32_t smss() const { return smss_; }

private:
    std::uint32_t smss_;
    std::uint32_t cwnd_;
    std::uint32_t ssthresh_ = kInitialSsthresh;
    std::uint64_t bytes_acked_ = 0;  // congestion-avoidance byte counter (RFC 3465 §2.1)
};

// Shared by both algorithms: the slow-start step (RFC 5681 §3.1 + RFC 3465 L=2), capped at ssthresh.
std::uint32_t slow_start_step(std::uint32_t cwnd, std::uint32_t ssthresh, std::uint32_t acked_bytes,
                              std::uint32_t smss);

}  // namespace stack::tcp
