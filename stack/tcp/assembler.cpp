// Assembler: out-of-order ranges held by a TCP receiver (see assembler.hpp).
#include "stack/tcp/assembler.hpp"

#include <algorithm>

namespace stack::tcp {

std::size_t Assembler::capacity_for(std::size_t buffer_bytes) {
    return std::max(kMinRanges, buffer_bytes / kBufferBytesPerRange);
}

std::size_t Assembler::find(SeqNumber begin) const {
    auto it = std::partition_point(ranges_.begin(), ranges_.end(),
                                   [&](const Range& r) { return r.begin < begin; });
    if (it != ranges_.end() && it->begin == begin) {
        return static_cast<std::size_t>(it - ranges_.begin());
    }
    return ranges_.size();
}

// `r` is now the most recently changed range: it goes first; entries for ranges it absorbed go.
void Assembler::touch(const Range& r) {
    std::size_t n = 0;
    std::array<SeqNumber, kRecent> kept{};
    kept[n++] = r.begin;
    for (std::size_t i = 0; i < recent_count_ && n < kRecent; ++i) {
        const SeqNumber b = recent_[i];
        if (b >= r.begin && b <= r.end) continue;  // merged into r (or r itself)
        kept[n++] = b;
    }
    recent_ = kept;
    recent_count_ = n;
}

Assembler::Insert Assembler::insert(SeqNumber begin, SeqNumber end) {
    if (ranges_.capacity() < capacity_) ranges_.reserve(capacity_);  // once per connection
    // First range that overlaps or touches [begin, end) from the left: its end >= begin.
    const auto first = std::partition_point(ranges_.begin(), ranges_.end(),
                                            [&](const Range& r) { return r.end < begin; });
    // One past the last range that overlaps or touches it from the right: begin <= end.
    const auto last =
        std::partition_point(first, ranges_.end(), [&](const Range& r) { return r.begin <= end; });
    if (first == last) {
        if (ranges_.size() >= capacity_) return Insert::Full;
        const Range r{begin, end};
        ranges_.insert(first, r);  // within the reserved capacity: no allocation
        touch(r);
        return Insert::Stored;
    }
    Range merged{wire::seq_min(begin, first->begin), wire::seq_max(end, (last - 1)->end)};
    *first = merged;
    ranges_.erase(first + 1, last);
    touch(merged);
    return Insert::Stored;
}

Assembler::SeqNumber Assembler::advance(SeqNumber rcv_nxt) {
    SeqNumber reach = rcv_nxt;
    std::size_t n = 0;
    while (n < ranges_.size() && ranges_[n].begin <= reach) {
        reach = wire::seq_max(reach, ranges_[n].end);
        ++n;
    }
    if (n > 0) ranges_.erase(ranges_.begin(), ranges_.begin() + static_cast<std::ptrdiff_t>(n));
    return reach;
}

std::size_t Assembler::sack_blocks(std::span<Range> out) const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < recent_count_ && n < out.size(); ++i) {
        const std::size_t at = find(recent_[i]);
        if (at == ranges_.size()) continue;  // delivered since, or merged
        const Range& r = ranges_[at];
        if (std::find(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), r) !=
            out.begin() + static_cast<std::ptrdiff_t>(n)) {
            continue;
        }
        out[n++] = r;
    }
    for (std::size_t i = 0; i < ranges_.size() && n < out.size(); ++i) {
        const Range& r = ranges_[i];
        if (std::find(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), r) !=
            out.begin() + static_cast<std::ptrdiff_t>(n)) {
            continue;
        }
        out[n++] = r;
    }
    return n;
}

void Assembler::clear() {
    ranges_.clear();
    recent_count_ = 0;
}

}  // namespace stack::tcp
