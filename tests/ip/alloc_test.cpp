// The fast path allocates nothing (DESIGN.md §3.7): after warm-up, answering pings (ingress + poll)
// makes zero heap allocations.
//
// This file replaces the global operator new/delete for the whole unit_tests binary. The replacements
// forward to malloc/free (so behaviour is unchanged everywhere) and only count while `g_counting` is set,
// which happens only inside AllocationCounter's scope, on the thread that set it.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "stack/stack.hpp"
#include "tests/support/ip_packets.hpp"
#include "tests/tcp/script.hpp"

namespace {
// Thread-local: other threads (there are none in these tests, but gtest may grow some) never count.
thread_local bool g_counting = false;          // NOLINT(*-avoid-non-const-global-variables)
thread_local std::uint64_t g_allocations = 0;  // NOLINT(*-avoid-non-const-global-variables)

void* counted_alloc(std::size_t n) {
    if (g_counting) ++g_allocations;
    if (n == 0) n = 1;
    void* p = std::malloc(n);
    if (p == nullptr) throw std::bad_alloc();
    return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    if (g_counting) ++g_allocations;
    return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    if (g_counting) ++g_allocations;
    return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace stack::testing {
namespace {

class AllocationCounter {
public:
    AllocationCounter() {
        g_allocations = 0;
        g_counting = true;
    }
    ~AllocationCounter() { g_counting = false; }
    AllocationCounter(const AllocationCounter&) = delete;
    AllocationCounter& operator=(const AllocationCounter&) = delete;
    std::uint64_t stop() {
        g_counting = false;
        return g_allocations;
    }
};

// A sink that copies into a fixed buffer: no allocation of its own.
class FixedSink : public PacketSink {
public:
    bool transmit(Bytes packet) override {
        if (packet.size() > sizeof(last_)) return false;
        std::copy(packet.begin(), packet.end(), last_);
        last_len_ = packet.size();
        ++count_;
        return true;
    }
    std::size_t count() const { return count_; }
    Bytes last() const { return Bytes(last_, last_len_); }

private:
    std::uint8_t last_[1500] = {};
    std::size_t last_len_ = 0;
    std::size_t count_ = 0;
};

TEST(IpAllocFree, CounterSeesAllocationsInsideTheScope) {
    AllocationCounter counter;
    void* p = ::operator new(24);  // a direct call: unlike a new-expression, it cannot be elided
    const std::uint64_t n = counter.stop();
    ::operator delete(p);
    EXPECT_EQ(n, 1u);
}

TEST(IpAllocFree, TenThousandPingsAfterWarmUpAllocateNothing) {
    Stack stack(default_config());
    std::vector<Packet> requests;
    for (std::uint16_t seq = 0; seq < 16; ++seq)
        requests.push_back(echo_request(pattern(56, seq), 7, seq));
    FixedSink sink;
    Instant now;
    for (const Packet& r : requests) {  // warm-up
        stack.ingress(now, r);
        stack.poll(now, sink);
    }
    ASSERT_EQ(sink.count(), requests.size());

    std::uint64_t allocations = 0;
    {
        AllocationCounter counter;
        for (int i = 0; i < 10'000; ++i) {
            now += Duration::millis(1);
            stack.ingress(now, requests[static_cast<std::size_t>(i) % requests.size()]);
            stack.poll(now, sink);
            (void)stack.poll_at();
        }
        allocations = counter.stop();
    }
    EXPECT_EQ(allocations, 0u);
    EXPECT_EQ(sink.count(), requests.size() + 10'000);
    EXPECT_EQ(stat(stack, "icmp.tx_echo_reply"), requests.size() + 10'000);
    EXPECT_EQ(sink.last().size(), 84u);
}

// Drops, errors and UDP also stay off the heap (malformed input must not be an allocation lever).
TEST(IpAllocFree, DropsAndErrorsAllocateNothing) {
    Stack stack(default_config());
    Packet bad_sum = echo_request(pattern(56));
    bad_sum[10] ^= 1;
    const std::vector<Packet> inputs = {
        udp_packet(pattern(100), 9),
        ipv4_packet(ip_header(kPeerAddr, kOurAddr, 47), pattern(30)),
        bad_sum,
        echo_request(pattern(56), 1, 1, kPeerAddr, wire::Ipv4Address{10, 0, 0, 1}),
        Packet{0x60, 0, 0, 0},
        Packet{},
    };
    FixedSink sink;
    Instant now;
    for (const Packet& p : inputs) {
        stack.ingress(now, p);
        stack.poll(now, sink);
    }
    AllocationCounter counter;
    for (int i = 0; i < 1000; ++i) {
        now += Duration::millis(1);
        stack.ingress(now, inputs[static_cast<std::size_t>(i) % inputs.size()]);
        stack.poll(now, sink);
    }
    EXPECT_EQ(counter.stop(), 0u);
}

// Takes plain packets and TSO super-packets without allocating; remembers the highest TCP sequence
// number sent (one past the last payload byte).
class TsoSink : public PacketSink {
public:
    bool transmit(Bytes packet) override { return take(packet); }
    bool transmit_gso(Bytes packet, const GsoInfo& gso) override {
        ++super_packets;
        segments += gso.segments;
        return take(packet);
    }
    std::uint32_t end = 0;
    std::size_t super_packets = 0, segments = 0, packets = 0;

private:
    bool take(Bytes p) {
        ++packets;
        const std::size_t ihl = std::size_t{p[0] & 0x0fu} * 4;
        const std::size_t thl = std::size_t{p[ihl + 12]} / 16 * 4;
        const std::uint32_t seq_end =
            load_be32(&p[ihl + 4]) + static_cast<std::uint32_t>(p.size() - ihl - thl);
        if (static_cast<std::int32_t>(seq_end - end) > 0 || packets == 1) end = seq_end;
        return true;
    }
};

// With TSO (super-segments of up to 44 MSS), bulk sending - send(), super-segments out, the peer's
// ACKs in - allocates nothing either once warmed up.
TEST(IpAllocFree, TsoBulkSendAllocatesNothing) {
    tcpscript::Script s([](StackConfig& c) {
        c.tso_max_size = 65535;
        c.tcp.send_buffer = 1 << 20;
    });
    auto conn = s.passive_open(1000, {.mss = 1460, .wscale = 7, .sack_ok = true});
    TsoSink sink;
    const Packet app(64 * 1024, 0x5a);
    Instant now = s.now();
    std::uint64_t allocations = 0;
    std::size_t supers_counted = 0;
    for (int round = 0; round < 300; ++round) {
        now += Duration::millis(1);
        // The peer acknowledges everything sent so far (the packet is built before counting).
        const Packet ack_in = s.build(tcpscript::ack(1001, sink.end - s.iss()));
        const std::size_t supers_before = sink.super_packets;
        AllocationCounter counter;
        if (round > 0) s.stack().ingress(now, ack_in);
        (void)s.tcp().send(now, conn, Bytes(app));
        s.stack().poll(now, sink);
        (void)s.stack().poll_at();
        const std::uint64_t n = counter.stop();
        if (round >= 50) {
            allocations += n;
            supers_counted += sink.super_packets - supers_before;
        }
    }
    EXPECT_EQ(allocations, 0u);
    EXPECT_GE(supers_counted, 250u);  // at least one per round
    EXPECT_GT(sink.segments, 40 * sink.super_packets / 2);
    EXPECT_EQ(stat(s.stack(), "tcp.retransmits"), 0u);
}

}  // namespace
}  // namespace stack::testing
