#include "stack/ip/output.hpp"

#include <cstring>

namespace stack::ip {

std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

Ipv4Output::Ipv4Output(const OutputConfig& config, TxQueue& queue, IpStats& stats)
    : config_(config), queue_(queue), stats_(stats) {
    STACK_ASSERT(config_.mtu >= 68 && config_.mtu <= queue_.frame_size());  // RFC 791: 68 minimum
    STACK_ASSERT(config_.tso_max_size == 0 || (config_.tso_max_size > config_.mtu &&
                                               config_.tso_max_size <= wire::kIpv4MaxPacketLen &&
                                               config_.tso_max_size <= queue_.large_frame_size()));
    std::uint64_t state = config_.seed;
    key_ = splitmix64(state);
    for (auto& id : idents_) id = static_cast<std::uint16_t>(splitmix64(state));
}

std::uint16_t Ipv4Output::next_ident(wire::Ipv4Address dst, std::uint8_t protocol,
                                     std::uint16_t count) {
    std::uint64_t h = (std::uint64_t{dst.value} << 8 | protocol) ^ key_;
    std::uint64_t state = h;
    std::size_t bucket = splitmix64(state) & 0xff;
    const std::uint16_t id = idents_[bucket];
    idents_[bucket] = static_cast<std::uint16_t>(id + count);
    return id;
}

bool Ipv4Output::send(wire::Ipv4Address dst, wire::IpProtocol protocol,
                      std::initializer_list<Bytes> parts, bool dont_frag) {
    std::size_t total = 0;
    for (Bytes p : parts) total += p.size();
    const std::size_t hlen = wire::Ipv4Repr::header_len();
    if (hlen + total > wire::kIpv4MaxPacketLen) {
        ++stats_.tx_drop_df;
        return false;
    }
    const std::size_t mtu = config_.mtu;
    const std::size_t per_frag = hlen + total <= mtu ? total : ((mtu - hlen) & ~std::size_t{7});
    const std::size_t frags = total == 0 ? 1 : (total + per_frag - 1) / per_frag;
    if (frags > 1 && dont_frag) {
        ++stats_.tx_drop_df;
        return false;
    }
    if (queue_.free_frames() < frags) {
        ++stats_.tx_drop_queue_full;
        return false;
    }

    wire::Ipv4Repr repr;
    repr.src = config_.addr;
    repr.dst = dst;
    repr.protocol = static_cast<std::uint8_t>(protocol);
    repr.ttl = config_.ttl;
    repr.dont_frag = dont_frag;
    repr.ident = next_ident(dst, repr.protocol);

    // Walk the gather list once, filling each fragment's payload from wherever the cursor stands.
    auto part = parts.begin();
    std::size_t part_off = 0;
    std::size_t offset = 0;
    for (std::size_t i = 0; i < frags; ++i) {
        std::size_t len = std::min(per_frag, total - offset);
        MutBytes frame = queue_.acquire();
        repr.frag_offset = static_cast<std::uint32_t>(offset);
        repr.more_frags = offset + len < total;
        repr.payload_len = static_cast<std::uint16_t>(len);
        repr.emit(frame);
        std::size_t filled = 0;
        while (filled < len) {
            std::size_t n = std::min(len - filled, part->size() - part_off);
            std::memcpy(frame.data() + hlen + filled, part->data() + part_off, n);
            filled += n;
            part_off += n;
            if (part_off == part->size()) {
                ++part;
                part_off = 0;
            }
        }
        queue_.commit(hlen + len);
        offset += len;
    }
    if (frags > 1) {
        ++stats_.frag_ok;
        stats_.tx_fragments += frags;
    }
    return true;
}

bool Ipv4Output::send_gso(wire::Ipv4Address dst, wire::IpProtocol protocol,
                          std::initializer_list<Bytes> parts, const GsoRequest& request) {
    std::size_t total = 0;
    for (Bytes p : parts) total += p.size();
    const std::size_t hlen = wire::Ipv4Repr::header_len();
    STACK_ASSERT(config_.tso_max_size > 0 && hlen + total <= config_.tso_max_size);
    STACK_ASSERT(request.gso_size > 0 &&
                 hlen + request.transport_hdr_len + request.gso_size <= config_.mtu &&
                 total > std::size_t{request.transport_hdr_len} + request.gso_size);
    if (!queue_.can_acquire_large()) {
        ++stats_.tx_drop_queue_full;
        return false;
    }
    const std::size_t payload = total - request.transport_hdr_len;
    GsoInfo gso;
    gso.gso_size = request.gso_size;
    gso.hdr_len = static_cast<std::uint16_t>(hlen + request.transport_hdr_len);
    gso.csum_start = static_cast<std::uint16_t>(hlen);
    gso.csum_offset = request.csum_offset;
    gso.csum_partial = request.csum_partial;
    gso.segments = static_cast<std::uint16_t>((payload + request.gso_size - 1) / request.gso_size);

    wire::Ipv4Repr repr;
    repr.src = config_.addr;
    repr.dst = dst;
    repr.protocol = static_cast<std::uint8_t>(protocol);
    repr.ttl = config_.ttl;
    repr.dont_frag = true;
    repr.ident = next_ident(dst, repr.protocol, gso.segments);
    repr.payload_len = static_cast<std::uint16_t>(total);
    MutBytes frame = queue_.acquire_large();
    repr.emit(frame);
    std::size_t filled = hlen;
    for (Bytes p : parts) {
        if (!p.empty()) std::memcpy(frame.data() + filled, p.data(), p.size());
        filled += p.size();
    }
    queue_.commit_large(filled, gso);
    return true;
}

}  // namespace stack::ip
