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

std::uint32_t SynCookies::encode_ts(std::uint32_t ts_now, const CookieTsOptions& o) {
    std::uint32_t bits = o.wscale ? *o.wscale : 0xfu;
    if (o.sack) bits |= 1u << 4;
    std::uint32_t ts = (ts_now & ~kTsMask) | bits;
    if (static_cast<std::int32_t>(ts - ts_now) > 0) ts -= kTsMask + 1;
    return ts;
}

std::optional<CookieTsOptions> SynCookies::decode_ts(std::uint32_t ts_now, std::uint32_t tsecr) {
    // TSval counts milliseconds: a cookie's TSecr is at most its lifetime (plus the rounding) old.
    constexpr std::int64_t kMaxAgeMs = (kMaxAgePeriods + 1) * kPeriodUs / 1000 + kTsMask + 1;
    const auto age = static_cast<std::int32_t>(ts_now - tsecr);
    if (age < 0 || age > kMaxAgeMs) return std::nullopt;
    const std::uint32_t bits = tsecr & kTsMask;
    if (bits >> 5 != 0) return std::nullopt;  // the spare bit is never set
    CookieTsOptions o;
    const std::uint32_t ws = bits & 0xfu;
    if (ws != 0xfu) o.wscale = static_cast<std::uint8_t>(ws);  // 0..14 (encode_ts's input)
    o.sack = (bits >> 4 & 1u) != 0;
    return o;
}

}  // namespace stack::tcp
