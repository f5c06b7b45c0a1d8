#include "stack/tcp/isn.hpp"

namespace stack::tcp {

namespace {

// The connection-id as bytes, in network order (local addr, local port, remote addr, remote port),
// in the first 12 of N bytes; the rest are zero.
template <std::size_t N>
std::array<std::uint8_t, N> connection_id(wire::Ipv4Address local, std::uint16_t local_port,
                                          wire::Ipv4Address remote, std::uint16_t remote_port) {
    static_assert(N >= 12);
    std::array<std::uint8_t, N> msg{};
    store_be32(msg.data(), local.value);
    store_be16(msg.data() + 4, local_port);
    store_be32(msg.data() + 6, remote.value);
    store_be16(msg.data() + 10, remote_port);
    return msg;
}

}  // namespace

std::uint32_t IsnGenerator::offset(wire::Ipv4Address local, std::uint16_t local_port,
                                   wire::Ipv4Address remote, std::uint16_t remote_port) const {
    const auto msg = connection_id<12>(local, local_port, remote, remote_port);
    return static_cast<std::uint32_t>(siphash24(secret_, msg));
}

std::uint32_t IsnGenerator::ts_offset(wire::Ipv4Address local, std::uint16_t local_port,
                                      wire::Ipv4Address remote, std::uint16_t remote_port) const {
    // The same connection-id as offset(), plus a domain byte, so the two values are unrelated.
    auto msg = connection_id<13>(local, local_port, remote, remote_port);
    msg[12] = 't';
    return static_cast<std::uint32_t>(siphash24(secret_, msg));
}

wire::SeqNumber IsnGenerator::generate(Instant now, wire::Ipv4Address local,
                                       std::uint16_t local_port, wire::Ipv4Address remote,
                                       std::uint16_t remote_port) const {
    // M: the 4 us timer (RFC 6528 §3), modulo 2^32.
    const auto m = static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.as_micros()) / 4);
    return wire::SeqNumber(m + offset(local, local_port, remote, remote_port));
}

}  // namespace stack::tcp
