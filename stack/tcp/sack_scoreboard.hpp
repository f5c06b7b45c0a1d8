// SackScoreboard: the SACK information a sender keeps for RFC 6675 loss recovery, and that RFC's
// Update(), IsLost(), SetPipe() and NextSeg() computed over it. The connection drives it: it feeds every
// ACK's cumulative point and SACK blocks, and asks pipe() / next_seg() while in recovery.
//
// Representation: at most kMaxRanges disjoint, non-adjacent SACKed ranges [begin, end), sorted by
// sequence number, all above the last snd_una seen. Storage is a fixed array: no allocation at all.
// When a new block would make more than kMaxRanges ranges, the highest range is dropped (the one farthest
// from being useful for retransmission decisions); RFC 6675 §4 lets a sender forget SACK information
// (the scoreboard is advisory: a dropped range only means data may be retransmitted needlessly).
//
// Sequence arguments:
//   snd_una  = HighACK + 1 (RFC 6675 §2): the first unacknowledged byte;
//   snd_nxt  = HighData + 1: one past the highest byte sent;
//   high_rxt = HighRxt + 1: one past the highest byte retransmitted in this recovery (snd_una if none).
// So every range is half-open, [begin, end), unlike the RFC's inclusive octet numbers.
//
// IsLost (§4, rule for "DupThresh discontiguous SACKed sequences"): a byte is lost if at least DupThresh
// distinct SACKed ranges lie above it, or more than (DupThresh - 1) * SMSS bytes above it are SACKed.
// Both counts only fall as the byte moves up, so the lost region is always [snd_una, loss_boundary) minus
// the SACKed ranges, and pipe()/next_seg() compute that boundary once rather than per octet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/seq.hpp"
#include "stack/wire/tcp_options.hpp"

namespace stack::tcp {

class SackScoreboard {
public:
    using SeqNumber = wire::SeqNumber;
    static constexpr std::size_t kMaxRanges = 32;

    struct Range {
        SeqNumber begin;  // first byte
        SeqNumber end;    // one past the last byte
        std::uint32_t length() const { return static_cast<std::uint32_t>(end - begin); }
        bool operator==(const Range&) const = default;
    };

    // What NextSeg() (RFC 6675 §4) says to send next.
    struct NextSeg {
        enum class Action : std::uint8_t {
            Retransmit,  // rule 1 (a lost hole) or rule 3 (an unSACKed hole below the highest SACK):
                         // retransmit `range` (at most SMSS, never covering SACKed bytes)
            SendNewData,  // rule 2: no hole qualifies and the caller said new data may be sent
            Nothing,      // nothing to send (rule 4, the rescue retransmission, is not implemented)
        };
        Action action = Action::Nothing;
        Range range{};       // meaningful only for Retransmit
        bool rule3 = false;  // Retransmit came from rule 3 (not known lost)
    };

    // Forgets everything (after an RTO: RFC 6675 §5.1 allows keeping SACK information; we do not).
    void reset() { count_ = 0; }

    // What one Update() did.
    struct UpdateResult {
        // Some octet in [snd_una, snd_max) that was not SACKed before is SACKed now: with SACK, this
        // ACK is a "duplicate acknowledgment" for loss recovery (RFC 6675 §2), whatever else it does.
        bool new_info = false;
        // Blocks ignored as impossible (see on_ack): counted by the caller (tcp.sack_invalid_blocks).
        std::uint32_t invalid = 0;
    };

    // RFC 6675 Update(): discards everything below snd_una and records `blocks`. Blocks that are empty,
    // that end at or below snd_una, or that are a D-SACK (RFC 2883 §4: the first block, ending at or
    // below the ACK or contained in the second block) are ignored; a block straddling snd_una is
    // trimmed. Impossible blocks are ignored and counted in `invalid`: a block that ends above
    // snd_max (= SND.MAX, one past the highest octet ever sent: a receiver cannot have data we never
    // sent; believing it would make pipe() shrink and let a lying receiver inflate sending past cwnd),
    // and blocks longer than 2^30 or starting more than 2^30 above snd_una (RFC 7323 §2.3 caps
    // windows below that), which also catches blocks far below snd_una that wrap.
    UpdateResult on_ack(SeqNumber snd_una, SeqNumber snd_max,
                        std::span<const wire::SackBlock> blocks);

    // True if byte `seq` is in a SACKed range.
    bool is_sacked(SeqNumber seq) const;

    // RFC 6675 IsLost(seq) (see the header comment). False for seq below snd_una or SACKed bytes.
    bool is_lost(SeqNumber seq, SeqNumber snd_una, std::uint32_t smss,
                 unsigned dupthresh = 3) const;

    // RFC 6675 SetPipe(): bytes in [snd_una, snd_nxt) that are not SACKed, counted once if not lost
    // (rule a) and once more if retransmitted, i.e. below high_rxt (rule b).
    std::uint32_t pipe(SeqNumber snd_una, SeqNumber snd_nxt, SeqNumber high_rxt, std::uint32_t smss,
                       unsigned dupthresh = 3) const;

    // RFC 6675 NextSeg() rules 1-3. Retransmission ranges start at or above max(snd_una, high_rxt),
    // end at most SMSS later, and stop at the next SACKed range and at snd_nxt.
    NextSeg next_seg(SeqNumber snd_una, SeqNumber snd_nxt, SeqNumber high_rxt, std::uint32_t smss,
                     bool can_send_new_data, unsigned dupthresh = 3) const;

    // Total SACKed bytes above the last snd_una.
    std::uint32_t sacked_bytes() const;
    bool empty() const { return count_ == 0; }

    // The ranges, lowest first (for tests, stats and the connection's own bookkeeping).
    std::span<const Range> ranges() const { return {ranges_.data(), count_}; }
    // One past the highest SACKed byte, if any ("the highest octet covered by any received SACK").
    std::optional<SeqNumber> highest_sacked() const;

    // The lowest byte that is NOT lost (RFC 6675 IsLost) above snd_una: unSACKed bytes in
    // [snd_una, loss_boundary) are lost, unSACKed bytes at or above it are not. snd_una if none is lost.
    SeqNumber loss_boundary(SeqNumber snd_una, std::uint32_t smss, unsigned dupthresh = 3) const;

private:
    void trim_below(SeqNumber snd_una);
    void insert(SeqNumber begin, SeqNumber end);
    bool covered(SeqNumber begin, SeqNumber end) const;

    std::array<Range, kMaxRanges + 1> ranges_{};  // one spare slot while inserting
    std::size_t count_ = 0;
};

}  // namespace stack::tcp
