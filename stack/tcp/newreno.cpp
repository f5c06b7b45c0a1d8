#include "stack/tcp/newreno.hpp"

#include <algorithm>

#include "stack/base/assert.hpp"

namespace stack::tcp {

std::uint32_t slow_start_step(std::uint32_t cwnd, std::uint32_t ssthresh, std::uint32_t acked_bytes,
                              std::uint32_t smss) {
    const std::uint64_t inc =
        std::min<std::uint64_t>(acked_bytes, 2ull * smss);  // RFC 3465 §2.3, L=2
    const std::uint64_t next = std::min<std::uint64_t>(cwnd + inc, std::max(ssthresh, cwnd));
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(next, kMaxCwnd));
}

NewReno::NewReno(std::uint32_t smss) : smss_(smss), cwnd_(initial_window(smss)) {
    STACK_ASSERT(smss > 0);
}

void NewReno::on_ack(Instant, std::uint32_t acked_bytes, std::uint32_t, Duration) {
    if (acked_bytes == 0) return;
    if (cwnd_ < ssthresh_) {
        cwnd_ = slow_start_step(cwnd_, ssthresh_, acked_bytes, smss_);
        return;
    }
    // RFC 5681 §3.1 congestion avoidance by byte counting: +1 SMSS per cwnd's worth of ACKed bytes.
    bytes_acked_ += acked_bytes;
    if (bytes_acked_ >= cwnd_) {
        bytes_acked_ -= cwnd_;
        cwnd_ = static_cast<std::uint32_t>(
            std::min<std::uint64_t>(std::uint64_t{cwnd_} + smss_, kMaxCwnd));
    }
}

void NewReno::on_congestion_event(Instant, std::uint32_t bytes_in_flight) {
    // RFC 5681 §3.2 step 2 (eq. 4): ssthresh = max(FlightSize / 2, 2*SMSS); RFC 6675 §5 then runs
    // recovery with cwnd = ssthresh.
    ssthresh_ = std::max(bytes_in_flight / 2, 2 * smss_);
    cwnd_ = ssthresh_;
    bytes_acked_ = 0;
}

void NewReno::on_rto(Instant, std::uint32_t bytes_in_flight) {
    // RFC 5681 §3.1 eq. 4 and the loss window: cwnd = 1 SMSS.
    ssthresh_ = std::max(bytes_in_flight / 2, 2 * smss_);
    cwnd_ = smss_;
    bytes_acked_ = 0;
}

void NewReno::on_recovery_exit(Instant) {
    // RFC 6582 §3.2 step 3 (full ACK): deflate to ssthresh.
    cwnd_ = ssthresh_;
    bytes_acked_ = 0;
}

void NewReno::on_idle_restart(Instant) {
    // RFC 5681 §4.1: cwnd = RW = min(IW, cwnd).
    cwnd_ = std::min(cwnd_, initial_window(smss_));
    bytes_acked_ = 0;
}

}  // namespace stack::tcp
