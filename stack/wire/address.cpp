#include "stack/wire/address.hpp"

#include <charconv>

namespace stack::wire {

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text) {
    std::uint32_t value = 0;
    const char* p = text.data();
    const char* end = text.data() + text.size();
    for (int i = 0; i < 4; ++i) {
        if (i > 0) {
            if (p == end || *p != '.') return std::nullopt;
            ++p;
        }
        if (p == end || *p < '0' || *p > '9') return std::nullopt;
        unsigned octet = 0;
        auto [next, ec] = std::from_chars(p, end, octet);
        if (ec != std::errc() || octet > 255 || next - p > 3) return std::nullopt;
        value = value << 8 | octet;
        p = next;
    }
    if (p != end) return std::nullopt;
    return Ipv4Address(value);
}

std::string Ipv4Address::to_string() const {
    return std::to_string(value >> 24) + '.' + std::to_string(value >> 16 & 0xff) + '.' +
           std::to_string(value >> 8 & 0xff) + '.' + std::to_string(value & 0xff);
}

std::optional<Ipv4Cidr> Ipv4Cidr::parse(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto addr = Ipv4Address::parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    std::string_view len_text = text.substr(slash + 1);
    unsigned len = 0;
    auto [next, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
    if (len_text.empty() || ec != std::errc() || next != len_text.data() + len_text.size() ||
        len > 32) {
        return std::nullopt;
    }
    return Ipv4Cidr{*addr, static_cast<std::uint8_t>(len)};
}

std::string Ipv4Cidr::to_string() const {
    return address.to_string() + '/' + std::to_string(prefix_len);
}

}  // namespace stack::wire
