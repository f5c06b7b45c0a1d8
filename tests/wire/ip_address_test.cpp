#include "stack/wire/ip_address.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

#include "stack/base/checksum.hpp"

namespace stack::wire {
namespace {

Ipv6Address v6(std::string_view text) {
    auto a = Ipv6Address::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(Ipv6Address());
}

TEST(Ipv6Address, ParsesEveryRfc4291TextForm) {
    EXPECT_EQ(v6("2001:2:0:0:0:0:0:1"), Ipv6Address::groups(0x2001, 2, 0, 0, 0, 0, 0, 1));
    EXPECT_EQ(v6("2001:0002:0000::0001"), Ipv6Address::groups(0x2001, 2, 0, 0, 0, 0, 0, 1));
    EXPECT_EQ(v6("2001:2::1"), Ipv6Address::groups(0x2001, 2, 0, 0, 0, 0, 0, 1));
    EXPECT_EQ(v6("::"), Ipv6Address());
    EXPECT_EQ(v6("::1"), Ipv6Address::groups(0, 0, 0, 0, 0, 0, 0, 1));
    EXPECT_EQ(v6("fe80::"), Ipv6Address::groups(0xfe80, 0, 0, 0, 0, 0, 0, 0));
    EXPECT_EQ(v6("FF02::1:FF00:1"), Ipv6Address::groups(0xff02, 0, 0, 0, 0, 1, 0xff00, 1));
    EXPECT_EQ(v6("::ffff:198.18.0.1"), Ipv6Address::groups(0, 0, 0, 0, 0, 0xffff, 0xc612, 0x0001));
    EXPECT_EQ(v6("1:2:3:4:5:6:198.18.0.1"), Ipv6Address::groups(1, 2, 3, 4, 5, 6, 0xc612, 1));
}

TEST(Ipv6Address, RejectsMalformedText) {
    for (const char* bad : {"",
                            ":",
                            ":::",
                            "1::2::3",
                            "1:2:3:4:5:6:7:8:9",
                            "1:2:3:4:5:6:7",
                            "12345::",
                            "g::1",
                            "1:2:3:4:5:6:7:8::",
                            "::1:2:3:4:5:6:7:8",
                            ":1::",
                            "1::2:",
                            "[::1]",
                            "fe80::1%eth0",
                            "::1/128",
                            "1.2.3.4",
                            "::1.2.3",
                            "::1.2.3.4.5",
                            "::256.1.1.1",
                            "1.2.3.4::",
                            "2001:2::1 "}) {
        EXPECT_FALSE(Ipv6Address::parse(bad).has_value()) << bad;
    }
}

TEST(Ipv6Address, PrintsRfc5952CanonicalForm) {
    // §4.1 no leading zeros, §4.2.1/§4.2.2 longest run of 2+ zero groups only, §4.2.3 first of equal
    // runs, §4.3 lower case, §5 mapped addresses keep their dotted quad.
    EXPECT_EQ(v6("2001:0db8::0001").to_string(), "2001:db8::1");
    EXPECT_EQ(v6("2001:db8:0:1:1:1:1:1").to_string(), "2001:db8:0:1:1:1:1:1");
    EXPECT_EQ(v6("2001:0:0:1:0:0:0:1").to_string(), "2001:0:0:1::1");
    EXPECT_EQ(v6("2001:db8:0:0:1:0:0:1").to_string(), "2001:db8::1:0:0:1");
    EXPECT_EQ(v6("2001:DB8::ABCD").to_string(), "2001:db8::abcd");
    EXPECT_EQ(v6("::").to_string(), "::");
    EXPECT_EQ(v6("::1").to_string(), "::1");
    EXPECT_EQ(v6("1::").to_string(), "1::");
    EXPECT_EQ(v6("::ffff:198.18.0.1").to_string(), "::ffff:198.18.0.1");
}

TEST(Ipv6Address, RoundTripsEveryZeroRunShape) {
    // Every pattern of zero and non-zero groups prints to text that parses back to the same address.
    for (unsigned mask = 0; mask < 256; ++mask) {
        Ipv6Address a;
        for (int g = 0; g < 8; ++g) {
            if (mask & (1u << g)) {
                a.bytes[2 * g] = static_cast<std::uint8_t>(g + 1);
                a.bytes[2 * g + 1] = 0x0f;
            }
        }
        auto back = Ipv6Address::parse(a.to_string());
        ASSERT_TRUE(back.has_value()) << a.to_string();
        EXPECT_EQ(*back, a) << a.to_string();
    }
}

TEST(Ipv6Address, ClassifiesMartianSources) {
    EXPECT_TRUE(v6("::").is_martian_source());
    EXPECT_TRUE(v6("::1").is_martian_source());
    EXPECT_TRUE(v6("ff02::1").is_martian_source());
    EXPECT_TRUE(v6("::ffff:198.18.0.1").is_martian_source());
    EXPECT_FALSE(v6("2001:2::1").is_martian_source());
    EXPECT_FALSE(v6("fe80::1").is_martian_source());
    EXPECT_TRUE(v6("fe80::1").is_link_local());
    EXPECT_FALSE(v6("fec0::1").is_link_local());
}

TEST(Ipv6Cidr, ParsesAndMatchesPrefixes) {
    auto lab = Ipv6Cidr::parse("2001:2::/48");
    ASSERT_TRUE(lab.has_value());
    EXPECT_TRUE(lab->contains(v6("2001:2::1")));
    EXPECT_TRUE(lab->contains(v6("2001:2:0:ffff::1")));
    EXPECT_FALSE(lab->contains(v6("2001:2:1::1")));
    EXPECT_EQ(lab->to_string(), "2001:2::/48");
    auto odd = Ipv6Cidr::parse("2001:2::/47");
    ASSERT_TRUE(odd.has_value());
    EXPECT_TRUE(odd->contains(v6("2001:2:1::1")));  // bit 47 is free
    EXPECT_FALSE(odd->contains(v6("2001:2:2::1")));
    EXPECT_FALSE(odd->contains(v6("2001:3::1")));
    EXPECT_TRUE(Ipv6Cidr::parse("::/0")->contains(v6("2001:2::1")));
    EXPECT_FALSE(Ipv6Cidr::parse("2001:2::/129").has_value());
    EXPECT_FALSE(Ipv6Cidr::parse("2001:2::/").has_value());
    EXPECT_FALSE(Ipv6Cidr::parse("2001:2::/4x").has_value());
}

TEST(IpAddress, KeepsTheFamilyExplicit) {
    IpAddress a = Ipv4Address(198, 18, 0, 1);
    IpAddress b = v6("::ffff:198.18.0.1");
    EXPECT_TRUE(a.is_v4());
    EXPECT_TRUE(b.is_v6());
    EXPECT_NE(a, b);  // a mapped address is not the IPv4 address
    EXPECT_FALSE(b.v4().has_value());
    EXPECT_EQ(a.v4(), Ipv4Address(198, 18, 0, 1));
    EXPECT_LT(a, b);  // every IPv4 address orders before every IPv6 one
    EXPECT_LT(IpAddress(Ipv4Address(255, 255, 255, 255)), IpAddress(Ipv6Address()));
    EXPECT_NE(a.hash(), b.hash());
}

TEST(IpAddress, ParsesAndPrintsEitherFamily) {
    auto a = IpAddress::parse("198.18.0.1");
    ASSERT_TRUE(a.has_value());
    EXPECT_TRUE(a->is_v4());
    EXPECT_EQ(a->to_string(), "198.18.0.1");
    auto b = IpAddress::parse("2001:2:0::1");
    ASSERT_TRUE(b.has_value());
    EXPECT_TRUE(b->is_v6());
    EXPECT_EQ(b->to_string(), "2001:2::1");
    EXPECT_FALSE(IpAddress::parse("[2001:2::1]").has_value());
    EXPECT_FALSE(IpAddress::parse("198.18.0").has_value());
    EXPECT_FALSE(IpAddress::parse("").has_value());
}

TEST(IpAddress, HashesDistinctAddressesApart) {
    std::unordered_set<IpAddress> set;
    for (std::uint32_t i = 0; i < 1000; ++i) {
        set.insert(Ipv4Address(0xc6120000u + i));
        Ipv6Address a = Ipv6Address::groups(0x2001, 2, 0, 0, 0, 0, 0, 0);
        a.bytes[14] = static_cast<std::uint8_t>(i >> 8);
        a.bytes[15] = static_cast<std::uint8_t>(i);
        set.insert(a);
    }
    EXPECT_EQ(set.size(), 2000u);
    EXPECT_EQ(set.count(IpAddress(Ipv4Address(198, 18, 0, 5))), 1u);
}

TEST(IpCidr, ContainsOnlyItsOwnFamily) {
    auto v4net = IpCidr::parse("198.18.0.0/15");
    ASSERT_TRUE(v4net.has_value());
    EXPECT_TRUE(v4net->contains(IpAddress(Ipv4Address(198, 19, 255, 255))));
    EXPECT_FALSE(v4net->contains(IpAddress(Ipv4Address(198, 20, 0, 0))));
    EXPECT_FALSE(v4net->contains(IpAddress(v6("::ffff:198.18.0.1"))));
    auto v6net = IpCidr::parse("2001:2::/48");
    ASSERT_TRUE(v6net.has_value());
    EXPECT_TRUE(v6net->contains(IpAddress(v6("2001:2::9"))));
    EXPECT_FALSE(v6net->contains(IpAddress(Ipv4Address(198, 18, 0, 1))));
    EXPECT_EQ(v6net->to_string(), "2001:2::/48");
    EXPECT_EQ(v4net->to_string(), "198.18.0.0/15");
    EXPECT_FALSE(IpCidr::parse("198.18.0.0/33").has_value());
    EXPECT_FALSE(IpCidr::parse("2001:2::/200").has_value());
}

TEST(PseudoHeader, MatchesTheRfcLayouts) {
    // IPv4: the v4 helper's sum. IPv6 (RFC 8200 §8.1): the checksum of the 40-byte pseudo-header.
    const Ipv4Address s4(198, 18, 0, 1), d4(198, 18, 0, 2);
    EXPECT_EQ(checksum::fold(pseudo_header_sum(s4, d4, 6, 1234)),
              checksum::fold(checksum::pseudo_header_v4(s4.value, d4.value, 6, 1234)));
    const Ipv6Address s6 = v6("2001:2::1"), d6 = v6("2001:2::ffff:2");
    std::uint8_t ph[40] = {};
    for (int i = 0; i < 16; ++i) ph[i] = s6.bytes[i], ph[16 + i] = d6.bytes[i];
    store_be32(ph + 32, 0x12345);
    ph[39] = 17;
    EXPECT_EQ(checksum::fold(pseudo_header_sum(s6, d6, 17, 0x12345)),
              checksum::fold(checksum::partial(Bytes(ph, 40))));
}

}  // namespace
}  // namespace stack::wire
