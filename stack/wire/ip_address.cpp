#include "stack/wire/ip_address.hpp"

#include <charconv>

namespace stack::wire {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::uint8_t> parse_prefix_len(std::string_view text, unsigned max) {
    unsigned len = 0;
    auto [next, ec] = std::from_chars(text.data(), text.data() + text.size(), len);
    if (text.empty() || text.size() > 3 || ec != std::errc() || next != text.data() + text.size() ||
        len > max) {
        return std::nullopt;
    }
    return static_cast<std::uint8_t>(len);
}

}  // namespace

std::optional<Ipv6Address> Ipv6Address::parse(std::string_view text) {
    // Split into the groups before "::" and after it; each side is a ':'-separated list.
    std::uint16_t head[8] = {};
    std::uint16_t tail[8] = {};
    int n_head = 0;
    int n_tail = 0;
    bool compressed = false;
    std::size_t i = 0;
    if (text.size() < 2) return std::nullopt;
    if (text.substr(0, 2) == "::") {
        compressed = true;
        i = 2;
        if (i == text.size()) return Ipv6Address();
    } else if (text[0] == ':') {
        return std::nullopt;
    }
    while (i < text.size()) {
        std::uint16_t* groups = compressed ? tail : head;
        int& n = compressed ? n_tail : n_head;
        if (n_head + n_tail >= 8) return std::nullopt;
        // A trailing dotted quad takes two groups; it must be the last thing.
        std::string_view rest = text.substr(i);
        if (rest.find(':') == std::string_view::npos && rest.find('.') != std::string_view::npos) {
            auto v4 = Ipv4Address::parse(rest);
            if (!v4 || n_head + n_tail + 2 > 8) return std::nullopt;
            groups[n++] = static_cast<std::uint16_t>(v4->value >> 16);
            groups[n++] = static_cast<std::uint16_t>(v4->value);
            i = text.size();
            break;
        }
        unsigned value = 0;
        std::size_t digits = 0;
        while (i < text.size() && hex_value(text[i]) >= 0) {
            value = value << 4 | static_cast<unsigned>(hex_value(text[i]));
            ++i;
            if (++digits > 4) return std::nullopt;
        }
        if (digits == 0) return std::nullopt;
        groups[n++] = static_cast<std::uint16_t>(value);
        if (i == text.size()) break;
        if (text[i] != ':') return std::nullopt;
        ++i;
        if (i < text.size() && text[i] == ':') {
            if (compressed) return std::nullopt;  // a second "::"
            compressed = true;
            ++i;
            if (i == text.size()) break;
        } else if (i == text.size()) {
            return std::nullopt;  // a trailing single ':'
        }
    }
    const int total = n_head + n_tail;
    if (compressed ? total > 7 : total != 8) return std::nullopt;
    std::uint16_t all[8] = {};
    for (int k = 0; k < n_head; ++k) all[k] = head[k];
    for (int k = 0; k < n_tail; ++k) all[8 - n_tail + k] = tail[k];
    return groups(all[0], all[1], all[2], all[3], all[4], all[5], all[6], all[7]);
}

std::string Ipv6Address::to_string() const {
    static constexpr char kHex[] = "0123456789abcdef";
    if (is_v4_mapped()) {
        Ipv4Address v4(bytes[12], bytes[13], bytes[14], bytes[15]);
        return "::ffff:" + v4.to_string();
    }
    // The longest run of zero groups (length >= 2), the first one on a tie (RFC 5952 §4.2.3).
    int best_at = -1;
    int best_len = 1;
    for (int g = 0; g < 8;) {
        if (group(g) != 0) {
            ++g;
            continue;
        }
        int end = g;
        while (end < 8 && group(end) == 0) ++end;
        if (end - g > best_len) {
            best_at = g;
            best_len = end - g;
        }
        g = end;
    }
    std::string out;
    out.reserve(39);
    for (int g = 0; g < 8; ++g) {
        if (g == best_at) {
            out += "::";
            g += best_len - 1;
            continue;
        }
        if (!out.empty() && out.back() != ':') out += ':';
        const std::uint16_t v = group(g);
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned nibble = (v >> shift) & 0xf;
            if (nibble == 0 && !started && shift != 0) continue;
            started = true;
            out += kHex[nibble];
        }
    }
    return out;
}

std::optional<Ipv6Cidr> Ipv6Cidr::parse(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto addr = Ipv6Address::parse(text.substr(0, slash));
    auto len = parse_prefix_len(text.substr(slash + 1), 128);
    if (!addr || !len) return std::nullopt;
    return Ipv6Cidr{*addr, *len};
}

bool Ipv6Cidr::contains(const Ipv6Address& a) const {
    unsigned bits = prefix_len;
    for (int i = 0; i < 16 && bits > 0; ++i) {
        const unsigned take = bits >= 8 ? 8 : bits;
        const auto mask = static_cast<std::uint8_t>(0xff << (8 - take));
        if ((a.bytes[i] & mask) != (address.bytes[i] & mask)) return false;
        bits -= take;
    }
    return true;
}

std::string Ipv6Cidr::to_string() const {
    return address.to_string() + '/' + std::to_string(prefix_len);
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.find(':') != std::string_view::npos) {
        auto v6 = Ipv6Address::parse(text);
        if (!v6) return std::nullopt;
        return IpAddress(*v6);
    }
    auto v4 = Ipv4Address::parse(text);
    if (!v4) return std::nullopt;
    return IpAddress(*v4);
}

std::string IpAddress::to_string() const { return is_v4() ? v4_.to_string() : v6_.to_string(); }

std::uint64_t IpAddress::hash() const {
    // splitmix64-style finaliser over the words of the address.
    auto mix = [](std::uint64_t x) {
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebULL;
        x ^= x >> 31;
        return x;
    };
    if (is_v4()) return mix(0x4000000000000000ULL | v4_.value);
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    for (int i = 0; i < 8; ++i) hi = hi << 8 | v6_.bytes[i];
    for (int i = 8; i < 16; ++i) lo = lo << 8 | v6_.bytes[i];
    return mix(hi ^ mix(lo ^ 0x6000000000000000ULL));
}

std::optional<IpCidr> IpCidr::parse(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto addr = IpAddress::parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    auto len = parse_prefix_len(text.substr(slash + 1), addr->is_v4() ? 32 : 128);
    if (!len) return std::nullopt;
    return IpCidr{*addr, *len};
}

bool IpCidr::contains(const IpAddress& a) const {
    if (a.family() != address.family()) return false;
    if (a.is_v4()) return Ipv4Cidr{address.as_v4(), prefix_len}.contains(a.as_v4());
    return Ipv6Cidr{address.as_v6(), prefix_len}.contains(a.as_v6());
}

std::string IpCidr::to_string() const {
    return address.to_string() + '/' + std::to_string(prefix_len);
}

}  // namespace stack::wire
