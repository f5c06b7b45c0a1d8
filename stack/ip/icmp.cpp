#include "stack/ip/icmp.hpp"

#include <algorithm>

#include "stack/base/checksum.hpp"

namespace stack::ip {

namespace {
bool is_error_type(std::uint8_t type) {
    switch (static_cast<wire::IcmpType>(type)) {
        case wire::IcmpType::DestUnreachable:
        case wire::IcmpType::SourceQuench:
        case wire::IcmpType::Redirect:
        case wire::IcmpType::TimeExceeded:
        case wire::IcmpType::ParameterProblem: return true;
        default: return false;
    }
}
}  // namespace

Icmp::Icmp(const IcmpConfig& config, Ipv4Output& output, IcmpStats& stats)
    : config_(config), output_(output), stats_(stats) {
    STACK_ASSERT(config_.error_rate_per_sec > 0);
    credit_us_ = std::int64_t{config_.error_burst} * (1'000'000 / config_.error_rate_per_sec);
}

std::optional<IcmpErrorReport> Icmp::on_message(Instant now, const wire::Ipv4Repr& ip,
                                                Bytes message) {
    (void)now;
    auto parsed = wire::Icmpv4Packet::parse(message);
    if (!parsed) {
        if (parsed.error() == wire::Icmpv4Error::Truncated) {
            ++stats_.drop_truncated;
        } else {
            ++stats_.drop_bad_checksum;
        }
        return std::nullopt;
    }
    const wire::Icmpv4Packet& icmp = *parsed;
    ++stats_.rx_messages;
    stats_.rx_bytes += message.size();
    switch (static_cast<wire::IcmpType>(icmp.type())) {
        case wire::IcmpType::EchoRequest: {
            ++stats_.rx_echo_request;
            // The reply differs from the request only in its first word (type/code), so its checksum
            // is the request's updated incrementally (RFC 1624) and the data is copied once, from the
            // request straight into the outbound frames.
            std::uint8_t header[wire::kIcmpv4HeaderLen];
            header[0] = static_cast<std::uint8_t>(wire::IcmpType::EchoReply);
            header[1] = 0;
            std::uint16_t old_word = static_cast<std::uint16_t>(icmp.type() << 8 | icmp.code());
            store_be16(header + 2, checksum::update16(icmp.checksum(), old_word, 0));
            store_be32(header + 4, icmp.rest_of_header());
            if (output_.send(ip.src, wire::IpProtocol::Icmp, {Bytes(header), icmp.body()})) {
                ++stats_.tx_echo_reply;
                ++stats_.tx_messages;
                stats_.tx_bytes += wire::kIcmpv4HeaderLen + icmp.body().size();
            }
            return std::nullopt;
        }
        case wire::IcmpType::EchoReply: ++stats_.rx_echo_reply; return std::nullopt;
        case wire::IcmpType::DestUnreachable:
            ++stats_.rx_dest_unreachable;
            return decode_error(ip, icmp);
        case wire::IcmpType::TimeExceeded: ++stats_.rx_time_exceeded; return decode_error(ip, icmp);
        case wire::IcmpType::ParameterProblem:
            ++stats_.rx_parameter_problem;
            return decode_error(ip, icmp);
        // Source quench is deprecated (RFC 6633) and redirects are for hosts with a choice of first
        // hop, which a TUN endpoint has not: both are counted and ignored.
        case wire::IcmpType::SourceQuench: ++stats_.rx_source_quench; return std::nullopt;
        case wire::IcmpType::Redirect: ++stats_.rx_redirect; return std::nullopt;
        case wire::IcmpType::Timestamp: ++stats_.rx_timestamp; return std::nullopt;
        case wire::IcmpType::TimestampReply: ++stats_.rx_timestamp_reply; return std::nullopt;
        default: ++stats_.rx_other; return std::nullopt;
    }
}

std::optional<IcmpErrorReport> Icmp::decode_error(const wire::Ipv4Repr& ip,
                                                  const wire::Icmpv4Packet& icmp) {
    // The quote: the IPv4 header we sent (options included) and at least 8 bytes after it. Its
    // checksum is not checked: RFC 1812 §4.3.2.3 lets routers quote what they received, and the
    // transport's own check of the quoted sequence space is the defence against forgery.
    const Bytes body = icmp.body();
    if (body.size() < wire::kIpv4MinHeaderLen || (body[0] >> 4) != 4) {
        ++stats_.drop_bad_quote;
        return std::nullopt;
    }
    const std::size_t ihl = std::size_t{body[0] & 0x0fu} * 4;
    if (ihl < wire::kIpv4MinHeaderLen || body.size() < ihl + 8 ||
        wire::Ipv4Address(load_be32(&body[12])) != output_.addr()) {
        ++stats_.drop_bad_quote;
        return std::nullopt;
    }
    IcmpErrorReport r;
    r.type = icmp.type();
    r.code = icmp.code();
    r.reporter = ip.src;
    r.local = wire::Ipv4Address(load_be32(&body[12]));
    r.remote = wire::Ipv4Address(load_be32(&body[16]));
    r.protocol = body[9];
    r.quoted_datagram_length = load_be16(&body[2]);
    r.transport = body.subspan(ihl);
    switch (static_cast<wire::IcmpType>(icmp.type())) {
        case wire::IcmpType::TimeExceeded: r.kind = IcmpErrorKind::TimeExceeded; break;
        case wire::IcmpType::ParameterProblem: r.kind = IcmpErrorKind::ParameterProblem; break;
        default:  // Destination Unreachable (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1)
            switch (icmp.code()) {
                case 0:
                case 6:
                case 11: r.kind = IcmpErrorKind::NetUnreachable; break;
                case 2: r.kind = IcmpErrorKind::ProtocolUnreachable; break;
                case 3: r.kind = IcmpErrorKind::PortUnreachable; break;
                case 4:
                    r.kind = IcmpErrorKind::PacketTooBig;
                    r.mtu = icmp.rest_of_header() & 0xffffu;  // RFC 1191 §4: next-hop MTU
                    break;
                case 5: r.kind = IcmpErrorKind::SourceRouteFailed; break;
                case 9:
                case 10:
                case 13: r.kind = IcmpErrorKind::AdminProhibited; break;
                default: r.kind = IcmpErrorKind::HostUnreachable; break;
            }
            break;
    }
    return r;
}

bool Icmp::take_error_token(Instant now) {
    const std::int64_t cost = 1'000'000 / config_.error_rate_per_sec;
    const std::int64_t cap = std::int64_t{config_.error_burst} * cost;
    credit_us_ = std::min(cap, credit_us_ + (now - last_refill_).as_micros());
    last_refill_ = now;
    if (credit_us_ < cost) return false;
    credit_us_ -= cost;
    return true;
}

void Icmp::send_unreachable(Instant now, wire::UnreachCode code, Bytes header, Bytes payload) {
    // The header reached us already validated; read only the fields RFC 1122 §3.2.2 cares about.
    const bool initial_fragment = header.size() >= 8 && (load_be16(&header[6]) & 0x1fff) == 0;
    const std::uint8_t protocol = header.size() >= 10 ? header[9] : 0;
    const bool about_icmp_error = protocol == static_cast<std::uint8_t>(wire::IpProtocol::Icmp) &&
                                  !payload.empty() && is_error_type(payload[0]);
    const wire::Ipv4Address src(header.size() >= 16 ? load_be32(&header[12]) : 0);
    if (header.size() < wire::kIpv4MinHeaderLen || !initial_fragment || about_icmp_error ||
        src.is_unspecified() || src.is_broadcast() || src.is_multicast()) {
        ++stats_.error_suppressed;
        return;
    }
    if (!take_error_token(now)) {
        ++stats_.error_rate_limited;
        return;
    }
    const std::size_t room = kIcmpErrorMaxLen - wire::kIpv4MinHeaderLen - wire::kIcmpv4HeaderLen;
    Bytes quoted_header = header.first(std::min(header.size(), room));
    Bytes quoted_payload = payload.first(std::min(payload.size(), room - quoted_header.size()));

    std::uint8_t icmp[wire::kIcmpv4HeaderLen] = {
        static_cast<std::uint8_t>(wire::IcmpType::DestUnreachable),
        static_cast<std::uint8_t>(code)};
    std::uint32_t sum = checksum::partial(Bytes(icmp));
    sum = checksum::combine(sum, checksum::partial(quoted_header), wire::kIcmpv4HeaderLen);
    sum = checksum::combine(sum, checksum::partial(quoted_payload),
                            wire::kIcmpv4HeaderLen + quoted_header.size());
    store_be16(icmp + 2, checksum::finish(sum));
    if (output_.send(src, wire::IpProtocol::Icmp, {Bytes(icmp), quoted_header, quoted_payload})) {
        ++stats_.tx_dest_unreachable;
        ++stats_.tx_messages;
        stats_.tx_bytes += wire::kIcmpv4HeaderLen + quoted_header.size() + quoted_payload.size();
    }
}

}  // namespace stack::ip
