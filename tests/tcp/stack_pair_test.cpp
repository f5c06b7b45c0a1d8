// TCP between two stacks over the in-memory link: handshake, transfer, close, and bulk transfer under
// seeded loss, reordering, duplication and corruption.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tests/tcp/pair.hpp"

namespace tunstack_test {
namespace {

using stack::SocketEvent;
using stack::SocketHandle;
using stack::tcp::TcpState;

constexpr std::uint16_t kPort = 7;
const stack::wire::Ipv4Address kServer(0xc6120002);

std::vector<std::uint8_t> pattern(std::size_t n, std::uint64_t seed) {
    std::vector<std::uint8_t> v(n);
    std::mt19937_64 rng(seed);
    for (std::size_t i = 0; i < n; i += 8) {
        std::uint64_t x = rng();
        for (std::size_t j = 0; j < 8 && i + j < n; ++j)
            v[i + j] = static_cast<std::uint8_t>(x >> (8 * j));
    }
    return v;
}

// Moves `data` from a client socket to an accepted server socket and checks it arrives intact; the
// client then closes and the server sees EOF and closes.
struct Transfer {
    StackPair& p;
    std::vector<std::uint8_t> data;
    std::vector<std::uint8_t> received;
    SocketHandle listener, client, server;
    std::size_t sent = 0;
    bool client_closed = false, server_closed = false, server_eof = false, connected = false;

    void pump() {
        auto& ta = p.a->tcp();
        auto& tb = p.b->tcp();
        if (!server.valid()) {
            auto acc = tb.accept(listener);
            if (acc) server = *acc;
        }
        while (sent < data.size()) {
            auto n = ta.send(client, stack::Bytes(data).subspan(sent));
            if (!n || *n == 0) break;
            sent += *n;
        }
        if (sent == data.size() && connected && !client_closed) {
            ASSERT_TRUE(ta.close(p.now, client));
            client_closed = true;
        }
        if (server.valid() && !server_closed) {
            std::uint8_t buf[65536];
            for (;;) {
                auto n = tb.recv(server, stack::MutBytes(buf));
                ASSERT_TRUE(n) << stack::to_string(n.error());
                if (*n == 0) break;
                received.insert(received.end(), buf, buf + *n);
            }
            if (*tb.eof(server)) {
                server_eof = true;
                ASSERT_TRUE(tb.close(p.now, server));
                server_closed = true;
            }
        }
        SocketEvent ev;
        while (ta.next_event(ev)) {
            if (ev.handle == client && (ev.bits & stack::kEventConnected)) connected = true;
        }
        while (tb.next_event(ev)) {
        }
    }

    std::string describe() const {
        std::string out = "sent " + std::to_string(sent) + " received " +
                          std::to_string(received.size()) + "; client:";
        p.a->tcp().for_each_connection([&](const stack::tcp::ConnectionInfo& i) {
            out += std::string(" ") + std::string(stack::tcp::to_string(i.state)) + " sndq " +
                   std::to_string(i.send_queue) + " cwnd " + std::to_string(i.cwnd) + " wnd " +
                   std::to_string(i.snd_wnd) + " rtx " + std::to_string(i.retransmits);
        });
        out += "; server:";
        p.b->tcp().for_each_connection([&](const stack::tcp::ConnectionInfo& i) {
            out += std::string(" ") + std::string(stack::tcp::to_string(i.state)) + " rcvq " +
                   std::to_string(i.recv_queue) + " rcv_wnd " + std::to_string(i.rcv_wnd);
        });
        return out;
    }

    bool run(Duration limit) {
        auto l = p.b->tcp().listen(kPort, 16);
        EXPECT_TRUE(l);
        listener = *l;
        auto c = p.a->tcp().connect(p.now, kServer, kPort);
        EXPECT_TRUE(c);
        client = *c;
        return p.run_until(
            [&] {
                pump();
                return server_closed && p.a->tcp().connection_count() == 1 &&
                       p.b->tcp().connection_count() == 0;
            },
            limit);
    }
};

TEST(TcpPair, HandshakeTransferAndCloseOnCleanLink) {
    StackPair p;
    Transfer t{p, pattern(100'000, 1)};
    ASSERT_TRUE(t.run(Duration::seconds(30))) << t.describe();
    EXPECT_EQ(t.received, t.data);
    EXPECT_TRUE(t.server_eof);
    // The active closer holds TIME-WAIT for 2*MSL, then forgets the connection.
    bool time_wait = false;
    p.a->tcp().for_each_connection(
        [&](const stack::tcp::ConnectionInfo& i) { time_wait = i.state == TcpState::TimeWait; });
    EXPECT_TRUE(time_wait);
    p.run_for(Duration::seconds(61));
    EXPECT_EQ(p.a->tcp().connection_count(), 0u);
    EXPECT_EQ(p.a->stats().tcp.retransmits, 0u);
    EXPECT_EQ(p.b->stats().tcp.retransmits, 0u);
}

TEST(TcpPair, ConnectToClosedPortIsRefused) {
    StackPair p;
    auto c = p.a->tcp().connect(p.now, kServer, 9);
    ASSERT_TRUE(c);
    SocketEvent ev{};
    bool got = false;
    p.run_until([&] {
        if (p.a->tcp().next_event(ev)) got = true;
        return got;
    });
    ASSERT_TRUE(got);
    EXPECT_TRUE(ev.bits & stack::kEventError);
    EXPECT_EQ(p.a->tcp().error(*c), stack::SocketError::Refused);
}

struct Impaired : ::testing::TestWithParam<int> {};

TEST_P(Impaired, BulkTransferIsByteExact) {
    drivers::FaultConfig f;
    f.loss = 0.02;
    f.duplicate = 0.01;
    f.reorder = 0.03;
    f.corrupt = 0.002;
    f.delay = Duration::millis(5);
    f.seed = static_cast<std::uint64_t>(GetParam());
    StackPair p(f, static_cast<std::uint64_t>(GetParam()));
    Transfer t{p, pattern(4'000'000, static_cast<std::uint64_t>(GetParam()))};
    ASSERT_TRUE(t.run(Duration::seconds(600))) << t.describe();
    EXPECT_EQ(t.received.size(), t.data.size());
    EXPECT_TRUE(t.received == t.data);
    EXPECT_GT(p.a->stats().tcp.retransmits, 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, Impaired, ::testing::Values(1, 2, 3));

// TSO changes how the sender hands packets to its device, not what goes on the wire: the link cuts
// super-packets into segments (SimLink, drivers/gso.hpp) and the whole exchange, both directions,
// every byte and every arrival time, is the same as with a per-segment sender, under the same seeded
// faults (loss, duplication and reordering hit single segments of a super-segment, so recovery from
// a partly lost super-segment is exercised too).
struct WireTrace {
    struct Arrival {
        int side;
        std::int64_t at_us;
        std::vector<std::uint8_t> bytes;
        bool operator==(const Arrival&) const = default;
    };
    std::vector<Arrival> arrivals;
    std::uint64_t tso_packets = 0, retransmits = 0;
    bool byte_exact = false;
};

WireTrace run_traced(const drivers::FaultConfig& f, std::uint64_t seed, bool tso,
                     std::size_t bytes) {
    WireTrace trace;
    StackPair p(f, seed, [&](stack::StackConfig& c) {
        c.tcp.send_buffer = 512 * 1024;
        c.tcp.recv_buffer = 512 * 1024;
        if (tso) c.tso_max_size = 65535;
    });
    p.tap = [&](int side, stack::Bytes b) {
        trace.arrivals.push_back({side, p.now.as_micros(), {b.begin(), b.end()}});
    };
    Transfer t{p, pattern(bytes, seed)};
    EXPECT_TRUE(t.run(Duration::seconds(600))) << t.describe();
    trace.byte_exact = t.received == t.data;
    trace.tso_packets = p.a->stats().tcp.tx_tso_packets;
    trace.retransmits = p.a->stats().tcp.retransmits;
    return trace;
}

struct TsoWire : ::testing::TestWithParam<int> {};

TEST_P(TsoWire, SameWireWithAndWithoutTso) {
    drivers::FaultConfig f;
    if (GetParam() > 0) {
        f.loss = 0.02;
        f.duplicate = 0.01;
        f.reorder = 0.03;
        f.corrupt = 0.002;
        f.seed = static_cast<std::uint64_t>(GetParam());
    }
    f.delay = Duration::millis(5);
    const auto seed = static_cast<std::uint64_t>(GetParam() + 10);
    const WireTrace plain = run_traced(f, seed, false, 3'000'000);
    const WireTrace tso = run_traced(f, seed, true, 3'000'000);
    EXPECT_TRUE(plain.byte_exact);
    EXPECT_TRUE(tso.byte_exact);
    EXPECT_EQ(plain.tso_packets, 0u);
    EXPECT_GT(tso.tso_packets, 100u);
    if (GetParam() > 0) {
        EXPECT_GT(tso.retransmits, 0u);
    }
    ASSERT_EQ(tso.arrivals.size(), plain.arrivals.size());
    for (std::size_t i = 0; i < plain.arrivals.size(); ++i) {
        ASSERT_EQ(tso.arrivals[i], plain.arrivals[i]) << "the wires differ from packet " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(Faults, TsoWire, ::testing::Values(0, 1, 2));

}  // namespace
}  // namespace tunstack_test

namespace tunstack_test {
namespace {
struct OneFault : ::testing::TestWithParam<int> {};
TEST_P(OneFault, ByteExactUnderEachFaultAlone) {
    drivers::FaultConfig f;
    switch (GetParam()) {
        case 0: f.loss = 0.02; break;
        case 1: f.duplicate = 0.02; break;
        case 2: f.reorder = 0.03; break;
        case 3: f.corrupt = 0.01; break;
    }
    f.delay = Duration::millis(5);
    StackPair p(f, 7);
    Transfer t{p, pattern(2'000'000, 7)};
    ASSERT_TRUE(t.run(Duration::seconds(600))) << t.describe();
    ASSERT_EQ(t.received.size(), t.data.size());
    std::size_t first = 0;
    while (first < t.data.size() && t.received[first] == t.data[first]) ++first;
    std::string where;
    if (first < t.data.size()) {
        std::size_t last = first;
        while (last < t.data.size() && t.received[last] != t.data[last]) ++last;
        long shift = 0;
        for (long d = -70000; d <= 70000; ++d) {
            long src = static_cast<long>(first) + d;
            if (src < 0 || src + 64 > static_cast<long>(t.data.size())) continue;
            if (std::equal(t.received.begin() + static_cast<long>(first),
                           t.received.begin() + static_cast<long>(first) + 64,
                           t.data.begin() + src)) {
                shift = d;
                break;
            }
        }
        where = " bad run " + std::to_string(last - first) + " bytes, matches data shifted by " +
                std::to_string(shift);
    }
    EXPECT_EQ(first, t.data.size()) << "first mismatch at byte " << first << where;
}
INSTANTIATE_TEST_SUITE_P(Faults, OneFault, ::testing::Values(0, 1, 2, 3));
}  // namespace
}  // namespace tunstack_test
