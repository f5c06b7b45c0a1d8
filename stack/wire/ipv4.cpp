#include "stack/wire/ipv4.hpp"

#include "stack/base/checksum.hpp"

namespace stack::wire {

std::string_view to_string(Ipv4Error e) {
    switch (e) {
        case Ipv4Error::Truncated: return "truncated";
        case Ipv4Error::BadVersion: return "bad_version";
        case Ipv4Error::BadIhl: return "bad_ihl";
        case Ipv4Error::BadTotalLength: return "bad_total_length";
        case Ipv4Error::BadChecksum: return "bad_checksum";
    }
    return "unknown";
}

Result<Ipv4Packet, Ipv4Error> Ipv4Packet::parse(Bytes buffer, Checksum check) {
    if (buffer.size() < kIpv4MinHeaderLen) return Err{Ipv4Error::Truncated};
    if ((buffer[0] >> 4) != 4) return Err{Ipv4Error::BadVersion};
    std::size_t hlen = std::size_t{buffer[0] & 0x0fu} * 4;
    if (hlen < kIpv4MinHeaderLen || hlen > buffer.size()) return Err{Ipv4Error::BadIhl};
    std::size_t total = load_be16(&buffer[2]);
    if (total < hlen || total > buffer.size()) return Err{Ipv4Error::BadTotalLength};
    if (check == Checksum::Verify && !checksum::verify(buffer.first(hlen))) {
        return Err{Ipv4Error::BadChecksum};
    }
    return Ipv4Packet(buffer.first(total));
}

Ipv4Repr Ipv4Repr::parse(const Ipv4Packet& p) {
    Ipv4Repr r;
    r.src = p.src();
    r.dst = p.dst();
    r.protocol = p.protocol();
    r.ttl = p.ttl();
    r.dscp_ecn = p.dscp_ecn();
    r.ident = p.ident();
    r.dont_frag = p.dont_frag();
    r.more_frags = p.more_frags();
    r.frag_offset = p.frag_offset();
    r.payload_len = static_cast<std::uint16_t>(p.total_len() - p.header_len());
    return r;
}

void Ipv4Repr::emit(MutBytes out) const {
    STACK_ASSERT(out.size() >= kIpv4MinHeaderLen);
    STACK_ASSERT(frag_offset % 8 == 0 && frag_offset / 8 <= 0x1fff);
    STACK_ASSERT(total_len() <= kIpv4MaxPacketLen);
    std::uint8_t* h = out.data();
    h[0] = 0x45;
    h[1] = dscp_ecn;
    store_be16(h + 2, static_cast<std::uint16_t>(total_len()));
    store_be16(h + 4, ident);
    std::uint16_t flags_frag = static_cast<std::uint16_t>(frag_offset / 8);
    if (dont_frag) flags_frag |= 0x4000;
    if (more_frags) flags_frag |= 0x2000;
    store_be16(h + 6, flags_frag);
    h[8] = ttl;
    h[9] = protocol;
    store_be16(h + 10, 0);
    store_be32(h + 12, src.value);
    store_be32(h + 16, dst.value);
    store_be16(h + 10, checksum::compute(Bytes(h, kIpv4MinHeaderLen)));
}

}  // namespace stack::wire
