// tunstackd's services against a client stack over the simulated link, in simulated time: the
// HTTP header, keep-alive and body-progress timeouts, the lingering close that lets an error reply
// (400, 431) reach a client that is still sending, and TCP keepalive on accepted connections
// (issue 8, points 3 and 17). Side 0 (stack a) is the client, side 1 (stack b) runs a ServiceHost.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "tests/tcp/pair.hpp"
#include "tests/tls/tls_support.hpp"
#include "tls/session.hpp"
#include "tls/tcp_stream.hpp"
#include "tools/tunstackd/services/services.hpp"

namespace tunstack_test {
namespace {

using stack::SocketHandle;
using tunstackd::HttpServiceOptions;
using tunstackd::ServiceHost;
using tunstackd::ServiceKind;

const stack::wire::Ipv4Address kServer(0xc6120002);
constexpr std::uint16_t kHttp = 80, kEcho = 7, kHttps = 443;

// A document root in a fresh temporary directory: index.html and a 4 MiB big.bin.
struct WwwRoot {
    WwwRoot() {
        char tmpl[] = "/tmp/ts_http_service_XXXXXX";
        const char* d = mkdtemp(tmpl);
        EXPECT_NE(d, nullptr);
        path = d != nullptr ? d : "";
        std::ofstream(path + "/index.html") << "hello\n";
        std::ofstream big(path + "/big.bin", std::ios::binary);
        const std::string block(4096, 'x');
        for (int i = 0; i < 1024; ++i) big << block;
        big.close();
        fd = open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        EXPECT_GE(fd, 0);
    }
    ~WwwRoot() {
        if (fd >= 0) close(fd);
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string path;
    int fd = -1;
};

// The client's end of one connection: what it received and how the connection ended.
struct Client {
    SocketHandle h;
    std::string got;
    bool reading = true;          // false: never recv (a peer that does not read)
    bool eof = false;             // clean end: FIN after everything
    bool reset = false;           // kEventError / recv error
    std::string to_send;          // written as the socket takes it (also after EOF)
    bool closed = false;          // the client closed its socket
    bool read_when_sent = false;  // reads only once to_send is all written (as curl with a body)
    // Over TLS (https): the client session on the socket; eof is then the server's close_notify.
    std::unique_ptr<tls::TcpStream> stream;
    std::unique_ptr<tls::TlsSession> tls;
};

struct Rig {
    explicit Rig(const HttpServiceOptions& http = {},
                 std::function<void(stack::StackConfig&)> tweak = {})
        : p({}, 1, std::move(tweak)), host(p.b->tcp(), www.path, www.fd) {
        host.set_http_options(http);
        TestPki& pki = TestPki::get();
        host.set_tls(pki.server_config({&pki.server}), tunstackd::TlsServiceOptions{});
        auto r = host.start(
            {{ServiceKind::Http, kHttp}, {ServiceKind::Echo, kEcho}, {ServiceKind::Https, kHttps}});
        EXPECT_TRUE(r);
    }

    Client& connect_tls() {
        Client& c = connect(kHttps);
        c.stream = std::make_unique<tls::TcpStream>(p.a->tcp(), c.h);
        auto s = tls::TlsSession::client(TestPki::get().client_config(), *c.stream,
                                         {"test.example", std::nullopt}, nullptr);
        EXPECT_TRUE(s.ok());
        if (s.ok()) c.tls = std::move(*s);
        return c;
    }

    void pump_tls_client(Client& c) {
        if (c.reset || c.closed) return;
        c.tls->advance();
        while (!c.to_send.empty() && c.tls->phase() == tls::TlsSession::Phase::Open) {
            auto n = c.tls->write(stack::Bytes(
                reinterpret_cast<const std::uint8_t*>(c.to_send.data()), c.to_send.size()));
            if (!n.ok() || *n == 0) break;
            c.to_send.erase(0, *n);
        }
        if (p.a->tcp().error(c.h) || c.tls->phase() == tls::TlsSession::Phase::Failed) {
            c.reset = true;
            return;
        }
        if (c.eof || (c.read_when_sent && !c.to_send.empty())) return;
        std::uint8_t buf[16384];
        for (int i = 0; i < 1024; ++i) {
            auto n = c.tls->read(stack::MutBytes(buf, sizeof buf));
            if (!n.ok()) {
                c.reset = true;  // a reset under TLS, or a FIN without close_notify
                return;
            }
            if (*n == 0) break;
            c.got.append(reinterpret_cast<const char*>(buf), *n);
        }
        if (c.tls->peer_closed()) c.eof = true;
    }

    Client& connect(std::uint16_t port) {
        clients.emplace_back();
        Client& c = clients.back();
        auto h = p.a->tcp().connect(p.now, kServer, port);
        EXPECT_TRUE(h);
        c.h = *h;
        return c;
    }

    void pump_client(Client& c) {
        if (c.tls) return pump_tls_client(c);
        auto& t = p.a->tcp();
        if (c.reset || c.closed) return;
        while (!c.to_send.empty()) {
            auto n =
                t.send(c.h, stack::Bytes(reinterpret_cast<const std::uint8_t*>(c.to_send.data()),
                                         c.to_send.size()));
            if (!n || *n == 0) break;
            c.to_send.erase(0, *n);
        }
        if (t.error(c.h)) {
            c.reset = true;
            return;
        }
        if (!c.reading || c.eof) return;  // after EOF it may still send
        if (c.read_when_sent && !c.to_send.empty()) return;
        std::uint8_t buf[16384];
        for (int i = 0; i < 1024; ++i) {
            auto n = t.recv(c.h, stack::MutBytes(buf, sizeof buf));
            if (!n) {
                c.reset = true;
                return;
            }
            if (*n == 0) break;
            c.got.append(reinterpret_cast<const char*>(buf), *n);
        }
        if (t.eof(c.h).value_or(false)) c.eof = true;
    }

    // One step at the current time: the link, both stacks, the services and the clients.
    void step() {
        p.link.set_now(p.now);
        p.a->poll(p.now, p.link.side(0));
        p.b->poll(p.now, p.link.side(1));
        p.link.deliver(p.now, 1, [&](stack::Bytes b) {
            if (!unplugged) p.b->ingress(p.now, b);
        });
        p.link.deliver(p.now, 0, [&](stack::Bytes b) {
            if (!unplugged) p.a->ingress(p.now, b);
        });
        host.handle_events(p.now);
        stack::SocketEvent ev;
        while (p.a->tcp().next_event(ev)) {
        }
        for (Client& c : clients) pump_client(c);
        if (each_step) each_step();
        p.b->poll(p.now, p.link.side(1));
        p.a->poll(p.now, p.link.side(0));
    }

    // Runs until `done()` or until `limit` of simulated time passed; returns done().
    bool run_until(const std::function<bool()>& done, stack::Duration limit) {
        const stack::Instant end = p.now + limit;
        for (long i = 0; i < 5'000'000; ++i) {
            step();
            if (done()) return true;
            // At least every 100 ms: the clients' scripts (each_step) have their own times.
            stack::Instant next =
                std::min({p.next_time(), host.poll_at(), p.now + stack::Duration::millis(100)});
            if (next <= p.now) next = p.now + stack::Duration::millis(1);
            if (next > end) {
                p.now = end;
                step();
                return done();
            }
            p.now = next;
        }
        return done();
    }
    void run_for(stack::Duration d) {
        const stack::Instant end = p.now + d;
        run_until([&] { return p.now >= end; }, d);
    }

    std::uint64_t stat(const std::string& name) const {
        std::string out;
        host.append_stats(out);
        const std::string key = "stat " + name + " ";
        const std::size_t at = out.find(key);
        if (at == std::string::npos) return ~std::uint64_t{0};
        return std::strtoull(out.c_str() + at + key.size(), nullptr, 10);
    }

    WwwRoot www;
    StackPair p;
    ServiceHost host;
    std::deque<Client> clients;
    bool unplugged = false;
    std::function<void()> each_step;
};

HttpServiceOptions timeouts(int header_s, int keepalive_s, int body_s) {
    HttpServiceOptions o;
    o.header_timeout = stack::Duration::seconds(header_s);
    o.keepalive_timeout = stack::Duration::seconds(keepalive_s);
    o.body_timeout = stack::Duration::seconds(body_s);
    return o;
}

bool ended(const Client& c) { return c.eof || c.reset; }

// ---- header timeout (slowloris) ----

TEST(HttpServiceTimeouts, PartialRequestHeadIsClosedAtTheHeaderTimeout) {
    Rig rig(timeouts(10, 75, 60));
    Client& c = rig.connect(kHttp);
    c.to_send = "GET /index.html HTTP/1.1\r\nHost: x\r\n";  // no end of head: stalls
    rig.run_for(stack::Duration::seconds(9));
    EXPECT_FALSE(ended(c)) << "closed before the header timeout";
    ASSERT_TRUE(rig.run_until([&] { return ended(c); }, stack::Duration::seconds(3)))
        << "a partial request head is held past --header-timeout";
    EXPECT_TRUE(c.eof) << "closed with FIN, not reset";
    EXPECT_FALSE(c.reset);
    EXPECT_EQ(c.got, "");
    EXPECT_EQ(rig.stat("svc.http.80.timeout_header"), 1U);
    EXPECT_EQ(rig.stat("svc.http.80.requests"), 0U);
    ASSERT_TRUE(
        rig.run_until([&] { return rig.host.sessions() == 0; }, stack::Duration::seconds(5)));
}

TEST(HttpServiceTimeouts, HeaderTimeoutCountsFromAcceptNotFromTheLastByte) {
    Rig rig(timeouts(10, 75, 60));
    Client& c = rig.connect(kHttp);
    // One byte every 2 s: each read is progress, but the head must be complete within 10 s.
    const std::string head = "GET /index.html HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
    std::size_t next = 0;
    stack::Instant due = rig.p.now;
    rig.each_step = [&] {
        if (next < head.size() && rig.p.now >= due) {
            c.to_send += head[next++];
            due = rig.p.now + stack::Duration::seconds(2);
        }
    };
    const stack::Instant start = rig.p.now;
    ASSERT_TRUE(rig.run_until([&] { return ended(c); }, stack::Duration::seconds(20)))
        << "a head dribbled one byte at a time is held past --header-timeout";
    EXPECT_GE(rig.p.now - start, stack::Duration::seconds(10));
    EXPECT_LE(rig.p.now - start, stack::Duration::seconds(11));
    EXPECT_TRUE(c.eof);
    EXPECT_EQ(rig.stat("svc.http.80.timeout_header"), 1U);
}

TEST(HttpServiceTimeouts, ConnectionThatSendsNothingIsClosedAtTheHeaderTimeout) {
    Rig rig(timeouts(10, 75, 60));
    Client& c = rig.connect(kHttp);
    ASSERT_TRUE(rig.run_until([&] { return ended(c); }, stack::Duration::seconds(12)));
    EXPECT_TRUE(c.eof);
    EXPECT_EQ(rig.stat("svc.http.80.timeout_header"), 1U);
}

// ---- keep-alive timeout ----

TEST(HttpServiceTimeouts, IdleKeepAliveConnectionIsClosedAtTheKeepaliveTimeout) {
    Rig rig(timeouts(10, 20, 60));
    Client& c = rig.connect(kHttp);
    c.to_send = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_TRUE(rig.run_until([&] { return c.got.find("hello\n") != std::string::npos; },
                              stack::Duration::seconds(2)));
    EXPECT_EQ(c.got.find("HTTP/1.1 200 OK\r\n"), 0U);
    EXPECT_EQ(c.got.find("Connection: close"), std::string::npos);
    const stack::Instant served = rig.p.now;
    // Past the header timeout: an idle keep-alive connection is governed by the keep-alive one.
    rig.run_for(stack::Duration::seconds(19));
    EXPECT_FALSE(ended(c)) << "closed before the keep-alive timeout";
    ASSERT_TRUE(rig.run_until([&] { return ended(c); }, stack::Duration::seconds(3)))
        << "an idle keep-alive connection is held past --keepalive-timeout";
    EXPECT_GE(rig.p.now - served, stack::Duration::seconds(20));
    EXPECT_TRUE(c.eof);
    EXPECT_EQ(rig.stat("svc.http.80.timeout_keepalive"), 1U);
    EXPECT_EQ(rig.stat("svc.http.80.timeout_header"), 0U);
}

TEST(HttpServiceTimeouts, SecondRequestRestartsTheHeaderTimerAtItsFirstByte) {
    Rig rig(timeouts(10, 20, 60));
    Client& c = rig.connect(kHttp);
    c.to_send = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_TRUE(rig.run_until([&] { return c.got.find("hello\n") != std::string::npos; },
                              stack::Duration::seconds(2)));
    rig.run_for(stack::Duration::seconds(15));
    c.to_send = "GET /index.html HTTP/1.1\r\n";  // a partial second request after 15 s idle
    const stack::Instant started = rig.p.now;
    ASSERT_TRUE(rig.run_until([&] { return ended(c); }, stack::Duration::seconds(15)));
    EXPECT_GE(rig.p.now - started, stack::Duration::seconds(10));
    EXPECT_LE(rig.p.now - started, stack::Duration::seconds(11));
    EXPECT_EQ(rig.stat("svc.http.80.timeout_header"), 1U);
    EXPECT_EQ(rig.stat("svc.http.80.timeout_keepalive"), 0U);
}

// ---- body-progress timeout ----

TEST(HttpServiceTimeouts, StalledRequestBodyIsClosedAtTheBodyTimeout) {
    Rig rig(timeouts(10, 75, 20));
    Client& c = rig.connect(kHttp);
    // The POST is answered (405) while its body is then read and dropped. The body comes in a few
    // pieces 15 s apart (each read is progress, so the 20 s body timeout does not fire), then stops.
    c.to_send = "POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                std::string(1000, 'b');
    ASSERT_TRUE(rig.run_until([&] { return c.got.find("405") != std::string::npos; },
                              stack::Duration::seconds(2)));
    for (int i = 0; i < 3; ++i) {
        rig.run_for(stack::Duration::seconds(15));
        ASSERT_FALSE(ended(c)) << "closed while the body still made progress (piece " << i << ")";
        c.to_send = std::string(1000, 'b');
    }
    const stack::Instant last = rig.p.now;
    ASSERT_TRUE(rig.run_until([&] { return ended(c); }, stack::Duration::seconds(25)))
        << "a stalled request body is held past --body-timeout";
    EXPECT_GE(rig.p.now - last, stack::Duration::seconds(20));
    EXPECT_TRUE(c.eof);
    EXPECT_EQ(rig.stat("svc.http.80.timeout_body"), 1U);
}

TEST(HttpServiceTimeouts, KeepaliveTimerStartsWhenASlowBodyEnds) {
    Rig rig(timeouts(10, 20, 20));
    Client& c = rig.connect(kHttp);
    // A 3000-byte body in three pieces 15 s apart: the 405 goes out at once, the body ends 30 s
    // later; the idle keep-alive timer must count from then, not from the reply.
    c.to_send = "POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n" +
                std::string(1000, 'b');
    ASSERT_TRUE(rig.run_until([&] { return c.got.find("405") != std::string::npos; },
                              stack::Duration::seconds(2)));
    for (int i = 0; i < 2; ++i) {
        rig.run_for(stack::Duration::seconds(15));
        c.to_send = std::string(1000, 'b');
    }
    rig.run_for(stack::Duration::seconds(1));
    const stack::Instant body_done = rig.p.now;
    rig.run_for(stack::Duration::seconds(15));
    EXPECT_FALSE(ended(c)) << "closed before the keep-alive timeout counted from the body's end";
    ASSERT_TRUE(rig.run_until([&] { return ended(c); }, stack::Duration::seconds(10)));
    EXPECT_GE(rig.p.now - body_done, stack::Duration::seconds(19));
    EXPECT_EQ(rig.stat("svc.http.80.timeout_keepalive"), 1U);
    EXPECT_EQ(rig.stat("svc.http.80.timeout_body"), 0U);
}

TEST(HttpServiceTimeouts, ResponseThePeerDoesNotReadIsResetAtTheBodyTimeout) {
    Rig rig(timeouts(10, 75, 20));
    Client& c = rig.connect(kHttp);
    c.reading = false;  // the window closes once its 128 KiB receive buffer is full
    c.to_send = "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n";
    rig.run_for(stack::Duration::seconds(15));
    EXPECT_FALSE(ended(c));
    EXPECT_EQ(rig.host.sessions(), 1U);
    ASSERT_TRUE(
        rig.run_until([&] { return rig.host.sessions() == 0; }, stack::Duration::seconds(10)))
        << "a response the peer never reads is held past --body-timeout";
    EXPECT_EQ(rig.stat("svc.http.80.timeout_body"), 1U);
    ASSERT_TRUE(rig.run_until([&] { return ended(c); }, stack::Duration::seconds(5)));
    EXPECT_TRUE(c.reset) << "the stuck response ends with RST (a FIN would wait behind it)";
}

TEST(HttpServiceTimeouts, SlowButSteadyReaderIsServedCompletely) {
    Rig rig(timeouts(10, 75, 20));
    Client& c = rig.connect(kHttp);
    c.reading = false;
    c.to_send = "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n";
    // Reads 64 KiB every 5 s: far slower than the link, but progress within every body timeout.
    stack::Instant due = rig.p.now + stack::Duration::seconds(5);
    rig.each_step = [&] {
        if (rig.p.now < due || ended(c)) return;
        due = rig.p.now + stack::Duration::seconds(5);
        std::uint8_t buf[65536];
        auto n = rig.p.a->tcp().recv(c.h, stack::MutBytes(buf, sizeof buf));
        if (n) c.got.append(reinterpret_cast<const char*>(buf), *n);
    };
    ASSERT_TRUE(rig.run_until([&] { return c.got.size() >= 4U * 1024 * 1024; },
                              stack::Duration::seconds(400)));
    EXPECT_FALSE(c.reset);
    EXPECT_EQ(rig.stat("svc.http.80.timeout_body"), 0U);
}

// ---- lingering close: error replies reach a client that is still sending ----

TEST(HttpServiceLingeringClose, HeaderTooLargeReplyIsDeliveredWhileTheClientKeepsSending) {
    Rig rig;
    Client& c = rig.connect(kHttp);
    // 64 KiB of header that never ends: the server answers 431 after its 8 KiB head limit while
    // the rest is still arriving; closing then with unread input would reset the connection and
    // the client would lose the reply.
    c.to_send = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a');
    ASSERT_TRUE(rig.run_until([&] { return ended(c); }, stack::Duration::seconds(10)));
    EXPECT_EQ(c.got.find("HTTP/1.1 431 "), 0U) << c.got;
    EXPECT_NE(c.got.find("Connection: close\r\n"), std::string::npos);
    EXPECT_TRUE(c.eof) << "the reply was destroyed by a reset";
    EXPECT_FALSE(c.reset);
    EXPECT_EQ(rig.stat("svc.http.80.status_4xx"), 1U);
    EXPECT_EQ(rig.stat("svc.http.80.lingering"), 1U);
    // The client closes after the reply: the lingering server side ends at once.
    ASSERT_TRUE(rig.p.a->tcp().close(rig.p.now, c.h));
    c.closed = true;
    ASSERT_TRUE(
        rig.run_until([&] { return rig.host.sessions() == 0; }, stack::Duration::seconds(2)));
    EXPECT_EQ(rig.stat("svc.http.80.errors"), 0U);
}

TEST(HttpServiceLingeringClose, BadRequestReplyIsDeliveredDespiteTrailingInput) {
    Rig rig;
    Client& c = rig.connect(kHttp);
    c.to_send = "BAD\r\n\r\n" + std::string(32 * 1024, 'z');
    ASSERT_TRUE(rig.run_until([&] { return ended(c); }, stack::Duration::seconds(10)));
    EXPECT_EQ(c.got.find("HTTP/1.1 400 "), 0U) << c.got;
    EXPECT_TRUE(c.eof) << "the reply was destroyed by a reset";
    EXPECT_FALSE(c.reset);
}

TEST(HttpServiceLingeringClose, HttpsReplyIsDeliveredToAClientThatReadsOnlyAfterSending) {
    Rig rig;
    Client& c = rig.connect_tls();
    // Like curl with a request body: it sends everything (256 KiB: a header that never ends) and
    // only then reads. The 431 goes out after 8 KiB; input arriving after a plain close would be
    // answered with RST (data for a closed connection), which the client sees before the reply.
    c.read_when_sent = true;
    c.to_send = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(256 * 1024, 'a');
    ASSERT_TRUE(rig.run_until([&] { return ended(c); }, stack::Duration::seconds(20)));
    EXPECT_EQ(c.got.find("HTTP/1.1 431 "), 0U) << c.got;
    EXPECT_TRUE(c.eof) << "the reply was destroyed by a reset";
    EXPECT_FALSE(c.reset);
    EXPECT_EQ(rig.stat("svc.https.443.lingering"), 1U);
    // While lingering the TLS session is gone (its buffers and its --tls-max-sessions slot).
    EXPECT_EQ(rig.host.tls_counters().sessions_active, 0U);
    ASSERT_TRUE(rig.p.a->tcp().close(rig.p.now, c.h));
    c.closed = true;
    ASSERT_TRUE(
        rig.run_until([&] { return rig.host.sessions() == 0; }, stack::Duration::seconds(2)));
}

TEST(HttpServiceLingeringClose, LingeringIsBoundedForAPeerThatNeverStops) {
    Rig rig;
    Client& c = rig.connect(kHttp);
    c.to_send = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(16 * 1024, 'a');
    // Keeps sending 1 KiB every 100 ms forever and never closes.
    stack::Instant due = rig.p.now;
    rig.each_step = [&] {
        if (rig.p.now >= due && !c.reset) {
            c.to_send += std::string(1024, 'a');
            due = rig.p.now + stack::Duration::millis(100);
        }
    };
    ASSERT_TRUE(rig.run_until([&] { return c.got.find("431") != std::string::npos; },
                              stack::Duration::seconds(5)));
    const stack::Instant replied = rig.p.now;
    ASSERT_TRUE(
        rig.run_until([&] { return rig.host.sessions() == 0; }, stack::Duration::seconds(40)))
        << "lingering never ends for a peer that keeps sending";
    EXPECT_LE(rig.p.now - replied, stack::Duration::seconds(31));
    EXPECT_GE(rig.p.now - replied, stack::Duration::seconds(29));
}

// ---- TCP keepalive on accepted connections ----

TEST(ServiceHostKeepalive, AcceptedConnectionsUseTcpKeepaliveAndDeadPeersEnd) {
    Rig rig({}, [](stack::StackConfig& c) {
        c.tcp.keepalive_idle = stack::Duration::seconds(30);
        c.tcp.keepalive_interval = stack::Duration::seconds(5);
        c.tcp.keepalive_probes = 3;
    });
    Client& c = rig.connect(kEcho);
    c.to_send = "ping";
    ASSERT_TRUE(rig.run_until([&] { return c.got == "ping"; }, stack::Duration::seconds(2)));
    EXPECT_EQ(rig.host.sessions(), 1U);
    rig.unplugged = true;  // the client vanishes without a word (power loss, a NAT forgot it)
    ASSERT_TRUE(
        rig.run_until([&] { return rig.host.sessions() == 0; }, stack::Duration::seconds(60)))
        << "an echo session whose peer vanished is held forever (no TCP keepalive)";
    EXPECT_GT(rig.p.b->stats().tcp.keepalive_probes, 0U);
    EXPECT_EQ(rig.stat("svc.echo.7.errors"), 1U);
}

}  // namespace
}  // namespace tunstack_test
