// TSO super-packet checks for scripted tests (StackConfig::tso_max_size), kept out of the generic
// harness (script.hpp). install_tso_checks(s) makes the Script run check_super_packet on every
// super-packet it captures (gso_size != 0), before the segment is parsed and queued for expect():
// the metadata describes the packet (csum_start at the TCP header, csum_offset 16, hdr_len = IPv4 +
// TCP headers, more payload than one segment, header + gso_size within the MTU, DF set, at most
// tso_max_size), a partial checksum holds exactly the pseudo-header sum, and the segments a device
// would cut (drivers::segment_tcp4) each fit the MTU and parse, carrying the whole payload.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "drivers/gso.hpp"
#include "stack/base/checksum.hpp"
#include "tests/tcp/script.hpp"

namespace tcpscript {

inline void check_super_packet(const stack::StackConfig& cfg, const Packet& p,
                               const stack::GsoInfo& gso) {
    auto ip = stack::wire::Ipv4Packet::parse(p);
    ASSERT_TRUE(ip.ok()) << "a super-packet that is not IPv4";
    const std::size_t ihl = ip->header_len();
    const std::size_t thl = p.size() > ihl + 12 ? std::size_t{p[ihl + 12]} / 16 * 4 : 0;
    const std::size_t mtu = cfg.mtu;
    EXPECT_TRUE(ip->dont_frag());
    EXPECT_GT(p.size(), mtu) << "a super-packet that fits the MTU";
    EXPECT_LE(p.size(), cfg.tso_max_size);
    EXPECT_EQ(gso.csum_start, ihl);
    EXPECT_EQ(gso.csum_offset, 16u);
    EXPECT_EQ(gso.hdr_len, ihl + thl);
    EXPECT_LE(gso.hdr_len + std::size_t{gso.gso_size}, mtu);
    const std::size_t payload = p.size() - gso.hdr_len;
    EXPECT_GT(payload, gso.gso_size);
    EXPECT_EQ(gso.segments, (payload + gso.gso_size - 1) / gso.gso_size);
    EXPECT_EQ(gso.csum_partial, cfg.tso_partial_checksum);
    if (gso.csum_partial) {
        const std::uint32_t pseudo = stack::checksum::pseudo_header_v4(
            kUs.value, kPeer.value, 6, static_cast<std::uint16_t>(p.size() - ihl));
        EXPECT_EQ(stack::load_be16(&p[ihl + 16]), stack::checksum::fold(pseudo))
            << "a partial checksum must hold the pseudo-header sum";
    }
    std::vector<std::uint8_t> scratch(65536);
    std::size_t carried = 0, index = 0;
    const std::size_t n =
        drivers::segment_tcp4(Bytes(p), gso, stack::MutBytes(scratch), [&](Bytes seg) {
            EXPECT_LE(seg.size(), mtu) << "segment " << index;
            auto sip = stack::wire::Ipv4Packet::parse(seg);
            EXPECT_TRUE(sip.ok()) << "segment " << index;
            if (sip.ok()) {
                auto t = stack::wire::TcpPacket::parse(sip->payload(), sip->src(), sip->dst());
                EXPECT_TRUE(t.ok()) << "segment " << index;
                if (t.ok()) carried += t->payload().size();
            }
            ++index;
        });
    EXPECT_EQ(n, gso.segments);
    EXPECT_EQ(carried, payload);
}

// Every super-packet `s` captures from now on is checked with check_super_packet.
inline void install_tso_checks(Script& s) {
    const stack::StackConfig cfg = s.stack().config();
    s.on_super_packet(
        [cfg](const Packet& p, const stack::GsoInfo& gso) { check_super_packet(cfg, p, gso); });
}

// A Script whose super-packets are all checked (what script_tso_test.cpp uses).
class TsoScript : public Script {
public:
    explicit TsoScript(const std::function<void(stack::StackConfig&)>& tweak = {}) : Script(tweak) {
        install_tso_checks(*this);
    }
};

}  // namespace tcpscript
