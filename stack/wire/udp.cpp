#include "stack/wire/udp.hpp"

#include <cstring>

#include "stack/base/checksum.hpp"
#include "stack/wire/ipv4.hpp"

namespace stack::wire {

std::string_view to_string(UdpError e) {
    switch (e) {
        case UdpError::Truncated: return "truncated";
        case UdpError::BadLength: return "bad_length";
        case UdpError::BadChecksum: return "bad_checksum";
    }
    return "unknown";
}

Result<UdpPacket, UdpError> UdpPacket::parse(Bytes buffer, Ipv4Address src, Ipv4Address dst,
                                             Checksum check) {
    if (buffer.size() < kUdpHeaderLen) return Err{UdpError::Truncated};
    std::uint16_t len = load_be16(&buffer[4]);
    if (len < kUdpHeaderLen || len > buffer.size()) return Err{UdpError::BadLength};
    Bytes datagram = buffer.first(len);
    if (check == Checksum::Verify && load_be16(&datagram[6]) != 0) {
        std::uint32_t pseudo = checksum::pseudo_header_v4(
            src.value, dst.value, static_cast<std::uint8_t>(IpProtocol::Udp), len);
        if (!checksum::verify(datagram, pseudo)) return Err{UdpError::BadChecksum};
    }
    return UdpPacket(datagram);
}

UdpRepr UdpRepr::parse(const UdpPacket& p) {
    return {p.src_port(), p.dst_port(), static_cast<std::uint16_t>(p.length() - kUdpHeaderLen)};
}

void UdpRepr::emit(MutBytes out, Ipv4Address src, Ipv4Address dst, Bytes payload) const {
    STACK_ASSERT(payload.size() == payload_len);
    STACK_ASSERT(len() <= 0xffff);
    STACK_ASSERT(out.size() >= len());
    std::uint8_t* h = out.data();
    if (!payload.empty() && payload.data() != h + kUdpHeaderLen) {
        std::memmove(h + kUdpHeaderLen, payload.data(), payload.size());
    }
    const auto length = static_cast<std::uint16_t>(len());
    store_be16(h, src_port);
    store_be16(h + 2, dst_port);
    store_be16(h + 4, length);
    store_be16(h + 6, 0);
    std::uint32_t pseudo = checksum::pseudo_header_v4(
        src.value, dst.value, static_cast<std::uint8_t>(IpProtocol::Udp), length);
    std::uint16_t sum = checksum::finish(checksum::partial(Bytes(h, len()), pseudo));
    store_be16(h + 6, sum == 0 ? 0xffff : sum);
}

}  // namespace stack::wire
