// SynCookies codec: MSS encoding, lifetime boundary (including the 5-bit time counter's wrap), and
// binding to the 4-tuple and the peer's ISN.
#include "stack/tcp/syn_cookie.hpp"

#include <gtest/gtest.h>

namespace stack::tcp {
namespace {

const CookieTuple kTuple{wire::Ipv4Address(198, 18, 0, 2), 80, wire::Ipv4Address(198, 18, 0, 1),
                         40000};
const SipHashKey kKey{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

Instant period(std::int64_t n, std::int64_t extra_s = 0) {
    return Instant::from_micros(n * SynCookies::kPeriodUs + extra_s * 1'000'000);
}

TEST(SynCookie, EncodesTheLargestMssNotAboveThePeers) {
    SynCookies c(kKey);
    const wire::SeqNumber peer(12345);
    for (auto [offered, expected] : {std::pair<std::uint16_t, std::uint16_t>{1460, 1460},
                                     {1400, 1360},
                                     {536, 536},
                                     {100, 536},
                                     {9000, 8960}}) {
        auto iss = c.make(period(3), kTuple, peer, offered);
        EXPECT_EQ(c.check(period(3), kTuple, iss, peer), std::optional<std::uint16_t>(expected))
            << offered;
    }
}

TEST(SynCookie, ValidForTwoMorePeriodsAcrossTheCounterWrap) {
    SynCookies c(kKey);
    const wire::SeqNumber peer(777);
    for (std::int64_t made : {5, 30, 31, 63}) {  // 31 and 63: the 5-bit counter wraps after them
        auto iss = c.make(period(made, 10), kTuple, peer, 1460);
        EXPECT_TRUE(c.check(period(made, 63), kTuple, iss, peer)) << made;
        EXPECT_TRUE(c.check(period(made + 1), kTuple, iss, peer)) << made;
        EXPECT_TRUE(c.check(period(made + 2, 63), kTuple, iss, peer)) << made;
        EXPECT_FALSE(c.check(period(made + 3), kTuple, iss, peer)) << made;
        EXPECT_FALSE(c.check(period(made + 32), kTuple, iss, peer)) << made;  // same 5 bits, old
    }
}

TEST(SynCookie, BoundToTupleIsnAndKey) {
    SynCookies c(kKey);
    const wire::SeqNumber peer(4242);
    auto iss = c.make(period(7), kTuple, peer, 1460);
    CookieTuple other = kTuple;
    other.remote_port = 40001;
    EXPECT_FALSE(c.check(period(7), other, iss, peer));
    EXPECT_FALSE(c.check(period(7), kTuple, iss, wire::SeqNumber(4243)));
    EXPECT_FALSE(c.check(period(7), kTuple, iss + 1, peer));
    SipHashKey k2 = kKey;
    k2[0] ^= 1;
    EXPECT_FALSE(SynCookies(k2).check(period(7), kTuple, iss, peer));
}

}  // namespace
}  // namespace stack::tcp
