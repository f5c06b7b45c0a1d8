// RingBuffer: wraparound at every start offset, partial writes/reads, zero-copy spans, and out-of-order
// filling with write_at() + commit() as the TCP receiver uses it.
#include "stack/base/ring_buffer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <vector>

namespace stack {
namespace {

std::vector<std::uint8_t> seq_bytes(std::size_t n, std::uint8_t start = 0) {
    std::vector<std::uint8_t> v(n);
    std::iota(v.begin(), v.end(), start);
    return v;
}

std::vector<std::uint8_t> concat(std::pair<Bytes, Bytes> spans) {
    std::vector<std::uint8_t> v(spans.first.begin(), spans.first.end());
    v.insert(v.end(), spans.second.begin(), spans.second.end());
    return v;
}

// Loads `data` so that it starts at storage position `offset` (a ring that becomes empty rewinds to
// position 0, so the read position is moved while data is still present).
void load_at(RingBuffer& r, std::size_t offset, Bytes data) {
    ASSERT_TRUE(r.empty());
    ASSERT_LE(data.size(), r.capacity());
    std::vector<std::uint8_t> junk(offset, 0xee);
    ASSERT_EQ(r.write(junk), offset);
    const std::size_t first = std::min(data.size(), r.capacity() - offset);
    ASSERT_EQ(r.write(data.first(first)), first);
    r.consume(offset);
    ASSERT_EQ(r.write(data.subspan(first)), data.size() - first);
    ASSERT_EQ(r.size(), data.size());
}

TEST(RingBuffer, StartsEmpty) {
    RingBuffer r(10);
    EXPECT_EQ(r.size(), 0u);
    EXPECT_EQ(r.capacity(), 10u);
    EXPECT_EQ(r.free(), 10u);
    EXPECT_TRUE(r.empty());
    auto [a, b] = r.readable();
    EXPECT_TRUE(a.empty());
    EXPECT_TRUE(b.empty());
}

TEST(RingBuffer, WriteTruncatesAtCapacityAndReadConsumes) {
    RingBuffer r(7);
    auto data = seq_bytes(10);
    EXPECT_EQ(r.write(data), 7u);
    EXPECT_EQ(r.free(), 0u);
    EXPECT_EQ(r.write(data), 0u);
    std::vector<std::uint8_t> out(4);
    EXPECT_EQ(r.read(out), 4u);
    EXPECT_EQ(out, seq_bytes(4));
    EXPECT_EQ(r.size(), 3u);
    std::vector<std::uint8_t> rest(10);
    EXPECT_EQ(r.read(rest), 3u);
    EXPECT_EQ(std::vector<std::uint8_t>(rest.begin(), rest.begin() + 3), seq_bytes(3, 4));
    EXPECT_TRUE(r.empty());
}

// For a non-power-of-two capacity, every start offset and every fill level round-trips exactly.
TEST(RingBuffer, WraparoundAtEveryOffset) {
    constexpr std::size_t kCap = 13;
    for (std::size_t offset = 0; offset < kCap; ++offset) {
        for (std::size_t len = 0; len <= kCap; ++len) {
            RingBuffer r(kCap);
            auto data = seq_bytes(len, static_cast<std::uint8_t>(offset * 16));
            load_at(r, offset, data);
            EXPECT_EQ(concat(r.readable()), data) << "offset " << offset << " len " << len;
            // Spans: the second is used only when the data crosses the end of the storage.
            auto [a, b] = r.readable();
            EXPECT_EQ(a.size(), len == 0 ? 0 : std::min(len, kCap - offset))
                << offset << "/" << len;
            EXPECT_EQ(b.size(), len - a.size());
            for (std::size_t p = 0; p <= len; ++p) {
                std::vector<std::uint8_t> out(kCap, 0);
                const std::size_t got = r.peek(p, out);
                ASSERT_EQ(got, len - p);
                EXPECT_TRUE(std::equal(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(got),
                                       data.begin() + static_cast<std::ptrdiff_t>(p)));
            }
            std::vector<std::uint8_t> out(len);
            ASSERT_EQ(r.read(out), len);
            EXPECT_EQ(out, data);
        }
    }
}

TEST(RingBuffer, ReadableOffsetAndMax) {
    RingBuffer r(8);
    load_at(r, 5, seq_bytes(8, 100));
    // Storage: positions 5,6,7 then 0..4.
    auto [a, b] = r.readable(1, 4);  // bytes 1..4: positions 6,7 | 0,1
    EXPECT_EQ(a.size(), 2u);
    EXPECT_EQ(b.size(), 2u);
    EXPECT_EQ(concat({a, b}), (std::vector<std::uint8_t>{101, 102, 103, 104}));
    auto [c, d] = r.readable(3);  // from position 0 onwards: one span
    EXPECT_EQ(c.size(), 5u);
    EXPECT_TRUE(d.empty());
    auto [e, f] = r.readable(8);
    EXPECT_TRUE(e.empty());
    EXPECT_TRUE(f.empty());
    EXPECT_EQ(concat(r.readable(0, 0)).size(), 0u);
}

TEST(RingBuffer, WritableAndCommitZeroCopy) {
    RingBuffer r(10);
    load_at(r, 7, seq_bytes(2));  // positions 7,8
    auto [a, b] = r.writable();   // free: position 9 | 0..6
    EXPECT_EQ(a.size(), 1u);
    EXPECT_EQ(b.size(), 7u);
    a[0] = 50;
    b[0] = 51;
    b[1] = 52;
    r.commit(3);
    EXPECT_EQ(concat(r.readable()), (std::vector<std::uint8_t>{0, 1, 50, 51, 52}));
    EXPECT_EQ(r.free(), 5u);
}

// Emptying the ring does not rewind it: data already placed past the end by write_at() stays valid
// (see tests/tcp/ring_regression_test.cpp); a full-capacity write then wraps into two spans.
TEST(RingBuffer, ConsumeToEmptyKeepsPosition) {
    RingBuffer r(6);
    ASSERT_EQ(r.write(seq_bytes(4)), 4u);
    r.consume(4);
    ASSERT_EQ(r.write(seq_bytes(6)), 6u);
    auto [a, b] = r.readable();
    EXPECT_EQ(a.size(), 2u);
    EXPECT_EQ(b.size(), 4u);
}

// write_at() stores out-of-order data past the end without making it readable; commit() exposes it once
// the gap is filled, exactly as TCP reassembly does.
TEST(RingBuffer, WriteAtFillsOutOfOrderThenCommit) {
    for (std::size_t offset = 0; offset < 11; ++offset) {
        RingBuffer r(11);
        load_at(r, offset, seq_bytes(2, 0));  // in order: bytes 0,1
        // Segment 3 (bytes 6..8) then segment 2 (bytes 4..5) arrive before bytes 2..3.
        EXPECT_EQ(r.write_at(4, seq_bytes(3, 6)), 3u);
        EXPECT_EQ(r.size(), 2u);  // not readable yet
        EXPECT_EQ(r.write_at(2, seq_bytes(2, 4)), 2u);
        EXPECT_EQ(r.size(), 2u);
        // The missing bytes 2..3 arrive in order: write them at 0 and commit all that is contiguous.
        EXPECT_EQ(r.write_at(0, seq_bytes(2, 2)), 2u);
        r.commit(7);
        EXPECT_EQ(concat(r.readable()), seq_bytes(9)) << "offset " << offset;
        EXPECT_EQ(r.free(), 2u);
    }
}

TEST(RingBuffer, WriteAtTruncatesAtFreeSpace) {
    RingBuffer r(8);
    ASSERT_EQ(r.write(seq_bytes(3)), 3u);  // free 5
    EXPECT_EQ(r.write_at(5, seq_bytes(1)), 0u);
    EXPECT_EQ(r.write_at(7, seq_bytes(1)), 0u);
    EXPECT_EQ(r.write_at(3, seq_bytes(4, 40)), 2u);  // only bytes at offsets 3,4 fit
    r.commit(5);
    EXPECT_EQ(r.size(), 8u);
    auto tail = concat(r.readable(6));
    EXPECT_EQ(tail, (std::vector<std::uint8_t>{40, 41}));
}

TEST(RingBuffer, WriteOverwritesOutOfOrderBytesItCovers) {
    RingBuffer r(8);
    ASSERT_EQ(r.write_at(2, seq_bytes(2, 90)), 2u);
    ASSERT_EQ(r.write(seq_bytes(3)), 3u);  // covers offsets 0..2, overwriting the 90
    r.commit(1);                           // offset 3 (the 91) becomes readable
    EXPECT_EQ(concat(r.readable()), (std::vector<std::uint8_t>{0, 1, 2, 91}));
}

TEST(RingBuffer, ZeroCapacityMovesNothing) {
    RingBuffer r(0);
    auto data = seq_bytes(4);
    EXPECT_EQ(r.write(data), 0u);
    EXPECT_EQ(r.write_at(0, data), 0u);
    std::vector<std::uint8_t> out(4);
    EXPECT_EQ(r.read(out), 0u);
    EXPECT_EQ(r.peek(0, out), 0u);
    auto [a, b] = r.writable();
    EXPECT_TRUE(a.empty() && b.empty());
    r.commit(0);
    r.consume(0);
    EXPECT_TRUE(r.empty());
}

TEST(RingBuffer, MoveLeavesSourceEmpty) {
    RingBuffer a(5);
    ASSERT_EQ(a.write(seq_bytes(3)), 3u);
    RingBuffer b(std::move(a));
    EXPECT_EQ(b.size(), 3u);
    EXPECT_EQ(concat(b.readable()), seq_bytes(3));
    EXPECT_EQ(a.capacity(), 0u);  // NOLINT(bugprone-use-after-move): documented state
    EXPECT_EQ(a.write(seq_bytes(2)), 0u);
}

// A long randomised stream through a small odd-sized ring, mixing copy and zero-copy paths.
TEST(RingBuffer, StreamIntegrityUnderMixedOperations) {
    RingBuffer r(37);
    std::uint64_t state = 12345;
    auto rnd = [&state](std::size_t n) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<std::size_t>((state >> 33) % n);
    };
    std::uint8_t next_in = 0;
    std::uint8_t next_out = 0;
    for (int step = 0; step < 20000; ++step) {
        if (rnd(2) == 0) {
            std::vector<std::uint8_t> chunk(rnd(40));
            for (auto& c : chunk) c = next_in++;
            const std::size_t n = r.write(chunk);
            next_in = static_cast<std::uint8_t>(next_in - (chunk.size() - n));
        } else if (rnd(2) == 0) {
            std::vector<std::uint8_t> out(rnd(40));
            const std::size_t n = r.read(out);
            for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], next_out++);
        } else {
            auto [a, b] = r.readable(0, rnd(40));
            for (auto c : a) ASSERT_EQ(c, next_out++);
            for (auto c : b) ASSERT_EQ(c, next_out++);
            r.consume(a.size() + b.size());
        }
        ASSERT_LE(r.size(), r.capacity());
    }
}

}  // namespace
}  // namespace stack
