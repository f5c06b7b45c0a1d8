// Stack-to-stack soak: 50 MB byte-exact over the simulated link under loss 3%, duplication 1%,
// reordering 5%, corruption 0.1% and 10 ms delay, for 5 seeds × SACK on/off × NewReno/CUBIC.
// Deterministic (seeded link, injected time); CPU-bound only (about 0.3 s of CPU per case).
#include <gtest/gtest.h>

#include <random>
#include <tuple>
#include <vector>

#include "tests/tcp/pair.hpp"

namespace tunstack_test {
namespace {

constexpr std::uint16_t kSoakPort = 5001;
constexpr std::size_t kSoakBytes = 50u << 20;

std::vector<std::uint8_t> soak_data(std::size_t n, std::uint64_t seed) {
    std::vector<std::uint8_t> v(n);
    std::mt19937_64 rng(seed);
    for (std::size_t i = 0; i < n; i += 8) {
        const std::uint64_t x = rng();
        for (std::size_t j = 0; j < 8 && i + j < n; ++j)
            v[i + j] = static_cast<std::uint8_t>(x >> (8 * j));
    }
    return v;
}

using SoakParam = std::tuple<int, bool, stack::tcp::CcAlgorithm>;  // seed, sack, congestion control

struct Soak : ::testing::TestWithParam<SoakParam> {};

TEST_P(Soak, FiftyMegabytesByteExactUnderAllFaults) {
    // Not a structured binding: clang 14 cannot capture those in a lambda.
    const int seed = std::get<0>(GetParam());
    const bool sack = std::get<1>(GetParam());
    const stack::tcp::CcAlgorithm cc = std::get<2>(GetParam());
    drivers::FaultConfig f;
    f.loss = 0.03;
    f.duplicate = 0.01;
    f.reorder = 0.05;
    f.corrupt = 0.001;
    f.delay = Duration::millis(10);
    f.seed = static_cast<std::uint64_t>(seed) * 7919;
    StackPair p(f, static_cast<std::uint64_t>(seed), [&](stack::StackConfig& c) {
        c.tcp.sack = sack;
        c.tcp.congestion = cc;
    });
    const auto data = soak_data(kSoakBytes, static_cast<std::uint64_t>(seed));
    auto& ta = p.a->tcp();
    auto& tb = p.b->tcp();
    auto listener = tb.listen(kSoakPort, 4);
    ASSERT_TRUE(listener.ok());
    auto client = ta.connect(p.now, stack::wire::Ipv4Address(0xc6120002), kSoakPort);
    ASSERT_TRUE(client.ok());
    stack::SocketHandle server;
    std::size_t sent = 0, received = 0;
    bool mismatch = false, client_closed = false, server_closed = false;
    std::vector<std::uint8_t> buf(1 << 16);
    const bool done = p.run_until(
        [&] {
            if (!server.valid()) {
                if (auto acc = tb.accept(*listener); acc.ok()) server = *acc;
            }
            while (sent < data.size()) {
                auto n = ta.send(*client, stack::Bytes(data).subspan(sent));
                if (!n.ok() || *n == 0) break;
                sent += *n;
            }
            if (sent == data.size() && !client_closed &&
                ta.info(*client)->state != stack::tcp::TcpState::SynSent) {
                client_closed = ta.close(p.now, *client).ok();
            }
            if (server.valid() && !server_closed) {
                for (;;) {
                    auto n = tb.recv(server, stack::MutBytes(buf));
                    if (!n.ok() || *n == 0) break;
                    if (!std::equal(buf.begin(), buf.begin() + static_cast<long>(*n),
                                    data.begin() + static_cast<long>(received))) {
                        mismatch = true;
                    }
                    received += *n;
                }
                if (tb.eof(server).ok() && *tb.eof(server))
                    server_closed = tb.close(p.now, server).ok();
            }
            stack::SocketEvent ev;
            while (ta.next_event(ev)) {
            }
            while (tb.next_event(ev)) {
            }
            return server_closed && tb.connection_count() == 0;
        },
        Duration::seconds(3600));
    EXPECT_TRUE(done) << "sent " << sent << " received " << received << " at " << p.now.as_millis()
                      << " ms";
    EXPECT_EQ(received, data.size());
    EXPECT_FALSE(mismatch);
    EXPECT_GT(p.a->stats().tcp.retransmits, 0u);
    EXPECT_EQ(p.a->stats().tcp.timeouts + p.b->stats().tcp.timeouts, 0u);
    if (!sack) {
        EXPECT_EQ(p.a->stats().tcp.sack_recoveries, 0u);
    }
    RecordProperty("simulated_ms", std::to_string(p.now.as_millis()));
    RecordProperty("retransmits", std::to_string(p.a->stats().tcp.retransmits));
    RecordProperty("client_rx_segments", std::to_string(p.a->stats().tcp.rx_segments));
}

INSTANTIATE_TEST_SUITE_P(SeedsSackCc, Soak,
                         ::testing::Combine(::testing::Values(1, 2, 3, 4, 5), ::testing::Bool(),
                                            ::testing::Values(stack::tcp::CcAlgorithm::NewReno,
                                                              stack::tcp::CcAlgorithm::Cubic)),
                         [](const ::testing::TestParamInfo<SoakParam>& info) {
                             return "seed" + std::to_string(std::get<0>(info.param)) +
                                    (std::get<1>(info.param) ? "_sack" : "_nosack") +
                                    (std::get<2>(info.param) == stack::tcp::CcAlgorithm::NewReno
                                         ? "_newreno"
                                         : "_cubic");
                         });

}  // namespace
}  // namespace tunstack_test
