// SeqNumber: a TCP sequence number, a 32-bit value compared with serial-number arithmetic
// (RFC 9293 §3.4: "all arithmetic dealing with sequence numbers must be performed modulo 2**32"; the
// comparison rule is RFC 1982's, also used by RFC 7323 for timestamps).
//
// Invariant: a < b means "b is ahead of a by less than 2^31". The relation is not a total order (it is
// not transitive across the whole space), so SeqNumber deliberately has no operator<=> and must not be
// used as a key of an ordered container. Two numbers exactly 2^31 apart compare as a < b and b < a
// (RFC 1982 §3.2 leaves this case undefined); windows never get near that size (RFC 7323 §2.3 caps the
// window at 2^30).
#pragma once

#include <cstdint>

namespace stack::wire {

class SeqNumber {
public:
    constexpr SeqNumber() = default;
    constexpr explicit SeqNumber(std::uint32_t v) : value_(v) {}

    constexpr std::uint32_t value() const { return value_; }

    // Advance / retreat by a byte count, modulo 2^32.
    constexpr SeqNumber operator+(std::uint32_t n) const { return SeqNumber(value_ + n); }
    constexpr SeqNumber operator-(std::uint32_t n) const { return SeqNumber(value_ - n); }
    constexpr SeqNumber& operator+=(std::uint32_t n) {
        value_ += n;
        return *this;
    }
    constexpr SeqNumber& operator-=(std::uint32_t n) {
        value_ -= n;
        return *this;
    }

    // Signed distance from `b` to `a` (positive when a is ahead of b), in (-2^31, 2^31].
    friend constexpr std::int32_t operator-(SeqNumber a, SeqNumber b) {
        return static_cast<std::int32_t>(a.value_ - b.value_);  // modular in C++20
    }

    friend constexpr bool operator==(SeqNumber a, SeqNumber b) { return a.value_ == b.value_; }
    friend constexpr bool operator<(SeqNumber a, SeqNumber b) { return (a - b) < 0; }
    friend constexpr bool operator>(SeqNumber a, SeqNumber b) { return (a - b) > 0; }
    friend constexpr bool operator<=(SeqNumber a, SeqNumber b) { return (a - b) <= 0; }
    friend constexpr bool operator>=(SeqNumber a, SeqNumber b) { return (a - b) >= 0; }

private:
    std::uint32_t value_ = 0;
};

// True if `x` lies in [start, start + len) modulo 2^32: the receive-window test of RFC 9293 §3.10.7.4
// ("RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND"). An empty window contains nothing.
constexpr bool seq_in_window(SeqNumber x, SeqNumber start, std::uint32_t len) {
    return x.value() - start.value() < len;
}

// The later / earlier of two numbers under serial comparison.
constexpr SeqNumber seq_max(SeqNumber a, SeqNumber b) { return a < b ? b : a; }
constexpr SeqNumber seq_min(SeqNumber a, SeqNumber b) { return a < b ? a : b; }

}  // namespace stack::wire
