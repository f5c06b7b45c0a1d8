// libFuzzer target for Stack::ingress: the whole IPv4 input path (validation, reassembly, ICMP, UDP,
// TCP reset, fragmentation of replies). One Stack per input, with small reassembly caps so eviction and
// no-memory paths are reachable. The input is fed as several variants:
//   1. the input, whole, as one packet;
//   2. the same with its header "repaired" (version 4, destination = our address, valid header
//      checksum), so the fuzzer gets past the cheap checks without having to learn the checksum;
//   3. a sequence of up to 4 packets, each prefixed by a 2-byte big-endian length (the last takes what
//      is left), each repaired as in 2 — this is how fragment sequences become reachable;
// with time advancing between packets (by an amount taken from the input) and a final poll past the
// reassembly timeout. Every output packet must parse as IPv4 with valid checksums, come from our address
// and fit the MTU; the reassembly gauges must stay within their caps, and return to zero at the end.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "stack/base/checksum.hpp"
#include "stack/stack.hpp"
#include "stack/wire/icmpv4.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "stack/wire/udp.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace stack {
namespace {

const wire::Ipv4Address kOurAddr(198, 18, 0, 2);

// Validates everything the stack sends.
class CheckingSink : public PacketSink {
public:
    explicit CheckingSink(std::size_t mtu) : mtu_(mtu) {}
    bool transmit(Bytes packet) override {
        FUZZ_CHECK(packet.size() <= mtu_);
        auto ip = wire::Ipv4Packet::parse(packet);
        FUZZ_CHECK(ip.ok());
        FUZZ_CHECK(ip->bytes().size() == packet.size());
        FUZZ_CHECK(ip->src() == kOurAddr);
        FUZZ_CHECK(ip->header_len() == 20);
        FUZZ_CHECK(!ip->dst().is_broadcast() && !ip->dst().is_multicast() &&
                   !ip->dst().is_unspecified());
        if (ip->is_fragment()) {
            FUZZ_CHECK(ip->frag_offset() % 8 == 0);
            if (ip->more_frags())
                FUZZ_CHECK(ip->payload().size() % 8 == 0 && !ip->payload().empty());
        } else {
            switch (ip->protocol()) {
                case 1: {
                    auto icmp = wire::Icmpv4Packet::parse(ip->payload());
                    FUZZ_CHECK(icmp.ok());
                    // Only echo replies and destination unreachable are ever sent.
                    FUZZ_CHECK(icmp->type() == 0 || icmp->type() == 3);
                    if (icmp->type() == 3) FUZZ_CHECK(packet.size() <= 576);
                    break;
                }
                case 6:
                    FUZZ_CHECK(wire::TcpPacket::parse(ip->payload(), ip->src(), ip->dst()).ok());
                    break;
                default: FUZZ_CHECK(false && "unexpected protocol in output");
            }
        }
        ++count;
        return true;
    }
    std::size_t count = 0;

private:
    std::size_t mtu_;
};

// Makes `p` pass the IPv4 checks that need no luck: version 4, our destination, a valid checksum.
// The IHL, lengths, addresses and flags stay whatever the fuzzer chose.
void repair(std::vector<std::uint8_t>& p) {
    if (p.size() < 20) return;
    p[0] = static_cast<std::uint8_t>(0x40 | (p[0] & 0x0f));
    store_be32(&p[16], kOurAddr.value);
    const std::size_t hlen = std::size_t{p[0] & 0x0fu} * 4;
    if (hlen < 20 || hlen > p.size()) return;
    store_be16(&p[10], 0);
    store_be16(&p[10], checksum::compute(Bytes(p.data(), hlen)));
}

struct Run {
    explicit Run(std::uint8_t knobs) {
        static constexpr std::uint16_t kMtus[] = {68, 296, 576, 1500};
        config.addr = kOurAddr;
        config.mtu = kMtus[knobs & 3];
        config.seed = knobs;
        config.tx_queue_frames = 64;
        config.reassembly.timeout = Duration::seconds(2);
        config.reassembly.max_bytes = 16 * 1024;
        config.reassembly.max_datagrams = 4;
        config.icmp.error_burst = 8;
        // Small TCP tables: a Stack is built per input.
        config.tcp.max_sockets = 8;
        config.tcp.send_buffer = 8 * 1024;
        config.tcp.recv_buffer = 8 * 1024;
    }
    StackConfig config;
};

void check_gauges(const Stack& stack) {
    const Stats& s = stack.stats();
    FUZZ_CHECK(s.ip.reasm_bytes_in_use <= stack.config().reassembly.max_bytes);
    FUZZ_CHECK(s.ip.reasm_datagrams_in_flight <= stack.config().reassembly.max_datagrams);
}

std::uint64_t ip_input_drops(const Stats& s) {
    return s.ip.drop_empty + s.ip.drop_ipv6 + s.ip.drop_bad_version + s.ip.drop_truncated +
           s.ip.drop_bad_ihl + s.ip.drop_bad_total_length + s.ip.drop_bad_checksum +
           s.ip.drop_bad_source + s.ip.drop_not_for_us;
}

void feed(Stack& stack, Instant& now, Bytes packet, CheckingSink& sink) {
    const std::uint64_t before = ip_input_drops(stack.stats());
    const std::uint64_t rx_before = stack.stats().ip.rx_packets;
    stack.ingress(now, packet);
    FUZZ_CHECK(stack.stats().ip.rx_packets == rx_before + 1);
    FUZZ_CHECK(ip_input_drops(stack.stats()) - before <= 1);  // at most one input-drop reason
    check_gauges(stack);
    stack.poll(now, sink);
    check_gauges(stack);
    FUZZ_CHECK(!stack.has_pending_output());
    FUZZ_CHECK(stack.poll_at() == Instant::never() || stack.poll_at() > now);
}

void finish(Stack& stack, Instant now, CheckingSink& sink) {
    stack.poll(now + stack.config().reassembly.timeout, sink);
    // Let TCP timers (SYN-ACK retransmissions of embryonic connections, TIME-WAIT) run out.
    for (int i = 0; i < 64 && stack.poll_at() != Instant::never(); ++i) {
        now = std::max(now, stack.poll_at());
        stack.poll(now, sink);
        check_gauges(stack);
    }
    FUZZ_CHECK(stack.stats().ip.reasm_bytes_in_use == 0);
    FUZZ_CHECK(stack.stats().ip.reasm_datagrams_in_flight == 0);
    FUZZ_CHECK(stack.poll_at() == Instant::never());
    FUZZ_CHECK(stack.stats().ip.tx_packets == sink.count);
}

}  // namespace
}  // namespace stack

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace stack;
    const Bytes in(data, size);
    const std::uint8_t knobs = size > 0 ? data[size - 1] : 0;

    // 1 and 2: the input as one packet, raw then repaired.
    {
        Run run(knobs);
        Stack stack(run.config);
        (void)stack.tcp().listen(80, 4);  // so segments reach the TCP state machine, not only RST
        CheckingSink sink(run.config.mtu);
        Instant now;
        feed(stack, now, in, sink);
        std::vector<std::uint8_t> fixed(in.begin(), in.end());
        repair(fixed);
        now += Duration::millis(1);
        feed(stack, now, fixed, sink);
        finish(stack, now, sink);
    }

    // 3: up to 4 length-prefixed packets, repaired, with time advancing by up to ~1 s between them.
    {
        Run run(knobs);
        Stack stack(run.config);
        (void)stack.tcp().listen(80, 4);  // so segments reach the TCP state machine, not only RST
        CheckingSink sink(run.config.mtu);
        Instant now;
        std::size_t pos = 0;
        for (int i = 0; i < 4 && pos + 2 <= size; ++i) {
            std::size_t len = load_be16(data + pos);
            pos += 2;
            len = (i == 3) ? size - pos : std::min(len, size - pos);
            std::vector<std::uint8_t> p(data + pos, data + pos + len);
            pos += len;
            repair(p);
            now += Duration::micros(std::int64_t{knobs} * 4000);
            feed(stack, now, p, sink);
        }
        finish(stack, now, sink);
    }
    return 0;
}
