#include "stack/tcp/syn_cookie.hpp"

#include "stack/base/bytes.hpp"

namespace stack::tcp {

std::uint32_t SynCookies::mac(const CookieTuple& t, wire::SeqNumber peer_iss, std::uint32_t period,
                              std::uint32_t mss_index) const {
    std::uint8_t msg[24];
    store_be32(msg, t.local.value);
    store_be16(msg + 4, t.local_port);
    store_be32(msg + 6, t.remote.value);
    store_be16(msg + 10, t.remote_port);
    store_be32(msg + 12, peer_iss.value());
    store_be32(msg + 16, period);
    store_be32(msg + 20, mss_index);
    return static_cast<std::uint32_t>(siphash24(key_, Bytes(msg))) & 0xffffffu;
}

wire::SeqNumber SynCookies::make(Instant now, const CookieTuple& t, wire::SeqNumber peer_iss,
                                 std::uint16_t peer_mss) const {
    std::uint32_t index = 0;
    for (std::uint32_t i = 0; i < kMssTable.size(); ++i) {
        if (kMssTable[i] <= peer_mss) index = i;
    }
    const auto period = static_cast<std::uint32_t>(now.as_micros() / kPeriodUs);
    return wire::SeqNumber((period & 31u) << 27 | index << 24 | mac(t, peer_iss, period, index));
}

std::optional<std::uint16_t> SynCookies::check(Instant now, const CookieTuple& t,
                                               wire::SeqNumber iss,
                                               wire::SeqNumber peer_iss) const {
    const std::uint32_t v = iss.value();
    const std::uint32_t index = v >> 24 & 7u;
    const auto current = static_cast<std::uint32_t>(now.as_micros() / kPeriodUs);
    const std::uint32_t age = (current - (v >> 27)) & 31u;
    if (age > kMaxAgePeriods || age > current) return std::nullopt;
    if (mac(t, peer_iss, current - age, index) != (v & 0xffffffu)) return std::nullopt;
    return kMssTable[index];
}

}  // namespace stack::tcp
