// ICMP echo (RFC 792 p.14, RFC 1122 §3.2.2.6): replies mirror the request with addresses swapped, type 0,
// the same identifier, sequence and data, and valid checksums; malformed messages are dropped and
// counted; messages other than echo requests are counted by type and never answered.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "stack/stack.hpp"
#include "tests/support/ip_packets.hpp"
#include "tests/support/tins_check.hpp"

namespace stack::testing {
namespace {

// Checks `out` is the reply to an echo request (ident, seq, data) from kPeerAddr: fragments (if any) are
// reassembled by hand first. Both checksums are verified by our parsers and, per packet, by libtins.
void expect_echo_reply(const std::vector<Packet>& out, std::uint16_t ident, std::uint16_t seq,
                       const Packet& data, std::uint16_t mtu = 1500) {
    ASSERT_FALSE(out.empty());
    for (const Packet& p : out) {
        EXPECT_LE(p.size(), mtu);
        auto ip = parse_ip(p);  // header checksum verified here
        EXPECT_EQ(ip.src(), kOurAddr);
        EXPECT_EQ(ip.dst(), kPeerAddr);
        EXPECT_EQ(ip.protocol(), 1);
        EXPECT_EQ(ip.ttl(), 64);
        EXPECT_FALSE(ip.dont_frag());
        expect_tins_roundtrip(p);
    }
    std::optional<Packet> message;
    if (out.size() == 1) {
        auto ip = parse_ip(out[0]);
        EXPECT_FALSE(ip.is_fragment());
        message = Packet(ip.payload().begin(), ip.payload().end());
    } else {
        message = reassemble_by_hand(out);
    }
    ASSERT_TRUE(message.has_value());
    auto icmp =
        wire::Icmpv4Packet::parse(*message);  // ICMP checksum over the whole message verified
    ASSERT_TRUE(icmp.ok()) << "reply ICMP checksum does not verify";
    EXPECT_EQ(icmp->type(), 0);
    EXPECT_EQ(icmp->code(), 0);
    EXPECT_EQ(icmp->echo_ident(), ident);
    EXPECT_EQ(icmp->echo_seq(), seq);
    EXPECT_EQ(Packet(icmp->body().begin(), icmp->body().end()), data);
    // Independent check of the ICMP checksum: recompute it from scratch.
    Packet zeroed = *message;
    store_be16(&zeroed[2], 0);
    EXPECT_EQ(icmp->checksum(), checksum::reference_compute(zeroed));
}

class IcmpEchoSizes : public ::testing::TestWithParam<std::size_t> {};

TEST_P(IcmpEchoSizes, ReplyMirrorsRequestWithValidChecksums) {
    const std::size_t n = GetParam();
    const Packet data = pattern(n, static_cast<std::uint32_t>(n));
    Stack stack(default_config());
    const Packet request = echo_request(data, 0xbeef, 7);
    auto out = exchange(stack, Instant{}, request);
    const std::size_t whole = 20 + 8 + n;
    const std::size_t expect_frags = whole <= 1500 ? 1 : (8 + n + 1479) / 1480;
    EXPECT_EQ(out.size(), expect_frags);
    expect_echo_reply(out, 0xbeef, 7, data);
    EXPECT_EQ(stat(stack, "icmp.rx_echo_request"), 1u);
    EXPECT_EQ(stat(stack, "icmp.tx_echo_reply"), 1u);
    EXPECT_EQ(stat(stack, "icmp.rx_messages"), 1u);
    EXPECT_EQ(stat(stack, "icmp.tx_messages"), 1u);
    EXPECT_EQ(stat(stack, "icmp.rx_bytes"), 8 + n);  // the ICMP message, header included
    EXPECT_EQ(stat(stack, "icmp.tx_bytes"), 8 + n);
    EXPECT_EQ(stat(stack, "ip.tx_packets"), expect_frags);
    EXPECT_EQ(stat(stack, "ip.tx_fragments"), expect_frags > 1 ? expect_frags : 0);
    EXPECT_EQ(stat(stack, "ip.frag_ok"), expect_frags > 1 ? 1u : 0u);
    EXPECT_TRUE(drops(stack.stats()).empty());
}

// 1472 fills a 1500-byte MTU exactly; 1473 is the first that fragments; 65507 is the largest ICMP echo
// data an IPv4 datagram can carry (65535 - 20 - 8).
INSTANTIATE_TEST_SUITE_P(IcmpEcho, IcmpEchoSizes,
                         ::testing::Values(0, 1, 7, 56, 1472, 1473, 8000, 65507));

TEST(IcmpEcho, ReplyToOddAndEvenLengthsAndRandomFieldsAlwaysVerifies) {
    std::mt19937 rng(2024);
    Stack stack(default_config());
    for (int i = 0; i < 500; ++i) {
        const std::size_t n = rng() % 300;
        const auto ident = static_cast<std::uint16_t>(rng());
        const auto seq = static_cast<std::uint16_t>(rng());
        const Packet data = pattern(n, static_cast<std::uint32_t>(rng()));
        auto out = exchange(stack, at_ms(i), echo_request(data, ident, seq));
        ASSERT_EQ(out.size(), 1u);
        expect_echo_reply(out, ident, seq, data);
        if (HasFailure()) break;
    }
}

// RFC 1624 §3: incremental update must give a checksum that verifies even when the request carries the
// "negative zero" form (0xffff instead of 0x0000) of its checksum, and with a nonzero request code.
TEST(IcmpEcho, IncrementalChecksumHandlesBothZeroFormsAndNonzeroCode) {
    for (std::uint8_t code : {0, 1, 255}) {
        for (std::uint16_t form : {0x0000, 0xffff}) {
            SCOPED_TRACE(::testing::Message() << "code " << int{code} << " form " << form);
            Packet data = pattern(20, 3);
            data[0] = 0;
            data[1] = 0;
            Packet msg = icmp_message(8, code, 0x00010001, data);
            store_be16(&msg[2], 0);
            // Choose data[0..2) so that the message sums to 0xffff: its checksum is then zero.
            const std::uint16_t s = checksum::fold(checksum::partial(msg));
            store_be16(&msg[8], static_cast<std::uint16_t>(0xffff - s));
            ASSERT_EQ(checksum::fold(checksum::partial(msg)), 0xffff);
            store_be16(&msg[2], form);
            ASSERT_TRUE(wire::Icmpv4Packet::parse(msg).ok());
            Stack stack(default_config());
            auto out =
                exchange(stack, Instant{}, ipv4_packet(ip_header(kPeerAddr, kOurAddr, 1), msg));
            ASSERT_EQ(out.size(), 1u);
            expect_echo_reply(out, 1, 1, Packet(msg.begin() + 8, msg.end()));
        }
    }
}

TEST(IcmpEcho, BadIcmpChecksumDroppedWithoutReply) {
    Packet p = echo_request(pattern(56));
    p[20 + 2] ^= 0x40;  // ICMP checksum
    Stack stack(default_config());
    EXPECT_TRUE(exchange(stack, Instant{}, p).empty());
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"icmp.drop.bad_checksum", 1}}));
    EXPECT_EQ(stat(stack, "icmp.rx_echo_request"), 0u);

    Packet q = echo_request(pattern(56));
    q[20 + 30] ^= 0x01;  // a data byte
    EXPECT_TRUE(exchange(stack, Instant{}, q).empty());
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"icmp.drop.bad_checksum", 2}}));
}

TEST(IcmpEcho, TruncatedIcmpDroppedWithoutReply) {
    const Packet msg = echo_message(1, 1, {});
    Stack stack(default_config());
    for (std::size_t len = 0; len < 8; ++len) {
        auto p = ipv4_packet(ip_header(kPeerAddr, kOurAddr, 1), Bytes(msg.data(), len));
        EXPECT_TRUE(exchange(stack, Instant{}, p).empty());
    }
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"icmp.drop.truncated", 8}}));
}

// RFC 1122 §3.2.2: replies and errors are consumed, never answered (no error about an ICMP error).
TEST(IcmpEcho, OtherTypesCountedByTypeWithoutResponse) {
    Stack stack(default_config());
    const Packet quoted = echo_request(pattern(8));  // an error quotes a header + 8 bytes
    const struct {
        std::uint8_t type;
        std::uint8_t code;
        Bytes body;
    } messages[] = {
        {0, 0, Bytes()},                                // echo reply
        {0, 0, Bytes(quoted)},  {3, 3, Bytes(quoted)},  // dest unreachable, port
        {3, 4, Bytes(quoted)},                          // frag needed
        {11, 0, Bytes(quoted)},                         // time exceeded
        {13, 0, Bytes()},                               // timestamp: not answered, counted by type
        {5, 1, Bytes(quoted)},                          // redirect
        {12, 0, Bytes(quoted)},                         // parameter problem
        {42, 0, Bytes()},                               // unassigned
    };
    for (const auto& m : messages) {
        auto p =
            ipv4_packet(ip_header(kPeerAddr, kOurAddr, 1), icmp_message(m.type, m.code, 0, m.body));
        EXPECT_TRUE(exchange(stack, Instant{}, p).empty()) << int{m.type};
    }
    EXPECT_EQ(stat(stack, "icmp.rx_echo_reply"), 2u);
    EXPECT_EQ(stat(stack, "icmp.rx_dest_unreachable"), 2u);
    EXPECT_EQ(stat(stack, "icmp.rx_time_exceeded"), 1u);
    EXPECT_EQ(stat(stack, "icmp.rx_timestamp"), 1u);
    EXPECT_EQ(stat(stack, "icmp.rx_redirect"), 1u);
    EXPECT_EQ(stat(stack, "icmp.rx_parameter_problem"), 1u);
    EXPECT_EQ(stat(stack, "icmp.rx_other"), 1u);  // type 42
    EXPECT_EQ(stat(stack, "icmp.rx_messages"), 9u);
    EXPECT_EQ(stat(stack, "icmp.tx_messages"), 0u);
    EXPECT_EQ(stat(stack, "icmp.rx_echo_request"), 0u);
    EXPECT_EQ(stat(stack, "ip.tx_packets"), 0u);
    // The errors quote a packet the peer sent, not one of ours: none is handed to a transport.
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"icmp.drop.bad_quote", 4}}));
}

TEST(IcmpEcho, RepliesGoToEachRequestsSource) {
    Stack stack(default_config());
    auto a = exchange(stack, Instant{}, echo_request(pattern(8), 1, 1, kPeerAddr));
    auto b = exchange(stack, Instant{}, echo_request(pattern(8), 1, 1, kOtherPeer));
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(parse_ip(a[0]).dst(), kPeerAddr);
    EXPECT_EQ(parse_ip(b[0]).dst(), kOtherPeer);
}

TEST(IcmpEcho, SmallMtuFragmentsTheReplyWithinMtu) {
    StackConfig c = default_config();
    c.mtu = 576;
    Stack stack(c);
    const Packet data = pattern(3000, 9);
    auto out = exchange(stack, Instant{}, echo_request(data, 3, 4));
    EXPECT_EQ(out.size(), (3008u + 551) / 552);  // (576 - 20) rounded down to 8 = 552 per fragment
    expect_echo_reply(out, 3, 4, data, 576);
}

// An error whose quote is one of our datagrams is decoded and handed to the transport that sent it;
// with no UDP sockets, one about UDP is unmatched. A quote too short to name the ports is dropped.
TEST(IcmpErrors, QuoteOfOurDatagramIsDecodedAndOffered) {
    Stack stack(default_config());
    const Packet ours = ipv4_packet(ip_header(kOurAddr, kPeerAddr, 17), Bytes(pattern(8)));
    auto p = ipv4_packet(ip_header(kPeerAddr, kOurAddr, 1), icmp_message(3, 3, 0, Bytes(ours)));
    EXPECT_TRUE(exchange(stack, Instant{}, p).empty());
    EXPECT_EQ(stat(stack, "icmp.error_unmatched"), 1u);
    const Packet short_quote = ipv4_packet(ip_header(kOurAddr, kPeerAddr, 17), Bytes(pattern(7)));
    auto q =
        ipv4_packet(ip_header(kPeerAddr, kOurAddr, 1), icmp_message(3, 3, 0, Bytes(short_quote)));
    EXPECT_TRUE(exchange(stack, Instant{}, q).empty());
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"icmp.drop.bad_quote", 1}}));
    EXPECT_EQ(stat(stack, "icmp.error_unmatched"), 1u);
}

}  // namespace
}  // namespace stack::testing
