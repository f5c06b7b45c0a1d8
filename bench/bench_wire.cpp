// Parsing an IPv4 + TCP segment with options (timestamps + 2 SACK blocks, 100 bytes of payload) with our
// views next to libtins's Tins::IP(buf, len) on the same bytes, in the same run, reading the same
// fields; and emitting the segment with our Reprs (next to libtins serializing it). Prints time ratios
// at the end.
#include <benchmark/benchmark.h>
#include <tins/tins.h>

#include <vector>

#include "bench/ratio_reporter.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace {

using namespace stack::wire;

const Ipv4Address kSrc(198, 18, 0, 1);
const Ipv4Address kDst(198, 18, 0, 2);

TcpRepr segment_repr() {
    TcpRepr t;
    t.src_port = 40000;
    t.dst_port = 443;
    t.seq = SeqNumber(0x12345678);
    t.ack = SeqNumber(0x9abcdef0);
    t.flags = TcpFlag::Psh | TcpFlag::Ack;
    t.window = 502;
    t.options.timestamps = TcpTimestamps{1000, 2000};
    t.options.sack_count = 2;
    t.options.sack_blocks[0] = {SeqNumber(0x9abcdef0 + 1000), SeqNumber(0x9abcdef0 + 2000)};
    t.options.sack_blocks[1] = {SeqNumber(0x9abcdef0 + 3000), SeqNumber(0x9abcdef0 + 4000)};
    t.payload_len = 100;
    return t;
}

Ipv4Repr ip_repr(const TcpRepr& t) {
    Ipv4Repr ip;
    ip.src = kSrc;
    ip.dst = kDst;
    ip.protocol = static_cast<std::uint8_t>(IpProtocol::Tcp);
    ip.dont_frag = true;
    ip.payload_len = static_cast<std::uint16_t>(t.len());
    return ip;
}

std::vector<std::uint8_t> make_packet() {
    TcpRepr t = segment_repr();
    Ipv4Repr ip = ip_repr(t);
    std::vector<std::uint8_t> payload(t.payload_len, 'x');
    std::vector<std::uint8_t> frame(ip.total_len());
    ip.emit(frame);
    t.emit(stack::MutBytes(frame).subspan(20), kSrc, kDst, payload);
    return frame;
}

template <Ipv4Packet::Checksum kIp, TcpPacket::Checksum kTcp>
void BM_OursParse(benchmark::State& state) {
    auto frame = make_packet();
    for (auto _ : state) {
        benchmark::DoNotOptimize(frame.data());
        auto ip = Ipv4Packet::parse(frame, kIp);
        if (!ip) state.SkipWithError("ip");
        auto tcp = TcpPacket::parse(ip->payload(), ip->src(), ip->dst(), kTcp);
        if (!tcp) state.SkipWithError("tcp");
        auto opts = TcpOptions::parse(tcp->options());
        if (!opts) state.SkipWithError("options");
        std::uint32_t sum = tcp->seq().value() + tcp->ack().value() + tcp->window() +
                            tcp->flags().bits() + opts->timestamps->tsval +
                            opts->sack_blocks[1].right.value() +
                            static_cast<std::uint32_t>(tcp->payload().size());
        benchmark::DoNotOptimize(sum);
    }
}

void BM_LibtinsParse(benchmark::State& state) {
    auto frame = make_packet();
    for (auto _ : state) {
        benchmark::DoNotOptimize(frame.data());
        Tins::IP ip(frame.data(), static_cast<std::uint32_t>(frame.size()));
        const auto& tcp = ip.rfind_pdu<Tins::TCP>();
        const auto& raw = ip.rfind_pdu<Tins::RawPDU>();
        std::uint32_t sum = tcp.seq() + tcp.ack_seq() + tcp.window() + tcp.flags() +
                            tcp.timestamp().first + tcp.sack()[3] +
                            static_cast<std::uint32_t>(raw.payload_size());
        benchmark::DoNotOptimize(sum);
    }
}

void BM_OursEmit(benchmark::State& state) {
    TcpRepr t = segment_repr();
    Ipv4Repr ip = ip_repr(t);
    std::vector<std::uint8_t> frame(ip.total_len(), 'x');
    // The payload already sits in the frame (as in a TX buffer with headroom): not copied.
    stack::Bytes payload(frame.data() + 20 + t.header_len(), t.payload_len);
    for (auto _ : state) {
        t.seq += 100;
        ip.emit(frame);
        t.emit(stack::MutBytes(frame).subspan(20), kSrc, kDst, payload);
        benchmark::DoNotOptimize(frame.data());
        benchmark::ClobberMemory();
    }
}

void BM_LibtinsSerialize(benchmark::State& state) {
    Tins::TCP tcp(443, 40000);
    tcp.seq(0x12345678);
    tcp.ack_seq(0x9abcdef0);
    tcp.flags(Tins::TCP::PSH | Tins::TCP::ACK);
    tcp.window(502);
    tcp.timestamp(1000, 2000);
    tcp.sack({0x9abcdef0 + 1000, 0x9abcdef0 + 2000, 0x9abcdef0 + 3000, 0x9abcdef0 + 4000});
    Tins::IP ip = Tins::IP("198.18.0.2", "198.18.0.1") / tcp /
                  Tins::RawPDU(std::vector<std::uint8_t>(100, 'x'));
    auto& t = ip.rfind_pdu<Tins::TCP>();
    for (auto _ : state) {
        t.seq(t.seq() + 100);
        auto bytes = ip.serialize();
        benchmark::DoNotOptimize(bytes.data());
    }
}

}  // namespace

int main(int argc, char** argv) {
    using V = Ipv4Packet::Checksum;
    using T = TcpPacket::Checksum;
    benchmark::RegisterBenchmark("BM_LibtinsParse", BM_LibtinsParse);
    benchmark::RegisterBenchmark("BM_OursParse_NoChecksums", BM_OursParse<V::Skip, T::Skip>);
    benchmark::RegisterBenchmark("BM_OursParse_VerifyChecksums",
                                 BM_OursParse<V::Verify, T::Verify>);
    benchmark::RegisterBenchmark("BM_LibtinsSerialize", BM_LibtinsSerialize);
    benchmark::RegisterBenchmark("BM_OursEmit", BM_OursEmit);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    bench::RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    std::printf("\n");
    reporter.print_ratio("BM_LibtinsParse", "BM_OursParse_NoChecksums",
                         "libtins / ours, neither verifying checksums: our speedup");
    reporter.print_ratio("BM_LibtinsParse", "BM_OursParse_VerifyChecksums",
                         "libtins (no checksum check) / ours verifying both checksums");
    reporter.print_ratio("BM_LibtinsSerialize", "BM_OursEmit",
                         "libtins serialize / our emit, both with checksums: our speedup");
    benchmark::Shutdown();
    return reporter.complete() ? 0 : 1;
}
