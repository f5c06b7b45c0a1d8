// Ipv6Address (RFC 4291 text forms in, RFC 5952 canonical text out) and IpAddress, an address of either
// family: the type sockets, routes, the path-MTU cache and ICMP error reports use, so one socket table
// and one set of rules serve IPv4 and IPv6.
//
// IpAddress keeps the family explicit. An IPv4 address is never silently an IPv4-mapped IPv6 address
// (::ffff:a.b.c.d): that form is parsed as IPv6 and stays IPv6 (v4() of it is nullopt); a stack that
// receives it on the wire treats it as a bogus source (RFC 4291 §2.5.5.2 is for APIs, not packets).
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "stack/wire/address.hpp"

namespace stack::wire {

struct Ipv6Address {
    std::array<std::uint8_t, 16> bytes{};  // network order, as on the wire

    constexpr Ipv6Address() = default;
    constexpr explicit Ipv6Address(const std::array<std::uint8_t, 16>& b) : bytes(b) {}
    // From eight 16-bit groups: Ipv6Address::groups(0x2001, 2, 0, 0, 0, 0, 0, 1) is 2001:2::1.
    static constexpr Ipv6Address groups(std::uint16_t a, std::uint16_t b, std::uint16_t c,
                                        std::uint16_t d, std::uint16_t e, std::uint16_t f,
                                        std::uint16_t g, std::uint16_t h) {
        Ipv6Address r;
        const std::uint16_t v[8] = {a, b, c, d, e, f, g, h};
        for (int i = 0; i < 8; ++i) {
            r.bytes[2 * i] = static_cast<std::uint8_t>(v[i] >> 8);
            r.bytes[2 * i + 1] = static_cast<std::uint8_t>(v[i]);
        }
        return r;
    }
    static Ipv6Address from_bytes(const std::uint8_t* p16) {
        Ipv6Address r;
        for (int i = 0; i < 16; ++i) r.bytes[i] = p16[i];
        return r;
    }
    constexpr std::uint16_t group(int i) const {
        return static_cast<std::uint16_t>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
    }

    constexpr bool is_unspecified() const { return *this == Ipv6Address(); }                // ::
    constexpr bool is_loopback() const { return *this == groups(0, 0, 0, 0, 0, 0, 0, 1); }  // ::1
    constexpr bool is_multicast() const { return bytes[0] == 0xff; }  // ff00::/8
    constexpr bool is_link_local() const {                            // fe80::/10
        return bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
    }
    constexpr bool is_v4_mapped() const {  // ::ffff:0:0/96
        for (int i = 0; i < 10; ++i)
            if (bytes[i] != 0) return false;
        return bytes[10] == 0xff && bytes[11] == 0xff;
    }
    // A source no real peer can have (RFC 4291 §2.5.2/§2.5.3/§2.7, RFC 4942 §2.1.3): unspecified,
    // loopback, multicast, IPv4-mapped.
    constexpr bool is_martian_source() const {
        return is_unspecified() || is_loopback() || is_multicast() || is_v4_mapped();
    }
    constexpr auto operator<=>(const Ipv6Address&) const = default;

    // RFC 4291 §2.2: eight groups of 1..4 hex digits, one "::" for a run of zero groups, an optional
    // trailing dotted quad. No zone ("%eth0"), no brackets, no prefix.
    static std::optional<Ipv6Address> parse(std::string_view text);
    // RFC 5952 §4: lower case, no leading zeros, the longest run (first if tied) of two or more zero
    // groups as "::"; ::ffff:a.b.c.d keeps its dotted quad (§5).
    std::string to_string() const;
};

struct Ipv6Cidr {
    Ipv6Address address;
    std::uint8_t prefix_len = 128;

    static std::optional<Ipv6Cidr> parse(std::string_view text);
    bool contains(const Ipv6Address& a) const;
    std::string to_string() const;
};

enum class IpFamily : std::uint8_t { V4 = 4, V6 = 6 };

class IpAddress {
public:
    constexpr IpAddress() = default;  // 0.0.0.0
    constexpr IpAddress(Ipv4Address a)
        : family_(IpFamily::V4), v4_(a) {}  // NOLINT: implicit on purpose
    constexpr IpAddress(const Ipv6Address& a) : family_(IpFamily::V6), v6_(a) {}  // NOLINT

    constexpr IpFamily family() const { return family_; }
    constexpr bool is_v4() const { return family_ == IpFamily::V4; }
    constexpr bool is_v6() const { return family_ == IpFamily::V6; }
    // The address of that family, or nullopt if this is the other family.
    constexpr std::optional<Ipv4Address> v4() const {
        return is_v4() ? std::optional<Ipv4Address>(v4_) : std::nullopt;
    }
    constexpr std::optional<Ipv6Address> v6() const {
        return is_v6() ? std::optional<Ipv6Address>(v6_) : std::nullopt;
    }
    // Unchecked access, for code that has tested family() (asserting in debug builds is the caller's).
    constexpr Ipv4Address as_v4() const { return v4_; }
    constexpr const Ipv6Address& as_v6() const { return v6_; }

    constexpr bool is_unspecified() const {
        return is_v4() ? v4_.is_unspecified() : v6_.is_unspecified();
    }
    constexpr bool is_martian_source() const {
        return is_v4() ? v4_.is_martian_source() : v6_.is_martian_source();
    }

    // Orders all IPv4 addresses before all IPv6 ones.
    constexpr bool operator==(const IpAddress& o) const {
        return family_ == o.family_ && (is_v4() ? v4_ == o.v4_ : v6_ == o.v6_);
    }
    constexpr std::strong_ordering operator<=>(const IpAddress& o) const {
        if (family_ != o.family_) return family_ <=> o.family_;
        return is_v4() ? v4_.value <=> o.v4_.value : v6_ <=> o.v6_;
    }

    // Either family: a dotted quad is IPv4, anything with ':' is IPv6. Brackets are not accepted here
    // (a URL or "host:port" parser strips them).
    static std::optional<IpAddress> parse(std::string_view text);
    std::string to_string() const;

    // A 64-bit mix of the address (family included) for hash tables; not keyed, not for security.
    std::uint64_t hash() const;

private:
    IpFamily family_ = IpFamily::V4;
    Ipv4Address v4_{};
    Ipv6Address v6_{};
};

// An address with a prefix length of either family.
struct IpCidr {
    IpAddress address;
    std::uint8_t prefix_len = 32;

    static std::optional<IpCidr> parse(std::string_view text);
    bool contains(const IpAddress& a) const;  // false across families
    std::string to_string() const;
};

// The TCP/UDP/ICMPv6 pseudo-header sum (not folded, not complemented) for either family: RFC 9293
// §3.1 / RFC 768 for IPv4 (length at most 65535), RFC 8200 §8.1 for IPv6 (a 32-bit upper-layer
// length). `src` and `dst` must be of one family.
constexpr std::uint32_t pseudo_header_sum(const IpAddress& src, const IpAddress& dst,
                                          std::uint8_t protocol, std::uint32_t length) {
    if (src.is_v4()) {
        const std::uint32_t s = src.as_v4().value;
        const std::uint32_t d = dst.as_v4().value;
        return (s >> 16) + (s & 0xffffu) + (d >> 16) + (d & 0xffffu) + protocol +
               (length & 0xffffu);
    }
    std::uint32_t sum = 0;
    for (int i = 0; i < 8; ++i) sum += src.as_v6().group(i) + dst.as_v6().group(i);
    return sum + (length >> 16) + (length & 0xffffu) + protocol;
}

}  // namespace stack::wire

template <>
struct std::hash<::stack::wire::IpAddress> {
    std::size_t operator()(const ::stack::wire::IpAddress& a) const noexcept {
        return static_cast<std::size_t>(a.hash());
    }
};
