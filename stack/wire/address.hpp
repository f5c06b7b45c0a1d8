// Ipv4Address: an IPv4 address as a host-order integer, with dotted-quad parse/format and the
// 198.18.0.0/15-style prefix helpers that configuration needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stack::wire {

struct Ipv4Address {
    std::uint32_t value = 0;  // host order: 198.18.0.2 is 0xc6120002

    constexpr Ipv4Address() = default;
    constexpr explicit Ipv4Address(std::uint32_t v) : value(v) {}
    constexpr Ipv4Address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
        : value(std::uint32_t{a} << 24 | std::uint32_t{b} << 16 | std::uint32_t{c} << 8 | d) {}

    static constexpr Ipv4Address any() { return Ipv4Address(0); }
    static constexpr Ipv4Address broadcast() { return Ipv4Address(0xffffffffu); }

    constexpr bool is_unspecified() const { return value == 0; }
    constexpr bool is_broadcast() const { return value == 0xffffffffu; }
    constexpr bool is_multicast() const { return (value >> 28) == 0xe; }
    constexpr bool is_loopback() const { return (value >> 24) == 127; }
    // 0.0.0.0/8, "this host on this network" (RFC 1122 §3.2.1.3 (a)/(b)): never a source on the wire.
    constexpr bool is_this_network() const { return (value >> 24) == 0; }
    // 240.0.0.0/4, reserved (RFC 1112 §4 class E, RFC 6890), which holds the limited broadcast.
    constexpr bool is_reserved() const { return (value >> 28) == 0xf; }
    // A source address no real peer can have (RFC 1122 §3.2.1.3, RFC 1812 §5.3.7): this network,
    // loopback, multicast, reserved and broadcast. (The receiver's own address is martian too, but only
    // the receiver knows it.)
    constexpr bool is_martian_source() const {
        return is_this_network() || is_loopback() || is_multicast() || is_reserved();
    }
    constexpr auto operator<=>(const Ipv4Address&) const = default;

    // Strict dotted quad: four decimal octets 0..255, no leading '+', no trailing garbage.
    static std::optional<Ipv4Address> parse(std::string_view text);
    std::string to_string() const;
};

// An address with a prefix length, as in "198.18.0.1/24".
struct Ipv4Cidr {
    Ipv4Address address;
    std::uint8_t prefix_len = 32;

    static std::optional<Ipv4Cidr> parse(std::string_view text);
    constexpr std::uint32_t netmask() const {
        return prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix_len);
    }
    constexpr bool contains(Ipv4Address a) const {
        return (a.value & netmask()) == (address.value & netmask());
    }
    constexpr Ipv4Address broadcast() const { return Ipv4Address(address.value | ~netmask()); }
    std::string to_string() const;
};

}  // namespace stack::wire
