// TLS between two stacks over the simulated link in simulated time, under seeded loss, duplication
// and reordering: 20 MB client → server byte-exact, then close_notify both ways and FIN.
//
// The sessions are driven the way tunstackd drives them: only when their socket reports an event
// (or mbedTLS still holds decrypted input). A lost wakeup would stall the transfer and fail the
// test at the simulated-time limit; nothing here polls a session blindly.
#include <gtest/gtest.h>

#include <random>

#include "tests/tcp/pair.hpp"
#include "tests/tls/tls_support.hpp"
#include "tls/tcp_stream.hpp"

namespace tunstack_test {
namespace {

constexpr std::uint16_t kPort = 443;
constexpr std::size_t kBytes = 20u << 20;

struct Side {
    std::unique_ptr<tls::TcpStream> stream;
    std::unique_ptr<tls::TlsSession> tls;
    bool wake = false;
    std::uint64_t drives = 0;
};

class TlsOverStacks : public ::testing::TestWithParam<int> {};

TEST_P(TlsOverStacks, TwentyMegabytesByteExactUnderLossAndReordering) {
    const int seed = GetParam();
    drivers::FaultConfig f;
    f.loss = 0.02;
    f.duplicate = 0.01;
    f.reorder = 0.05;
    f.delay = Duration::millis(5);
    f.seed = static_cast<std::uint64_t>(seed) * 104729;
    StackPair p(f, static_cast<std::uint64_t>(seed));
    TestPki& pki = TestPki::get();
    auto server_config = pki.server_config({&pki.server});
    auto client_config = pki.client_config();
    tls::TlsStats sc, cc;

    std::vector<std::uint8_t> data(kBytes);
    std::mt19937_64 rng(static_cast<std::uint64_t>(seed));
    for (std::size_t i = 0; i < data.size(); i += 8) {
        const std::uint64_t x = rng();
        std::memcpy(data.data() + i, &x, 8);
    }

    auto& ta = p.a->tcp();
    auto& tb = p.b->tcp();
    auto listener = tb.listen(kPort, 4);
    ASSERT_TRUE(listener.ok());
    auto ch = ta.connect(p.now, stack::wire::Ipv4Address(0xc6120002), kPort);
    ASSERT_TRUE(ch.ok());
    Side client, server;
    client.stream = std::make_unique<tls::TcpStream>(ta, *ch);
    auto cs =
        tls::TlsSession::client(client_config, *client.stream, {"test.example", std::nullopt}, &cc);
    ASSERT_TRUE(cs.ok());
    client.tls = std::move(*cs);
    client.wake = true;

    std::size_t sent = 0, received = 0;
    bool mismatch = false, client_closing = false, server_closing = false;
    std::vector<std::uint8_t> buf(1 << 16);
    std::string failure;

    auto drive_client = [&] {
        ++client.drives;
        client.tls->advance();
        while (sent < data.size() && client.tls->phase() == tls::TlsSession::Phase::Open) {
            auto n = client.tls->write(stack::Bytes(data).subspan(sent));
            if (!n.ok()) {
                failure = "client write: " + n.error().message();
                return;
            }
            if (*n == 0) break;
            sent += *n;
        }
        if (sent == data.size() && !client_closing) {
            client_closing = true;
            client.tls->close();
        }
        auto n = client.tls->read(stack::MutBytes(buf));
        if (!n.ok()) failure = "client read: " + n.error().message();
    };
    auto drive_server = [&] {
        ++server.drives;
        server.tls->advance();
        for (;;) {
            auto n = server.tls->read(stack::MutBytes(buf));
            if (!n.ok()) {
                failure = "server read: " + n.error().message();
                return;
            }
            if (*n == 0) break;
            if (!std::equal(buf.begin(), buf.begin() + static_cast<long>(*n),
                            data.begin() + static_cast<long>(received))) {
                mismatch = true;
            }
            received += *n;
        }
        if (server.tls->peer_closed() && !server_closing) {
            server_closing = true;
            server.tls->close();
        }
    };

    const bool done = p.run_until(
        [&] {
            stack::SocketEvent ev;
            while (ta.next_event(ev)) client.wake = true;
            while (tb.next_event(ev)) {
                if (ev.handle == *listener) {
                    auto acc = tb.accept(*listener);
                    if (acc.ok()) {
                        server.stream = std::make_unique<tls::TcpStream>(tb, *acc);
                        auto ss = tls::TlsSession::server(server_config, *server.stream, &sc);
                        if (ss.ok()) server.tls = std::move(*ss);
                        server.wake = true;
                    }
                } else {
                    server.wake = true;
                }
            }
            // An event, or input mbedTLS decrypted but the session has not read yet.
            if (client.wake || client.tls->has_buffered_input()) {
                client.wake = false;
                drive_client();
            }
            if (server.tls && (server.wake || server.tls->has_buffered_input())) {
                server.wake = false;
                drive_server();
            }
            return !failure.empty() ||
                   (client.tls->phase() == tls::TlsSession::Phase::Closed && server.tls &&
                    server.tls->phase() == tls::TlsSession::Phase::Closed &&
                    client.tls->peer_closed());
        },
        Duration::seconds(3600));
    EXPECT_TRUE(failure.empty()) << failure;
    EXPECT_TRUE(done) << "sent " << sent << " received " << received << " at " << p.now.as_millis()
                      << " ms; client " << tls::to_string(client.tls->phase()) << " server "
                      << (server.tls ? tls::to_string(server.tls->phase()) : "none");
    EXPECT_EQ(received, data.size());
    EXPECT_FALSE(mismatch);
    EXPECT_EQ(sc.handshakes_ok, 1u);
    EXPECT_EQ(sc.close_notify_received, 1u);
    EXPECT_EQ(cc.close_notify_received, 1u);
    EXPECT_GT(p.a->stats().tcp.retransmits, 0u);  // the faults really hit the transfer
    // Event-driven: the client was driven about once per window update, not once per step.
    RecordProperty("client_drives", std::to_string(client.drives));
    RecordProperty("server_drives", std::to_string(server.drives));
    RecordProperty("simulated_ms", std::to_string(p.now.as_millis()));
}

INSTANTIATE_TEST_SUITE_P(Seeds, TlsOverStacks, ::testing::Values(1, 2));

}  // namespace
}  // namespace tunstack_test
