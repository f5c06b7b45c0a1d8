// tunstackd's iperf3 service (tools/tunstackd/services/iperf3_service.hpp) in simulated time: a
// ServiceHost serving iperf3:5201 on the server stack of a StackPair, driven by a scripted client on
// the other stack that speaks the protocol byte by byte (as iperf 3.12 does, see
// tools/common/iperf3.hpp). Deterministic: no clock, no threads.
#include <gtest/gtest.h>

#include <string>

#include "tests/tcp/pair.hpp"
#include "tools/common/iperf3.hpp"
#include "tools/tunstackd/services/services.hpp"

namespace {

namespace ip3 = tools::iperf3;
using stack::Duration;
using tunstack_test::StackPair;

const std::string kCookie("abcdefghijklmnopqrstuvwxyz234567abcd\0", 37);

struct Harness {
    StackPair pair;
    tunstackd::ServiceHost host{pair.b->tcp(), "", -1};

    Harness() {
        auto r = host.start({tunstackd::ServiceSpec{tunstackd::ServiceKind::Iperf3, 5201}});
        EXPECT_TRUE(r);
    }

    // Steps the pair (running the services after every step) until `done` or `limit` passes.
    // The host's own deadlines (ServiceHost::poll_at) count as events.
    bool run(const std::function<bool()>& done, Duration limit = Duration::seconds(5)) {
        const stack::Instant end = pair.now + limit;
        for (int i = 0; i < 10'000'000; ++i) {
            pair.step();
            host.handle_events(pair.now);
            pair.step();
            if (done()) return true;
            const stack::Instant next = std::min(pair.next_time(), host.poll_at());
            if (next <= pair.now) continue;
            if (next > end) return false;
            pair.now = next;
        }
        return false;
    }

    std::uint64_t stat(const std::string& name) const {
        std::string out;
        host.append_stats(out);
        const std::string key = "stat svc.iperf3.5201." + name + " ";
        const auto at = out.find(key);
        EXPECT_NE(at, std::string::npos) << name;
        return at == std::string::npos ? 0 : std::stoull(out.substr(at + key.size()));
    }
};

// A client connection on stack a.
struct Conn {
    Harness& h;
    stack::SocketHandle s;
    std::string in;
    Conn(Harness& harness) : h(harness) {
        auto c = h.pair.a->tcp().connect(h.pair.now, stack::wire::Ipv4Address(0xc6120002), 5201);
        EXPECT_TRUE(c);
        s = *c;
        EXPECT_TRUE(h.run([&] {
            auto info = h.pair.a->tcp().info(s);
            return info && info->state == stack::tcp::TcpState::Established;
        }));
    }
    void send(const std::string& bytes) {
        std::size_t off = 0;
        ASSERT_TRUE(h.run([&] {
            auto n = h.pair.a->tcp().send(
                s, stack::Bytes(reinterpret_cast<const std::uint8_t*>(bytes.data()) + off,
                                bytes.size() - off));
            if (n) off += *n;
            return off == bytes.size();
        }));
    }
    void pull() {
        std::uint8_t buf[65536];
        while (true) {
            auto n = h.pair.a->tcp().recv(s, stack::MutBytes(buf, sizeof buf));
            if (!n || *n == 0) return;
            in.append(reinterpret_cast<const char*>(buf), *n);
        }
    }
    // Waits for `n` bytes in total from the server; returns them (and removes them).
    std::string expect(std::size_t n) {
        EXPECT_TRUE(h.run([&] {
            pull();
            return in.size() >= n;
        })) << "have "
            << in.size() << " of " << n;
        std::string got = in.substr(0, n);
        in.erase(0, std::min(n, in.size()));
        return got;
    }
    bool at_eof() {
        pull();
        return h.pair.a->tcp().eof(s).value_or(true);
    }
    bool closed_by_server() {
        return h.run([&] { return at_eof(); }, Duration::seconds(15));
    }
};

std::string byte(ip3::State s) { return std::string(1, static_cast<char>(ip3::state_byte(s))); }

TEST(Iperf3Service, RefusesUdpWithServerErrorAndCloses) {
    Harness h;
    Conn c(h);
    c.send(kCookie);
    EXPECT_EQ(c.expect(1), byte(ip3::State::ParamExchange));
    c.send(ip3::frame(*tools::json::parse(R"({"udp":true,"time":1})")));
    const std::string e = c.expect(9);
    EXPECT_EQ(e, ip3::server_error(ip3::kErrProtocol, 0));
    EXPECT_TRUE(c.closed_by_server());
    EXPECT_EQ(h.stat("refused_params"), 1u);
    EXPECT_EQ(h.stat("tests"), 0u);
}

TEST(Iperf3Service, BadLengthAndBadCookieAreCountedAndClosed) {
    Harness h;
    {
        Conn c(h);
        c.send(kCookie);
        EXPECT_EQ(c.expect(1), byte(ip3::State::ParamExchange));
        c.send(std::string("\x00\x10\x00\x01", 4));  // over 64 KiB
        EXPECT_EQ(c.expect(9), ip3::server_error(ip3::kErrRecvParams, 0));
        EXPECT_TRUE(c.closed_by_server());
    }
    {
        Conn c(h);
        c.send(std::string(37, 'x'));  // no NUL
        EXPECT_TRUE(c.closed_by_server());
        EXPECT_TRUE(c.in.empty());
    }
    EXPECT_EQ(h.stat("bad_params"), 1u);
    EXPECT_EQ(h.stat("bad_cookie"), 1u);
    EXPECT_EQ(h.host.sessions(), 0u);
}

TEST(Iperf3Service, SilentConnectionClosedBySetupTimeout) {
    Harness h;
    Conn c(h);
    EXPECT_FALSE(h.run([&] { return c.at_eof(); }, Duration::seconds(9)));
    EXPECT_TRUE(c.closed_by_server());
    EXPECT_EQ(h.stat("timeouts"), 1u);
}

TEST(Iperf3Service, ForwardTestCountsWhatTheStreamSent) {
    Harness h;
    Conn control(h);
    control.send(kCookie);
    EXPECT_EQ(control.expect(1), byte(ip3::State::ParamExchange));
    ip3::TestParams p;
    p.duration_s = 1;
    p.parallel = 2;
    control.send(ip3::frame(ip3::params_json(p)));
    EXPECT_EQ(control.expect(1), byte(ip3::State::CreateStreams));
    Conn s1(h);
    s1.send(kCookie);
    // A second client meanwhile: busy.
    {
        Conn other(h);
        other.send(std::string("zbcdefghijklmnopqrstuvwxyz234567abcd\0", 37));
        EXPECT_EQ(other.expect(1), byte(ip3::State::AccessDenied));
        EXPECT_TRUE(other.closed_by_server());
    }
    Conn s2(h);
    s2.send(kCookie);
    EXPECT_EQ(control.expect(2), byte(ip3::State::TestStart) + byte(ip3::State::TestRunning));
    const std::string data1(300000, 'a'), data2(100000, 'b');
    s1.send(data1);
    s2.send(data2);
    // Everything acknowledged (so read by the service) before TEST_END.
    ASSERT_TRUE(h.run([&] {
        auto i1 = h.pair.a->tcp().info(s1.s);
        auto i2 = h.pair.a->tcp().info(s2.s);
        return i1 && i2 && i1->send_queue == 0 && i2->send_queue == 0;
    }));
    control.send(byte(ip3::State::TestEnd));
    EXPECT_EQ(control.expect(1), byte(ip3::State::ExchangeResults));
    ip3::Results mine;
    mine.sender_has_retransmits = 1;
    mine.streams = {{1, 300000, 0, 0, 1.0}, {3, 100000, 0, 0, 1.0}};
    control.send(ip3::frame(ip3::results_json(mine)));
    const std::string len = control.expect(4);
    const std::size_t n =
        static_cast<std::uint8_t>(len[2]) << 8 | static_cast<std::uint8_t>(len[3]);
    auto v = tools::json::parse(control.expect(n));
    ASSERT_TRUE(v);
    auto r = ip3::parse_results(*v);
    ASSERT_TRUE(r) << r.error();
    ASSERT_EQ(r->streams.size(), 2u);
    EXPECT_EQ(r->streams[0].id, 1);
    EXPECT_EQ(r->streams[0].bytes, 300000);
    EXPECT_EQ(r->streams[1].id, 3);
    EXPECT_EQ(r->streams[1].bytes, 100000);
    EXPECT_EQ(r->sender_has_retransmits, -1);  // the service received
    EXPECT_EQ(control.expect(1), byte(ip3::State::DisplayResults));
    control.send(byte(ip3::State::IperfDone));
    EXPECT_TRUE(control.closed_by_server());
    EXPECT_EQ(h.stat("tests"), 1u);
    EXPECT_EQ(h.stat("tests_done"), 1u);
    EXPECT_EQ(h.stat("streams"), 2u);
    EXPECT_EQ(h.stat("busy"), 1u);
    EXPECT_EQ(h.stat("tests_aborted"), 0u);
}

TEST(Iperf3Service, ReverseStreamsSendUntilTestEndThenClose) {
    Harness h;
    Conn control(h);
    control.send(kCookie);
    EXPECT_EQ(control.expect(1), byte(ip3::State::ParamExchange));
    ip3::TestParams p;
    p.duration_s = 1;
    p.reverse = true;
    control.send(ip3::frame(ip3::params_json(p)));
    EXPECT_EQ(control.expect(1), byte(ip3::State::CreateStreams));
    Conn s1(h);
    s1.send(kCookie);
    EXPECT_EQ(control.expect(2), byte(ip3::State::TestStart) + byte(ip3::State::TestRunning));
    // The service sends without being asked (the host woke the stream at TEST_START).
    s1.expect(1000000);
    control.send(byte(ip3::State::TestEnd));
    EXPECT_EQ(control.expect(1), byte(ip3::State::ExchangeResults));
    // The stream ends with FIN after what was queued.
    EXPECT_TRUE(s1.closed_by_server());
    // A CLIENT_TERMINATE instead of the results aborts the test.
    control.send(byte(ip3::State::ClientTerminate));
    EXPECT_TRUE(control.closed_by_server());
    EXPECT_EQ(h.stat("tests_aborted"), 1u);
    EXPECT_EQ(h.host.sessions(), 0u);
}

}  // namespace
