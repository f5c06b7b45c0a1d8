#include "stack/tcp/timer_wheel.hpp"

#include <algorithm>

#include "stack/base/assert.hpp"

namespace stack::tcp {

namespace {
constexpr std::int64_t kLevelSpanGoal = std::int64_t{1} << 36;  // ticks the levels should cover
}

TimerWheel::TimerWheel(Duration tick, std::size_t slots, std::size_t max_entries)
    : tick_us_(tick.as_micros()), slots_(slots) {
    STACK_ASSERT(tick_us_ > 0);
    STACK_ASSERT(slots >= 2 && slots <= 65536);
    STACK_ASSERT(max_entries < kNil);
    span_[0] = 1;
    while (levels_ < kMaxLevels && span_[levels_] < kLevelSpanGoal) {
        span_[levels_ + 1] = span_[levels_] * static_cast<std::int64_t>(slots_);
        ++levels_;
    }
    heads_.assign(levels_ * slots_ + 3, kNil);
    group_count_.assign(levels_ + 3, 0);
    next_.assign(max_entries, kNil);
    prev_.assign(max_entries, kNil);
    list_.assign(max_entries, kNil);
    deadline_us_.assign(max_entries, 0);
}

std::int64_t TimerWheel::tick_of(std::int64_t us) const {
    std::int64_t q = us / tick_us_;
    if (us % tick_us_ != 0 && us < 0) --q;  // floor
    return q;
}

std::size_t TimerWheel::group_of(std::uint32_t list) const {
    return list < overflow_list() ? list / slots_ : levels_ + (list - overflow_list());
}

void TimerWheel::link(std::uint32_t id, std::uint32_t list) {
    const std::uint32_t head = heads_[list];
    next_[id] = head;
    prev_[id] = kNil;
    if (head != kNil) prev_[head] = id;
    heads_[list] = id;
    list_[id] = list;
    ++group_count_[group_of(list)];
    ++size_;
}

void TimerWheel::unlink(std::uint32_t id) {
    const std::uint32_t list = list_[id];
    if (list == kNil) return;
    if (prev_[id] != kNil) {
        next_[prev_[id]] = next_[id];
    } else {
        heads_[list] = next_[id];
    }
    if (next_[id] != kNil) prev_[next_[id]] = prev_[id];
    next_[id] = prev_[id] = list_[id] = kNil;
    --group_count_[group_of(list)];
    --size_;
}

void TimerWheel::place(std::uint32_t id) {
    const std::int64_t d =
        std::max(tick_of(deadline_us_[id]), cur_);  // past deadlines: current slot
    const auto n = static_cast<std::int64_t>(slots_);
    for (std::size_t k = 0; k < levels_; ++k) {
        // Level k holds ticks whose digits above k equal cur_'s.
        if (d / span_[k + 1] == cur_ / span_[k + 1]) {
            link(id, static_cast<std::uint32_t>(k * slots_ +
                                                static_cast<std::size_t>((d / span_[k]) % n)));
            return;
        }
    }
    link(id, overflow_list());
}

bool TimerWheel::is_scheduled(std::uint32_t id) const {
    return id < list_.size() && list_[id] != kNil;
}

Instant TimerWheel::deadline(std::uint32_t id) const {
    STACK_ASSERT(is_scheduled(id));
    return Instant::from_micros(deadline_us_[id]);
}

void TimerWheel::schedule(std::uint32_t id, Instant deadline) {
    STACK_ASSERT(id < list_.size());
    unlink(id);
    deadline_us_[id] = deadline.as_micros();
    if (advancing_) {
        link(id, deferred_list());
    } else {
        place(id);
    }
}

void TimerWheel::cancel(std::uint32_t id) {
    STACK_ASSERT(id < list_.size());
    unlink(id);
}

void TimerWheel::move_all(std::uint32_t from, bool count_cascade) {
    // Callers guarantee place() never puts an entry back into `from`, so this terminates.
    while (heads_[from] != kNil) {
        const std::uint32_t id = heads_[from];
        unlink(id);
        if (count_cascade) {
            ++stats_.cascaded;
            ++stats_.entries_visited;
        }
        place(id);
    }
}

void TimerWheel::cascade_at_boundaries() {
    const auto n = static_cast<std::int64_t>(slots_);
    if (cur_ % span_[levels_] == 0 && heads_[overflow_list()] != kNil) {
        // The top level wrapped: overflow entries may now fit. Re-placing can put some back into the
        // overflow list, so park them on the (empty) keep list first.
        while (heads_[overflow_list()] != kNil) {
            const std::uint32_t id = heads_[overflow_list()];
            unlink(id);
            link(id, keep_list());
        }
        move_all(keep_list(), true);
    }
    for (std::size_t k = levels_ - 1; k >= 1; --k) {
        if (cur_ % span_[k] == 0) {
            const auto slot = static_cast<std::size_t>((cur_ / span_[k]) % n);
            move_all(static_cast<std::uint32_t>(k * slots_ + slot), true);
        }
    }
}

void TimerWheel::process_slot(std::uint32_t list, std::int64_t now_us,
                              function_ref<void(std::uint32_t)>& fn) {
    ++stats_.slots_visited;
    while (heads_[list] != kNil) {
        const std::uint32_t id = heads_[list];
        unlink(id);
        ++stats_.entries_visited;
        if (deadline_us_[id] <= now_us) {
            ++stats_.fired;
            fn(id);
        } else {
            link(id, keep_list());  // same tick, later than now
        }
    }
    while (heads_[keep_list()] != kNil) {
        const std::uint32_t id = heads_[keep_list()];
        unlink(id);
        link(id, list);
    }
}

void TimerWheel::advance(Instant now, function_ref<void(std::uint32_t)> fn) {
    STACK_ASSERT(!advancing_);
    advancing_ = true;
    const std::int64_t now_us = now.as_micros();
    const std::int64_t nt = tick_of(now_us);
    const auto n = static_cast<std::int64_t>(slots_);
    if (nt >= cur_ && size_ == 0) cur_ = nt;
    while (true) {
        // Everything in the current tick's slot is due unless this is the last tick.
        const std::uint32_t slot0 = static_cast<std::uint32_t>(cur_ % n);
        if (heads_[slot0] != kNil) process_slot(slot0, now_us, fn);
        if (cur_ >= nt) {
            break;  // also when time has not reached cur_ (past deadlines were placed here)
        }
        std::int64_t next = nt;
        if (group_count_[0] > 0) {
            next = cur_ + 1;
        } else {
            // Level 0 is empty: jump to the next boundary of the lowest non-empty level (nothing fires
            // or cascades before it), or straight to nt if the wheel is empty.
            std::size_t k = 1;
            while (k <= levels_ && group_count_[k] == 0) ++k;
            if (k <= levels_) next = std::min(nt, (cur_ / span_[k] + 1) * span_[k]);
        }
        cur_ = next;
        cascade_at_boundaries();
    }
    advancing_ = false;
    // Apply the schedule() calls made by fn: they fire at the earliest on the next advance().
    move_all(deferred_list(), false);
}

Instant TimerWheel::min_in(std::uint32_t list) const {
    std::int64_t best = Instant::never().as_micros();
    for (std::uint32_t id = heads_[list]; id != kNil; id = next_[id]) {
        best = std::min(best, deadline_us_[id]);
    }
    return Instant::from_micros(best);
}

Instant TimerWheel::next_deadline() const {
    if (size_ == 0) return Instant::never();
    Instant best = std::min(min_in(deferred_list()), min_in(keep_list()));
    const auto n = static_cast<std::int64_t>(slots_);
    // Every entry at level k precedes every entry at level k+1, and within a level slots are ordered
    // from cur_'s digit upward (no wrap): the first non-empty slot of the lowest non-empty level holds
    // the earliest deadline.
    for (std::size_t k = 0; k < levels_; ++k) {
        if (group_count_[k] == 0) continue;
        const auto digit = static_cast<std::size_t>((cur_ / span_[k]) % n);
        for (std::size_t s = k == 0 ? digit : digit + 1; s < slots_; ++s) {
            const auto list = static_cast<std::uint32_t>(k * slots_ + s);
            if (heads_[list] != kNil) return std::min(best, min_in(list));
        }
        STACK_ASSERT(false && "timer wheel level count out of sync");
    }
    return std::min(best, min_in(overflow_list()));
}

}  // namespace stack::tcp
