// SipHash-2-4 against the reference vectors of the SipHash paper (Aumasson & Bernstein 2012, Appendix A
// and the vector table of the reference code: key 00..0f, message 00 01 .. (len-1)), and the RFC 6528
// ISN generator built on it.
#include "stack/tcp/isn.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "stack/tcp/siphash.hpp"

namespace stack::tcp {
namespace {

SipHashKey reference_key() {
    SipHashKey k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i);
    return k;
}

std::uint64_t hash_of_prefix(std::size_t len) {
    std::vector<std::uint8_t> msg(len);
    for (std::size_t i = 0; i < len; ++i) msg[i] = static_cast<std::uint8_t>(i);
    return siphash24(reference_key(), msg);
}

// The published table lists each output as 8 little-endian bytes; these are the same as integers.
TEST(SipHash, ReferenceVectors) {
    const std::array<std::uint64_t, 13> expected = {
        0x726fdb47dd0e0e31ull,  // len 0: 31 0e 0e dd 47 db 6f 72
        0x74f839c593dc67fdull,  // len 1: fd 67 dc 93 c5 39 f8 74
        0x0d6c8009d9a94f5aull,  // len 2
        0x85676696d7fb7e2dull,  // len 3
        0xcf2794e0277187b7ull,  // len 4
        0x18765564cd99a68dull,  // len 5
        0xcbc9466e58fee3ceull,  // len 6
        0xab0200f58b01d137ull,  // len 7
        0x93f5f5799a932462ull,  // len 8: one full word, empty tail
        0x9e0082df0ba9e4b0ull,  // len 9
        0x7a5dbbc594ddb9f3ull,  // len 10
        0xf4b32f46226bada7ull,  // len 11
        0x751e8fbc860ee5fbull,  // len 12
    };
    for (std::size_t len = 0; len < expected.size(); ++len) {
        EXPECT_EQ(hash_of_prefix(len), expected[len]) << "len " << len;
    }
}

TEST(SipHash, PaperAppendixExample) {
    // Appendix A: the 15-byte message 00..0e under key 00..0f gives a129ca6149be45e5.
    EXPECT_EQ(hash_of_prefix(15), 0xa129ca6149be45e5ull);
}

TEST(SipHash, KeyAndMessageSensitivity) {
    SipHashKey k = reference_key();
    const std::array<std::uint8_t, 4> m{1, 2, 3, 4};
    const std::uint64_t h = siphash24(k, m);
    k[15] ^= 1;
    EXPECT_NE(siphash24(k, m), h);
    const std::array<std::uint8_t, 5> longer{1, 2, 3, 4,
                                             0};  // trailing zero changes the length byte
    EXPECT_NE(siphash24(reference_key(), longer), h);
}

class IsnTest : public ::testing::Test {
protected:
    static std::array<std::uint8_t, 16> secret(std::uint8_t seed) {
        std::array<std::uint8_t, 16> s{};
        for (std::size_t i = 0; i < s.size(); ++i)
            s[i] = static_cast<std::uint8_t>(seed * 31 + i * 7);
        return s;
    }
    const wire::Ipv4Address local{198, 18, 0, 2};
    const wire::Ipv4Address remote{198, 18, 0, 1};
    IsnGenerator gen{secret(1)};
};

TEST_F(IsnTest, IsnSameInputsSameIsn) {
    const Instant t = Instant::from_millis(1234);
    EXPECT_EQ(gen.generate(t, local, 80, remote, 40000), gen.generate(t, local, 80, remote, 40000));
    IsnGenerator same_secret{secret(1)};
    EXPECT_EQ(same_secret.generate(t, local, 80, remote, 40000),
              gen.generate(t, local, 80, remote, 40000));
}

TEST_F(IsnTest, IsnAdvancesAt250kPerSecond) {  // RFC 6528 §3: M is a 4 us timer
    const Instant t = Instant::from_micros(1'000'000);
    const auto a = gen.generate(t, local, 80, remote, 40000);
    EXPECT_EQ(gen.generate(t + Duration::seconds(1), local, 80, remote, 40000) - a, 250000);
    EXPECT_EQ(gen.generate(t + Duration::micros(4), local, 80, remote, 40000) - a, 1);
    EXPECT_EQ(gen.generate(t + Duration::micros(3), local, 80, remote, 40000) - a, 0);
    // M wraps modulo 2^32 after 2^32 * 4 us (about 4.77 h).
    const Duration wrap = Duration::micros((std::int64_t{1} << 32) * 4);
    EXPECT_EQ(gen.generate(t + wrap, local, 80, remote, 40000), a);
    EXPECT_EQ(gen.generate(Instant{}, local, 80, remote, 40000).value(),
              gen.offset(local, 80, remote, 40000));
}

TEST_F(IsnTest, IsnDiffersPerTupleAndSecret) {
    const Instant t = Instant::from_millis(5);
    const auto base = gen.generate(t, local, 80, remote, 40000);
    EXPECT_NE(gen.generate(t, local, 80, remote, 40001), base);
    EXPECT_NE(gen.generate(t, local, 81, remote, 40000), base);
    EXPECT_NE(gen.generate(t, wire::Ipv4Address(198, 18, 0, 3), 80, remote, 40000), base);
    EXPECT_NE(gen.generate(t, local, 80, wire::Ipv4Address(198, 18, 0, 9), 40000), base);
    // Swapping the ends is a different connection-id.
    EXPECT_NE(gen.generate(t, remote, 40000, local, 80), base);
    EXPECT_NE(IsnGenerator{secret(2)}.generate(t, local, 80, remote, 40000), base);
    // Offsets of nearby ports are spread over the space, not clustered.
    std::vector<std::uint32_t> offsets;
    for (std::uint16_t p = 40000; p < 40064; ++p)
        offsets.push_back(gen.offset(local, 80, remote, p));
    std::sort(offsets.begin(), offsets.end());
    EXPECT_EQ(std::adjacent_find(offsets.begin(), offsets.end()), offsets.end());
    EXPECT_GT(offsets.back() - offsets.front(), 0xc0000000u);
}

}  // namespace
}  // namespace stack::tcp
