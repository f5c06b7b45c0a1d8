#include "stack/tcp/sack_scoreboard.hpp"

#include <algorithm>

namespace stack::tcp {

namespace {
constexpr std::uint32_t kBogusDistance = 1u << 30;  // RFC 7323 §2.3: no window reaches 2^30
}

void SackScoreboard::trim_below(SeqNumber snd_una) {
    std::size_t first = 0;
    while (first < count_ && ranges_[first].end <= snd_una) ++first;
    if (first > 0) {
        std::copy(ranges_.begin() + static_cast<std::ptrdiff_t>(first),
                  ranges_.begin() + static_cast<std::ptrdiff_t>(count_), ranges_.begin());
        count_ -= first;
    }
    if (count_ > 0 && ranges_[0].begin < snd_una) ranges_[0].begin = snd_una;
}

void SackScoreboard::insert(SeqNumber begin, SeqNumber end) {
    // First range that overlaps or touches [begin, end) or lies above it.
    std::size_t i = 0;
    while (i < count_ && ranges_[i].end < begin) ++i;
    // Ranges i..j-1 overlap or touch the new one: merge them into it.
    std::size_t j = i;
    while (j < count_ && ranges_[j].begin <= end) {
        begin = wire::seq_min(begin, ranges_[j].begin);
        end = wire::seq_max(end, ranges_[j].end);
        ++j;
    }
    const auto at = [this](std::size_t k) {
        return ranges_.begin() + static_cast<std::ptrdiff_t>(k);
    };
    if (j == i) {
        // No overlap: open a slot at i (the array has one spare slot beyond kMaxRanges).
        std::copy_backward(at(i), at(count_), at(count_ + 1));
        ++count_;
    } else if (j > i + 1) {
        std::copy(at(j), at(count_), at(i + 1));
        count_ -= j - i - 1;
    }
    ranges_[i] = Range{begin, end};
    if (count_ > kMaxRanges) count_ = kMaxRanges;  // forget the highest range
}

bool SackScoreboard::covered(SeqNumber begin, SeqNumber end) const {
    for (std::size_t i = 0; i < count_; ++i) {
        if (ranges_[i].begin <= begin && end <= ranges_[i].end) return true;
        if (end <= ranges_[i].begin) break;
    }
    return false;
}

SackScoreboard::UpdateResult SackScoreboard::on_ack(SeqNumber snd_una, SeqNumber snd_max,
                                                    std::span<const wire::SackBlock> blocks) {
    UpdateResult out;
    trim_below(snd_una);
    for (std::size_t n = 0; n < blocks.size(); ++n) {
        const wire::SackBlock& b = blocks[n];
        if (!(b.left < b.right)) continue;  // empty or inverted
        if (b.right <= snd_una) continue;   // old or a D-SACK below the ACK (RFC 2883 §4.1.1)
        if (n == 0 && blocks.size() > 1 && blocks[1].left <= b.left && b.right <= blocks[1].right) {
            continue;  // D-SACK for data above the ACK, reported inside the second block (§4.1.2)
        }
        const SeqNumber left = wire::seq_max(b.left, snd_una);
        if (static_cast<std::uint32_t>(b.right - b.left) > kBogusDistance ||
            static_cast<std::uint32_t>(left - snd_una) > kBogusDistance || snd_max < b.right) {
            ++out.invalid;  // never sent, or not a plausible sequence range at all
            continue;
        }
        if (!covered(left, b.right)) out.new_info = true;
        insert(left, b.right);
    }
    return out;
}

bool SackScoreboard::is_sacked(SeqNumber seq) const {
    for (std::size_t i = 0; i < count_; ++i) {
        if (seq < ranges_[i].begin) return false;
        if (seq < ranges_[i].end) return true;
    }
    return false;
}

std::optional<wire::SeqNumber> SackScoreboard::highest_sacked() const {
    if (count_ == 0) return std::nullopt;
    return ranges_[count_ - 1].end;
}

std::uint32_t SackScoreboard::sacked_bytes() const {
    std::uint32_t total = 0;
    for (std::size_t i = 0; i < count_; ++i) total += ranges_[i].length();
    return total;
}

wire::SeqNumber SackScoreboard::loss_boundary(SeqNumber snd_una, std::uint32_t smss,
                                              unsigned dupthresh) const {
    dupthresh = std::max(dupthresh, 1u);
    const std::uint64_t byte_limit = std::uint64_t{dupthresh - 1} * smss;
    std::uint64_t bytes_above = 0;
    // Walk down from the highest range: the first range at which "DupThresh ranges above" or "more
    // than (DupThresh-1)*SMSS bytes above" holds bounds the lost region (everything unSACKed below its
    // begin is lost; the hole just above it is not, or the walk would have stopped one range higher).
    for (std::size_t i = count_; i-- > 0;) {
        bytes_above += ranges_[i].length();
        const std::size_t ranges_above = count_ - i;
        if (ranges_above >= dupthresh || bytes_above > byte_limit) {
            return wire::seq_max(ranges_[i].begin, snd_una);
        }
    }
    return snd_una;
}

bool SackScoreboard::is_lost(SeqNumber seq, SeqNumber snd_una, std::uint32_t smss,
                             unsigned dupthresh) const {
    if (seq < snd_una || is_sacked(seq)) return false;
    return seq < loss_boundary(snd_una, smss, dupthresh);
}

std::uint32_t SackScoreboard::pipe(SeqNumber snd_una, SeqNumber snd_nxt, SeqNumber high_rxt,
                                   std::uint32_t smss, unsigned dupthresh) const {
    const SeqNumber boundary = loss_boundary(snd_una, smss, dupthresh);
    std::uint64_t total = 0;
    // Visit each hole [hb, he) of unSACKed bytes in [snd_una, snd_nxt).
    SeqNumber hb = snd_una;
    for (std::size_t i = 0; i <= count_ && hb < snd_nxt; ++i) {
        SeqNumber he = i < count_ ? wire::seq_min(ranges_[i].begin, snd_nxt) : snd_nxt;
        if (hb < he) {
            // (a) not lost: the part at or above the loss boundary.
            const SeqNumber not_lost = wire::seq_max(hb, boundary);
            if (not_lost < he) total += static_cast<std::uint32_t>(he - not_lost);
            // (b) retransmitted: the part below high_rxt.
            const SeqNumber rxt_end = wire::seq_min(he, high_rxt);
            if (hb < rxt_end) total += static_cast<std::uint32_t>(rxt_end - hb);
        }
        if (i < count_) hb = wire::seq_max(hb, ranges_[i].end);
    }
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(total, UINT32_MAX));
}

SackScoreboard::NextSeg SackScoreboard::next_seg(SeqNumber snd_una, SeqNumber snd_nxt,
                                                 SeqNumber high_rxt, std::uint32_t smss,
                                                 bool can_send_new_data, unsigned dupthresh) const {
    NextSeg out;
    // The first unSACKed byte at or above max(snd_una, high_rxt) (rules 1.a and 3.a: above HighRxt),
    // and where its hole ends (the next SACKed range, or snd_nxt).
    SeqNumber s = wire::seq_max(snd_una, high_rxt);
    SeqNumber hole_end = snd_nxt;
    for (std::size_t i = 0; i < count_; ++i) {
        if (s < ranges_[i].begin) {
            hole_end = wire::seq_min(ranges_[i].begin, snd_nxt);
            break;
        }
        s = wire::seq_max(s, ranges_[i].end);
    }
    const auto highest = highest_sacked();
    // Rules 1.b / 3.b: the byte must lie below the highest SACKed byte; and it must have been sent.
    const bool hole_exists = highest && s < *highest && s < snd_nxt;
    const auto segment = [&] {
        const SeqNumber e = s + smss;
        return Range{s, wire::seq_min(e, hole_end)};
    };
    if (hole_exists && s < loss_boundary(snd_una, smss, dupthresh)) {  // rule 1.c: IsLost(S2)
        out.action = NextSeg::Action::Retransmit;
        out.range = segment();
        return out;
    }
    if (can_send_new_data) {  // rule 2
        out.action = NextSeg::Action::SendNewData;
        return out;
    }
    if (hole_exists) {  // rule 3
        out.action = NextSeg::Action::Retransmit;
        out.range = segment();
        out.rule3 = true;
        return out;
    }
    return out;  // rule 4 (rescue retransmission) not implemented: Nothing
}

}  // namespace stack::tcp
