// Output fragmentation (RFC 791 §3.2 "Fragmentation", §2.3): every fragment fits the MTU, offsets count
// 8-byte units, MF is set on all but the last, all share one ID, and the pieces reassemble to exactly the
// original. DF datagrams that do not fit are dropped and counted (RFC 1191 is the sender's business).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "stack/ip/output.hpp"
#include "stack/ip/reassembly.hpp"
#include "stack/ip/tx_queue.hpp"
#include "stack/stack.hpp"
#include "tests/support/ip_packets.hpp"
#include "tests/support/tins_check.hpp"

namespace stack::testing {
namespace {

const auto kRawProtocol = static_cast<wire::IpProtocol>(253);

// Ipv4Output over its own TxQueue, drained into a vector.
struct OutputRig {
    explicit OutputRig(std::uint16_t mtu, std::size_t frames = 256, std::uint64_t seed = 5)
        : queue(frames, mtu), output(ip::OutputConfig{kOurAddr, mtu, 64, seed}, queue, stats.ip) {}
    std::vector<Packet> drain() {
        std::vector<Packet> out;
        while (!queue.empty()) {
            Bytes b = queue.front();
            out.emplace_back(b.begin(), b.end());
            queue.pop();
        }
        return out;
    }
    Stats stats;
    ip::TxQueue queue;
    ip::Ipv4Output output;
};

// Reassembles with our own Reassembler (fed in reverse, to not depend on order).
Packet reassemble_with_reassembler(const std::vector<Packet>& frags) {
    Stats stats;
    ip::Reassembler r(ip::ReassemblyConfig{}, stats.ip);
    std::optional<Packet> whole;
    for (std::size_t i = frags.size(); i-- > 0;) {
        auto ip = parse_ip(frags[i]);
        auto done = r.insert(Instant{}, ip);
        if (done) {
            EXPECT_EQ(i, 0u) << "completed before the last fragment";
            whole = Packet(done->payload.begin(), done->payload.end());
        }
    }
    EXPECT_TRUE(whole.has_value());
    EXPECT_EQ(stats.ip.reasm_ok, 1u);
    return whole.value_or(Packet{});
}

void expect_valid_fragments(const std::vector<Packet>& frags, std::uint16_t mtu,
                            std::uint8_t protocol, wire::Ipv4Address dst) {
    for (std::size_t i = 0; i < frags.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_LE(frags[i].size(), mtu);
        auto ip = parse_ip(frags[i]);
        EXPECT_EQ(ip.header_len(), 20u);
        EXPECT_EQ(ip.frag_offset() % 8, 0u);
        EXPECT_EQ(ip.more_frags(), i + 1 < frags.size());
        EXPECT_FALSE(ip.dont_frag());
        EXPECT_EQ(ip.protocol(), protocol);
        EXPECT_EQ(ip.src(), kOurAddr);
        EXPECT_EQ(ip.dst(), dst);
        if (i + 1 < frags.size()) {
            // Fragments are as large as the MTU allows (rounded down to 8 bytes of payload).
            EXPECT_EQ(ip.payload().size(), (mtu - 20u) & ~7u);
        }
        expect_tins_roundtrip(frags[i]);
    }
}

class FragOutputMtu : public ::testing::TestWithParam<std::uint16_t> {};

TEST_P(FragOutputMtu, FragmentsFitMtuAndReassembleToTheOriginal) {
    const std::uint16_t mtu = GetParam();
    for (std::size_t total :
         {std::size_t{1}, std::size_t{mtu - 20u}, std::size_t{mtu - 19u},
          std::size_t{3 * (mtu - 20u)}, std::size_t{8000}, std::size_t{65515}}) {
        SCOPED_TRACE(total);
        OutputRig rig(mtu, 2048);
        const Packet payload = pattern(total, static_cast<std::uint32_t>(total));
        // Protocol 253 (RFC 3692, experimentation): libtins keeps its payload raw.
        ASSERT_TRUE(rig.output.send(kPeerAddr, kRawProtocol, {Bytes(payload)}));
        auto frags = rig.drain();
        const std::size_t per = (mtu - 20u) & ~std::size_t{7};
        const std::size_t expected = total + 20 <= mtu ? 1 : (total + per - 1) / per;
        ASSERT_EQ(frags.size(), expected);
        expect_valid_fragments(frags, mtu, 253, kPeerAddr);
        if (expected == 1) {
            EXPECT_FALSE(parse_ip(frags[0]).is_fragment());
            EXPECT_EQ(rig.stats.ip.frag_ok, 0u);
            EXPECT_EQ(rig.stats.ip.tx_fragments, 0u);
            continue;
        }
        EXPECT_EQ(reassemble_by_hand(frags), payload);
        EXPECT_EQ(reassemble_with_reassembler(frags), payload);
        EXPECT_EQ(rig.stats.ip.frag_ok, 1u);
        EXPECT_EQ(rig.stats.ip.tx_fragments, expected);
    }
}

// 68 is the minimum MTU every IPv4 link must carry (RFC 791 §3.2), 576 the minimum reassembly buffer.
INSTANTIATE_TEST_SUITE_P(FragOutput, FragOutputMtu, ::testing::Values(68, 576, 1280, 1500, 9000));

// The gather list is walked once across fragment boundaries: parts of any size, including empty ones
// and ones that straddle two fragments, come out in order.
TEST(FragOutput, GatherListSplitsAcrossFragmentBoundaries) {
    std::mt19937 rng(77);
    for (int round = 0; round < 200; ++round) {
        SCOPED_TRACE(round);
        std::vector<Packet> parts(4);
        for (auto& part : parts) part = pattern(rng() % 1500, static_cast<std::uint32_t>(rng()));
        if (round % 7 == 0) parts[1].clear();
        Packet whole;
        for (auto& part : parts) whole.insert(whole.end(), part.begin(), part.end());
        OutputRig rig(576);
        ASSERT_TRUE(
            rig.output.send(kPeerAddr, kRawProtocol,
                            {Bytes(parts[0]), Bytes(parts[1]), Bytes(parts[2]), Bytes(parts[3])}));
        auto frags = rig.drain();
        expect_valid_fragments(frags, 576, 253, kPeerAddr);
        if (frags.size() == 1) {
            auto ip = parse_ip(frags[0]);
            EXPECT_EQ(Packet(ip.payload().begin(), ip.payload().end()), whole);
        } else {
            EXPECT_EQ(reassemble_by_hand(frags), whole);
        }
        if (HasFailure()) break;
    }
}

TEST(FragOutput, EmptyDatagramIsOneHeaderOnlyPacket) {
    OutputRig rig(1500);
    ASSERT_TRUE(rig.output.send(kPeerAddr, wire::IpProtocol::Udp, {}));
    auto out = rig.drain();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].size(), 20u);
    EXPECT_FALSE(parse_ip(out[0]).is_fragment());
}

// RFC 791: "If the Don't Fragment flag is set, then internet fragmentation of this datagram is NOT
// permitted"; the datagram is dropped, nothing queued.
TEST(FragOutput, DontFragmentTooBigDroppedAndCounted) {
    OutputRig rig(1500);
    const Packet fits = pattern(1480);
    const Packet too_big = pattern(1481);
    EXPECT_FALSE(rig.output.send(kPeerAddr, wire::IpProtocol::Udp, {Bytes(too_big)}, true));
    EXPECT_EQ(rig.stats.ip.tx_drop_df, 1u);
    EXPECT_TRUE(rig.queue.empty());
    EXPECT_EQ(rig.stats.ip.tx_fragments, 0u);

    ASSERT_TRUE(rig.output.send(kPeerAddr, wire::IpProtocol::Udp, {Bytes(fits)}, true));
    auto out = rig.drain();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].size(), 1500u);
    EXPECT_TRUE(parse_ip(out[0]).dont_frag());
    EXPECT_EQ(rig.stats.ip.tx_drop_df, 1u);
}

TEST(FragOutput, DatagramLargerThanIpv4MaximumIsNeverSent) {
    OutputRig rig(1500, 64);
    const Packet huge = pattern(65516);  // 20 + 65516 > 65535
    EXPECT_FALSE(rig.output.send(kPeerAddr, wire::IpProtocol::Udp, {Bytes(huge)}));
    EXPECT_TRUE(rig.queue.empty());
    EXPECT_EQ(drops(rig.stats).size(), 1u);
}

// A datagram is queued whole or not at all.
TEST(FragOutput, NotEnoughFramesDropsTheWholeDatagram) {
    OutputRig rig(1500, 4);
    const Packet small = pattern(10);
    ASSERT_TRUE(rig.output.send(kPeerAddr, wire::IpProtocol::Udp, {Bytes(small)}));
    const Packet big = pattern(4 * 1480);  // needs 4 frames, 3 are free
    EXPECT_FALSE(rig.output.send(kPeerAddr, wire::IpProtocol::Udp, {Bytes(big)}));
    EXPECT_EQ(rig.stats.ip.tx_drop_queue_full, 1u);
    EXPECT_EQ(rig.queue.size(), 1u);
    EXPECT_EQ(rig.stats.ip.frag_ok, 0u);
    const Packet three = pattern(3 * 1480);
    EXPECT_TRUE(rig.output.send(kPeerAddr, wire::IpProtocol::Udp, {Bytes(three)}));
    EXPECT_EQ(rig.queue.size(), 4u);
}

// RFC 6864 §4.1: an ID must not repeat within a flow while fragments may be in flight; consecutive
// datagrams to one destination get distinct IDs, and all fragments of one datagram share one.
TEST(FragOutput, ConsecutiveDatagramsToOneDestinationGetDistinctIds) {
    OutputRig rig(1500, 4096);
    const Packet payload = pattern(3000);
    std::vector<std::uint16_t> ids;
    for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(rig.output.send(kPeerAddr, wire::IpProtocol::Udp, {Bytes(payload)}));
        auto frags = rig.drain();
        ASSERT_EQ(frags.size(), 3u);
        const std::uint16_t id = parse_ip(frags[0]).ident();
        for (auto& f : frags) EXPECT_EQ(parse_ip(f).ident(), id);
        ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "an IP ID repeated";
}

// Through the Stack: an 8000-byte echo reply at MTU 576, reassembled by a second Stack's view of it.
TEST(FragOutput, StackCountsFragmentsOfAnEchoReply) {
    StackConfig c = default_config();
    c.mtu = 576;
    Stack stack(c);
    const Packet data = pattern(8000, 8);
    auto out = exchange(stack, Instant{}, echo_request(data, 9, 9));
    const std::size_t expected = (8008 + 551) / 552;
    ASSERT_EQ(out.size(), expected);
    expect_valid_fragments(out, 576, 1, kPeerAddr);
    EXPECT_EQ(stat(stack, "ip.tx_fragments"), expected);
    EXPECT_EQ(stat(stack, "ip.frag_ok"), 1u);
    EXPECT_EQ(stat(stack, "ip.tx_packets"), expected);
    auto message = reassemble_with_reassembler(out);
    EXPECT_EQ(Packet(message.begin() + 8, message.end()), data);

    // Feeding the fragments to a Stack at the peer's address reassembles them into one echo reply.
    StackConfig peer_config = default_config();
    peer_config.addr = kPeerAddr;
    Stack peer(peer_config);
    for (const Packet& f : out) EXPECT_TRUE(exchange(peer, Instant{}, f).empty());
    EXPECT_EQ(stat(peer, "ip.reasm_ok"), 1u);
    EXPECT_EQ(stat(peer, "icmp.rx_echo_reply"), 1u);
    EXPECT_TRUE(drops(peer.stats()).empty());
}

}  // namespace
}  // namespace stack::testing
