// Instant and Duration: the stack's notion of time, in microseconds since an arbitrary origin.
//
// There is deliberately no now(): protocol code cannot read a clock. The event loop (drivers/) is the only
// reader of CLOCK_MONOTONIC and passes `Instant now` into the stack; tests start at Instant{} and advance
// by exact amounts, which makes every timer behaviour deterministic.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>

namespace stack {

class Duration {
public:
    constexpr Duration() = default;
    static constexpr Duration micros(std::int64_t us) { return Duration(us); }
    static constexpr Duration millis(std::int64_t ms) { return Duration(ms * 1000); }
    static constexpr Duration seconds(std::int64_t s) { return Duration(s * 1'000'000); }
    static constexpr Duration zero() { return Duration(0); }

    constexpr std::int64_t as_micros() const { return us_; }
    constexpr std::int64_t as_millis() const { return us_ / 1000; }

    constexpr auto operator<=>(const Duration&) const = default;
    constexpr Duration operator+(Duration o) const { return Duration(us_ + o.us_); }
    constexpr Duration operator-(Duration o) const { return Duration(us_ - o.us_); }
    constexpr Duration operator*(std::int64_t k) const { return Duration(us_ * k); }
    constexpr Duration operator/(std::int64_t k) const { return Duration(us_ / k); }
    constexpr Duration& operator+=(Duration o) {
        us_ += o.us_;
        return *this;
    }

private:
    constexpr explicit Duration(std::int64_t us) : us_(us) {}
    std::int64_t us_ = 0;
};

class Instant {
public:
    constexpr Instant() = default;
    static constexpr Instant from_micros(std::int64_t us) { return Instant(us); }
    static constexpr Instant from_millis(std::int64_t ms) { return Instant(ms * 1000); }
    // A deadline that never comes: poll_at() returns this when nothing is scheduled.
    static constexpr Instant never() { return Instant(std::numeric_limits<std::int64_t>::max()); }

    constexpr std::int64_t as_micros() const { return us_; }
    constexpr std::int64_t as_millis() const { return us_ / 1000; }

    constexpr auto operator<=>(const Instant&) const = default;
    // Saturating: never() + d stays never(), so deadline arithmetic cannot overflow (signed overflow
    // would be undefined behaviour).
    constexpr Instant operator+(Duration d) const {
        std::int64_t r = 0;
        if (__builtin_add_overflow(us_, d.as_micros(), &r)) {
            return d.as_micros() > 0 ? never() : Instant(std::numeric_limits<std::int64_t>::min());
        }
        return Instant(r);
    }
    constexpr Instant operator-(Duration d) const {
        return *this + Duration::micros(-d.as_micros());
    }
    constexpr Duration operator-(Instant o) const { return Duration::micros(us_ - o.us_); }
    constexpr Instant& operator+=(Duration d) { return *this = *this + d; }

private:
    constexpr explicit Instant(std::int64_t us) : us_(us) {}
    std::int64_t us_ = 0;
};

}  // namespace stack
