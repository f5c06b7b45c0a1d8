// The Internet checksum (RFC 1071), its pseudo-header helpers (RFC 768/9293) and incremental update
// (RFC 1624).
//
// Values are host-order numbers of the on-wire big-endian field: store them with store_be16 and compare
// them with load_be16. partial() sums 8 bytes per step (two 32-bit halves into a 64-bit accumulator, which
// cannot overflow below 16 GiB and vectorises), then folds; the one's-complement sum is byte-order
// independent (RFC 1071 §2(B)) so it sums in native order and swaps once at the end.
#pragma once

#include <cstddef>
#include <cstdint>

#include "stack/base/bytes.hpp"

namespace stack::checksum {

// One's-complement sum of `data`, treated as starting at an even offset, added to `initial` (a previous
// partial or pseudo-header sum). The result is not complemented and not necessarily folded to 16 bits.
std::uint32_t partial(Bytes data, std::uint32_t initial = 0);

// Folds a partial sum to 16 bits (not complemented).
constexpr std::uint16_t fold(std::uint64_t sum) {
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

// The checksum field value: the complement of the folded sum.
constexpr std::uint16_t finish(std::uint64_t sum) { return static_cast<std::uint16_t>(~fold(sum)); }

// finish(partial(data)).
inline std::uint16_t compute(Bytes data) { return finish(partial(data)); }

// Sum of the partial sum `b` of a chunk that starts `offset_of_b` bytes into the summed region, onto `a`.
// A chunk at an odd offset contributes its bytes swapped (RFC 1071 §2(B)).
constexpr std::uint32_t combine(std::uint32_t a, std::uint32_t b, std::size_t offset_of_b) {
    std::uint16_t fb = fold(b);
    if (offset_of_b & 1u) fb = static_cast<std::uint16_t>((fb >> 8) | (fb << 8));
    return a + fb;
}

// The IPv4 pseudo-header sum for TCP/UDP (RFC 9293 §3.1, RFC 768): addresses in host order, `length` is
// the transport header + payload length.
constexpr std::uint32_t pseudo_header_v4(std::uint32_t src, std::uint32_t dst,
                                         std::uint8_t protocol, std::uint16_t length) {
    return (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + protocol + length;
}

// True if `data` (a header or message including its checksum field) sums to 0xffff, i.e. verifies.
inline bool verify(Bytes data, std::uint32_t initial = 0) {
    return fold(partial(data, initial)) == 0xffff;
}

// RFC 1624 eqn. 3: the new checksum after one 16-bit field changes from old_value to new_value:
// HC' = ~(~HC + ~m + m').
constexpr std::uint16_t update16(std::uint16_t checksum, std::uint16_t old_value,
                                 std::uint16_t new_value) {
    std::uint32_t sum = static_cast<std::uint16_t>(~checksum);
    sum += static_cast<std::uint16_t>(~old_value);
    sum += new_value;
    return finish(sum);
}

// As update16 for a 32-bit field (an address, a sequence number).
constexpr std::uint16_t update32(std::uint16_t checksum, std::uint32_t old_value,
                                 std::uint32_t new_value) {
    checksum = update16(checksum, static_cast<std::uint16_t>(old_value >> 16),
                        static_cast<std::uint16_t>(new_value >> 16));
    return update16(checksum, static_cast<std::uint16_t>(old_value & 0xffff),
                    static_cast<std::uint16_t>(new_value & 0xffff));
}

// The textbook 16-bit-at-a-time RFC 1071 loop, kept as the reference for tests and the benchmark.
std::uint16_t reference_compute(Bytes data);

}  // namespace stack::checksum
