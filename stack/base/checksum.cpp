#include "stack/base/checksum.hpp"

#include <cstring>

namespace stack::checksum {

std::uint32_t partial(Bytes data, std::uint32_t initial) {
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    // Four independent 64-bit accumulators, 8 bytes per step each; each step adds < 2^33.
    std::uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    while (n >= 32) {
        std::uint64_t w0, w1, w2, w3;
        std::memcpy(&w0, p, 8);
        std::memcpy(&w1, p + 8, 8);
        std::memcpy(&w2, p + 16, 8);
        std::memcpy(&w3, p + 24, 8);
        a0 += (w0 & 0xffffffffu) + (w0 >> 32);
        a1 += (w1 & 0xffffffffu) + (w1 >> 32);
        a2 += (w2 & 0xffffffffu) + (w2 >> 32);
        a3 += (w3 & 0xffffffffu) + (w3 >> 32);
        p += 32;
        n -= 32;
    }
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        a0 += (w & 0xffffffffu) + (w >> 32);
        p += 8;
        n -= 8;
    }
    if (n >= 4) {
        std::uint32_t w;
        std::memcpy(&w, p, 4);
        a1 += w;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        std::uint16_t w;
        std::memcpy(&w, p, 2);
        a2 += w;
        p += 2;
        n -= 2;
    }
    if (n == 1) {
        a3 += *p;  // the low byte in native (little-endian) order is the first byte on the wire
    }
    // Fold each accumulator separately so the additions cannot overflow.
    std::uint64_t sum = std::uint64_t{fold(a0)} + fold(a1) + fold(a2) + fold(a3);
    std::uint16_t native = fold(sum);
    std::uint16_t be = static_cast<std::uint16_t>((native >> 8) | (native << 8));
    return fold(std::uint64_t{be} + initial);
}

std::uint16_t reference_compute(Bytes data) {
    std::uint64_t sum = 0;
    std::size_t i = 0;
    for (; i + 1 < data.size(); i += 2) {
        sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
    }
    if (i < data.size()) sum += static_cast<std::uint32_t>(data[i] << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

}  // namespace stack::checksum
