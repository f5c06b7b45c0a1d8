// The TCP fast path allocates nothing (DESIGN.md §3.7): once a connection is established and warmed up,
// moving data between two stacks (segments in and out, ACKs both ways, delayed-ACK and RTO timers,
// send()/recv(), readiness events) makes zero heap allocations. The wire between the stacks is a set
// of preallocated frames so that only the stacks' own allocations are counted. With TSO the sender
// hands the wire super-packets, which the wire cuts into segments (drivers::segment_tcp4, into a
// preallocated scratch frame) as a TSO device would.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "drivers/gso.hpp"
#include "stack/stack.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/tcp/pair.hpp"

namespace tunstack_test {
namespace {

class FrameWire : public stack::PacketSink {
public:
    explicit FrameWire(std::size_t frames) : frames_(frames), sizes_(frames) {}

    bool transmit(stack::Bytes packet) override {
        if (count_ == frames_.size() || packet.size() > frames_[0].size()) return false;
        std::copy(packet.begin(), packet.end(), frames_[count_].begin());
        sizes_[count_++] = packet.size();
        return true;
    }
    bool transmit_gso(stack::Bytes packet, const stack::GsoInfo& gso) override {
        if (count_ + gso.segments > frames_.size()) return false;
        ++super_packets;
        const std::size_t n =
            drivers::segment_tcp4(packet, gso, scratch_, [&](stack::Bytes s) { transmit(s); });
        EXPECT_EQ(n, gso.segments);
        return true;
    }
    std::size_t super_packets = 0;
    // Hands every queued frame to `deliver`, in order, and empties the wire.
    template <class F>
    void drain(F&& deliver) {
        for (std::size_t i = 0; i < count_; ++i)
            deliver(stack::Bytes(frames_[i].data(), sizes_[i]));
        count_ = 0;
    }

private:
    std::vector<std::array<std::uint8_t, 1500>> frames_;
    std::array<std::uint8_t, 1500> scratch_{};
    std::vector<std::size_t> sizes_;
    std::size_t count_ = 0;
};

stack::StackConfig with_tso(stack::StackConfig c) {
    c.tso_max_size = 65535;
    return c;
}

struct Bulk {
    explicit Bulk(bool tso = false)
        : a(tso ? with_tso(pair_config(0xc6120001, 3)) : pair_config(0xc6120001, 3)) {}
    stack::Stack a;
    stack::Stack b{pair_config(0xc6120002, 4)};
    FrameWire ab{1024}, ba{1024};
    Instant now;
    stack::SocketHandle client, server;
    std::vector<std::uint8_t> data = std::vector<std::uint8_t>(64 * 1024, 0x5a);
    std::vector<std::uint8_t> rx = std::vector<std::uint8_t>(64 * 1024);

    void exchange() {
        a.poll(now, ab);
        b.poll(now, ba);
        ab.drain([&](stack::Bytes p) { b.ingress(now, p); });
        ba.drain([&](stack::Bytes p) { a.ingress(now, p); });
        a.poll(now, ab);
        b.poll(now, ba);
        stack::SocketEvent ev;
        while (a.tcp().next_event(ev)) {
        }
        while (b.tcp().next_event(ev)) {
        }
    }

    bool open() {
        auto l = b.tcp().listen(5001, 4);
        auto c = a.tcp().connect(now, b.config().addr, 5001);
        if (!l.ok() || !c.ok()) return false;
        client = *c;
        for (int i = 0; i < 100 && !server.valid(); ++i) {
            exchange();
            now += Duration::millis(1);
            if (auto s = b.tcp().accept(*l); s.ok()) server = *s;
        }
        return server.valid();
    }

    // Moves `bytes` from a to b; returns the bytes received (== bytes unless it stalled).
    std::size_t pump(std::size_t bytes) {
        std::size_t sent = 0, got = 0;
        for (long round = 0; got < bytes && round < 10'000'000; ++round) {
            while (sent < bytes) {
                const std::size_t chunk = std::min(bytes - sent, data.size());
                auto n = a.tcp().send(client, stack::Bytes(data.data(), chunk));
                if (!n.ok() || *n == 0) break;
                sent += *n;
            }
            exchange();
            for (;;) {
                auto n = b.tcp().recv(server, stack::MutBytes(rx));
                if (!n.ok() || *n == 0) break;
                got += *n;
            }
            now += Duration::micros(100);
        }
        return got;
    }
};

TEST(TcpAllocFree, BulkTransferAfterWarmUpAllocatesNothing) {
    Bulk t;
    ASSERT_TRUE(t.open());
    ASSERT_EQ(t.pump(2u << 20), 2u << 20);  // warm-up: windows open, rings touched
    const auto segments_before = t.b.stats().tcp.rx_segments;

    AllocationCounter counter;
    const std::size_t got = t.pump(16u << 20);
    const std::uint64_t allocations = counter.stop();

    EXPECT_EQ(got, 16u << 20);
    EXPECT_EQ(allocations, 0u);
    // It was the fast path that ran: thousands of data segments in, ACKs out, nothing lost.
    EXPECT_GT(t.b.stats().tcp.rx_segments - segments_before, 10'000u);
    EXPECT_GT(t.a.stats().tcp.rx_segments, 1'000u);
    EXPECT_EQ(t.a.stats().tcp.retransmits, 0u);
}

TEST(TcpAllocFree, BulkTransferWithTsoAllocatesNothing) {
    Bulk t(/*tso=*/true);
    ASSERT_TRUE(t.open());
    ASSERT_EQ(t.pump(2u << 20), 2u << 20);
    const auto supers_before = t.ab.super_packets;

    AllocationCounter counter;
    const std::size_t got = t.pump(16u << 20);
    const std::uint64_t allocations = counter.stop();

    EXPECT_EQ(got, 16u << 20);
    EXPECT_EQ(allocations, 0u);
    // The sender built super-packets (several segments each) and nothing was lost.
    EXPECT_GT(t.ab.super_packets - supers_before, 200u);  // 16 MB in about 64 KB each
    EXPECT_GT(t.a.stats().tcp.tx_segments, 20 * t.a.stats().tcp.tx_tso_packets);
    EXPECT_EQ(t.a.stats().tcp.retransmits, 0u);
}

}  // namespace
}  // namespace tunstack_test
