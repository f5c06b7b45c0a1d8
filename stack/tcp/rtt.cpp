#include "stack/tcp/rtt.hpp"

#include <algorithm>
#include <limits>

namespace stack::tcp {

RttEstimator::RttEstimator(const RttConfig& config) : config_(config) {}

void RttEstimator::on_sample(Duration rtt) {
    if (rtt < Duration::zero()) return;
    if (!has_sample_) {
        // §2.2: SRTT <- R, RTTVAR <- R/2.
        srtt_ = rtt;
        rttvar_ = rtt / 2;
        has_sample_ = true;
    } else {
        // §2.3, in this order (RTTVAR uses the old SRTT):
        //   RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|,  beta = 1/4
        //   SRTT <- (1 - alpha) * SRTT + alpha * R',              alpha = 1/8
        const Duration err = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
        rttvar_ = (rttvar_ * 3 + err) / 4;
        srtt_ = (srtt_ * 7 + rtt) / 8;
    }
    backoffs_ = 0;
}

Duration RttEstimator::rto() const {
    // §2.2/§2.3: RTO <- SRTT + max(G, K*RTTVAR), K = 4.
    Duration base =
        has_sample_ ? srtt_ + std::max(config_.granularity, rttvar_ * 4) : config_.initial_rto;
    if (!has_sample_ && syn_fallback_) base = std::max(base, Duration::seconds(3));  // §5.7
    base = std::max(base, config_.min_rto);                                          // §2.4
    // §5.5: one doubling per backoff; stops once at the maximum (or if a zero config made it 0).
    for (unsigned i = 0; i < backoffs_ && base < config_.max_rto && base > Duration::zero(); ++i) {
        base = base * 2;
    }
    return std::min(base, config_.max_rto);  // §2.5
}

void RttEstimator::backoff() {
    // Keeps counting past max_rto (callers may count retransmissions with it); only saturates.
    if (backoffs_ != std::numeric_limits<unsigned>::max()) ++backoffs_;
}

}  // namespace stack::tcp
