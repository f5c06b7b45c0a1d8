// Regression: consume() emptying the ring must not move bytes already placed beyond the end by
// write_at() (found by TcpPair faults: out-of-order data came out 8688 bytes early).
#include <gtest/gtest.h>

#include "stack/base/ring_buffer.hpp"

namespace {

TEST(RingBufferRegression, ConsumeToEmptyKeepsDataPlacedAheadWithWriteAt) {
    stack::RingBuffer ring(16);
    const std::uint8_t head[4] = {1, 2, 3, 4};
    const std::uint8_t ahead[4] = {9, 9, 9, 9};
    ASSERT_EQ(ring.write(stack::Bytes(head)), 4u);
    ASSERT_EQ(ring.write_at(2, stack::Bytes(ahead)), 4u);  // out of order: 2 bytes of gap
    std::uint8_t out[4];
    ASSERT_EQ(ring.read(stack::MutBytes(out)), 4u);  // the ring is now empty
    const std::uint8_t gap[2] = {7, 7};
    ASSERT_EQ(ring.write(stack::Bytes(gap)), 2u);  // the gap arrives
    ring.commit(4);                                // and the data ahead becomes readable
    std::uint8_t all[6];
    ASSERT_EQ(ring.read(stack::MutBytes(all)), 6u);
    const std::uint8_t want[6] = {7, 7, 9, 9, 9, 9};
    EXPECT_TRUE(std::equal(all, all + 6, want));
}

}  // namespace
