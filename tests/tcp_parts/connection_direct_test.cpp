// One Connection driven directly through a fake ConnectionEnv (connection_env.hpp): no Stack, no
// TcpLayer. What it sends is what it emits through the env; what happens to it is what take_events()
// reports; its counters are the env's.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "stack/tcp/connection.hpp"
#include "stack/tcp/connection_env.hpp"
#include "stack/wire/tcp.hpp"

namespace stack::tcp {
namespace {

using wire::SeqNumber;
using wire::TcpFlag;

const Endpoint kLocal{wire::Ipv4Address(198, 18, 0, 2), 40000};
const Endpoint kRemote{wire::Ipv4Address(198, 18, 0, 1), 80};
constexpr std::uint32_t kTsOffset = 5000;

class FakeEnv final : public ConnectionEnv {
public:
    bool emit(const Connection&, Bytes header, Bytes p1, Bytes p2) override {
        if (tx_full) return false;
        std::vector<std::uint8_t> seg(header.begin(), header.end());
        seg.insert(seg.end(), p1.begin(), p1.end());
        seg.insert(seg.end(), p2.begin(), p2.end());
        sent.push_back(std::move(seg));
        return true;
    }
    bool emit_gso(const Connection&, Bytes, Bytes, Bytes, std::uint32_t, bool) override {
        ADD_FAILURE() << "no TSO offered (tso_max_size 0)";
        return false;
    }
    bool challenge_ack_allowed(Instant) override {
        ++challenge_asks;
        if (challenge_budget == 0) return false;
        --challenge_budget;
        return true;
    }
    std::uint32_t ts_offset(const Endpoint& local, const Endpoint& remote) const override {
        EXPECT_EQ(local, kLocal);
        EXPECT_EQ(remote, kRemote);
        return kTsOffset;
    }
    std::uint16_t mtu() const override { return 1500; }
    std::uint32_t tso_max_size() const override { return 0; }
    bool tso_partial_checksum() const override { return false; }
    const TcpConfig& config() const override { return cfg; }
    TcpStats& stats() override { return counters; }

    // The segments emitted so far, decoded (checksum verified over the connection's addresses).
    std::vector<wire::TcpRepr> take() {
        std::vector<wire::TcpRepr> out;
        for (const auto& seg : sent) {
            auto p = wire::TcpPacket::parse(Bytes(seg), kLocal.addr, kRemote.addr);
            if (!p) {
                ADD_FAILURE() << "bad segment emitted";
                continue;
            }
            auto r = wire::TcpRepr::parse(*p);
            if (!r) {
                ADD_FAILURE() << "bad options emitted";
                continue;
            }
            out.push_back(*r);
            payloads.emplace_back(p->payload().begin(), p->payload().end());
        }
        sent.clear();
        return out;
    }

    TcpConfig cfg;
    TcpStats counters;
    bool tx_full = false;
    unsigned challenge_budget = 10;
    unsigned challenge_asks = 0;
    std::vector<std::vector<std::uint8_t>> sent;
    std::vector<std::string> payloads;
};

// A segment from the peer, as bytes that stay alive for the TcpPacket view.
struct PeerSegment {
    std::vector<std::uint8_t> bytes;
    wire::TcpPacket packet() const {
        return *wire::TcpPacket::parse(Bytes(bytes), kRemote.addr, kLocal.addr);
    }
    wire::TcpOptions options() const { return *wire::TcpOptions::parse(packet().options()); }
};

PeerSegment from_peer(wire::TcpRepr r, const std::string& payload = {}) {
    r.src_port = kRemote.port;
    r.dst_port = kLocal.port;
    r.payload_len = static_cast<std::uint16_t>(payload.size());
    PeerSegment s;
    s.bytes.resize(r.len());
    r.emit(MutBytes(s.bytes.data(), s.bytes.size()), kRemote.addr, kLocal.addr,
           Bytes(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()));
    return s;
}

void deliver(Connection& c, Instant now, const PeerSegment& s) {
    c.on_segment(now, s.packet(), s.options());
}

class ConnectionDirect : public ::testing::Test {
protected:
    const Instant t0 = Instant::from_millis(10'000);
    const SeqNumber iss{1000};
    const SeqNumber irs{70000};
    FakeEnv env;
    Connection c{env, /*index=*/3, kLocal, kRemote};

    std::uint32_t our_tsval(Instant t) const {
        return static_cast<std::uint32_t>(t.as_millis()) + kTsOffset;
    }

    // open_active + the peer's SYN-ACK (MSS 1400, window scale 7, SACK, timestamps).
    void establish() {
        c.open_active(t0, iss);
        env.take();
        (void)c.take_events();
        wire::TcpRepr synack;
        synack.seq = irs;
        synack.ack = iss + 1;
        synack.flags = TcpFlag::Syn | TcpFlag::Ack;
        synack.window = 65535;
        synack.options.mss = 1400;
        synack.options.window_scale = 7;
        synack.options.sack_permitted = true;
        synack.options.timestamps = wire::TcpTimestamps{777, our_tsval(t0)};
        deliver(c, t0 + Duration::millis(20), from_peer(synack));
    }
};

TEST_F(ConnectionDirect, ActiveOpenEmitsOneSynWithOurOptions) {
    c.open_active(t0, iss);
    EXPECT_EQ(c.state(), TcpState::SynSent);
    auto segs = env.take();
    ASSERT_EQ(segs.size(), 1u);
    const wire::TcpRepr& syn = segs[0];
    EXPECT_EQ(syn.flags, wire::TcpFlags(TcpFlag::Syn));
    EXPECT_EQ(syn.src_port, kLocal.port);
    EXPECT_EQ(syn.dst_port, kRemote.port);
    EXPECT_EQ(syn.seq, iss);
    EXPECT_EQ(syn.options.mss, std::uint16_t{1460});  // env.mtu() - 40
    EXPECT_EQ(syn.options.window_scale, receive_window_scale(env.cfg));
    EXPECT_TRUE(syn.options.sack_permitted);
    ASSERT_TRUE(syn.options.timestamps.has_value());
    EXPECT_EQ(syn.options.timestamps->tsval, our_tsval(t0));  // the env's TSval offset
    EXPECT_EQ(syn.options.timestamps->tsecr, 0u);
    // The SYN is timed by the retransmission timer; nothing for the application yet.
    EXPECT_EQ(c.next_deadline(), t0 + env.cfg.rtt.initial_rto);
    const ConnectionEvents ev = c.take_events();
    EXPECT_EQ(ev.socket, 0);
    EXPECT_FALSE(ev.established);
    EXPECT_FALSE(ev.output);
    EXPECT_EQ(c.buffer_bytes(), env.cfg.send_buffer + env.cfg.recv_buffer);
}

TEST_F(ConnectionDirect, SynAckEstablishesReportsItAndAcknowledges) {
    establish();
    EXPECT_EQ(c.state(), TcpState::Established);
    const ConnectionEvents ev = c.take_events();
    EXPECT_TRUE(ev.established);
    EXPECT_FALSE(ev.time_wait.has_value());
    auto segs = env.take();
    ASSERT_EQ(segs.size(), 1u);
    EXPECT_EQ(segs[0].flags, wire::TcpFlags(TcpFlag::Ack));
    EXPECT_EQ(segs[0].seq, iss + 1);
    EXPECT_EQ(segs[0].ack, irs + 1);
    ASSERT_TRUE(segs[0].options.timestamps.has_value());
    EXPECT_EQ(segs[0].options.timestamps->tsecr, 777u);
    const ConnectionInfo info = c.info();
    EXPECT_EQ(info.smss, 1400u - 12u);  // the peer's MSS less the timestamp option
    EXPECT_TRUE(info.sack);
    EXPECT_TRUE(info.window_scaling);
    EXPECT_EQ(info.snd_wscale, 7);
    // Taken once: the next look finds nothing new.
    EXPECT_FALSE(c.take_events().established);
}

TEST_F(ConnectionDirect, DataIsEmittedByOutputAndAcknowledged) {
    establish();
    (void)c.take_events();
    env.take();
    const Instant t1 = t0 + Duration::millis(100);
    const std::string data = "hello, direct";
    EXPECT_EQ(c.send(Bytes(reinterpret_cast<const std::uint8_t*>(data.data()), data.size())),
              data.size());
    EXPECT_TRUE(c.take_events().output);  // the owner calls output() at its next poll
    EXPECT_TRUE(env.take().empty());
    EXPECT_TRUE(c.output(t1));
    auto segs = env.take();
    ASSERT_EQ(segs.size(), 1u);
    EXPECT_EQ(segs[0].seq, iss + 1);
    EXPECT_EQ(segs[0].ack, irs + 1);
    EXPECT_TRUE(segs[0].flags.ack());
    EXPECT_TRUE(segs[0].flags.psh());
    EXPECT_EQ(env.payloads.back(), data);
    EXPECT_EQ(c.info().send_queue, data.size());
    EXPECT_NE(c.next_deadline(), Instant::never());  // retransmission timer

    wire::TcpRepr ack;
    ack.seq = irs + 1;
    ack.ack = iss + 1 + static_cast<std::uint32_t>(data.size());
    ack.flags = TcpFlag::Ack;
    ack.window = 1000;
    ack.options.timestamps = wire::TcpTimestamps{778, our_tsval(t1)};
    deliver(c, t1 + Duration::millis(20), from_peer(ack));
    EXPECT_EQ(c.info().send_queue, 0u);
    EXPECT_EQ(c.next_deadline(), Instant::never());  // nothing in flight, nothing owed
    EXPECT_TRUE(env.take().empty());                 // a pure ACK is not answered
    EXPECT_EQ(env.counters.retransmits, 0u);
}

TEST_F(ConnectionDirect, DataFromThePeerIsReadableThroughEvents) {
    establish();
    (void)c.take_events();
    env.take();
    wire::TcpRepr seg;
    seg.seq = irs + 1;
    seg.ack = iss + 1;
    seg.flags = TcpFlag::Ack | TcpFlag::Psh;
    seg.window = 1000;
    seg.options.timestamps = wire::TcpTimestamps{779, our_tsval(t0)};
    deliver(c, t0 + Duration::millis(50), from_peer(seg, "abc"));
    EXPECT_EQ(c.take_events().socket & kEventReadable, kEventReadable);
    std::uint8_t buf[8];
    EXPECT_EQ(c.recv(MutBytes(buf, sizeof buf)), 3u);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 3), "abc");
}

TEST_F(ConnectionDirect, ResetAnsweringTheSynReportsRefusedAndClosed) {
    c.open_active(t0, iss);
    env.take();
    wire::TcpRepr rst;
    rst.seq = SeqNumber(0);
    rst.ack = iss + 1;
    rst.flags = TcpFlag::Rst | TcpFlag::Ack;
    deliver(c, t0 + Duration::millis(5), from_peer(rst));
    EXPECT_EQ(c.state(), TcpState::Closed);
    EXPECT_EQ(c.error(), SocketError::Refused);
    const ConnectionEvents ev = c.take_events();
    EXPECT_EQ(ev.socket & (kEventClosed | kEventError), kEventClosed | kEventError);
    EXPECT_FALSE(ev.established);
    EXPECT_EQ(c.next_deadline(), Instant::never());
    EXPECT_TRUE(env.take().empty());
}

TEST_F(ConnectionDirect, ChallengeAcksDrawOnTheEnvsBudget) {
    establish();
    env.take();
    // An in-window SYN on a synchronized connection (RFC 5961 §4.2): a challenge ACK, if the budget
    // the env holds allows one.
    wire::TcpRepr syn;
    syn.seq = irs + 100;
    syn.flags = TcpFlag::Syn;
    syn.window = 1000;
    syn.options.timestamps = wire::TcpTimestamps{780, 0};
    env.challenge_budget = 0;
    deliver(c, t0 + Duration::millis(30), from_peer(syn));
    EXPECT_EQ(env.challenge_asks, 1u);
    EXPECT_TRUE(env.take().empty());
    EXPECT_EQ(env.counters.challenge_limited_global, 1u);
    EXPECT_EQ(c.state(), TcpState::Established);
}

}  // namespace
}  // namespace stack::tcp
