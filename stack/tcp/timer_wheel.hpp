// TimerWheel: the stack's per-connection deadlines (DESIGN.md §3.2): each connection keeps its timers as
// plain deadlines in its TCB and registers the earliest here, under its index; a poll fires only the
// connections that are due, however many exist.
//
// Structure: a hierarchical timing wheel (Varghese & Lauck's scheme 7). Time is cut into ticks of
// `tick`; level k has `slots` slots, each covering slots^k ticks. An entry whose tick d shares all base-
// `slots` digits above position k with the wheel's current tick sits at level k, in slot digit_k(d); when
// the current tick crosses into that slot's span the slot is "cascaded" (its entries re-placed at lower
// levels). Entries beyond the top level (about 2^36 ticks or more away) wait in an overflow list that is
// re-examined only when the top level wraps. All storage (intrusive doubly-linked lists in arrays indexed
// by id, and the slot heads) is allocated in the constructor.
//
// Costs: schedule() and cancel() are O(levels) and O(1). advance() visits only the level-0 slots of the
// ticks it passes (skipping whole empty spans) and touches only entries that are due, plus each entry at
// most once per level as it cascades down ahead of its deadline (amortised O(levels) per entry over its
// life), plus, in the last tick reached, the entries of that tick that are not due yet.
// Deadlines are exact: fn(id) runs iff deadline <= now, never early; ticks only bound the work.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "stack/base/function_ref.hpp"
#include "stack/base/time.hpp"

namespace stack::tcp {

class TimerWheel {
public:
    // tick > 0; 2 <= slots <= 65536; ids are 0 .. max_entries-1.
    TimerWheel(Duration tick, std::size_t slots, std::size_t max_entries);

    // Schedules `id` for `deadline`, replacing any existing entry for it. A deadline in the past fires at
    // the next advance(). Called from inside advance()'s callback, it takes effect when advance()
    // returns: the id does not fire in the same advance() call, whatever the deadline.
    void schedule(std::uint32_t id, Instant deadline);
    // Removes `id`'s entry if any (no-op otherwise). Safe from inside advance()'s callback.
    void cancel(std::uint32_t id);
    // Calls fn(id) once for every id whose deadline <= now, removing it before the call (so fn may
    // reschedule it). Order: non-decreasing by tick (ids within one tick in unspecified order).
    // Must not be called recursively from fn.
    void advance(Instant now, function_ref<void(std::uint32_t)> fn);
    // The exact earliest deadline among scheduled ids, or Instant::never() if none. O(slots + entries
    // in one slot). A deadline in the past is returned as is (so the caller polls at once).
    Instant next_deadline() const;

    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    bool is_scheduled(std::uint32_t id) const;
    // Precondition: is_scheduled(id).
    Instant deadline(std::uint32_t id) const;
    std::size_t max_entries() const { return list_.size(); }
    std::size_t levels() const { return levels_; }

    // Work counters, for tests and stats: entries touched by advance() (fired + cascaded + examined
    // but not due), and the parts.
    struct Stats {
        std::uint64_t entries_visited = 0;
        std::uint64_t fired = 0;
        std::uint64_t cascaded = 0;
        std::uint64_t slots_visited = 0;
    };
    const Stats& stats() const { return stats_; }

private:
    static constexpr std::uint32_t kNil = UINT32_MAX;
    static constexpr std::size_t kMaxLevels = 8;

    std::int64_t tick_of(std::int64_t us) const;
    std::uint32_t overflow_list() const { return static_cast<std::uint32_t>(levels_ * slots_); }
    std::uint32_t deferred_list() const { return overflow_list() + 1; }
    std::uint32_t keep_list() const { return overflow_list() + 2; }
    std::size_t group_of(std::uint32_t list) const;  // level, or levels_.. for the special lists
    void link(std::uint32_t id, std::uint32_t list);
    void unlink(std::uint32_t id);
    void place(std::uint32_t id);
    void cascade_at_boundaries();
    void move_all(std::uint32_t from, bool count_cascade);
    void process_slot(std::uint32_t list, std::int64_t now_us,
                      function_ref<void(std::uint32_t)>& fn);
    Instant min_in(std::uint32_t list) const;

    std::int64_t tick_us_;
    std::size_t slots_;
    std::size_t levels_ = 0;
    std::array<std::int64_t, kMaxLevels + 1> span_{};  // span_[k] = slots^k ticks
    std::vector<std::uint32_t> heads_;      // levels_*slots_ slot lists + 3 special lists
    std::vector<std::size_t> group_count_;  // entries per level (+ special lists)
    std::vector<std::uint32_t> next_;
    std::vector<std::uint32_t> prev_;
    std::vector<std::uint32_t> list_;  // kNil when not scheduled
    std::vector<std::int64_t> deadline_us_;
    std::int64_t cur_ =
        0;  // current tick: every level-0 entry has tick in [cur_, end of cur_'s block)
    std::size_t size_ = 0;
    bool advancing_ = false;
    Stats stats_;
};

}  // namespace stack::tcp
