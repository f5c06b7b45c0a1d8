// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed 64-bit PRF, here
// the F() of RFC 6528's ISN generator. Written from the paper's description (§2: initialisation with the
// "somepseudorandomlygeneratedbytes" constants, c = 2 compression rounds per 8-byte little-endian word,
// the final word carrying the length in its top byte, 0xff xored into v2, d = 4 finalisation rounds) and
// checked against the paper's published test vectors.
#pragma once

#include <array>
#include <cstdint>

#include "stack/base/bytes.hpp"

namespace stack::tcp {

using SipHashKey = std::array<std::uint8_t, 16>;

// SipHash-2-4 of `message` under the 128-bit `key` (k0 = key bytes 0..7, k1 = bytes 8..15, both little-
// endian, as in the paper). The paper's vectors print the result as its 8 little-endian bytes.
std::uint64_t siphash24(const SipHashKey& key, Bytes message);

}  // namespace stack::tcp
