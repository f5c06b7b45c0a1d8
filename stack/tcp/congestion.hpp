// Congestion control: the small interface the connection drives (DESIGN.md §3.6), and its factory.
//
// The connection owns loss detection and recovery (duplicate ACKs, the SACK scoreboard of RFC 6675,
// the retransmission timer); an algorithm only turns those events into cwnd and ssthresh, in bytes.
// Units: all windows and byte counts are bytes; `now` is the caller's clock (algorithms never read one).
//
// Event contract (who calls what, when):
//   on_ack             new data cumulatively ACKed while NOT in loss recovery;
//   on_congestion_event once per recovery episode, when fast retransmit / SACK recovery starts;
//   on_recovery_exit   when the recovery episode ends (RFC 6582 §3.2 step 3 full ACK, or RFC 6675 §5
//                      "RecoveryPoint" cumulatively ACKed);
//   on_rto             on the first expiry of the retransmission timer for a given segment. Repeated
//                      expiries for the same segment need no call: nothing was ACKed in between, cwnd is
//                      already 1 SMSS, and RFC 5681 §3.1 holds ssthresh constant on them.
//   on_idle_restart    before sending after an idle period longer than the RTO (RFC 5681 §4.1).
// Application-limited senders: the algorithms grow cwnd on every on_ack; the connection calls on_ack
// only while cwnd is validated (RFC 7661 §4.3: the round's largest flight reached half of cwnd), so an
// unused window is not inflated.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "stack/base/time.hpp"

namespace stack::tcp {

enum class CcAlgorithm : std::uint8_t { NewReno, Cubic };

// "newreno" / "cubic".
std::string_view to_string(CcAlgorithm a);
// Accepts "newreno", "reno" and "cubic" (ASCII case-insensitive); nullopt otherwise.
std::optional<CcAlgorithm> parse_cc(std::string_view name);

// "Arbitrarily high" initial ssthresh (RFC 5681 §3.1), with headroom so that cwnd arithmetic on top of it
// cannot overflow 32 bits.
inline constexpr std::uint32_t kInitialSsthresh = UINT32_MAX / 2;
// Upper bound on cwnd, for the same reason.
inline constexpr std::uint32_t kMaxCwnd = UINT32_MAX / 2;

// Initial window, RFC 6928 §2: min(10*SMSS, max(2*SMSS, 14600)). (For SMSS 1460 that is 10 segments;
// RFC 5681 §3.1's 2-4 segment rule is the older, smaller bound.)
constexpr std::uint32_t initial_window(std::uint32_t smss) {
    const std::uint64_t ten = 10ull * smss;
    const std::uint64_t two = 2ull * smss;
    const std::uint64_t iw = ten < (two > 14600 ? two : 14600) ? ten : (two > 14600 ? two : 14600);
    return static_cast<std::uint32_t>(iw > kMaxCwnd ? kMaxCwnd : iw);
}

class CongestionControl {
public:
    virtual ~CongestionControl() = default;
    // New data cumulatively acknowledged while NOT in loss recovery: grow cwnd (slow start below
    // ssthresh, RFC 5681 §3.1 with appropriate byte counting limited to 2*SMSS per ACK (RFC 3465 L=2),
    // otherwise the algorithm's congestion avoidance). `bytes_in_flight` is the FlightSize after this
    // ACK. `rtt` is the latest RTT sample if any (zero if none).
    virtual void on_ack(Instant now, std::uint32_t acked_bytes, std::uint32_t bytes_in_flight,
                        Duration rtt) = 0;
    // A congestion event detected by duplicate ACKs / SACK (entering fast recovery): set ssthresh (and
    // cwnd = ssthresh); called once per recovery episode. `bytes_in_flight` is FlightSize (RFC 5681
    // §3.2 step 2: outstanding data) when the loss is detected.
    virtual void on_congestion_event(Instant now, std::uint32_t bytes_in_flight) = 0;
    // A retransmission timeout: ssthresh per the algorithm, cwnd = 1 SMSS (RFC 5681 §3.1 eq. 4, loss
    // window). `bytes_in_flight` is FlightSize when the timer fired.
    virtual void on_rto(Instant now, std::uint32_t bytes_in_flight) = 0;
    // Fast recovery ended (RFC 6582 §3.2 step 3 full ACK): cwnd = ssthresh (deflate).
    virtual void on_recovery_exit(Instant now) = 0;
    // Idle restart (RFC 5681 §4.1): cwnd = min(cwnd, IW).
    virtual void on_idle_restart(Instant now) { (void)now; }
    virtual std::uint32_t cwnd() const = 0;
    virtual std::uint32_t ssthresh() const = 0;
    virtual CcAlgorithm algorithm() const = 0;
};

// Allocates (once per connection, at setup; never per segment). smss > 0.
std::unique_ptr<CongestionControl> make_congestion_control(CcAlgorithm algorithm,
                                                           std::uint32_t smss);

}  // namespace stack::tcp
