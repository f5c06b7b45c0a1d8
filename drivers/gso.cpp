#include "drivers/gso.hpp"

#include <algorithm>
#include <cstring>

#include "stack/base/checksum.hpp"

namespace drivers {

bool complete_partial_checksum(stack::MutBytes packet, std::size_t csum_start,
                               std::size_t csum_offset) {
    if (csum_start >= packet.size() || csum_offset + 2 > packet.size() - csum_start) return false;
    std::uint8_t* field = packet.data() + csum_start + csum_offset;
    // The field holds the pseudo-header sum and is included in the sum, as virtio defines it.
    const std::uint32_t sum = stack::checksum::partial(packet.subspan(csum_start));
    stack::store_be16(field, stack::checksum::finish(sum));
    return true;
}

std::size_t segment_tcp4(stack::Bytes packet, const stack::GsoInfo& gso, stack::MutBytes scratch,
                         stack::function_ref<void(stack::Bytes)> fn) {
    constexpr std::uint8_t kFin = 0x01, kPsh = 0x08, kCwr = 0x80;
    const std::size_t hdr_len = gso.hdr_len;
    if (packet.size() < 20 || (packet[0] >> 4) != 4 || packet[9] != 6 || gso.gso_size == 0)
        return 0;
    const std::size_t ihl = std::size_t{packet[0] & 0x0fu} * 4;
    if (ihl < 20 || gso.csum_start != ihl || packet.size() < ihl + 20) return 0;
    const std::size_t thl = (std::size_t{packet[ihl + 12]} >> 4) * 4;
    if (thl < 20 || ihl + thl != hdr_len || packet.size() <= hdr_len) return 0;
    if (stack::load_be16(packet.data() + 2) != packet.size()) return 0;
    if (scratch.size() < hdr_len + gso.gso_size) return 0;

    const std::size_t payload = packet.size() - hdr_len;
    const std::size_t count = (payload + gso.gso_size - 1) / gso.gso_size;
    const std::uint16_t id = stack::load_be16(packet.data() + 4);
    const std::uint32_t seq = stack::load_be32(packet.data() + ihl + 4);
    const std::uint8_t flags = packet[ihl + 13];
    const std::uint32_t src = stack::load_be32(packet.data() + 12);
    const std::uint32_t dst = stack::load_be32(packet.data() + 16);
    std::uint8_t* out = scratch.data();
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t off = i * gso.gso_size;
        const std::size_t len = std::min<std::size_t>(gso.gso_size, payload - off);
        std::memcpy(out, packet.data(), hdr_len);
        std::memcpy(out + hdr_len, packet.data() + hdr_len + off, len);
        // IPv4: total length, ID, header checksum.
        stack::store_be16(out + 2, static_cast<std::uint16_t>(hdr_len + len));
        stack::store_be16(out + 4, static_cast<std::uint16_t>(id + i));
        stack::store_be16(out + 10, 0);
        stack::store_be16(out + 10, stack::checksum::compute(stack::Bytes(out, ihl)));
        // TCP: sequence number, flags, checksum.
        std::uint8_t* tcp = out + ihl;
        stack::store_be32(tcp + 4, seq + static_cast<std::uint32_t>(off));
        std::uint8_t f = flags;
        if (i + 1 < count) f = static_cast<std::uint8_t>(f & ~(kFin | kPsh));
        if (i > 0) f = static_cast<std::uint8_t>(f & ~kCwr);
        tcp[13] = f;
        const std::size_t tcp_len = thl + len;
        stack::store_be16(tcp + 16, 0);
        const std::uint32_t pseudo =
            stack::checksum::pseudo_header_v4(src, dst, 6, static_cast<std::uint16_t>(tcp_len));
        stack::store_be16(tcp + 16, stack::checksum::finish(stack::checksum::partial(
                                        stack::Bytes(tcp, tcp_len), pseudo)));
        fn(stack::Bytes(out, hdr_len + len));
    }
    return count;
}

}  // namespace drivers
