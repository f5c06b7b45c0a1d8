#include "stack/wire/tcp.hpp"

#include <cstring>

#include "stack/base/checksum.hpp"
#include "stack/wire/ipv4.hpp"

namespace stack::wire {

std::string TcpFlags::to_string() const {
    static constexpr std::string_view kNames[8] = {"FIN", "SYN", "RST", "PSH",
                                                   "ACK", "URG", "ECE", "CWR"};
    std::string out;
    for (unsigned i = 0; i < 8; ++i) {
        if ((bits_ >> i) & 1u) {
            if (!out.empty()) out += '|';
            out += kNames[i];
        }
    }
    return out.empty() ? "none" : out;
}

std::string_view to_string(TcpError e) {
    switch (e) {
        case TcpError::TooLong: return "too_long";
        case TcpError::Truncated: return "truncated";
        case TcpError::BadDataOffset: return "bad_data_offset";
        case TcpError::BadChecksum: return "bad_checksum";
    }
    return "unknown";
}

namespace {
constexpr auto kTcpProto = static_cast<std::uint8_t>(IpProtocol::Tcp);
}

Result<TcpPacket, TcpError> TcpPacket::parse(Bytes buffer, Ipv4Address src, Ipv4Address dst,
                                             Checksum check) {
    if (buffer.size() > kTcpMaxSegmentLen) return Err{TcpError::TooLong};
    if (buffer.size() < kTcpMinHeaderLen) return Err{TcpError::Truncated};
    const std::size_t hlen = (std::size_t{buffer[12]} >> 4) * 4;
    if (hlen < kTcpMinHeaderLen || hlen > buffer.size()) return Err{TcpError::BadDataOffset};
    if (check == Checksum::Verify) {
        std::uint32_t pseudo = checksum::pseudo_header_v4(
            src.value, dst.value, kTcpProto, static_cast<std::uint16_t>(buffer.size()));
        if (!checksum::verify(buffer, pseudo)) return Err{TcpError::BadChecksum};
    }
    return TcpPacket(buffer);
}

Result<TcpRepr, TcpOptionError> TcpRepr::parse(const TcpPacket& p) {
    auto options = TcpOptions::parse(p.options());
    if (!options) return Err{options.error()};
    TcpRepr r;
    r.src_port = p.src_port();
    r.dst_port = p.dst_port();
    r.seq = p.seq();
    r.ack = p.ack();
    r.flags = p.flags();
    r.window = p.window();
    r.urgent = p.urgent();
    r.options = *options;
    r.payload_len = static_cast<std::uint16_t>(p.payload().size());
    return r;
}

void TcpRepr::emit(MutBytes out, Ipv4Address src, Ipv4Address dst, Bytes payload) const {
    const std::size_t hlen = header_len();
    const std::size_t total = hlen + payload_len;
    STACK_ASSERT(payload.size() == payload_len);
    STACK_ASSERT(total <= kTcpMaxSegmentLen);
    STACK_ASSERT(out.size() >= total);
    std::uint8_t* h = out.data();
    if (!payload.empty() && payload.data() != h + hlen) {
        std::memmove(h + hlen, payload.data(), payload.size());
    }
    store_be16(h, src_port);
    store_be16(h + 2, dst_port);
    store_be32(h + 4, seq.value());
    store_be32(h + 8, ack.value());
    h[12] = static_cast<std::uint8_t>((hlen / 4) << 4);
    h[13] = flags.bits();
    store_be16(h + 14, window);
    store_be16(h + 16, 0);
    store_be16(h + 18, urgent);
    options.emit(MutBytes(h + kTcpMinHeaderLen, hlen - kTcpMinHeaderLen));
    std::uint32_t pseudo = checksum::pseudo_header_v4(src.value, dst.value, kTcpProto,
                                                      static_cast<std::uint16_t>(total));
    store_be16(h + 16, checksum::finish(checksum::partial(Bytes(h, total), pseudo)));
}

}  // namespace stack::wire
