#include "stack/tcp/cubic.hpp"

#include <algorithm>
#include <cmath>

#include "stack/base/assert.hpp"
#include "stack/tcp/newreno.hpp"

namespace stack::tcp {

namespace {
// FlightSize * beta_cubic in exact integer arithmetic (beta_cubic = 7/10), so that a reduction from a
// whole number of segments is exact.
std::uint32_t beta_of(std::uint32_t bytes) {
    static_assert(Cubic::kBeta == 0.7);
    return static_cast<std::uint32_t>(std::uint64_t{bytes} * 7 / 10);
}
}  // namespace

Cubic::Cubic(std::uint32_t smss) : smss_(smss), cwnd_(initial_window(smss)) {
    STACK_ASSERT(smss > 0);
}

std::uint32_t Cubic::cwnd() const { return static_cast<std::uint32_t>(cwnd_); }

double Cubic::w_cubic(double t) const {
    const double d = t - k_;
    return kC * d * d * d + w_max_;
}

void Cubic::start_epoch(Instant now) {
    epoch_valid_ = true;
    epoch_start_ = now;
    const double cwnd_epoch = cwnd_ / smss_;
    if (after_rto_ || w_max_ <= cwnd_epoch) {
        // §4.8 (first epoch after a timeout) and the no-loss-yet / already-above-W_max case: the curve's
        // plateau is where we are, K = 0, and growth is convex from here.
        w_max_ = cwnd_epoch;
        k_ = 0;
    } else {
        k_ = std::cbrt((w_max_ - cwnd_epoch) / kC);  // §4.2 eq. 2
    }
    after_rto_ = false;
    w_est_ = cwnd_epoch;  // §4.3: W_est starts at cwnd_epoch
}

void Cubic::on_ack(Instant now, std::uint32_t acked_bytes, std::uint32_t, Duration rtt) {
    if (rtt > Duration::zero()) last_rtt_ = rtt;
    if (acked_bytes == 0) return;
    if (cwnd_ < ssthresh_) {
        // Slow start as Reno (§4.10 leaves slow start to RFC 5681 unless HyStart++ is used).
        cwnd_ = slow_start_step(cwnd(), ssthresh_, acked_bytes, smss_);
        return;
    }
    if (!epoch_valid_) start_epoch(now);

    const double segs_acked = static_cast<double>(acked_bytes) / smss_;
    const double w = cwnd_ / smss_;
    const double t = static_cast<double>((now - epoch_start_).as_micros()) / 1e6;

    // §4.3 Reno-friendly estimate; alpha becomes 1 once W_est reaches cwnd_prior.
    const double alpha = w_est_ >= cwnd_prior_ ? 1.0 : kAlpha;
    w_est_ += alpha * segs_acked / w;

    double next;
    if (w_cubic(t) < w_est_) {
        next = std::max(w, w_est_);  // §4.3 Reno-friendly region
    } else {
        // §4.4 concave / §4.5 convex region: aim for W_cubic one RTT ahead, within [cwnd, 1.5*cwnd].
        const double rtt_s = static_cast<double>(last_rtt_.as_micros()) / 1e6;
        const double target = std::clamp(w_cubic(t + rtt_s), w, 1.5 * w);
        next = w + (target - w) / w * segs_acked;
    }
    cwnd_ = std::min(next * smss_, static_cast<double>(kMaxCwnd));
}

void Cubic::on_congestion_event(Instant, std::uint32_t bytes_in_flight) {
    const double w = cwnd_ / smss_;
    // §4.7 fast convergence: a loss before regaining the previous W_max means a new flow is competing.
    w_max_ = w < w_max_ ? w * (1.0 + kBeta) / 2.0 : w;
    cwnd_prior_ = w;
    // §4.6: ssthresh = FlightSize * beta_cubic, at least 2 SMSS; cwnd = ssthresh.
    ssthresh_ = std::max(beta_of(bytes_in_flight), 2 * smss_);
    cwnd_ = ssthresh_;
    epoch_valid_ = false;
}

void Cubic::on_rto(Instant, std::uint32_t bytes_in_flight) {
    // §4.8: reduce like Reno (cwnd = 1 SMSS, RFC 5681 eq. 4 loss window) but with ssthresh from §4.6.
    cwnd_prior_ = cwnd_ / smss_;
    ssthresh_ = std::max(beta_of(bytes_in_flight), 2 * smss_);
    cwnd_ = smss_;
    epoch_valid_ = false;
    after_rto_ = true;
}

void Cubic::on_recovery_exit(Instant) {
    cwnd_ = ssthresh_;
    epoch_valid_ = false;  // the epoch starts with the first congestion-avoidance ACK
}

void Cubic::on_idle_restart(Instant) {
    // RFC 5681 §4.1 restart window; restart the epoch so that idle time does not count as growth time.
    cwnd_ = std::min(cwnd_, static_cast<double>(initial_window(smss_)));
    epoch_valid_ = false;
}

}  // namespace stack::tcp
