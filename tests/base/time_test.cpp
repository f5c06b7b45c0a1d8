#include "stack/base/time.hpp"

#include <gtest/gtest.h>

namespace stack {
namespace {

TEST(Time, InstantArithmeticIsExact) {
    Instant t = Instant::from_millis(5);
    EXPECT_EQ((t + Duration::micros(250)).as_micros(), 5250);
    EXPECT_EQ((t - Duration::millis(5)).as_micros(), 0);
    EXPECT_EQ((Instant::from_millis(7) - t).as_micros(), 2000);
    t += Duration::seconds(1);
    EXPECT_EQ(t.as_millis(), 1005);
}

TEST(Time, NeverPlusADurationStaysNever) {
    EXPECT_EQ(Instant::never() + Duration::seconds(60), Instant::never());
    Instant t = Instant::never();
    t += Duration::millis(1);
    EXPECT_EQ(t, Instant::never());
    EXPECT_LT(Instant::from_millis(1), Instant::never());
}

}  // namespace
}  // namespace stack
