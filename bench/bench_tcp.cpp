// TCP fast path in the sans-IO core, established connection, one stack, a scripted peer:
//   BM_TcpDataIn        in-order 1460-byte data segment in (incl. checksum verify, copy into the
//                       receive ring, a delayed ACK every second segment) + the application's recv()
//   BM_TcpAckClockedOut a pure ACK in that opens room for one segment + send() of 1460 bytes + the
//                       segment out (checksum, copy from the send ring into the frame)
//   BM_TcpPureAckIn     a pure ACK in acknowledging one in-flight segment, nothing to send (refills
//                       of 1024 segments happen outside the timed region)
//   BM_TcpOutput        send() + one segment out; one cumulative ACK per 8 segments (amortised)
//   BM_TcpOutputTso     with TSO (StackConfig::tso_max_size 65535): send() of 64 KiB + the
//                       super-segment(s) out (one copy from the send ring into a large frame, the
//                       TCP checksum left partial) + one cumulative ACK in; items are the MSS-sized
//                       segments the device cuts them into
// Each reports segments/s and payload bytes/s, and `allocs` = heap allocations per segment inside the
// timed loop (global operator new is counted): the fast path must show 0. The memcpy of the same
// payload size is measured in the same run as the reference (ratio lines at the end); for TSO, the
// memcpy of the 64 KiB sent per iteration.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "bench/ratio_reporter.hpp"
#include "stack/base/checksum.hpp"
#include "stack/stack.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "tests/support/alloc_counter.hpp"

namespace {

using namespace stack;
using wire::Ipv4Address;
using wire::SeqNumber;
using wire::TcpFlag;

const Ipv4Address kPeer(198, 18, 0, 1);
const Ipv4Address kUs(198, 18, 0, 2);
constexpr std::uint16_t kPeerPort = 40000, kPort = 5001;
constexpr std::uint32_t kSeg = 1460;

// Keeps the last packet the stack sent (to read our ISS from the SYN-ACK); counts the rest.
struct Sink : PacketSink {
    std::vector<std::uint8_t> last;
    std::size_t packets = 0;
    std::size_t super_packets = 0, super_segments = 0;
    std::uint32_t seq_end = 0;  // one past the highest TCP payload byte of a super-packet
    bool keep = true;
    bool transmit(Bytes p) override {
        ++packets;
        if (keep) last.assign(p.begin(), p.end());
        return true;
    }
    bool transmit_gso(Bytes p, const GsoInfo& gso) override {
        ++packets;
        ++super_packets;
        super_segments += gso.segments;
        seq_end = load_be32(p.data() + gso.csum_start + 4) +
                  static_cast<std::uint32_t>(p.size() - gso.hdr_len);
        return true;
    }
};

std::vector<std::uint8_t> segment(SeqNumber seq, SeqNumber ack, wire::TcpFlags flags,
                                  std::size_t payload, const wire::TcpOptions& opts = {}) {
    wire::TcpRepr t;
    t.src_port = kPeerPort;
    t.dst_port = kPort;
    t.seq = seq;
    t.ack = ack;
    t.flags = flags;
    t.window = 65535;  // scaled by 7 once negotiated: 8 MB
    t.options = opts;
    t.payload_len = static_cast<std::uint16_t>(payload);
    wire::Ipv4Repr ip;
    ip.src = kPeer;
    ip.dst = kUs;
    ip.protocol = 6;
    ip.payload_len = static_cast<std::uint16_t>(t.len());
    std::vector<std::uint8_t> p(ip.total_len());
    ip.emit(p);
    std::vector<std::uint8_t> data(payload, 0x5a);
    t.emit(MutBytes(p).subspan(20), kPeer, kUs, data);
    return p;
}

// Moves a packet's TCP sequence (or ack) number forward by `by`, fixing the checksum (RFC 1624).
void advance(std::vector<std::uint8_t>& p, std::size_t field, std::uint32_t by) {
    std::uint8_t* f = p.data() + 20 + field;
    const std::uint32_t old = load_be32(f);
    store_be32(f, old + by);
    std::uint8_t* c = p.data() + 20 + 16;
    store_be16(c, checksum::update32(load_be16(c), old, old + by));
}

struct Established {
    std::unique_ptr<Stack> st;
    Sink sink;
    SocketHandle conn;
    SeqNumber peer_next{1000001};
    SeqNumber our_next;
    Instant now = Instant::from_millis(1);

    explicit Established(bool tso = false) {
        StackConfig c;
        c.addr = kUs;
        c.seed = 7;
        c.tcp.max_sockets = 16;
        c.tcp.send_buffer = 4 << 20;
        c.tcp.recv_buffer = 4 << 20;
        if (tso) c.tso_max_size = 65535;
        st = std::make_unique<Stack>(c);
        auto l = st->tcp().listen(kPort, 4);
        wire::TcpOptions o;
        o.mss = 1460;
        o.window_scale = 7;
        o.sack_permitted = true;
        st->ingress(now, segment(SeqNumber(1000000), SeqNumber(0), TcpFlag::Syn, 0, o));
        st->poll(now, sink);
        auto synack = wire::Ipv4Packet::parse(sink.last);
        auto t = wire::TcpPacket::parse(synack->payload(), kUs, kPeer);
        our_next = t->seq() + 1;
        st->ingress(now, segment(peer_next, our_next, TcpFlag::Ack, 0));
        st->poll(now, sink);
        conn = *st->tcp().accept(*l);
        sink.keep = false;
    }
};

void BM_TcpDataIn(benchmark::State& state) {
    Established e;
    auto pkt = segment(e.peer_next, e.our_next, TcpFlag::Ack | TcpFlag::Psh, kSeg);
    std::vector<std::uint8_t> app(kSeg);
    std::size_t allocs = 0, segs = 0, received = 0;
    for (auto _ : state) {
        const std::uint64_t a0 = tunstack_test::allocation_count();
        e.st->ingress(e.now, pkt);
        auto n = e.st->tcp().recv(e.conn, MutBytes(app));
        received += n.ok() ? *n : 0;
        e.st->poll(e.now, e.sink);
        allocs += tunstack_test::allocation_count() - a0;
        advance(pkt, 4, kSeg);
        e.now += Duration::micros(1);
        ++segs;
    }
    if (received != segs * kSeg || e.st->stats().tcp.drop_out_of_window != 0) {
        state.SkipWithError("data was not taken in order");
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(segs));
    state.SetBytesProcessed(static_cast<std::int64_t>(segs * kSeg));
    state.counters["allocs"] = segs ? static_cast<double>(allocs) / static_cast<double>(segs) : 0;
}

void BM_TcpAckClockedOut(benchmark::State& state) {
    Established e;
    std::vector<std::uint8_t> app(kSeg, 0x33);
    // Fill the initial window, then each ACK acknowledges one segment and one new segment goes out.
    for (int i = 0; i < 10; ++i) (void)e.st->tcp().send(e.conn, app);
    e.st->poll(e.now, e.sink);
    auto ack = segment(e.peer_next, e.our_next + kSeg, TcpFlag::Ack, 0);
    std::size_t allocs = 0, segs = 0;
    for (auto _ : state) {
        const std::uint64_t a0 = tunstack_test::allocation_count();
        e.st->ingress(e.now, ack);
        auto n = e.st->tcp().send(e.conn, app);
        benchmark::DoNotOptimize(n);
        e.st->poll(e.now, e.sink);
        allocs += tunstack_test::allocation_count() - a0;
        advance(ack, 8, kSeg);
        e.now += Duration::micros(1);
        ++segs;
    }
    if (e.st->stats().tcp.retransmits != 0) state.SkipWithError("unexpected retransmissions");
    if (e.sink.packets < segs) state.SkipWithError("segments were not sent");
    state.SetItemsProcessed(static_cast<std::int64_t>(segs));
    state.SetBytesProcessed(static_cast<std::int64_t>(segs * kSeg));
    state.counters["allocs"] = segs ? static_cast<double>(allocs) / static_cast<double>(segs) : 0;
}

// Pure ACKs in, nothing out: each ACK acknowledges one more in-flight segment and the application has
// nothing more to send, so the cost is ingress + ACK processing (RTT, cwnd, send-ring release) alone.
// Segments in flight are refilled outside the timed region; cwnd is grown first so a refill of
// kAckBatch segments goes out at once.
void BM_TcpPureAckIn(benchmark::State& state) {
    constexpr std::size_t kAckBatch = 1024;
    Established e;
    std::vector<std::uint8_t> app(kSeg * kAckBatch, 0x66);
    SeqNumber acked = e.our_next;
    // Sends what the send buffer and cwnd take; returns the segments now in flight past `acked`.
    auto fill = [&](std::size_t bytes) {
        (void)e.st->tcp().send(e.conn, Bytes(app.data(), bytes));
        e.st->poll(e.now, e.sink);
        return static_cast<std::size_t>(e.st->tcp().info(e.conn)->send_queue / kSeg);
    };
    auto ack_one = [&] {
        acked = acked + kSeg;
        e.st->ingress(e.now, segment(e.peer_next, acked, TcpFlag::Ack, 0));
    };
    // Slow start: one ACK per segment doubles cwnd each round until a whole batch fits.
    for (int round = 0; round < 12 && e.st->tcp().info(e.conn)->cwnd < kSeg * (kAckBatch + 16);
         ++round) {
        const std::size_t n = fill(app.size());
        for (std::size_t i = 0; i < n; ++i) ack_one();
        e.now += Duration::millis(1);
    }
    auto ack = segment(e.peer_next, acked, TcpFlag::Ack, 0);
    std::size_t allocs = 0, acks = 0, in_flight = 0;
    const std::size_t packets_before = e.sink.packets;
    std::size_t refills = 0;
    for (auto _ : state) {
        if (in_flight == 0) {
            state.PauseTiming();
            in_flight = fill(app.size());
            ++refills;
            ack = segment(e.peer_next, acked, TcpFlag::Ack, 0);
            state.ResumeTiming();
        }
        const std::uint64_t a0 = tunstack_test::allocation_count();
        advance(ack, 8, kSeg);
        e.st->ingress(e.now, ack);
        e.st->poll(e.now, e.sink);
        allocs += tunstack_test::allocation_count() - a0;
        acked = acked + kSeg;
        --in_flight;
        ++acks;
        e.now += Duration::micros(1);
    }
    if (e.st->stats().tcp.retransmits != 0) state.SkipWithError("unexpected retransmissions");
    // Only the refills may have put segments on the wire: the ACKs themselves sent nothing.
    if (e.sink.packets - packets_before > refills * kAckBatch) {
        state.SkipWithError("ACK processing sent segments");
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(acks));
    state.counters["allocs"] = acks ? static_cast<double>(allocs) / static_cast<double>(acks) : 0;
}

void BM_TcpOutput(benchmark::State& state) {
    Established e;
    std::vector<std::uint8_t> app(kSeg, 0x44);
    auto ack = segment(e.peer_next, e.our_next, TcpFlag::Ack, 0);
    std::size_t allocs = 0, segs = 0, unacked = 0;
    const std::size_t base = e.sink.packets;
    for (auto _ : state) {
        const std::uint64_t a0 = tunstack_test::allocation_count();
        const std::size_t before = e.sink.packets;
        auto n = e.st->tcp().send(e.conn, app);
        benchmark::DoNotOptimize(n);
        e.st->poll(e.now, e.sink);
        unacked += e.sink.packets - before;
        if (unacked >= 8) {  // one cumulative ACK for what went out keeps cwnd open (amortised)
            advance(ack, 8, static_cast<std::uint32_t>(unacked * kSeg));
            e.st->ingress(e.now, ack);
            unacked = 0;
        }
        allocs += tunstack_test::allocation_count() - a0;
        e.now += Duration::micros(1);
        ++segs;
    }
    // Every send() must have become a segment on the wire (bar the last few still queued).
    if (e.sink.packets - base + 64 < segs) state.SkipWithError("segments were not sent");
    state.SetItemsProcessed(static_cast<std::int64_t>(segs));
    state.SetBytesProcessed(static_cast<std::int64_t>(segs * kSeg));
    state.counters["allocs"] = segs ? static_cast<double>(allocs) / static_cast<double>(segs) : 0;
}

void BM_TcpOutputTso(benchmark::State& state) {
    Established e(/*tso=*/true);
    constexpr std::size_t kChunk = 64 * 1024;
    std::vector<std::uint8_t> app(kChunk, 0x44);
    // Warm up: slow start opens cwnd (one ACK per iteration acknowledges everything sent).
    auto ack = segment(e.peer_next, e.our_next, TcpFlag::Ack, 0);
    auto ack_all = [&] {
        advance(ack, 8, e.sink.seq_end - load_be32(ack.data() + 20 + 8));
        e.st->ingress(e.now, ack);
    };
    for (int i = 0; i < 200; ++i) {
        (void)e.st->tcp().send(e.conn, app);
        e.st->poll(e.now, e.sink);
        if (e.sink.super_packets > 0) ack_all();
        e.now += Duration::micros(10);
    }
    std::size_t allocs = 0, iterations = 0, bytes = 0;
    const std::size_t segs0 = e.sink.super_segments, supers0 = e.sink.super_packets;
    for (auto _ : state) {
        const std::uint64_t a0 = tunstack_test::allocation_count();
        auto n = e.st->tcp().send(e.conn, app);
        bytes += n.ok() ? *n : 0;
        e.st->poll(e.now, e.sink);
        ack_all();
        allocs += tunstack_test::allocation_count() - a0;
        e.now += Duration::micros(10);
        ++iterations;
    }
    const std::size_t supers = e.sink.super_packets - supers0;
    if (supers < iterations) state.SkipWithError("super-segments were not sent");
    if (e.st->stats().tcp.retransmits != 0) state.SkipWithError("unexpected retransmissions");
    state.SetItemsProcessed(static_cast<std::int64_t>(e.sink.super_segments - segs0));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    state.counters["allocs"] =
        supers ? static_cast<double>(allocs) / static_cast<double>(supers) : 0;
    state.counters["segs_per_super"] =
        supers ? static_cast<double>(e.sink.super_segments - segs0) / static_cast<double>(supers)
               : 0;
}

void BM_Memcpy64K(benchmark::State& state) {
    constexpr std::size_t kChunk = 64 * 1024;
    std::vector<std::uint8_t> a(kChunk, 1), b(kChunk);
    for (auto _ : state) {
        std::memcpy(b.data(), a.data(), kChunk);
        benchmark::DoNotOptimize(b.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kChunk));
}

void BM_Memcpy1460(benchmark::State& state) {
    std::vector<std::uint8_t> a(kSeg, 1), b(kSeg);
    for (auto _ : state) {
        std::memcpy(b.data(), a.data(), kSeg);
        benchmark::DoNotOptimize(b.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kSeg));
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::RegisterBenchmark("BM_TcpDataIn", BM_TcpDataIn);
    benchmark::RegisterBenchmark("BM_TcpAckClockedOut", BM_TcpAckClockedOut);
    benchmark::RegisterBenchmark("BM_TcpPureAckIn", BM_TcpPureAckIn);
    benchmark::RegisterBenchmark("BM_TcpOutput", BM_TcpOutput);
    benchmark::RegisterBenchmark("BM_TcpOutputTso", BM_TcpOutputTso);
    benchmark::RegisterBenchmark("BM_Memcpy1460", BM_Memcpy1460);
    benchmark::RegisterBenchmark("BM_Memcpy64K", BM_Memcpy64K);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    bench::RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    std::printf("\n");
    reporter.print_ratio("BM_TcpDataIn", "BM_Memcpy1460",
                         "time per data segment in / memcpy of its payload");
    reporter.print_ratio("BM_TcpAckClockedOut", "BM_Memcpy1460",
                         "time per ACK in + segment out / memcpy of its payload");
    reporter.print_ratio("BM_TcpPureAckIn", "BM_Memcpy1460",
                         "time per pure ACK in (nothing sent) / memcpy of one segment's payload");
    reporter.print_ratio("BM_TcpOutput", "BM_Memcpy1460",
                         "time per segment out / memcpy of its payload");
    reporter.print_ratio("BM_TcpOutputTso", "BM_Memcpy64K",
                         "time per 64 KiB sent with TSO / memcpy of 64 KiB");
    benchmark::Shutdown();
    return reporter.complete() ? 0 : 1;
}
