// Long-lived TCP state across the sequence-number wrap: a connection that has moved more than 2^31
// bytes without a loss must still recover a loss by fast retransmit (RFC 5681 §3.2, RFC 6582,
// RFC 6675), not wait for the retransmission timer. Sequence comparisons are modular (RFC 9293
// §3.4, stack/wire/seq.hpp), so any variable left behind at the ISS ("recover", ...) compares the
// wrong way once the distance to it passes 2^31.
//
// Also the timestamp space (RFC 7323 §5.5): PAWS after more than 24 days idle.
//
// Cheap enough for the unit suite: 64 KB MTU, 4 MiB buffers, 1 ms one-way delay and no payload
// verification beyond each chunk's first and last byte (the stream carries a counter pattern).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tests/tcp/pair.hpp"
#include "tests/tcp/script.hpp"

namespace tunstack_test {
namespace {

constexpr std::uint16_t kPort = 5002;
const stack::wire::Ipv4Address kServer(0xc6120002);
// Past 2^31 bytes from the ISS and well short of 2^32: the half where a comparison against a
// value still at the ISS says "behind" although it is ahead.
constexpr std::uint64_t kDropAfter = (std::uint64_t{1} << 31) + (16u << 20);
constexpr std::uint64_t kTotal = (std::uint64_t{1} << 31) + (64u << 20);
constexpr std::size_t kChunk = 1u << 20;

// The byte at stream offset i.
std::uint8_t stream_byte(std::uint64_t i) { return static_cast<std::uint8_t>(i % 251); }

// TCP payload length of an IPv4 packet (0 when it is not a TCP segment with data).
std::size_t tcp_payload_len(stack::Bytes p) {
    if (p.size() < 20 || p[9] != 6) return 0;
    const std::size_t ihl = (p[0] & 0x0fu) * 4u;
    const std::size_t total = (std::size_t{p[2]} << 8) | p[3];
    if (p.size() < ihl + 20 || total < ihl + 20) return 0;
    const std::size_t doff = (p[ihl + 12] >> 4) * 4u;
    return total >= ihl + doff ? total - ihl - doff : 0;
}

struct SeqWrap : ::testing::TestWithParam<bool> {};  // SACK on / off (NewReno recovery)

TEST_P(SeqWrap, FastRetransmitStillWorksAfterTwoGigabytesWithoutLoss) {
    const bool sack = GetParam();
    drivers::FaultConfig f;
    f.delay = Duration::millis(1);
    StackPair p(f, 3, [&](stack::StackConfig& c) {
        c.mtu = 65535;
        c.tcp.sack = sack;
        c.tcp.congestion = stack::tcp::CcAlgorithm::NewReno;
        c.tcp.send_buffer = 4u << 20;
        c.tcp.recv_buffer = 4u << 20;
    });
    auto& ta = p.a->tcp();
    auto& tb = p.b->tcp();
    auto listener = tb.listen(kPort, 4);
    ASSERT_TRUE(listener.ok());
    auto client = ta.connect(p.now, kServer, kPort);
    ASSERT_TRUE(client.ok());

    std::vector<std::uint8_t> pattern(kChunk + 251);
    for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = stream_byte(i);
    std::vector<std::uint8_t> buf(kChunk);
    stack::SocketHandle server;
    std::uint64_t sent = 0, received = 0;
    bool bad_bytes = false, drop_armed = false, dropped = false;
    std::uint64_t retransmits_before_drop = 0, rto_before_drop = 0, fast_before_drop = 0;

    // One step at p.now, as StackPair::step, except that the first data segment after arming is
    // lost on its way to the server.
    auto step = [&] {
        p.link.set_now(p.now);
        p.a->poll(p.now, p.link.side(0));
        p.b->poll(p.now, p.link.side(1));
        p.link.deliver(p.now, 1, [&](stack::Bytes pkt) {
            if (drop_armed && tcp_payload_len(pkt) > 0) {
                drop_armed = false;
                dropped = true;
                return;
            }
            p.b->ingress(p.now, pkt);
        });
        p.link.deliver(p.now, 0, [&](stack::Bytes pkt) { p.a->ingress(p.now, pkt); });
        p.a->poll(p.now, p.link.side(0));
        p.b->poll(p.now, p.link.side(1));
    };
    auto pump = [&] {
        if (!server.valid()) {
            if (auto acc = tb.accept(*listener); acc.ok()) server = *acc;
        }
        while (sent < kTotal) {
            const std::size_t off = static_cast<std::size_t>(sent % 251);
            const std::size_t want =
                static_cast<std::size_t>(std::min<std::uint64_t>(kTotal - sent, kChunk));
            auto n = ta.send(*client, stack::Bytes(pattern).subspan(off, want));
            if (!n.ok() || *n == 0) break;
            sent += *n;
        }
        if (server.valid()) {
            for (;;) {
                auto n = tb.recv(server, stack::MutBytes(buf));
                if (!n.ok() || *n == 0) break;
                if (buf[0] != stream_byte(received) ||
                    buf[*n - 1] != stream_byte(received + *n - 1))
                    bad_bytes = true;
                received += *n;
            }
        }
        if (!drop_armed && !dropped && received >= kDropAfter) {
            drop_armed = true;
            retransmits_before_drop = p.a->stats().tcp.retransmits;
            rto_before_drop = p.a->stats().tcp.rto;
            fast_before_drop = p.a->stats().tcp.fast_retransmits;
        }
        stack::SocketEvent ev;
        while (ta.next_event(ev)) {
        }
        while (tb.next_event(ev)) {
        }
        return received == kTotal;
    };

    // Bounded in steps and in simulated time (about 2 s of it at this window and RTT).
    const Instant end = p.now + Duration::seconds(120);
    bool done = false;
    for (long i = 0; i < 20'000'000 && !done; ++i) {
        step();
        done = pump();
        if (done) break;
        Instant next = std::min({p.a->poll_at(), p.b->poll_at(), p.link.next_delivery()});
        if (next <= p.now) continue;
        if (next == Instant::never() || next > end) break;
        p.now = next;
    }
    ASSERT_TRUE(done) << "sent " << sent << " received " << received << " at " << p.now.as_millis()
                      << " ms";
    EXPECT_FALSE(bad_bytes);
    ASSERT_TRUE(dropped);
    // The first 2^31 bytes went through without any loss, so "recover" never moved off the ISS.
    EXPECT_EQ(retransmits_before_drop, 0u);
    EXPECT_EQ(p.link.counters(0).overflowed + p.link.counters(1).overflowed, 0u);
    const auto& st = p.a->stats();
    EXPECT_EQ(st.tcp.fast_retransmits, fast_before_drop + 1);
    EXPECT_EQ(st.tcp.retransmit_fast, 1u);
    EXPECT_EQ(st.tcp.rto, rto_before_drop);
    EXPECT_EQ(st.tcp.retransmit_rto, 0u);
    if (sack) {
        EXPECT_EQ(st.tcp.sack_recoveries, 1u);
    }
    RecordProperty("simulated_ms", std::to_string(p.now.as_millis()));
}

INSTANTIATE_TEST_SUITE_P(SackOnOff, SeqWrap, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                             return std::string(info.param ? "sack" : "nosack");
                         });

}  // namespace
}  // namespace tunstack_test

namespace tcpscript {
namespace {

// RFC 7323 §5.5: after more than 24 days idle, ts_recent is too old to be trusted. A peer whose clock
// ticks once a millisecond (the fastest RFC 7323 §5.4 allows) has moved its TSval by more than 2^31
// after 25 days, so its next segment looks older than ts_recent under the modular comparison; PAWS
// must accept it rather than drop the connection's traffic for ever.
TEST(TcpScriptSeqWrap, PawsAcceptsWrappedTsvalAfterMoreThan24DaysIdle_Rfc7323S55) {
    Script s;
    auto c = s.passive_open(1000, {.mss = 1460, .tsval = 100});  // ts_recent = 101
    const std::uint32_t idle_ms = 25u * 24 * 3600 * 1000;        // 2.16e9 ticks > 2^31
    s.advance_to(Instant::from_millis(idle_ms));
    s.expect_nothing();
    s.inject(data(1001, 1, bytes(10)).with_ts(101 + idle_ms, 0));
    s.advance_by(Duration::millis(100));
    s.expect({.at = at(2160000040ms),
              .flags = kAck,
              .seq = 1,
              .ack = 1011,
              .win = 65535,
              .tsecr = 101 + idle_ms});
    EXPECT_EQ(s.stack().stats().tcp.drop_paws, 0u);
    EXPECT_EQ(s.tcp().info(c)->recv_queue, 10u);
}

}  // namespace
}  // namespace tcpscript
