// Regression tests for a stall of bidirectional transfers under loss (examples/echo_demo 1000000 2
// ended with "connection timed out"): after a retransmission timeout both ends had rewound SND.NXT
// to SND.UNA (go-back-N) and sent their pure ACKs with SEQ = SND.NXT, below the peer's RCV.NXT, as
// the peer had already received those bytes (only its ACKs were lost). Such a segment fails the
// acceptability test (RFC 9293 §3.10.7.4), so its ACK field is never looked at: each end dropped
// the other's ACKs (tcp.drop.out_of_window), answered each with an ACK of its own (an ACK loop at
// one instant) and neither SND.UNA moved until the user timeout. A pure ACK must carry the first
// octet never sent, SND.MAX (as 4.4BSD's tcp_output does while retransmitting), which the peer
// accepts whatever it has received.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "tests/tcp/pair.hpp"

namespace tunstack_test {
namespace {

using stack::SocketEvent;
using stack::SocketHandle;

constexpr std::uint16_t kEchoPort = 7;
const stack::wire::Ipv4Address kEchoServer(0xc6120002);

std::uint8_t echo_byte(std::size_t i) { return static_cast<std::uint8_t>(i * 7 + i / 251); }

// The echo exchange of examples/echo_demo: the client (side 0) sends `total` bytes and half-closes,
// the server (side 1) echoes everything and closes after the client's FIN, the client checks the
// echo byte for byte and closes at EOF.
struct Echo {
    StackPair& p;
    std::size_t total;
    SocketHandle listener, client, server;
    std::size_t sent = 0, received = 0;
    bool client_shut = false, client_done = false, server_closed = false, mismatch = false;
    std::vector<std::uint8_t> pending;  // read by the server, not yet taken by send()

    void pump() {
        auto& tc = p.a->tcp();
        auto& ts = p.b->tcp();
        std::uint8_t buf[16384];
        if (!server.valid()) {
            auto acc = ts.accept(listener);
            if (acc) server = *acc;
        }
        while (sent < total) {
            const std::size_t n = std::min(sizeof buf, total - sent);
            for (std::size_t i = 0; i < n; ++i) buf[i] = echo_byte(sent + i);
            auto took = tc.send(client, stack::Bytes(buf, n));
            if (!took || *took == 0) break;
            sent += *took;
        }
        if (sent == total && !client_shut) client_shut = tc.shutdown(client).ok();
        if (server.valid() && !server_closed) {
            for (int guard = 0; guard < 1000; ++guard) {
                if (!pending.empty()) {
                    auto took = ts.send(server, pending);
                    if (!took) break;
                    pending.erase(pending.begin(), pending.begin() + static_cast<long>(*took));
                    if (!pending.empty()) break;
                }
                auto got = ts.recv(server, stack::MutBytes(buf));
                if (!got || *got == 0) break;
                pending.assign(buf, buf + *got);
            }
            if (pending.empty() && ts.eof(server).value_or(false)) {
                server_closed = ts.close(p.now, server).ok();
            }
        }
        if (!client_done) {
            for (;;) {
                auto got = tc.recv(client, stack::MutBytes(buf));
                if (!got || *got == 0) break;
                for (std::size_t i = 0; i < *got; ++i) {
                    if (buf[i] != echo_byte(received + i)) mismatch = true;
                }
                received += *got;
            }
            if (tc.eof(client).value_or(false)) client_done = tc.close(p.now, client).ok();
        }
        SocketEvent ev;
        while (tc.next_event(ev)) {
        }
        while (ts.next_event(ev)) {
        }
    }

    bool failed() const { return p.a->tcp().error(client) || p.b->tcp().error(server); }

    bool run(Duration limit) {
        auto l = p.b->tcp().listen(kEchoPort, 16);
        EXPECT_TRUE(l);
        listener = *l;
        auto c = p.a->tcp().connect(p.now, kEchoServer, kEchoPort);
        EXPECT_TRUE(c);
        client = *c;
        return p.run_until(
            [&] {
                pump();
                return (client_done && server_closed) || failed();
            },
            limit);
    }

    std::string describe() const {
        std::string out = "sent " + std::to_string(sent) + " echoed back " +
                          std::to_string(received) + " of " + std::to_string(total);
        for (int side = 0; side < 2; ++side) {
            const auto& s = side == 0 ? *p.a : *p.b;
            out += side == 0 ? "; client:" : "; server:";
            s.tcp().for_each_connection([&](const stack::tcp::ConnectionInfo& i) {
                out += std::string(" ") + std::string(stack::tcp::to_string(i.state)) + " sndq " +
                       std::to_string(i.send_queue) + " rtx " + std::to_string(i.retransmits);
            });
            s.stats().visit([&](std::string_view n, std::uint64_t v) {
                if (v != 0 && n.substr(0, 4) == "tcp.") {
                    out += " " + std::string(n) + " " + std::to_string(v);
                }
            });
        }
        return out;
    }
};

// Watches a link with no delay (a packet arrives at the instant it is sent): a pure ACK (no data,
// SYN, FIN or RST) from a side must not carry a sequence number below an RCV.NXT the peer had
// already announced to that side (the highest ACK number delivered to it at an earlier instant):
// the peer would find it left of its window and drop it unread (RFC 9293 §3.10.7.4).
struct AckSeqWatch {
    stack::wire::SeqNumber known[2], latest[2];  // per receiving side: ACK numbers it got
    bool has_known[2] = {false, false}, has_latest[2] = {false, false};
    stack::Instant latest_at[2];
    std::uint64_t below_peer_rcv_nxt[2] = {0, 0};  // such pure ACKs, by sending side
    std::uint64_t pure_acks = 0;

    void on_packet(stack::Instant now, int arriving_at, stack::Bytes packet) {
        const int from = 1 - arriving_at;
        auto ip = stack::wire::Ipv4Packet::parse(packet);
        ASSERT_TRUE(ip);
        auto tcp = stack::wire::TcpPacket::parse(ip->payload(), ip->src(), ip->dst());
        ASSERT_TRUE(tcp);
        const auto flags = tcp->flags();
        if (flags.rst() || flags.syn() || !flags.ack()) return;
        // What `from` had been told before this instant.
        if (has_latest[from] && latest_at[from] < now) {
            if (!has_known[from] || latest[from] > known[from]) known[from] = latest[from];
            has_known[from] = true;
        }
        if (tcp->segment_len() == 0) {
            ++pure_acks;
            if (has_known[from] && tcp->seq() < known[from]) ++below_peer_rcv_nxt[from];
        }
        // The ACK number this packet tells `arriving_at`.
        if (has_latest[arriving_at] && latest_at[arriving_at] < now) {
            if (!has_known[arriving_at] || latest[arriving_at] > known[arriving_at]) {
                known[arriving_at] = latest[arriving_at];
            }
            has_known[arriving_at] = true;
        }
        if (!has_latest[arriving_at] || tcp->ack() > latest[arriving_at]) {
            latest[arriving_at] = tcp->ack();
        }
        has_latest[arriving_at] = true;
        latest_at[arriving_at] = now;
    }
};

drivers::FaultConfig lossy(int loss_percent, std::uint64_t seed, Duration delay) {
    drivers::FaultConfig f;
    f.loss = loss_percent / 100.0;
    f.delay = delay;
    f.seed = seed;
    return f;
}

// The exchange of the report: an echo of 1 MB over a link losing 4% with no delay. With seed 1 it
// stalled as echo_demo did: both ends timed out (user timeout) with about 200 segments each counted
// in tcp.drop.out_of_window, their pure ACKs below the peer's RCV.NXT.
TEST(TcpLossStall, EchoUnderLossCompletesAndPureAcksCarrySndMax) {
    StackPair p(lossy(4, 1, Duration()), 1);
    AckSeqWatch watch;
    p.tap = [&](int side, stack::Bytes pkt) { watch.on_packet(p.now, side, pkt); };
    Echo e{p, 1'000'000};
    ASSERT_TRUE(e.run(Duration::seconds(300))) << e.describe();
    EXPECT_FALSE(e.failed()) << e.describe();
    EXPECT_FALSE(e.mismatch);
    EXPECT_EQ(e.received, e.total) << e.describe();
    // The case needs retransmission timeouts on both sides (go-back-N in both directions).
    EXPECT_GT(p.a->stats().tcp.rto, 0u);
    EXPECT_GT(p.b->stats().tcp.rto, 0u);
    EXPECT_EQ(p.a->stats().tcp.timeouts + p.b->stats().tcp.timeouts, 0u);
    EXPECT_GT(watch.pure_acks, 0u);
    EXPECT_EQ(watch.below_peer_rcv_nxt[0], 0u) << "client pure ACKs left of the server's window";
    EXPECT_EQ(watch.below_peer_rcv_nxt[1], 0u) << "server pure ACKs left of the client's window";
}

// Loss rates 1..10%, several seeds, with and without delay: every echo completes byte-exact.
using SweepParam = std::tuple<int, int, int>;  // loss percent, seed, one-way delay in ms
struct TcpLossStallSweep : ::testing::TestWithParam<SweepParam> {};

TEST_P(TcpLossStallSweep, EchoCompletesByteExact) {
    const int loss = std::get<0>(GetParam());
    const int seed = std::get<1>(GetParam());
    const int delay_ms = std::get<2>(GetParam());
    StackPair p(lossy(loss, static_cast<std::uint64_t>(seed), Duration::millis(delay_ms)),
                static_cast<std::uint64_t>(seed));
    Echo e{p, 1'000'000};
    ASSERT_TRUE(e.run(Duration::seconds(600))) << e.describe();
    EXPECT_FALSE(e.failed()) << e.describe();
    EXPECT_FALSE(e.mismatch);
    EXPECT_EQ(e.received, e.total) << e.describe();
    EXPECT_EQ(p.a->stats().tcp.timeouts + p.b->stats().tcp.timeouts, 0u) << e.describe();
}

INSTANTIATE_TEST_SUITE_P(LossSeedsDelay, TcpLossStallSweep,
                         ::testing::Combine(::testing::Values(1, 2, 4, 6, 8, 10),
                                            ::testing::Values(1, 2, 3, 4),
                                            ::testing::Values(0, 5)));

}  // namespace
}  // namespace tunstack_test
