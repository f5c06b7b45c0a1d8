#include "stack/base/checksum.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace stack::checksum {
namespace {

std::vector<std::uint8_t> random_bytes(std::mt19937& rng, std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    return v;
}

TEST(Checksum, Rfc1071WorkedExample) {
    // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (before complement).
    const std::uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(fold(partial(data)), 0xddf2);
    EXPECT_EQ(compute(data), static_cast<std::uint16_t>(~0xddf2));
}

TEST(Checksum, MatchesReferenceAtEveryLengthAndAlignment) {
    std::mt19937 rng(1);
    auto buf = random_bytes(rng, 2048 + 64);
    for (std::size_t offset = 0; offset < 9; ++offset) {
        for (std::size_t len = 0; len <= 600; ++len) {
            Bytes span(buf.data() + offset, len);
            ASSERT_EQ(compute(span), reference_compute(span))
                << "offset " << offset << " len " << len;
        }
    }
    for (std::size_t len : {1499u, 1500u, 9000u, 65535u}) {
        auto big = random_bytes(rng, len);
        ASSERT_EQ(compute(big), reference_compute(big)) << len;
    }
}

TEST(Checksum, AllOnesDoesNotOverflow) {
    std::vector<std::uint8_t> ff(65536 * 4, 0xff);
    EXPECT_EQ(compute(ff), reference_compute(ff));
}

TEST(Checksum, CombineChunksAtOddOffsets) {
    std::mt19937 rng(2);
    for (int trial = 0; trial < 500; ++trial) {
        auto data = random_bytes(rng, 1 + rng() % 300);
        std::size_t cut = rng() % data.size();
        Bytes a(data.data(), cut), b(data.data() + cut, data.size() - cut);
        std::uint32_t sum = combine(partial(a), partial(b), cut);
        ASSERT_EQ(finish(sum), reference_compute(data)) << "cut " << cut;
    }
}

TEST(Checksum, VerifyAcceptsAStoredChecksumAndRejectsAFlippedBit) {
    std::mt19937 rng(3);
    auto data = random_bytes(rng, 40);
    data[10] = data[11] = 0;
    store_be16(&data[10], compute(data));
    EXPECT_TRUE(verify(data));
    data[17] ^= 0x04;
    EXPECT_FALSE(verify(data));
}

TEST(Checksum, IncrementalUpdateRfc1624MatchesRecompute) {
    std::mt19937 rng(4);
    for (int trial = 0; trial < 2000; ++trial) {
        auto data = random_bytes(rng, 20 + 2 * (rng() % 20));
        data[10] = data[11] = 0;
        std::uint16_t csum = compute(data);
        std::size_t field = 2 * (rng() % (data.size() / 2));
        if (field == 10) continue;
        std::uint16_t old_v = load_be16(&data[field]);
        std::uint16_t new_v = trial % 7 == 0 ? 0 : static_cast<std::uint16_t>(rng());
        store_be16(&data[field], new_v);
        ASSERT_EQ(update16(csum, old_v, new_v), compute(data));
        if (field + 4 <= data.size() && field != 8) {
            std::uint32_t o32 = load_be32(&data[field]);
            std::uint32_t n32 = static_cast<std::uint32_t>(rng());
            store_be32(&data[field], n32);
            ASSERT_EQ(update32(compute(Bytes(data)), 0, 0), compute(data));
            std::uint16_t before = compute(data);
            store_be32(&data[field], o32);
            ASSERT_EQ(update32(before, n32, o32), compute(data));
        }
    }
}

TEST(Checksum, PseudoHeaderMatchesExplicitBytes) {
    // 198.18.0.1 -> 198.18.0.2, TCP, length 20: compare with summing the 12 pseudo-header bytes.
    const std::uint8_t ph[12] = {198, 18, 0, 1, 198, 18, 0, 2, 0, 6, 0, 20};
    EXPECT_EQ(fold(pseudo_header_v4(0xc6120001, 0xc6120002, 6, 20)), fold(partial(ph)));
}

}  // namespace
}  // namespace stack::checksum
