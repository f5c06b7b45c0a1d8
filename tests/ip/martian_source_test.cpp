// Martian sources (RFC 1122 §3.2.1.3, RFC 1812 §5.3.7, RFC 6890): a datagram whose source can never
// be a real peer (this network 0/8, loopback 127/8, multicast 224/4, reserved 240/4 with the limited
// broadcast, or our own address arriving from outside: a "land" packet) is dropped at ingress,
// counted as ip.drop.bad_source, and nothing answers it: no echo reply, no ICMP error, no SYN-ACK and
// no RST (an answer would go to a host that did not send it, or to ourselves).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "stack/stack.hpp"
#include "stack/wire/tcp.hpp"
#include "tests/support/ip_packets.hpp"

namespace stack::testing {
namespace {

struct MartianClass {
    const char* name;
    std::vector<wire::Ipv4Address> sources;  // first, last and a middle address of the class
};

std::vector<MartianClass> martian_classes() {
    return {
        {"this network 0/8", {{0, 0, 0, 0}, {0, 0, 0, 1}, {0, 18, 0, 1}, {0, 255, 255, 255}}},
        {"loopback 127/8", {{127, 0, 0, 0}, {127, 0, 0, 1}, {127, 255, 255, 255}}},
        {"multicast 224/4", {{224, 0, 0, 1}, {232, 1, 2, 3}, {239, 255, 255, 255}}},
        {"reserved 240/4", {{240, 0, 0, 0}, {248, 1, 2, 3}, {255, 255, 255, 254}}},
        {"limited broadcast", {{255, 255, 255, 255}}},
        {"our own address", {kOurAddr}},
    };
}

// A TCP segment from `src`:40000 to our `dport`.
Packet tcp_packet(wire::Ipv4Address src, std::uint16_t dport, wire::TcpFlags flags) {
    wire::TcpRepr r;
    r.src_port = 40000;
    r.dst_port = dport;
    r.seq = wire::SeqNumber(1000);
    r.flags = flags;
    r.window = 65535;
    if (flags.syn()) r.options.mss = 1460;
    Packet seg(r.len());
    r.emit(MutBytes(seg), src, kOurAddr, Bytes());
    return ipv4_packet(ip_header(src, kOurAddr, 6), Bytes(seg));
}

void expect_martian(Stack& stack, const Packet& p, std::uint64_t& expected_drops) {
    auto out = exchange(stack, Instant{}, p);
    EXPECT_TRUE(out.empty()) << "a martian packet was answered";
    ++expected_drops;
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.bad_source", expected_drops}}));
}

TEST(MartianSource, EveryClassIsDroppedAndCountedForIcmpUdpAndTcp) {
    for (const auto& cls : martian_classes()) {
        for (auto src : cls.sources) {
            SCOPED_TRACE(std::string(cls.name) + " " + src.to_string());
            Stack stack(default_config());
            ASSERT_TRUE(stack.tcp().listen(80, 8).ok());
            std::uint64_t n = 0;
            expect_martian(stack, echo_request(pattern(56), 1, 1, src), n);
            expect_martian(stack, udp_packet(pattern(10), 9, src), n);  // would be port unreachable
            expect_martian(stack, tcp_packet(src, 80, wire::TcpFlag::Syn), n);  // would be SYN-ACK
            expect_martian(stack, tcp_packet(src, 81, wire::TcpFlag::Syn), n);  // would be RST
            EXPECT_EQ(stat(stack, "ip.rx_packets"), n);
            EXPECT_EQ(stat(stack, "tcp.rx_segments"), 0u);
            EXPECT_EQ(stat(stack, "tcp.state.syn_received"), 0u);
            EXPECT_EQ(stat(stack, "icmp.rx_echo_request"), 0u);
        }
    }
}

// The neighbours of each class are ordinary unicast sources and are answered.
TEST(MartianSource, AddressesNextToTheClassesAreAnswered) {
    const wire::Ipv4Address sources[] = {
        {1, 0, 0, 0},         {126, 255, 255, 255}, {128, 0, 0, 0},
        {223, 255, 255, 255}, {198, 18, 0, 1},      {198, 18, 0, 3},
    };
    for (auto src : sources) {
        SCOPED_TRACE(src.to_string());
        Stack stack(default_config());
        auto out = exchange(stack, Instant{}, echo_request(pattern(56), 1, 1, src));
        EXPECT_EQ(out.size(), 1u);
        EXPECT_TRUE(drops(stack.stats()).empty());
    }
}

TEST(MartianSource, AddressHelpersClassifyEachRange) {
    using A = wire::Ipv4Address;
    EXPECT_TRUE(A(0, 1, 2, 3).is_this_network());
    EXPECT_FALSE(A(1, 0, 0, 0).is_this_network());
    EXPECT_TRUE(A(240, 0, 0, 0).is_reserved());
    EXPECT_TRUE(A(255, 255, 255, 255).is_reserved());
    EXPECT_FALSE(A(239, 255, 255, 255).is_reserved());
    for (const auto& cls : martian_classes()) {
        for (auto src : cls.sources) {
            if (src == kOurAddr) continue;  // martian only relative to the stack's own address
            EXPECT_TRUE(src.is_martian_source()) << src.to_string();
        }
    }
    EXPECT_FALSE(kOurAddr.is_martian_source());
    EXPECT_FALSE(A(223, 255, 255, 255).is_martian_source());
}

}  // namespace
}  // namespace stack::testing
