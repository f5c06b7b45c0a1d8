// LossRecovery: fast retransmit and fast recovery after duplicate ACKs, as one interface with two
// strategies, NewReno (RFC 6582, RFC 5681 §3.2) without SACK and SACK-based recovery (RFC 6675) with
// it. Congestion control (the cwnd algorithm: congestion.hpp, newreno.cpp, cubic.cpp) is separate:
// the Connection tells it about congestion events and recovery exits; this type decides when a
// recovery starts and ends, what counts in the pipe, and what to send next.
//
// The shared state: DupAcks, whether in recovery, "recover" (RFC 6582) / RecoveryPoint (RFC 6675)
// kept as SND.MAX when the last recovery or RTO began (one past the highest octet then sent), and
// HighRxt + 1. RFC 6675 SetPipe() and NextSeg() are computed in one place, SackScoreboard::pipe()
// and SackScoreboard::next_seg() (sack_scoreboard.cpp); SackRecovery only calls them.
#pragma once

#include <cstdint>

#include "stack/tcp/sack_scoreboard.hpp"
#include "stack/wire/seq.hpp"

namespace stack::tcp {

class LossRecovery {
public:
    using SeqNumber = wire::SeqNumber;
    using NextSeg = SackScoreboard::NextSeg;
    static constexpr unsigned kDupThresh = 3;  // RFC 5681 §3.2, RFC 6675 §2

    virtual ~LossRecovery() = default;

    // A new send sequence space (the ISS): nothing recovered yet.
    void reset(SeqNumber iss) {
        recover_ = iss;
        high_rxt_ = iss;
        in_recovery_ = false;
        dupacks_ = 0;
        on_exit();
    }
    bool in_recovery() const { return in_recovery_; }
    unsigned dupacks() const { return dupacks_; }
    SeqNumber recover() const { return recover_; }
    SeqNumber high_rxt() const { return high_rxt_; }

    // A duplicate ACK (RFC 5681 §2 / RFC 6675 §2). Returns true if not in recovery: the caller then
    // checks whether one starts (should_enter).
    bool on_dup_ack(std::uint32_t smss) {
        ++dupacks_;
        if (!in_recovery_) return true;
        on_dup_ack_in_recovery(smss);
        return false;
    }
    // A cumulative ACK that SACKs new data (RFC 6675 §5) counts as the first duplicate ACK.
    void restart_dupacks_at_one() { dupacks_ = 1; }
    // Whether a recovery starts now (a loss is detected and may_start() allows it).
    bool should_enter(SeqNumber snd_una, std::uint32_t smss) const {
        return loss_detected(snd_una, smss) && may_start(snd_una);
    }
    // Fast retransmit begins (RFC 5681 §3.2 step 2-3, RFC 6675 §5 step 4).
    void enter(SeqNumber snd_una, SeqNumber snd_max, std::uint32_t smss) {
        in_recovery_ = true;
        recover_ = snd_max;
        high_rxt_ = snd_una;
        on_enter(smss);
    }
    // An ACK moved SND.UNA to `ack`. In recovery: full (RFC 6582 §3.2 step 4: everything up to
    // "recover"; RFC 6675 §5: RecoveryPoint) ends it and returns Exit; partial (RFC 6582 §3.2 step 5)
    // returns RetransmitFirst if the first unacknowledged segment is to go again now (NewReno), else
    // Stay. Outside recovery: DupAcks resets and "recover" trails SND.UNA (see recovery.cpp).
    enum class AckResult : std::uint8_t { None, Exit, Stay, RetransmitFirst };
    AckResult on_new_ack(SeqNumber ack, std::uint32_t newly_acked, std::uint32_t smss);
    // A retransmission reached `end`; SND.UNA moved (HighRxt never below it).
    void retransmitted_to(SeqNumber end) {
        if (high_rxt_ < end) high_rxt_ = end;
    }
    // RFC 5681 §3.1 / RFC 6582 §4 / RFC 6675 §5.1: a retransmission timeout ends any recovery;
    // losses from before SND.MAX do not start another one.
    void on_rto(SeqNumber snd_una, SeqNumber snd_max) {
        in_recovery_ = false;
        dupacks_ = 0;
        on_exit();
        recover_ = snd_max;
        high_rxt_ = snd_una;
    }

    // The data in the network (RFC 6675 SetPipe(); NewReno: FlightSize less the window inflation).
    virtual std::uint32_t pipe(std::uint32_t flight, SeqNumber snd_una, SeqNumber snd_nxt,
                               std::uint32_t smss) const = 0;
    // What to send next in recovery (RFC 6675 NextSeg(); NewReno: new data, if any).
    virtual NextSeg next_seg(SeqNumber snd_una, SeqNumber snd_nxt, std::uint32_t smss,
                             bool unsent) const = 0;

protected:
    virtual bool may_start(SeqNumber snd_una) const = 0;
    virtual bool loss_detected(SeqNumber snd_una, std::uint32_t smss) const = 0;
    virtual void on_dup_ack_in_recovery(std::uint32_t smss) = 0;
    virtual void on_enter(std::uint32_t smss) = 0;
    virtual void on_exit() = 0;
    // Partial ACK: true if the first unacknowledged segment is to be retransmitted now.
    virtual bool on_partial_ack(std::uint32_t newly_acked, std::uint32_t smss) = 0;

    unsigned dupacks_ = 0;
    bool in_recovery_ = false;
    SeqNumber recover_;
    SeqNumber high_rxt_;
};

// RFC 6582 NewReno (the "careful" variant of §3.2 step 2) on RFC 5681 fast retransmit. The RFC's
// cwnd inflation is kept here, not in the congestion controller: cwnd stays at ssthresh and the
// inflation is subtracted from the flight (pipe()), so cwnd - pipe is the RFC's inflated cwnd -
// FlightSize.
class NewRenoRecovery final : public LossRecovery {
public:
    std::uint32_t pipe(std::uint32_t flight, SeqNumber snd_una, SeqNumber snd_nxt,
                       std::uint32_t smss) const override;
    NextSeg next_seg(SeqNumber snd_una, SeqNumber snd_nxt, std::uint32_t smss,
                     bool unsent) const override;
    std::int64_t inflation() const { return inflation_; }

protected:
    bool may_start(SeqNumber snd_una) const override { return snd_una > recover_; }
    bool loss_detected(SeqNumber, std::uint32_t) const override { return dupacks_ >= kDupThresh; }
    void on_dup_ack_in_recovery(std::uint32_t smss) override { inflation_ += smss; }
    void on_enter(std::uint32_t smss) override { inflation_ = std::int64_t{dupacks_} * smss; }
    void on_exit() override { inflation_ = 0; }
    bool on_partial_ack(std::uint32_t newly_acked, std::uint32_t smss) override;

private:
    // How far RFC 6582's cwnd is inflated above ssthresh (RFC 5681 §3.2 steps 3-4, RFC 6582 §3.2
    // step 5; may fall below zero).
    std::int64_t inflation_ = 0;
};

// RFC 6675 conservative SACK-based loss recovery over the connection's SackScoreboard (which the
// Connection feeds with every ACK's SACK blocks).
class SackRecovery final : public LossRecovery {
public:
    explicit SackRecovery(const SackScoreboard& scoreboard) : scoreboard_(scoreboard) {}
    std::uint32_t pipe(std::uint32_t flight, SeqNumber snd_una, SeqNumber snd_nxt,
                       std::uint32_t smss) const override;
    NextSeg next_seg(SeqNumber snd_una, SeqNumber snd_nxt, std::uint32_t smss,
                     bool unsent) const override;

protected:
    bool may_start(SeqNumber snd_una) const override { return snd_una >= recover_; }
    bool loss_detected(SeqNumber snd_una, std::uint32_t smss) const override;
    void on_dup_ack_in_recovery(std::uint32_t) override {}
    void on_enter(std::uint32_t) override {}
    void on_exit() override {}
    bool on_partial_ack(std::uint32_t, std::uint32_t) override { return false; }

private:
    const SackScoreboard& scoreboard_;
};

}  // namespace stack::tcp
