// TimerWheel: exact firing (never early, never skipped), each id once, ordering, cancel/reschedule (also
// from inside the callback), far-future deadlines, next_deadline(), and that advance() only touches
// entries that are due (Stats counters).
#include "stack/tcp/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace stack::tcp {
namespace {

Instant at_ms(std::int64_t ms) { return Instant::from_millis(ms); }
Instant at_us(std::int64_t us) { return Instant::from_micros(us); }

std::vector<std::uint32_t> advance(TimerWheel& w, Instant now) {
    std::vector<std::uint32_t> fired;
    w.advance(now, [&](std::uint32_t id) { fired.push_back(id); });
    return fired;
}

TEST(TimerWheel, FiresAtDeadlineNotBefore) {
    TimerWheel w(Duration::millis(1), 64, 16);
    w.schedule(3, at_us(1500));
    w.schedule(5, at_ms(10));
    EXPECT_EQ(w.size(), 2u);
    EXPECT_TRUE(advance(w, at_us(1400)).empty());
    EXPECT_EQ(advance(w, at_us(1500)), std::vector<std::uint32_t>{3});
    EXPECT_FALSE(w.is_scheduled(3));
    EXPECT_TRUE(advance(w, at_us(9999)).empty());
    EXPECT_EQ(advance(w, at_ms(50)), std::vector<std::uint32_t>{5});
    EXPECT_EQ(w.size(), 0u);
    EXPECT_TRUE(advance(w, at_ms(100)).empty());
}

TEST(TimerWheel, PastDeadlineFiresOnNextAdvance) {
    TimerWheel w(Duration::millis(1), 64, 4);
    EXPECT_TRUE(advance(w, at_ms(100)).empty());
    w.schedule(1, at_ms(50));
    EXPECT_EQ(w.next_deadline(), at_ms(50));
    EXPECT_EQ(advance(w, at_ms(100)), std::vector<std::uint32_t>{1});  // same now as before
}

TEST(TimerWheel, CancelAndReschedule) {
    TimerWheel w(Duration::millis(1), 32, 8);
    w.schedule(0, at_ms(100));
    w.schedule(1, at_ms(100));
    w.cancel(0);
    w.cancel(7);  // not scheduled: no-op
    EXPECT_EQ(w.size(), 1u);
    w.schedule(1, at_ms(50));  // earlier
    w.schedule(2, at_ms(20));
    w.schedule(2, at_ms(200));  // later
    EXPECT_EQ(w.size(), 2u);
    EXPECT_EQ(w.deadline(2), at_ms(200));
    EXPECT_EQ(advance(w, at_ms(60)), std::vector<std::uint32_t>{1});
    EXPECT_TRUE(advance(w, at_ms(199)).empty());
    EXPECT_EQ(advance(w, at_ms(200)), std::vector<std::uint32_t>{2});
}

TEST(TimerWheel, NextDeadlineIsExact) {
    TimerWheel w(Duration::millis(1), 16, 8);
    EXPECT_EQ(w.next_deadline(), Instant::never());
    w.schedule(0, at_us(123456789));  // far: a high level
    w.schedule(1, at_us(2500));       // level 0
    w.schedule(2, at_us(2100));       // same tick as 1
    w.schedule(3, at_us(40000));      // level 1
    EXPECT_EQ(w.next_deadline(), at_us(2100));
    (void)advance(w, at_us(2200));
    EXPECT_EQ(w.next_deadline(), at_us(2500));
    (void)advance(w, at_ms(3));
    EXPECT_EQ(w.next_deadline(), at_us(40000));
    (void)advance(w, at_ms(41));
    EXPECT_EQ(w.next_deadline(), at_us(123456789));
    w.schedule(4, Instant::never());
    (void)advance(w, at_us(123456789));
    EXPECT_EQ(w.next_deadline(), Instant::never());
    EXPECT_EQ(w.size(), 1u);
}

// Many ids with random deadlines, advanced in random steps: each fires exactly once, never before its
// deadline, never later than the first advance() whose `now` reached it, and in tick order.
TEST(TimerWheel, RandomDeadlinesFireOnceInOrder) {
    for (std::size_t slots : {4u, 64u, 256u}) {
        constexpr std::uint32_t kIds = 4000;
        TimerWheel w(Duration::millis(1), slots, kIds);
        std::uint64_t state = 99 + slots;
        auto rnd = [&state](std::uint64_t n) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            return (state >> 33) % n;
        };
        std::vector<std::int64_t> deadline_us(kIds);
        for (std::uint32_t id = 0; id < kIds; ++id) {
            // Mostly within 20 s, some up to a day away.
            deadline_us[id] =
                static_cast<std::int64_t>(rnd(8) == 0 ? rnd(86'400'000'000ull) : rnd(20'000'000));
            w.schedule(id, at_us(deadline_us[id]));
        }
        std::vector<int> fired(kIds, 0);
        std::int64_t prev_now = -1;
        std::int64_t now = 0;
        while (w.size() > 0) {
            now += static_cast<std::int64_t>(rnd(4) == 0 ? rnd(3'600'000'000ull) : rnd(50'000));
            std::int64_t last_tick = -1;
            w.advance(at_us(now), [&](std::uint32_t id) {
                ++fired[id];
                EXPECT_LE(deadline_us[id], now) << "early";
                EXPECT_GT(deadline_us[id], prev_now) << "late";
                const std::int64_t tick = deadline_us[id] / 1000;
                EXPECT_GE(tick, last_tick) << "order";
                last_tick = tick;
            });
            EXPECT_TRUE(w.next_deadline() > at_us(now));
            prev_now = now;
        }
        for (std::uint32_t id = 0; id < kIds; ++id) ASSERT_EQ(fired[id], 1) << id;
    }
}

TEST(TimerWheel, FarFutureDeadlinesBeyondAllLevels) {
    // 8 slots of 1 ms: the levels cover 8^8 ticks (about 4.7 h); 10 days needs the overflow list.
    TimerWheel w(Duration::millis(1), 8, 4);
    const std::int64_t ten_days_ms = 10LL * 24 * 3600 * 1000;
    w.schedule(0, at_ms(ten_days_ms));
    w.schedule(1, at_ms(ten_days_ms + 1));
    w.schedule(2, at_ms(5));
    EXPECT_EQ(w.next_deadline(), at_ms(5));
    EXPECT_EQ(advance(w, at_ms(5)), std::vector<std::uint32_t>{2});
    EXPECT_EQ(w.next_deadline(), at_ms(ten_days_ms));
    std::int64_t now = 0;
    while (now + 3'600'000 < ten_days_ms) {
        now += 3'600'000;
        ASSERT_TRUE(advance(w, at_ms(now)).empty()) << now;
    }
    EXPECT_TRUE(advance(w, at_ms(ten_days_ms - 1)).empty());
    EXPECT_EQ(advance(w, at_ms(ten_days_ms)), std::vector<std::uint32_t>{0});
    EXPECT_EQ(advance(w, at_ms(ten_days_ms + 1)), std::vector<std::uint32_t>{1});
}

TEST(TimerWheel, LargeClockOrigin) {
    // CLOCK_MONOTONIC-like instants (days of uptime): the first advance jumps there without work.
    TimerWheel w(Duration::millis(1), 256, 4);
    const std::int64_t base = 5LL * 24 * 3600 * 1'000'000;
    w.schedule(0, at_us(base + 200'000));
    EXPECT_TRUE(advance(w, at_us(base)).empty());
    EXPECT_TRUE(advance(w, at_us(base + 199'999)).empty());
    EXPECT_EQ(advance(w, at_us(base + 200'000)), std::vector<std::uint32_t>{0});
}

TEST(TimerWheel, AdvanceTouchesOnlyDueEntries) {
    constexpr std::uint32_t kFar = 10000;
    TimerWheel w(Duration::millis(1), 256, kFar + 10);
    for (std::uint32_t id = 0; id < kFar; ++id) {
        w.schedule(id, at_ms(3'600'000 + static_cast<std::int64_t>(id) * 360));  // 1 h .. 2 h
    }
    for (std::uint32_t i = 0; i < 10; ++i) w.schedule(kFar + i, at_ms(10 + 10 * i));
    auto fired = advance(w, at_ms(200));
    EXPECT_EQ(fired.size(), 10u);
    EXPECT_EQ(w.stats().entries_visited, 10u);
    EXPECT_EQ(w.stats().cascaded, 0u);
    // Thirty idle minutes: no entry is due, none is touched.
    EXPECT_TRUE(advance(w, at_ms(1'800'000)).empty());
    EXPECT_EQ(w.stats().entries_visited, 10u);
    // Over the whole far range every entry fires once; each is touched at most once per level on the
    // way down (cascades) plus its firing.
    std::vector<int> count(kFar, 0);
    for (std::int64_t now = 1'800'000; now <= 7'300'000; now += 100) {
        w.advance(at_ms(now), [&](std::uint32_t id) { ++count[id]; });
    }
    for (int c : count) ASSERT_EQ(c, 1);
    EXPECT_EQ(w.stats().fired, kFar + 10);
    EXPECT_LE(w.stats().entries_visited, w.stats().fired + w.stats().cascaded + 100);
    EXPECT_LE(w.stats().cascaded, std::uint64_t{kFar} * (w.levels() - 1));
}

TEST(TimerWheel, RescheduleFromCallbackFiresLater) {
    TimerWheel w(Duration::millis(1), 64, 4);
    w.schedule(0, at_ms(10));
    int calls = 0;
    w.advance(at_ms(10), [&](std::uint32_t id) {
        ++calls;
        w.schedule(id, at_ms(20));  // periodic timer
        w.schedule(1, at_ms(5));    // already past: still not in this call
    });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(w.size(), 2u);
    EXPECT_EQ(w.next_deadline(), at_ms(5));
    EXPECT_EQ(advance(w, at_ms(10)), std::vector<std::uint32_t>{1});
    EXPECT_EQ(advance(w, at_ms(20)), std::vector<std::uint32_t>{0});
}

TEST(TimerWheel, CancelFromCallbackSuppressesAnotherDueId) {
    TimerWheel w(Duration::millis(1), 64, 4);
    w.schedule(0, at_ms(7));
    w.schedule(1, at_ms(7));
    w.schedule(2, at_us(7500));
    std::vector<std::uint32_t> fired;
    w.advance(at_ms(8), [&](std::uint32_t id) {
        fired.push_back(id);
        for (std::uint32_t other : {0u, 1u, 2u}) w.cancel(other);  // whichever fires first wins
    });
    EXPECT_EQ(fired.size(), 1u);
    EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, SameTickEntriesLaterThanNowStayQueued) {
    TimerWheel w(Duration::millis(10), 16, 4);
    w.schedule(0, at_ms(12));
    w.schedule(1, at_ms(18));
    EXPECT_EQ(advance(w, at_ms(15)), std::vector<std::uint32_t>{0});
    EXPECT_EQ(w.next_deadline(), at_ms(18));
    EXPECT_EQ(advance(w, at_ms(18)), std::vector<std::uint32_t>{1});
}

}  // namespace
}  // namespace stack::tcp
