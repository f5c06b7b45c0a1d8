// Assembler: the out-of-order data a TCP receiver holds beyond RCV.NXT, as sequence ranges (RFC 9293
// §3.10.7.4 step 7 "segment text" queued for later delivery), and the SACK blocks that report them
// (RFC 2018 §4). The bytes themselves sit in the connection's receive ring at their final position;
// this only tracks which ranges are there.
//
// Ranges are half-open [begin, end), disjoint, non-adjacent (touching ones are merged) and sorted, all
// above the RCV.NXT last passed to advance() and within the receive window (so well within 2^31, where
// the modular SeqNumber order is a total order).
//
// Bounded by memory, not by a small constant: capacity_for(buffer) allows one range per
// kBufferBytesPerRange bytes of receive buffer (1024 ranges, 8 KB, for a 512 KB buffer), at least
// kMinRanges. The storage is allocated once, at the first insert (a connection that never sees
// reordering, or is still half-open, pays nothing), and never grows: inserting and advancing move
// ranges inside it, never allocate.
//
// When every range is in use, a segment that would need a new range (it neither overlaps nor touches
// one) is refused (Insert::Full): the caller drops it, counts it and must not store its bytes. Nothing
// already held is ever given up, so every range a SACK block reported stays held until it is delivered
// in order: the receiver never reneges (RFC 2018 §8). Refusing only new ranges cannot wedge the
// connection: the segment at RCV.NXT never needs a range, and delivering it frees ranges.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "stack/wire/seq.hpp"

namespace stack::tcp {

class Assembler {
public:
    using SeqNumber = wire::SeqNumber;
    struct Range {
        SeqNumber begin, end;
        bool operator==(const Range&) const = default;
    };
    static constexpr std::size_t kMinRanges = 16;
    static constexpr std::size_t kBufferBytesPerRange = 512;
    // SACK blocks remembered in recency order (a TCP option has room for at most 4).
    static constexpr std::size_t kRecent = 4;

    // The range capacity for a receive buffer of `buffer_bytes`.
    static std::size_t capacity_for(std::size_t buffer_bytes);

    explicit Assembler(std::size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

    enum class Insert : std::uint8_t { Stored, Full };
    // Records that [begin, end) (non-empty, above RCV.NXT) is held, merging it with the ranges it
    // overlaps or touches. Full: it needed a new range and none is free; nothing changed.
    Insert insert(SeqNumber begin, SeqNumber end);

    // In-order data now reaches `rcv_nxt`: forgets the ranges that start at or before it and returns
    // how far in-order data reaches with them (rcv_nxt, or the end of a range it reached).
    SeqNumber advance(SeqNumber rcv_nxt);

    // Up to out.size() SACK blocks (RFC 2018 §4): first the range holding the most recently inserted
    // segment, then the other ranges most recently changed (so each is reported in several ACKs), then
    // the remaining ones from the lowest. Returns the count.
    std::size_t sack_blocks(std::span<Range> out) const;

    void clear();
    bool empty() const { return ranges_.empty(); }
    std::size_t size() const { return ranges_.size(); }
    std::size_t capacity() const { return capacity_; }
    const Range& operator[](std::size_t i) const { return ranges_[i]; }
    // Bytes of storage held (0 until the first insert).
    std::size_t memory_bytes() const { return ranges_.capacity() * sizeof(Range); }

private:
    // Index of the range whose begin is exactly `begin`, or size().
    std::size_t find(SeqNumber begin) const;
    void touch(const Range& r);

    std::vector<Range> ranges_;  // reserved to capacity_ at the first insert
    std::size_t capacity_;
    std::array<SeqNumber, kRecent> recent_{};  // begins of recently changed ranges, newest first
    std::size_t recent_count_ = 0;
};

}  // namespace stack::tcp
