// A packetdrill-like harness for scripted TCP tests: one Stack (our side, 198.18.0.2) driven at exact
// simulated times, and a scripted peer (198.18.0.1) whose segments the test writes out in full.
//
//   Script s;
//   auto l = s.listen(80);
//   s.inject(at(0ms), syn(1000, {.mss = 1460, .wscale = 7, .sack_ok = true, .tsval = 100}));
//   auto synack = s.expect({.at = at(0ms), .flags = SynAck, .seq = 0, .ack = 1001});
//   s.expect_nothing_until(at(999ms));
//
// Sequence numbers follow packetdrill's convention: the peer's own numbers are absolute (the test picks
// the peer's ISS), ours are relative to our ISS (learnt from the first SYN we send). So an injected
// segment's `seq` is absolute and its `ack` relative; an expected segment's `seq` is relative and its
// `ack` absolute. Before we have sent a SYN (closed-port tests) our ISS counts as 0, i.e. absolute.
//
// Time: inject(t, ...) and advance_to(t) first run every timer due before t (polling at each exact
// deadline that poll_at() announces, recording what comes out at that instant), then at t deliver the
// segment and poll. Every emitted packet is parsed back with our own wire code (IPv4 and TCP checksums
// verified) and queued; expect() pops the oldest.
//
// Strict expectations: expect() checks every field of the segment (time, flags with PSH, seq, ack,
// window, payload length, MSS / window scale / SACK-permitted, SACK blocks, timestamps, TSO metadata);
// a field the test does not state must have its default (no payload, no option, a plain segment).
// Our TSval is checked even when not stated: it must be our timestamp clock at that instant (learnt per
// connection from the first checked TSval, like the ISS). A test opts out of a field only explicitly,
// with `.any = Any::X` (grep `Any::`), where the value is irrelevant or not deterministic.
//
// TSO (StackConfig::tso_max_size): a super-packet is captured as one Out with its GsoInfo in `gso`
// (gso_size 0 for a plain segment); a partial checksum is completed on a copy before it is parsed. Its
// own checks (metadata, pseudo-header sum, the segments a device would cut) live in
// tests/tcp/tso_expect.hpp (install_tso_checks); capturing a super-packet without them fails.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "drivers/gso.hpp"
#include "stack/stack.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "tests/support/ip_packets.hpp"

namespace tcpscript {

using stack::Bytes;
using stack::Duration;
using stack::Instant;
using stack::SocketError;
using stack::SocketHandle;
using stack::tcp::TcpState;
using stack::wire::SeqNumber;
using stack::wire::TcpFlag;
using stack::wire::TcpFlags;
using Packet = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

inline constexpr stack::wire::Ipv4Address kUs{198, 18, 0, 2};
inline constexpr stack::wire::Ipv4Address kPeer{198, 18, 0, 1};
inline constexpr std::uint16_t kOurPort = 80;
inline constexpr std::uint16_t kPeerPort = 40000;

inline Instant at(std::chrono::microseconds t) { return Instant::from_micros(t.count()); }

inline constexpr TcpFlags kSyn = TcpFlag::Syn;
inline constexpr TcpFlags kAck = TcpFlag::Ack;
inline constexpr TcpFlags kRst = TcpFlag::Rst;
inline constexpr TcpFlags kSynAck = TcpFlag::Syn | TcpFlag::Ack;
inline constexpr TcpFlags kFinAck = TcpFlag::Fin | TcpFlag::Ack;
inline constexpr TcpFlags kRstAck = TcpFlag::Rst | TcpFlag::Ack;
inline constexpr TcpFlags kPshAck = TcpFlag::Psh | TcpFlag::Ack;
inline constexpr TcpFlags kFinPshAck = TcpFlag::Fin | TcpFlag::Psh | TcpFlag::Ack;

// The options a peer offers on its SYN (or SYN-ACK).
struct SynOpts {
    std::optional<std::uint16_t> mss = 1460;
    std::optional<std::uint8_t> wscale;
    bool sack_ok = false;
    std::optional<std::uint32_t> tsval;  // timestamps offered (TSecr 0 on a SYN)
};

// One segment from the peer.
struct Seg {
    TcpFlags flags;
    std::uint32_t seq = 0;  // absolute (peer space)
    std::uint32_t ack = 0;  // relative to our ISS
    std::uint16_t win = 65535;
    std::optional<std::uint16_t> mss;
    std::optional<std::uint8_t> wscale;
    bool sack_ok = false;
    std::optional<stack::wire::TcpTimestamps> ts;               // tsecr is absolute (our clock)
    std::vector<std::pair<std::uint32_t, std::uint32_t>> sack;  // relative to our ISS
    Packet data;
    std::uint16_t sport = kPeerPort, dport = 0;  // 0: our port (80, or the one connect() chose)
    bool absolute_ack = false;  // ack is absolute (e.g. a bad ACK that must not depend on our ISS)

    Seg& with(TcpFlags f) {
        flags |= f;
        return *this;
    }
    Seg& with_ts(std::uint32_t tsval, std::uint32_t tsecr) {
        ts = stack::wire::TcpTimestamps{tsval, tsecr};
        return *this;
    }
    Seg& with_sack(std::uint32_t left, std::uint32_t right) {
        sack.emplace_back(left, right);
        return *this;
    }
};

inline Seg syn(std::uint32_t seq, SynOpts o = {}, std::uint16_t win = 65535) {
    Seg s;
    s.flags = kSyn;
    s.seq = seq;
    s.win = win;
    s.mss = o.mss;
    s.wscale = o.wscale;
    s.sack_ok = o.sack_ok;
    if (o.tsval) s.ts = stack::wire::TcpTimestamps{*o.tsval, 0};
    return s;
}
inline Seg ack(std::uint32_t seq, std::uint32_t ack_rel, std::uint16_t win = 65535) {
    Seg s;
    s.flags = kAck;
    s.seq = seq;
    s.ack = ack_rel;
    s.win = win;
    return s;
}
inline Seg data(std::uint32_t seq, std::uint32_t ack_rel, Packet bytes, std::uint16_t win = 65535) {
    Seg s = ack(seq, ack_rel, win);
    s.flags = kPshAck;
    s.data = std::move(bytes);
    return s;
}
inline Seg fin(std::uint32_t seq, std::uint32_t ack_rel, std::uint16_t win = 65535) {
    Seg s = ack(seq, ack_rel, win);
    s.flags = kFinAck;
    return s;
}
inline Seg rst(std::uint32_t seq) {
    Seg s;
    s.flags = kRst;
    s.seq = seq;
    s.win = 0;
    return s;
}

// One segment we sent, parsed back.
struct Out {
    Instant at;
    stack::wire::TcpRepr tcp;
    Packet payload;
    std::uint32_t rel_seq = 0;  // seq relative to our ISS
    stack::GsoInfo gso;         // gso_size 0: a plain segment
    std::uint16_t ip_id = 0;
    std::uint32_t ts_val() const {
        return tcp.options.timestamps ? tcp.options.timestamps->tsval : 0;
    }
    std::uint32_t ts_ecr() const {
        return tcp.options.timestamps ? tcp.options.timestamps->tsecr : 0;
    }
};

// Opt-outs from expect()'s checks, one per field (see the header comment).
enum class Any : std::uint32_t {
    None = 0,
    At = 1u << 0,      // the instant it was sent
    Window = 1u << 1,  // the window field
    TsVal = 1u << 2,   // our TSval (TSecr and the option's presence still checked)
    Ts = 1u << 3,      // the whole timestamps option
    Seq = 1u << 4,     // our sequence number (e.g. the ISS of a further connection)
    Len = 1u << 5,     // the payload length (a loop that checks it itself)
    Psh = 1u << 6,     // the PSH bit only
    Gso = 1u << 7,     // TSO: gso_size (a loop that checks it itself)
};
constexpr Any operator|(Any a, Any b) {
    return static_cast<Any>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}
constexpr bool has(Any set, Any bit) {
    return (static_cast<std::uint32_t>(set) & static_cast<std::uint32_t>(bit)) != 0;
}

// What a test expects of the next segment we send. Every field is checked: a field left unset must
// be absent / zero (no payload, no MSS, no SACK blocks, no timestamps, a plain segment); `at`, `flags`,
// `seq`, `ack` and `win` must be given unless opted out with `any`.
struct Expect {
    std::optional<Instant> at;
    std::optional<TcpFlags> flags;     // exact, PSH included (unless `psh` says otherwise)
    std::optional<std::uint32_t> seq;  // relative to our ISS
    std::optional<std::uint32_t> ack;  // absolute (peer space)
    std::optional<std::uint16_t> win;  // the raw 16-bit field
    std::size_t len = 0;               // payload length
    std::optional<bool> psh;           // sets / clears PSH in `flags`
    std::optional<Packet> data;        // the payload's content, when given
    std::optional<std::uint16_t> mss;
    std::optional<std::uint8_t> wscale;
    bool sack_ok = false;
    std::optional<std::uint32_t> tsval;      // absolute; unset: our clock at `at` (see the header)
    std::optional<std::uint32_t> tsecr;      // unset: no timestamps option
    std::optional<std::size_t> sack_blocks;  // number of SACK blocks (also implied by `sack`)
    std::vector<std::pair<std::uint32_t, std::uint32_t>> sack;  // absolute (peer space)
    std::uint16_t gso_size = 0;                                 // TSO: 0 for a plain segment
    Any any = Any::None;
};

inline std::string describe(const Out& o) {
    std::string s =
        "t=" + std::to_string(o.at.as_micros() / 1000.0) + "ms " + o.tcp.flags.to_string() +
        " seq=" + std::to_string(o.rel_seq) + " ack=" + std::to_string(o.tcp.ack.value()) +
        " win=" + std::to_string(o.tcp.window) + " len=" + std::to_string(o.payload.size());
    const auto& op = o.tcp.options;
    if (op.mss) s += " mss=" + std::to_string(*op.mss);
    if (op.window_scale) s += " ws=" + std::to_string(*op.window_scale);
    if (op.sack_permitted) s += " sackOK";
    if (o.gso.gso_size != 0) {
        s += " gso=" + std::to_string(o.gso.gso_size) + "x" + std::to_string(o.gso.segments);
    }
    if (op.timestamps) {
        s += " ts=" + std::to_string(op.timestamps->tsval) + "/" +
             std::to_string(op.timestamps->tsecr);
    }
    for (std::size_t i = 0; i < op.sack_count; ++i) {
        s += " sack=" + std::to_string(op.sack_blocks[i].left.value()) + ":" +
             std::to_string(op.sack_blocks[i].right.value());
    }
    return s;
}

class Script {
public:
    explicit Script(const std::function<void(stack::StackConfig&)>& tweak = {})
        : stack_(make(tweak)) {}

    stack::Stack& stack() { return stack_; }
    stack::tcp::TcpLayer& tcp() { return stack_.tcp(); }
    Instant now() const { return now_; }
    std::uint32_t iss() const { return iss_; }
    std::uint16_t our_port() const { return our_port_; }
    void set_iss(std::uint32_t iss) { iss_ = iss; }

    // ---- time ----
    // Runs every timer due up to and including t, polling at each exact deadline; then now = t.
    void advance_to(Instant t) {
        EXPECT_GE(t, now_) << "time goes backwards";
        for (int guard = 0; guard < 1'000'000; ++guard) {
            Instant next = stack_.poll_at();
            if (next > t) break;
            if (next > now_) now_ = next;
            poll();
        }
        if (t > now_) now_ = t;
        poll();
    }
    void advance_by(Duration d) { advance_to(now_ + d); }

    // ---- the peer ----
    void inject(Instant t, const Seg& s) {
        run_before(t);
        now_ = t;
        deliver(s);
        poll();
    }
    // Injects at the current time.
    void inject(const Seg& s) { inject(now_, s); }

    // The packet for `s`, as the peer would send it.
    Packet build(const Seg& s) const {
        stack::wire::TcpRepr r;
        r.src_port = s.sport;
        r.dst_port = s.dport != 0 ? s.dport : our_port_;
        r.seq = SeqNumber(s.seq);
        r.ack = SeqNumber(s.absolute_ack ? s.ack : s.ack + iss_);
        r.flags = s.flags;
        r.window = s.win;
        r.options.mss = s.mss;
        r.options.window_scale = s.wscale;
        r.options.sack_permitted = s.sack_ok;
        r.options.timestamps = s.ts;
        for (auto [l, rt] : s.sack) {
            r.options.sack_blocks[r.options.sack_count++] = {SeqNumber(l + iss_),
                                                             SeqNumber(rt + iss_)};
        }
        r.payload_len = static_cast<std::uint16_t>(s.data.size());
        Packet seg(r.len());
        r.emit(stack::MutBytes(seg), kPeer, kUs, Bytes(s.data));
        return stack::testing::ipv4_packet(stack::testing::ip_header(kPeer, kUs, 6), Bytes(seg));
    }

    // ---- what we sent ----
    // Pops the oldest captured segment and checks it against `e`. Fails (and returns an empty Out) if
    // nothing was sent.
    Out expect(const Expect& e, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
        ::testing::ScopedTrace trace(file, line, "expect()");
        if (out_.empty()) {
            ADD_FAILURE() << "expected a segment, none was sent (now " << now_.as_micros() / 1000.0
                          << " ms)";
            return Out{};
        }
        Out o = std::move(out_.front());
        out_.pop_front();
        check(e, o);
        if (o.tcp.options.timestamps) last_tsval_ = o.ts_val();
        return o;
    }

    // Nothing has been sent (that was not already expected).
    void expect_nothing(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
        ::testing::ScopedTrace trace(file, line, "expect_nothing()");
        EXPECT_TRUE(out_.empty()) << "unexpected: " << (out_.empty() ? "" : describe(out_.front()))
                                  << " (+" << (out_.empty() ? 0 : out_.size() - 1) << " more)";
        out_.clear();
    }
    // Advances to t and checks that nothing was sent on the way.
    void expect_nothing_until(Instant t, const char* file = __builtin_FILE(),
                              int line = __builtin_LINE()) {
        advance_to(t);
        expect_nothing(file, line);
    }
    std::size_t pending() const { return out_.size(); }
    const std::deque<Out>& captured() const { return out_; }
    void discard_output() { out_.clear(); }
    // Our TSval in the most recent expected segment (for the peer to echo).
    std::uint32_t last_tsval() const { return last_tsval_; }

    // ---- the application ----
    SocketHandle listen(std::uint16_t port = kOurPort, std::uint32_t backlog = 16) {
        auto l = tcp().listen(port, backlog);
        EXPECT_TRUE(l.ok());
        return l.ok() ? *l : SocketHandle{};
    }
    SocketHandle connect(std::uint16_t port = kPeerPort) {
        auto c = tcp().connect(now_, kPeer, port);
        EXPECT_TRUE(c.ok());
        poll();
        return c.ok() ? *c : SocketHandle{};
    }
    std::size_t send(SocketHandle h, const Packet& data) {
        auto n = tcp().send(h, Bytes(data));
        EXPECT_TRUE(n.ok()) << (n.ok() ? "" : stack::to_string(n.error()));
        poll();
        return n.ok() ? *n : 0;
    }
    Packet recv(SocketHandle h, std::size_t max = 1 << 20) {
        Packet buf(max);
        auto n = tcp().recv(h, stack::MutBytes(buf));
        EXPECT_TRUE(n.ok()) << (n.ok() ? "" : stack::to_string(n.error()));
        buf.resize(n.ok() ? *n : 0);
        poll();
        return buf;
    }
    // Event bits for `h` collected so far (drains the stack's queue; bits for other handles are kept).
    std::uint8_t events(SocketHandle h) {
        drain_events();
        std::uint8_t b = event_bits_[key(h)];
        event_bits_[key(h)] = 0;
        return b;
    }
    std::optional<TcpState> state_of_only_connection() {
        std::optional<TcpState> st;
        tcp().for_each_connection([&](const stack::tcp::ConnectionInfo& i) { st = i.state; });
        return st;
    }
    void poll() {
        stack::testing::CaptureSink sink;
        stack_.poll(now_, sink);
        for (std::size_t i = 0; i < sink.packets.size(); ++i) capture(sink.packets[i], sink.gso[i]);
    }

    // ---- canned handshakes ----
    // Passive open with the given SYN options (the peer's ISS is `peer_iss`), completes it, accepts.
    // Leaves no output pending.
    SocketHandle passive_open(std::uint32_t peer_iss, SynOpts o = {}, std::uint16_t win = 65535,
                              std::uint16_t final_win = 65535) {
        auto l = listen();
        inject(syn(peer_iss, o, win));
        Out synack = expect(syn_ack_for(o, peer_iss));
        Seg a = ack(peer_iss + 1, 1, final_win);
        if (o.tsval) a.with_ts(*o.tsval + 1, synack.ts_val());
        inject(a);
        expect_nothing();
        auto c = tcp().accept(l);
        EXPECT_TRUE(c.ok());
        listener_ = l;
        return c.ok() ? *c : SocketHandle{};
    }
    SocketHandle listener() const { return listener_; }

    // The SYN-ACK our listener sends now for a SYN with options `o` and ISS `peer_iss` (RFC 9293
    // §3.7.1 MSS = MTU - 40, the window capped at 65535 unscaled, RFC 7323 / RFC 2018 options only
    // when offered and enabled).
    Expect syn_ack_for(const SynOpts& o, std::uint32_t peer_iss) const {
        const auto& tc = stack_.config().tcp;
        Expect e{.at = now_,
                 .flags = kSynAck,
                 .seq = 0,
                 .ack = peer_iss + 1,
                 .win = static_cast<std::uint16_t>(std::min<std::size_t>(tc.recv_buffer, 65535)),
                 .mss = static_cast<std::uint16_t>(stack_.config().mtu - 40)};
        if (o.wscale && tc.window_scaling) e.wscale = stack::tcp::receive_window_scale(tc);
        e.sack_ok = o.sack_ok && tc.sack;
        if (o.tsval && tc.timestamps) e.tsecr = *o.tsval;
        return e;
    }

    // Checks run on every captured TSO super-packet (tests/tcp/tso_expect.hpp installs them).
    void on_super_packet(std::function<void(const Packet&, const stack::GsoInfo&)> f) {
        super_checks_ = std::move(f);
    }

private:
    static stack::StackConfig make(const std::function<void(stack::StackConfig&)>& tweak) {
        stack::StackConfig c;
        c.addr = kUs;
        c.seed = 7;
        if (tweak) tweak(c);
        return c;
    }
    static std::uint64_t key(SocketHandle h) { return std::uint64_t{h.index} << 32 | h.generation; }

    void run_before(Instant t) {
        for (int guard = 0; guard < 1'000'000; ++guard) {
            Instant next = stack_.poll_at();
            if (next >= t) break;
            if (next > now_) now_ = next;
            poll();
        }
    }
    void deliver(const Seg& s) {
        Packet p = build(s);
        stack_.ingress(now_, Bytes(p));
    }
    void check(const Expect& e, const Out& o) {
        const std::string d = describe(o);
        if (!has(e.any, Any::At)) {
            EXPECT_TRUE(e.at.has_value()) << "expect() without .at " << d;
            if (e.at) {
                EXPECT_EQ(o.at.as_micros(), e.at->as_micros()) << d;
            }
        }
        EXPECT_TRUE(e.flags.has_value()) << "expect() without .flags " << d;
        if (e.flags) {
            TcpFlags want = *e.flags;
            if (e.psh) want = *e.psh ? (want | TcpFlag::Psh) : want.without(TcpFlag::Psh);
            TcpFlags got = o.tcp.flags;
            if (has(e.any, Any::Psh)) {
                got = got.without(TcpFlag::Psh);
                want = want.without(TcpFlag::Psh);
            }
            EXPECT_EQ(got.to_string(), want.to_string()) << d;
        }
        if (!has(e.any, Any::Seq)) {
            EXPECT_TRUE(e.seq.has_value()) << "expect() without .seq " << d;
            if (e.seq) {
                EXPECT_EQ(o.rel_seq, *e.seq) << d;
            }
        }
        EXPECT_TRUE(e.ack.has_value()) << "expect() without .ack " << d;
        if (e.ack) {
            EXPECT_EQ(o.tcp.ack.value(), *e.ack) << d;
        }
        if (!has(e.any, Any::Window)) {
            EXPECT_TRUE(e.win.has_value()) << "expect() without .win " << d;
            if (e.win) {
                EXPECT_EQ(o.tcp.window, *e.win) << d;
            }
        }
        if (!has(e.any, Any::Len)) {
            EXPECT_EQ(o.payload.size(), e.len) << d;
        }
        if (e.data) {
            EXPECT_TRUE(o.payload == *e.data) << "payload content differs " << d;
        }
        const auto& op = o.tcp.options;
        EXPECT_EQ(op.mss, e.mss) << d;
        EXPECT_EQ(op.window_scale, e.wscale) << d;
        EXPECT_EQ(op.sack_permitted, e.sack_ok) << d;
        if (!has(e.any, Any::Ts)) {
            EXPECT_EQ(op.timestamps.has_value(), e.tsecr.has_value() || e.tsval.has_value())
                << "timestamps option " << d;
            if (op.timestamps && e.tsecr) {
                EXPECT_EQ(o.ts_ecr(), *e.tsecr) << d;
            }
            if (op.timestamps && e.tsval) {
                EXPECT_EQ(o.ts_val(), *e.tsval) << d;
            } else if (op.timestamps && !has(e.any, Any::TsVal)) {
                // RFC 7323 §5.4: TSval is our timestamp clock (1 ms ticks, a per-connection offset).
                const auto k = std::make_tuple(o.tcp.src_port, o.tcp.dst_port);
                const auto clock = static_cast<std::uint32_t>(o.at.as_millis());
                auto it = ts_base_.find(k);
                if (it == ts_base_.end()) it = ts_base_.emplace(k, o.ts_val() - clock).first;
                EXPECT_EQ(o.ts_val(), it->second + clock) << "TSval is not our clock " << d;
            }
        }
        if (e.sack_blocks) {
            EXPECT_EQ(op.sack_count, *e.sack_blocks) << d;
        }
        EXPECT_EQ(op.sack_count, e.sack.size()) << d;
        for (std::size_t i = 0; i < op.sack_count && i < e.sack.size(); ++i) {
            EXPECT_EQ(op.sack_blocks[i].left.value(), e.sack[i].first) << "SACK block " << i << d;
            EXPECT_EQ(op.sack_blocks[i].right.value(), e.sack[i].second) << "SACK block " << i << d;
        }
        if (!has(e.any, Any::Gso)) {
            EXPECT_EQ(o.gso.gso_size, e.gso_size) << d;
        }
        EXPECT_EQ(o.tcp.urgent, 0) << d;
    }

    void capture(const Packet& raw, const stack::GsoInfo& gso) {
        const bool super = gso.gso_size != 0;
        Packet p = raw;
        if (super) {
            if (super_checks_) {
                super_checks_(raw, gso);
            } else {
                ADD_FAILURE() << "a TSO super-packet without install_tso_checks()";
            }
            if (gso.csum_partial) {
                EXPECT_TRUE(drivers::complete_partial_checksum(stack::MutBytes(p), gso.csum_start,
                                                               gso.csum_offset));
            }
        } else {
            EXPECT_LE(p.size(), stack_.config().mtu) << "a plain packet above the MTU";
        }
        auto ip = stack::wire::Ipv4Packet::parse(p);
        ASSERT_TRUE(ip.ok()) << "we sent an invalid IPv4 packet";
        if (ip->protocol() != 6) {
            ADD_FAILURE() << "non-TCP packet sent, protocol " << int(ip->protocol());
            return;
        }
        EXPECT_EQ(ip->src(), kUs);
        EXPECT_EQ(ip->dst(), kPeer);
        auto seg = stack::wire::TcpPacket::parse(ip->payload(), ip->src(), ip->dst());
        ASSERT_TRUE(seg.ok()) << "we sent a TCP segment that does not parse (checksum?)";
        auto repr = stack::wire::TcpRepr::parse(*seg);
        ASSERT_TRUE(repr.ok()) << "we sent malformed TCP options";
        Out o;
        o.at = now_;
        o.tcp = *repr;
        o.payload.assign(seg->payload().begin(), seg->payload().end());
        o.gso = gso;
        o.ip_id = ip->ident();
        if (o.tcp.flags.syn() && !have_iss_) {
            iss_ = o.tcp.seq.value();
            our_port_ = o.tcp.src_port;
            have_iss_ = true;
        }
        o.rel_seq = o.tcp.seq.value() - iss_;
        out_.push_back(std::move(o));
    }
    void drain_events() {
        stack::SocketEvent ev;
        while (tcp().next_event(ev)) event_bits_[key(ev.handle)] |= ev.bits;
    }

    stack::Stack stack_;
    Instant now_;
    std::deque<Out> out_;
    std::uint32_t iss_ = 0;
    bool have_iss_ = false;
    std::uint16_t our_port_ = kOurPort;
    std::uint32_t last_tsval_ = 0;
    std::map<std::uint64_t, std::uint8_t> event_bits_;
    SocketHandle listener_;
    std::map<std::tuple<std::uint16_t, std::uint16_t>, std::uint32_t> ts_base_;  // TSval - clock
    std::function<void(const Packet&, const stack::GsoInfo&)> super_checks_;
};

// Passive open whose handshake takes `rtt` (one RTT sample: SRTT = rtt, RTTVAR = rtt/2); the peer's
// final ACK carries `win` (scaled by the peer's wscale if it offered one).
inline SocketHandle open_with_rtt(Script& s, Duration rtt, SynOpts o = {},
                                  std::uint16_t win = 65535) {
    auto l = s.listen();
    s.inject(syn(1000, o));
    Out sa = s.expect(s.syn_ack_for(o, 1000));
    Seg a = ack(1001, 1, win);
    if (o.tsval) a.with_ts(*o.tsval + 1, sa.ts_val());
    s.inject(s.now() + rtt, a);
    auto c = s.tcp().accept(l);
    EXPECT_TRUE(c.ok());
    return *c;
}

// n bytes of deterministic data.
inline Packet bytes(std::size_t n, std::uint32_t seed = 1) {
    return stack::testing::pattern(n, seed);
}

// The parts one after another (a stream's expected bytes).
inline Packet concat(std::initializer_list<Packet> parts) {
    Packet out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

}  // namespace tcpscript
