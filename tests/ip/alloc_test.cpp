// The fast path allocates nothing (DESIGN.md §3.7): after warm-up, answering pings (ingress + poll)
// makes zero heap allocations. The counter is tests/support/alloc_counter.hpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "stack/stack.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/ip_packets.hpp"

namespace stack::testing {
namespace {

using tunstack_test::AllocationCounter;

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

}  // namespace
}  // namespace stack::testing
