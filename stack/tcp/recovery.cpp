// LossRecovery: NewReno (RFC 6582) and SACK (RFC 6675) recovery strategies (see recovery.hpp).
#include "stack/tcp/recovery.hpp"

#include <algorithm>
#include <cstdint>

namespace stack::tcp {

LossRecovery::AckResult LossRecovery::on_new_ack(SeqNumber ack, std::uint32_t newly_acked,
                                                 std::uint32_t smss) {
    if (high_rxt_ < ack) high_rxt_ = ack;
    if (in_recovery_) {
        dupacks_ = 0;
        if (!(ack < recover_)) {
            // RFC 6582 §3.2 step 4 (full acknowledgment: everything up to and including
            // "recover"), RFC 6675 §5 (the cumulative ACK of RecoveryPoint): recovery ends.
            in_recovery_ = false;
            on_exit();
            return AckResult::Exit;
        }
        // Partial acknowledgment (RFC 6582 §3.2 step 5): the next hole is lost too.
        return on_partial_ack(newly_acked, smss) ? AckResult::RetransmitFirst : AckResult::Stay;
    }
    dupacks_ = 0;
    // Keep "recover" trailing just below SND.UNA once the ACK has passed it, so that it never falls
    // 2^31 or more behind: the modular comparison in may_start() would then flip and refuse every
    // fast retransmit for the next 2^31 bytes (a connection that never lost a segment keeps
    // recover_ at the ISS). Both rules there (RFC 6582 §3.2 step 2: SND.UNA > recover_; RFC 6675
    // §5.1: SND.UNA >= recover_) already hold for this ACK and, with recover_ = SND.UNA - 1, hold for
    // every later one, as they would without the wrap. While SND.UNA has not passed recover_ (after
    // an RTO, or exactly at it after a recovery) recover_ stays where it is, so the "careful"
    // NewReno rule keeps refusing ACKs at it.
    if (recover_ < ack) recover_ = ack - 1;
    return AckResult::None;
}

// ---- NewReno ----

std::uint32_t NewRenoRecovery::pipe(std::uint32_t flight, SeqNumber, SeqNumber,
                                    std::uint32_t) const {
    const std::int64_t p = std::int64_t{flight} - inflation_;
    return static_cast<std::uint32_t>(std::clamp<std::int64_t>(p, 0, UINT32_MAX));
}

// Without a scoreboard nothing is known about holes beyond SND.UNA: new data, as the window allows
// (RFC 6582 §3.2 steps 4-5 retransmit only the first unacknowledged segment, on entry and on partial
// ACKs).
LossRecovery::NextSeg NewRenoRecovery::next_seg(SeqNumber, SeqNumber, std::uint32_t, bool) const {
    NextSeg n;
    n.action = NextSeg::Action::SendNewData;
    return n;
}

// RFC 6582 §3.2 step 5: deflate cwnd by the amount newly acknowledged, add back one SMSS if at least
// one was (a segment left the network), then retransmit the first unacknowledged segment; new data
// follows if the deflated window allows.
bool NewRenoRecovery::on_partial_ack(std::uint32_t newly_acked, std::uint32_t smss) {
    inflation_ -= newly_acked;
    if (newly_acked >= smss) inflation_ += smss;
    return true;
}

// ---- SACK ----

std::uint32_t SackRecovery::pipe(std::uint32_t, SeqNumber snd_una, SeqNumber snd_nxt,
                                 std::uint32_t smss) const {
    return scoreboard_.pipe(snd_una, snd_nxt, high_rxt_, smss);
}

LossRecovery::NextSeg SackRecovery::next_seg(SeqNumber snd_una, SeqNumber snd_nxt,
                                             std::uint32_t smss, bool unsent) const {
    return scoreboard_.next_seg(snd_una, snd_nxt, high_rxt_, smss, unsent);
}

// RFC 6675 §5 steps (1), (2) and (4): DupThresh duplicate ACKs, or IsLost(HighACK + 1).
bool SackRecovery::loss_detected(SeqNumber snd_una, std::uint32_t smss) const {
    return dupacks_ >= kDupThresh || scoreboard_.is_lost(snd_una, snd_una, smss);
}

}  // namespace stack::tcp
