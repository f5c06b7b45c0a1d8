// Fragment reassembly through Stack::ingress (RFC 791 §3.2 "reassembly", RFC 815 holes, RFC 5722's
// overlap rule applied to IPv4): any arrival order completes, exact duplicates are harmless, overlaps and
// inconsistencies discard the whole datagram, and nothing larger than 65535 bytes is ever assembled.
// The datagrams are echo requests, so completion is observed as the echo reply and its data.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "stack/stack.hpp"
#include "tests/support/ip_packets.hpp"

namespace stack::testing {
namespace {

constexpr std::uint16_t kId = 0x5151;

Packet ping_of(std::size_t n, std::uint32_t seed = 1, std::uint16_t ip_ident = kId,
               wire::Ipv4Address src = kPeerAddr) {
    return echo_request(pattern(n, seed), 0x77, static_cast<std::uint16_t>(seed), src, kOurAddr,
                        ip_ident);
}

Packet data_of(std::size_t n, std::uint32_t seed = 1) { return pattern(n, seed); }

// Ingresses the fragments one by one, polling after each; expects no output until the last one and
// returns what the last one produced.
std::vector<Packet> feed(Stack& stack, const std::vector<Packet>& frags, Instant now = Instant{}) {
    for (std::size_t i = 0; i + 1 < frags.size(); ++i) {
        auto out = exchange(stack, now, frags[i]);
        EXPECT_TRUE(out.empty()) << "output after fragment " << i << " of " << frags.size();
    }
    return exchange(stack, now, frags.back());
}

void expect_nothing_in_flight(const Stack& stack) {
    EXPECT_EQ(stat(stack, "ip.reasm_datagrams_in_flight"), 0u);
    EXPECT_EQ(stat(stack, "ip.reasm_bytes_in_use"), 0u);
    EXPECT_EQ(stack.poll_at(), Instant::never());
}

TEST(Reassembly, InOrderFragmentsCompleteOnTheLast) {
    Stack stack(default_config());
    auto frags = fragments(ping_of(4000), 1000);
    ASSERT_EQ(frags.size(), 5u);
    EXPECT_EQ(echo_reply_data(feed(stack, frags)), data_of(4000));
    EXPECT_EQ(stat(stack, "ip.rx_fragments"), 5u);
    EXPECT_EQ(stat(stack, "ip.reasm_ok"), 1u);
    EXPECT_TRUE(drops(stack.stats()).empty());
    expect_nothing_in_flight(stack);
}

TEST(Reassembly, ReverseOrderCompletesOnTheFirstFragment) {
    Stack stack(default_config());
    auto frags = fragments(ping_of(4000), 1000);
    std::reverse(frags.begin(), frags.end());
    EXPECT_EQ(echo_reply_data(feed(stack, frags)), data_of(4000));
    EXPECT_TRUE(drops(stack.stats()).empty());
    expect_nothing_in_flight(stack);
}

TEST(Reassembly, RandomPermutationsUnderManySeedsComplete) {
    for (std::uint32_t seed = 1; seed <= 300; ++seed) {
        SCOPED_TRACE(seed);
        std::mt19937 rng(seed);
        const std::size_t n = 1 + rng() % 9000;
        const std::size_t chunk = 8 * (1 + rng() % 185);  // 8..1480
        auto frags = fragments(ping_of(n, seed), chunk);
        if (frags.size() < 2) continue;
        permute(frags, seed);
        Stack stack(default_config());
        EXPECT_EQ(echo_reply_data(feed(stack, frags)), data_of(n, seed));
        EXPECT_EQ(stat(stack, "ip.reasm_ok"), 1u);
        EXPECT_TRUE(drops(stack.stats()).empty());
        expect_nothing_in_flight(stack);
        if (HasFailure()) break;
    }
}

// RFC 791 leaves duplicates to the receiver; identical re-sent bytes are accepted as duplicates (dropped
// alone, counted) and the datagram still completes.
TEST(Reassembly, ExactDuplicatesCountedAndDatagramStillCompletes) {
    for (std::uint32_t seed = 1; seed <= 100; ++seed) {
        SCOPED_TRACE(seed);
        std::mt19937 rng(seed * 7919);
        auto frags = fragments(ping_of(6000, seed), 8 * (1 + rng() % 100));
        permute(frags, seed);
        // Copies of any fragment but the one that completes, inserted anywhere before it.
        std::vector<Packet> seq(frags.begin(), frags.end() - 1);
        const std::size_t dups = 1 + rng() % 10;
        for (std::size_t d = 0; d < dups; ++d) {
            const Packet copy = seq[rng() % seq.size()];
            seq.insert(seq.begin() + static_cast<std::ptrdiff_t>(rng() % (seq.size() + 1)), copy);
        }
        seq.push_back(frags.back());
        Stack stack(default_config());
        EXPECT_EQ(echo_reply_data(feed(stack, seq)), data_of(6000, seed));
        EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_duplicate", dups}}));
        expect_nothing_in_flight(stack);
        if (HasFailure()) break;
    }
}

// A fragment covering two received, adjacent fragments with the same bytes is also just a duplicate.
TEST(Reassembly, DuplicateSpanningAdjacentFragmentsIsADuplicate) {
    const Packet whole = ping_of(64);
    Stack stack(default_config());
    EXPECT_TRUE(exchange(stack, Instant{}, fragment_of(whole, 0, 16, false)).empty());
    EXPECT_TRUE(exchange(stack, Instant{}, fragment_of(whole, 16, 32, false)).empty());
    EXPECT_TRUE(exchange(stack, Instant{}, fragment_of(whole, 8, 24, false)).empty());
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_duplicate", 1}}));
    EXPECT_EQ(echo_reply_data(exchange(stack, Instant{}, fragment_of(whole, 32, 72, true))),
              data_of(64));
}

// RFC 5722 §4 (and Linux for IPv4): overlapping fragments discard the whole datagram; the ID is then
// free, so a complete fresh set with the same ID reassembles from scratch.
TEST(Reassembly, PartialOverlapDiscardsDatagramAndFreshSetReassemblesFromScratch) {
    struct Case {
        std::size_t a_begin, a_end, b_begin, b_end;
    };
    const Case cases[] = {
        {0, 16, 8, 24},   // tail overlap
        {16, 32, 8, 24},  // head overlap
        {16, 24, 8, 32},  // new fragment covers an old one entirely
        {8, 40, 16, 56},  // straddles the end
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(::testing::Message()
                     << c.a_begin << "-" << c.a_end << " then " << c.b_begin << "-" << c.b_end);
        const Packet old_whole = ping_of(200, 1);
        Stack stack(default_config());
        EXPECT_TRUE(
            exchange(stack, Instant{}, fragment_of(old_whole, c.a_begin, c.a_end, false)).empty());
        EXPECT_TRUE(
            exchange(stack, Instant{}, fragment_of(old_whole, c.b_begin, c.b_end, false)).empty());
        EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_overlap", 1}}));
        expect_nothing_in_flight(stack);

        const Packet fresh = ping_of(200, 2);  // same IP ID, different bytes
        auto frags = fragments(fresh, 48);
        permute(frags, 3);
        EXPECT_EQ(echo_reply_data(feed(stack, frags)), data_of(200, 2));
        EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_overlap", 1}}));
        expect_nothing_in_flight(stack);
    }
}

// Same range, different bytes: one of the copies is forged or corrupt; the datagram cannot be trusted.
TEST(Reassembly, DuplicateWithDifferentBytesDiscardsDatagramAsInconsistent) {
    const Packet a = ping_of(100, 1);
    const Packet b = ping_of(100, 2);
    Stack stack(default_config());
    exchange(stack, Instant{}, fragment_of(a, 0, 48, false));
    exchange(stack, Instant{}, fragment_of(a, 48, 96, false));
    EXPECT_TRUE(exchange(stack, Instant{}, fragment_of(b, 48, 96, false)).empty());
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_inconsistent", 1}}));
    expect_nothing_in_flight(stack);
    // The remaining fragment of `a` starts a new datagram rather than completing the old one.
    EXPECT_TRUE(exchange(stack, Instant{}, fragment_of(a, 96, 108, true)).empty());
    EXPECT_EQ(stat(stack, "ip.reasm_datagrams_in_flight"), 1u);
}

TEST(Reassembly, TwoDifferentLastFragmentsDiscardAsInconsistent) {
    const Packet w = ping_of(100);
    for (std::size_t second_end : {std::size_t{100}, std::size_t{104}}) {
        SCOPED_TRACE(second_end);
        Stack stack(default_config());
        exchange(stack, Instant{}, fragment_of(w, 0, 48, false));
        exchange(stack, Instant{}, fragment_of(w, 96, 108, true));  // end 108
        EXPECT_TRUE(exchange(stack, Instant{}, fragment_of(w, 96, second_end, true)).empty());
        EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_inconsistent", 1}}));
        expect_nothing_in_flight(stack);
    }
}

// RFC 791 §3.2: fragment offsets count 8-byte units, so every fragment but the last carries a multiple
// of 8 bytes.
TEST(Reassembly, NonLastFragmentNotMultipleOfEightDiscardsAsInconsistent) {
    const Packet w = ping_of(100);
    Stack stack(default_config());
    EXPECT_TRUE(exchange(stack, Instant{}, fragment_of(w, 0, 12, false)).empty());
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_inconsistent", 1}}));
    expect_nothing_in_flight(stack);
    // With a datagram in progress, the bad fragment discards it.
    exchange(stack, Instant{}, fragment_of(w, 0, 16, false));
    EXPECT_EQ(stat(stack, "ip.reasm_datagrams_in_flight"), 1u);
    EXPECT_TRUE(exchange(stack, Instant{}, fragment_of(w, 16, 33, false)).empty());
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_inconsistent", 2}}));
    expect_nothing_in_flight(stack);
}

TEST(Reassembly, DataBeyondAKnownEndDiscardsAsInconsistent) {
    const Packet w = ping_of(200);
    {
        Stack stack(default_config());
        exchange(stack, Instant{}, fragment_of(w, 48, 96, true));  // the datagram ends at 96
        EXPECT_TRUE(exchange(stack, Instant{}, fragment_of(w, 96, 144, false)).empty());
        EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_inconsistent", 1}}));
        expect_nothing_in_flight(stack);
    }
    {
        Stack stack(default_config());
        exchange(stack, Instant{}, fragment_of(w, 96, 144, false));  // data up to 144 seen
        EXPECT_TRUE(
            exchange(stack, Instant{}, fragment_of(w, 48, 96, true)).empty());  // ends at 96
        EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_inconsistent", 1}}));
        expect_nothing_in_flight(stack);
    }
}

TEST(Reassembly, EmptyFragmentDroppedAloneDatagramSurvives) {
    const Packet w = ping_of(100);
    Stack stack(default_config());
    exchange(stack, Instant{}, fragment_of(w, 0, 48, false));
    wire::Ipv4Repr empty = ip_header(kPeerAddr, kOurAddr, 1, kId);
    empty.frag_offset = 48;
    empty.more_frags = true;
    EXPECT_TRUE(exchange(stack, Instant{}, ipv4_packet(empty, {})).empty());
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_inconsistent", 1}}));
    EXPECT_EQ(echo_reply_data(exchange(stack, Instant{}, fragment_of(w, 48, 108, true))),
              data_of(100));
}

// RFC 791: a datagram is at most 65535 bytes; a fragment whose offset + length + header exceeds that is
// an attack (ping of death) and its datagram is discarded.
TEST(Reassembly, FragmentEndingPast65535DiscardsAsTooBig) {
    wire::Ipv4Repr ip = ip_header(kPeerAddr, kOurAddr, 1, kId);
    ip.frag_offset = 8189 * 8;  // 65512, the largest offset the field can hold
    const Packet data = pattern(24);
    Stack stack(default_config());
    EXPECT_TRUE(
        exchange(stack, Instant{}, ipv4_packet(ip, data)).empty());  // 20 + 65512 + 24 > 65535
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_too_big", 1}}));
    expect_nothing_in_flight(stack);

    // It also discards a datagram in progress with the same key.
    const Packet w = ping_of(100);
    exchange(stack, Instant{}, fragment_of(w, 0, 48, false));
    ip.more_frags = true;
    EXPECT_TRUE(exchange(stack, Instant{}, ipv4_packet(ip, data)).empty());
    EXPECT_EQ(drops(stack.stats()), (DropMap{{"ip.drop.frag_too_big", 2}}));
    expect_nothing_in_flight(stack);
}

// The largest datagram (65535 bytes: a 65515-byte payload), its last fragment at the largest offset.
TEST(Reassembly, MaximumDatagramOf65515PayloadBytesReassembles) {
    const Packet whole = ping_of(65507, 11);  // 8 + 65507 = 65515 payload bytes
    ASSERT_EQ(whole.size(), 65535u);
    std::vector<Packet> frags;
    for (std::size_t b = 0; b < 65120; b += 1480)
        frags.push_back(fragment_of(whole, b, b + 1480, false));
    frags.push_back(fragment_of(whole, 65120, 65512, false));
    frags.push_back(fragment_of(whole, 65512, 65515, true));
    for (std::uint32_t seed : {0u, 1u, 2u}) {
        SCOPED_TRACE(seed);
        auto order = frags;
        if (seed != 0) permute(order, seed);
        Stack stack(default_config());
        auto out = feed(stack, order);
        EXPECT_EQ(out.size(), 45u);  // the reply is as big, fragmented at 1480
        EXPECT_EQ(echo_reply_data(out), data_of(65507, 11));
        EXPECT_TRUE(drops(stack.stats()).empty());
        expect_nothing_in_flight(stack);
    }
}

// Options in the first fragment (RFC 791: copied or not per option) do not disturb reassembly.
TEST(Reassembly, FirstFragmentWithOptionsReassembles) {
    const Packet w = ping_of(300);
    auto frags = fragments(w, 96);
    const std::uint8_t rr[] = {7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    frags[0] = with_options(frags[0], rr);
    permute(frags, 5);
    Stack stack(default_config());
    EXPECT_EQ(echo_reply_data(feed(stack, frags)), data_of(300));
    EXPECT_TRUE(drops(stack.stats()).empty());
}

// [0,16) MF, [16,32) MF, then [16,32) again with MF clear and the same bytes: the "duplicate" tells the
// datagram ends at 32, and every byte of [0,32) is present. Whatever the verdict (deliver, or discard as
// inconsistent with the earlier MF=1 copy), the datagram must not be left holding memory until timeout
// with nothing that could ever change its fate.
TEST(Reassembly, DuplicateThatRevealsTheEndResolvesTheDatagramAtOnce) {
    const Packet w = ping_of(24);  // 32 payload bytes
    Stack stack(default_config());
    exchange(stack, Instant{}, fragment_of(w, 0, 16, false));
    exchange(stack, Instant{}, fragment_of(w, 16, 32, false));
    auto out = exchange(stack, Instant{}, fragment_of(w, 16, 32, true));
    EXPECT_EQ(stat(stack, "ip.reasm_datagrams_in_flight"), 0u)
        << "a fully known, fully received datagram is stuck in the reassembler";
    // Our verdict: every byte is there and the end is known, so the datagram is delivered.
    EXPECT_EQ(echo_reply_data(out), data_of(24));
}

// A single packet with MF clear and offset 0 is not a fragment and never touches the reassembler.
TEST(Reassembly, UnfragmentedPacketBypassesReassembly) {
    Stack stack(default_config());
    exchange(stack, Instant{}, ping_of(100));
    EXPECT_EQ(stat(stack, "ip.rx_fragments"), 0u);
    EXPECT_EQ(stat(stack, "ip.reasm_ok"), 0u);
}

}  // namespace
}  // namespace stack::testing
