// SocketTable (stack/socket/socket_table.hpp): handles go stale when their slot is released and
// reused, only owned sockets are found and told, the event ring keeps one entry per socket with its
// bits OR-ed, std::hash<SocketHandle>; AcceptQueue (stack/tcp/listener.hpp): FIFO without shifting,
// removal from the middle, no allocation while unused.
#include "stack/socket/socket_table.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

#include "stack/tcp/listener.hpp"
#include "tests/support/alloc_counter.hpp"

namespace stack {
namespace {

struct Payload {
    int value = 0;
};

TEST(SocketTable, AllocatesLowestIndexFirstAndReusesReleasedSlotsLastInFirstOut) {
    SocketTable<Payload> t(3);
    EXPECT_EQ(t.allocate(), 0u);
    EXPECT_EQ(t.allocate(), 1u);
    t.release(0);
    EXPECT_EQ(t.allocate(), 0u);
    EXPECT_EQ(t.allocate(), 2u);
    EXPECT_TRUE(t.full());
    EXPECT_EQ(t.allocate(), std::nullopt);
}

TEST(SocketTable, ReleasedAndReusedSlotMakesOldHandlesStale) {
    SocketTable<Payload> t(4);
    const std::uint32_t i = *t.allocate();
    t.set_owned(i, true);
    t[i].value = 7;
    const SocketHandle old = t.handle(i);
    ASSERT_NE(t.find(old), nullptr);
    EXPECT_EQ(t.find(old)->value, 7);

    t.release(i);
    EXPECT_EQ(t.find(old), nullptr);
    const std::uint32_t j = *t.allocate();
    ASSERT_EQ(j, i);  // the same slot, a new occupant
    t.set_owned(j, true);
    EXPECT_EQ(t[j].value, 0);  // reset on release
    const SocketHandle now = t.handle(j);
    EXPECT_EQ(now.index, old.index);
    EXPECT_NE(now.generation, old.generation);
    EXPECT_EQ(t.find(old), nullptr);  // never reaches the next occupant
    EXPECT_NE(t.find(now), nullptr);
    EXPECT_EQ(t.find(SocketHandle{}), nullptr);
    EXPECT_EQ(t.find(SocketHandle{99, now.generation}), nullptr);
}

TEST(SocketTable, OnlyOwnedSocketsAreFoundAndNotified) {
    SocketTable<Payload> t(2);
    const std::uint32_t i = *t.allocate();
    EXPECT_EQ(t.find(t.handle(i)), nullptr);  // held by the protocol only
    t.notify(i, kEventReadable);
    SocketEvent ev;
    EXPECT_FALSE(t.next_event(ev));
    t.set_owned(i, true);
    EXPECT_NE(t.find(t.handle(i)), nullptr);
    t.notify(i, kEventReadable);
    ASSERT_TRUE(t.next_event(ev));
    EXPECT_EQ(ev.handle, t.handle(i));
    EXPECT_EQ(ev.bits, kEventReadable);
}

TEST(SocketTable, EventRingCoalescesBitsPerSocketInFirstNotifiedOrder) {
    SocketTable<Payload> t(4);
    const std::uint32_t a = *t.allocate(), b = *t.allocate(), c = *t.allocate();
    for (std::uint32_t i : {a, b, c}) t.set_owned(i, true);
    t.notify(b, kEventWritable);
    t.notify(a, kEventReadable);
    t.notify(b, kEventPeerClosed);
    t.notify(c, kEventConnected);
    t.notify(a, kEventReadable);
    t.release(c);  // its queued entry is skipped
    SocketEvent ev;
    ASSERT_TRUE(t.next_event(ev));
    EXPECT_EQ(ev.handle, t.handle(b));
    EXPECT_EQ(ev.bits, kEventWritable | kEventPeerClosed);
    ASSERT_TRUE(t.next_event(ev));
    EXPECT_EQ(ev.handle, t.handle(a));
    EXPECT_EQ(ev.bits, kEventReadable);
    EXPECT_FALSE(t.next_event(ev));
    // Reported bits are gone; a new notification queues the socket again.
    t.notify(a, kEventClosed);
    ASSERT_TRUE(t.next_event(ev));
    EXPECT_EQ(ev.bits, kEventClosed);
    EXPECT_FALSE(t.next_event(ev));
}

TEST(SocketTable, EventRingWrapsAroundWithoutLosingEntries) {
    SocketTable<Payload> t(3);
    for (int k = 0; k < 3; ++k) t.set_owned(*t.allocate(), true);
    SocketEvent ev;
    for (int round = 0; round < 5; ++round) {
        for (std::uint32_t i = 0; i < 3; ++i) t.notify(i, kEventReadable);
        for (std::uint32_t i = 0; i < 3; ++i) {
            ASSERT_TRUE(t.next_event(ev));
            EXPECT_EQ(ev.handle.index, i);
        }
        EXPECT_FALSE(t.next_event(ev));
    }
}

TEST(SocketTable, NothingAllocatesAfterConstruction) {
    SocketTable<Payload> t(8);
    tunstack_test::AllocationCounter allocs;
    for (int round = 0; round < 3; ++round) {
        for (int k = 0; k < 8; ++k) {
            const std::uint32_t i = *t.allocate();
            t.set_owned(i, true);
            t.notify(i, kEventReadable);
        }
        SocketEvent ev;
        while (t.next_event(ev)) t.release(ev.handle.index);
    }
    EXPECT_EQ(allocs.stop(), 0u);
}

TEST(SocketHandleHash, EqualHandlesHashEquallyAndGenerationsAreDistinctKeys) {
    const std::hash<SocketHandle> h;
    EXPECT_EQ(h(SocketHandle{3, 1}), h(SocketHandle{3, 1}));
    EXPECT_NE(h(SocketHandle{3, 1}), h(SocketHandle{3, 2}));
    EXPECT_NE(h(SocketHandle{3, 1}), h(SocketHandle{1, 3}));
    std::unordered_set<SocketHandle> set{{3, 1}, {3, 2}, {1, 3}};
    EXPECT_EQ(set.size(), 3u);
    EXPECT_EQ(set.count(SocketHandle{3, 2}), 1u);
    EXPECT_EQ(set.count(SocketHandle{2, 3}), 0u);
}

TEST(AcceptQueue, FifoAcrossGrowthAndWrap) {
    tcp::AcceptQueue q;
    std::uint32_t next_in = 0, next_out = 0;
    for (int round = 0; round < 50; ++round) {
        for (int k = 0; k < round % 7 + 1; ++k) q.push(next_in++);
        for (int k = 0; k < round % 5 + 1 && !q.empty(); ++k) {
            EXPECT_EQ(q.front(), next_out++);
            q.pop();
        }
        EXPECT_EQ(q.size(), next_in - next_out);
    }
    while (!q.empty()) {
        EXPECT_EQ(q.front(), next_out++);
        q.pop();
    }
    EXPECT_EQ(next_out, next_in);
}

TEST(AcceptQueue, RemoveFromTheMiddleKeepsTheOrder) {
    tcp::AcceptQueue q;
    for (std::uint32_t i = 0; i < 6; ++i) q.push(i);
    q.pop();
    q.push(6);  // wrapped in a ring of 8? either way the order holds
    EXPECT_TRUE(q.remove(3));
    EXPECT_FALSE(q.remove(3));
    EXPECT_FALSE(q.remove(0));  // already popped
    std::vector<std::uint32_t> got;
    while (!q.empty()) {
        got.push_back(q.front());
        q.pop();
    }
    EXPECT_EQ(got, (std::vector<std::uint32_t>{1, 2, 4, 5, 6}));
}

TEST(AcceptQueue, UnusedQueueAllocatesNothing) {
    tunstack_test::AllocationCounter allocs;
    tcp::Listener l;
    tcp::AcceptQueue q;
    EXPECT_TRUE(q.empty());
    EXPECT_FALSE(q.remove(1));
    EXPECT_TRUE(l.accept_queue.empty());
    EXPECT_EQ(allocs.stop(), 0u);
}

TEST(Listener, CookiesAreRecentOnlyWithinTheWindowAfterOneWasSent) {
    tcp::Listener l;
    l.backlog = 2;
    const Instant t0 = Instant::from_millis(1000);
    EXPECT_FALSE(l.cookies_recent(t0, 500));
    l.cookie_sent(t0);
    EXPECT_TRUE(l.cookies_recent(t0 + Duration::micros(500), 500));
    EXPECT_FALSE(l.cookies_recent(t0 + Duration::micros(501), 500));
    EXPECT_FALSE(l.syn_queue_full());
    l.syn_queue = 2;
    EXPECT_TRUE(l.syn_queue_full());
    l.accept_queue.push(1);
    EXPECT_FALSE(l.accept_queue_full());
    l.accept_queue.push(2);
    EXPECT_TRUE(l.accept_queue_full());
}

}  // namespace
}  // namespace stack
