#include "stack/tcp/siphash.hpp"

#include <bit>
#include <cstring>

namespace stack::tcp {

namespace {

std::uint64_t load_le64(const std::uint8_t* p) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;  // little-endian host (asserted in bytes.hpp)
}

struct SipState {
    std::uint64_t v0, v1, v2, v3;

    // One SipRound (paper §2, Figure 2): two ARX half-rounds over the four lanes.
    void round() {
        v0 += v1;
        v1 = std::rotl(v1, 13);
        v1 ^= v0;
        v0 = std::rotl(v0, 32);
        v2 += v3;
        v3 = std::rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = std::rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = std::rotl(v1, 17);
        v1 ^= v2;
        v2 = std::rotl(v2, 32);
    }

    void compress(std::uint64_t m) {
        v3 ^= m;
        round();  // c = 2
        round();
        v0 ^= m;
    }
};

}  // namespace

std::uint64_t siphash24(const SipHashKey& key, Bytes message) {
    const std::uint64_t k0 = load_le64(key.data());
    const std::uint64_t k1 = load_le64(key.data() + 8);
    // Initialisation: the key xored with the ASCII of "somepseudorandomlygeneratedbytes".
    SipState s{k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull, k0 ^ 0x6c7967656e657261ull,
               k1 ^ 0x7465646279746573ull};

    const std::size_t len = message.size();
    const std::size_t full = len & ~std::size_t{7};
    for (std::size_t i = 0; i < full; i += 8) s.compress(load_le64(message.data() + i));

    // Last word: the remaining 0..7 bytes, little-endian, with (len mod 256) in the top byte.
    std::uint64_t last = static_cast<std::uint64_t>(len & 0xff) << 56;
    for (std::size_t i = 0; i < len - full; ++i) {
        last |= static_cast<std::uint64_t>(message[full + i]) << (8 * i);
    }
    s.compress(last);

    // Finalisation: d = 4 rounds.
    s.v2 ^= 0xff;
    s.round();
    s.round();
    s.round();
    s.round();
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace stack::tcp
