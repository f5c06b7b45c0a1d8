#include "stack/ip/reassembly.hpp"

#include <algorithm>
#include <cstring>

namespace stack::ip {

Reassembler::Reassembler(const ReassemblyConfig& config, IpStats& stats)
    : config_(config), stats_(stats) {
    slots_.reserve(config_.max_datagrams);
}

Reassembler::Slot* Reassembler::find(const wire::Ipv4Packet& p) {
    for (auto& s : slots_) {
        if (s->ident == p.ident() && s->src == p.src() && s->dst == p.dst() &&
            s->protocol == p.protocol()) {
            return s.get();
        }
    }
    return nullptr;
}

std::size_t Reassembler::footprint(const Slot& slot) const {
    return slot.data.capacity() + slot.ranges.capacity() * sizeof(Range);
}

void Reassembler::remove(const Slot* slot) {
    auto it = std::find_if(slots_.begin(), slots_.end(), [&](auto& s) { return s.get() == slot; });
    STACK_ASSERT(it != slots_.end());
    bytes_in_use_ -= (*it)->accounted;
    slots_.erase(it);
    update_gauges();
}

void Reassembler::discard(const Slot* slot, std::uint64_t& reason_counter) {
    ++reason_counter;
    if (slot != nullptr) remove(slot);
}

bool Reassembler::make_room(std::size_t need, const Slot* keep) {
    while (bytes_in_use_ + need > config_.max_bytes) {
        Slot* victim = nullptr;
        for (auto& s : slots_) {
            if (s.get() != keep && (victim == nullptr || s->deadline < victim->deadline)) {
                victim = s.get();
            }
        }
        if (victim == nullptr) return false;
        discard(victim, stats_.drop_frag_evicted);
    }
    return true;
}

void Reassembler::update_gauges() {
    stats_.reasm_bytes_in_use = bytes_in_use_;
    stats_.reasm_datagrams_in_flight = slots_.size();
}

std::optional<Reassembler::Datagram> Reassembler::insert(Instant now,
                                                         const wire::Ipv4Packet& fragment) {
    completed_ = {};  // the previous datagram's payload is no longer referenced
    // A datagram whose time ran out must not be completed by a fragment that arrives after its
    // deadline, even if nobody polled in between.
    if (next_deadline() <= now) expire(now);
    ++stats_.rx_fragments;
    Bytes payload = fragment.payload();
    const std::uint32_t begin = fragment.frag_offset();
    const std::uint32_t end = begin + static_cast<std::uint32_t>(payload.size());
    const bool last = !fragment.more_frags();
    Slot* slot = find(fragment);

    if (payload.empty()) {
        ++stats_.drop_frag_inconsistent;
        return std::nullopt;
    }
    if (fragment.header_len() + end > wire::kIpv4MaxPacketLen) {
        discard(slot, stats_.drop_frag_too_big);
        return std::nullopt;
    }
    if (!last &&
        payload.size() % 8 != 0) {  // RFC 791: every fragment but the last is 8-byte aligned
        discard(slot, stats_.drop_frag_inconsistent);
        return std::nullopt;
    }

    if (slot == nullptr) {
        if (slots_.size() >= config_.max_datagrams) {
            Slot* oldest = nullptr;
            for (auto& s : slots_) {
                if (oldest == nullptr || s->deadline < oldest->deadline) oldest = s.get();
            }
            discard(oldest, stats_.drop_frag_evicted);
        }
        auto fresh = std::make_unique<Slot>();
        fresh->src = fragment.src();
        fresh->dst = fragment.dst();
        fresh->protocol = fragment.protocol();
        fresh->ident = fragment.ident();
        fresh->deadline = now + config_.timeout;
        slot = fresh.get();
        slots_.push_back(std::move(fresh));
    }

    // Consistency with what is already known about the datagram's end.
    if (slot->total && (end > *slot->total || (last && end != *slot->total))) {
        discard(slot, stats_.drop_frag_inconsistent);
        return std::nullopt;
    }
    if (last && !slot->ranges.empty() && slot->ranges.back().end > end) {
        discard(slot, stats_.drop_frag_inconsistent);
        return std::nullopt;
    }

    // Overlap: identical re-sent bytes are a duplicate; anything else poisons the datagram.
    for (const Range& r : slot->ranges) {
        if (r.begin <= begin && end <= r.end) {
            if (std::memcmp(slot->data.data() + begin, payload.data(), payload.size()) == 0) {
                ++stats_.drop_frag_duplicate;
                if (!last) return std::nullopt;
                // A copy that reveals the end may complete what is already here.
                slot->total = end;
                return complete_if_done(slot);
            }
            discard(slot, stats_.drop_frag_inconsistent);
            return std::nullopt;
        }
        if (r.begin < end && begin < r.end) {
            discard(slot, stats_.drop_frag_overlap);
            return std::nullopt;
        }
    }

    // Memory: charge the growth before making it.
    if (last) slot->total = end;
    std::size_t want_capacity = slot->data.capacity();
    if (end > want_capacity) {
        want_capacity = slot->total
                            ? *slot->total
                            : std::min<std::size_t>(std::max<std::size_t>(end, 2 * want_capacity),
                                                    wire::kIpv4MaxPacketLen);
    }
    std::size_t want_ranges = std::max(slot->ranges.capacity(), slot->ranges.size() + 1);
    std::size_t growth = (want_capacity - slot->data.capacity()) +
                         (want_ranges - slot->ranges.capacity()) * sizeof(Range);
    // A fragment that cannot fit even with every other datagram gone must not evict them first.
    if (slot->accounted + growth > config_.max_bytes || !make_room(growth, slot)) {
        discard(slot, stats_.drop_frag_no_memory);
        return std::nullopt;
    }
    slot->data.reserve(want_capacity);
    slot->ranges.reserve(want_ranges);
    if (slot->data.size() < end) slot->data.resize(end);
    std::memcpy(slot->data.data() + begin, payload.data(), payload.size());

    // Insert [begin, end) into the sorted range list, merging with adjacent neighbours.
    auto pos = std::lower_bound(slot->ranges.begin(), slot->ranges.end(), begin,
                                [](const Range& r, std::uint32_t b) { return r.begin < b; });
    pos = slot->ranges.insert(pos, Range{begin, end});
    if (pos + 1 != slot->ranges.end() && pos->end == (pos + 1)->begin) {
        pos->end = (pos + 1)->end;
        slot->ranges.erase(pos + 1);
    }
    if (pos != slot->ranges.begin() && (pos - 1)->end == pos->begin) {
        (pos - 1)->end = pos->end;
        slot->ranges.erase(pos);
    }

    if (begin == 0) {
        slot->have_first = true;
        slot->first_header = wire::Ipv4Repr::parse(fragment);
    }
    bytes_in_use_ = bytes_in_use_ - slot->accounted + footprint(*slot);
    slot->accounted = footprint(*slot);
    update_gauges();

    return complete_if_done(slot);
}

std::optional<Reassembler::Datagram> Reassembler::complete_if_done(Slot* slot) {
    const bool complete = slot->total && slot->have_first && slot->ranges.size() == 1 &&
                          slot->ranges[0].begin == 0 && slot->ranges[0].end == *slot->total;
    if (!complete) return std::nullopt;

    Datagram out;
    out.header = slot->first_header;
    out.header.more_frags = false;
    out.header.frag_offset = 0;
    out.header.payload_len = static_cast<std::uint16_t>(*slot->total);
    completed_ = std::move(slot->data);
    out.payload = Bytes(completed_.data(), *slot->total);
    remove(slot);
    ++stats_.reasm_ok;
    return out;
}

void Reassembler::expire(Instant now) {
    completed_ = {};
    for (std::size_t i = 0; i < slots_.size();) {
        if (slots_[i]->deadline <= now) {
            discard(slots_[i].get(), stats_.drop_frag_timeout);
        } else {
            ++i;
        }
    }
}

Instant Reassembler::next_deadline() const {
    Instant next = Instant::never();
    for (const auto& s : slots_) next = std::min(next, s->deadline);
    return next;
}

}  // namespace stack::ip
