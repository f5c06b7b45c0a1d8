// EventLoop: the single-threaded epoll loop that drives the daemon, and the only reader of
// CLOCK_MONOTONIC in the code base (exposed as now(), in microseconds).
//
// One iteration: wait in epoll until an fd is ready or the nearest deadline (the owner's wakeup or
// a one-shot timer) arrives; dispatch ready fds; fire due timers in deadline order; call the tick
// hook once. The owner's pattern is: in the tick hook, `stack.poll(now, dev);
// loop.set_wakeup(stack.poll_at());`.
//
// Invariants:
//  - The epoll timeout is rounded UP to whole milliseconds, so a deadline less than 1 ms away
//  sleeps 1 ms
//    instead of spinning with timeout 0; timeout 0 happens only when a deadline is already due.
//  - The steady state allocates nothing: the epoll event array is a member, callbacks are stored at
//    registration and moved (not copied) when fired.
//  - Callbacks may add/remove fds and timers and call stop(), including removing their own fd.
//  - Timers added during an iteration fire at the earliest in the next iteration (no unbounded
//  firing).
#pragma once

#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <array>
#include <csignal>  // SIGINT etc.: handle_signals() callbacks compare against them
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "drivers/error.hpp"
#include "stack/base/result.hpp"
#include "stack/base/time.hpp"

namespace drivers {

// What an fd callback is told. `error` covers EPOLLERR and EPOLLHUP.
struct IoEvents {
    bool readable = false;
    bool writable = false;
    bool error = false;
};

enum class Interest : std::uint8_t { Read = 1, Write = 2, ReadWrite = 3 };

using TimerId = std::uint64_t;

class EventLoop {
public:
    using IoCallback = std::function<void(IoEvents)>;
    using TimerCallback = std::function<void(stack::Instant now)>;
    using TickCallback = std::function<void(stack::Instant now)>;
    using SignalCallback = std::function<void(int signo)>;

    // Creates the epoll instance (EPOLL_CLOEXEC).
    static stack::Result<EventLoop, Error> create();

    EventLoop(EventLoop&& other) noexcept;
    EventLoop& operator=(EventLoop&&) = delete;
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;
    // Closes epoll and the signalfd and restores the signal mask that handle_signals() changed.
    ~EventLoop();

    // CLOCK_MONOTONIC in microseconds. The one clock read of the whole stack.
    static stack::Instant now();

    // Watches `fd` (level-triggered) for `interest`; `cb` runs on every iteration in which it is
    // ready. The caller keeps ownership of the fd and must remove it before closing it. Fails if
    // already added.
    stack::Result<void, Error> add_fd(int fd, Interest interest, IoCallback cb);
    // Changes what `fd` is watched for (e.g. add Write while a sink is backed up).
    stack::Result<void, Error> set_interest(int fd, Interest interest);
    // Stops watching `fd`; no callback for it runs after this returns. Unknown fds are ignored.
    void remove_fd(int fd);

    // The owner's single deadline: the loop will not sleep past `t` (Instant::never() clears it).
    // When it passes it is cleared; the tick hook normally sets it again every iteration.
    void set_wakeup(stack::Instant t) { wakeup_ = t; }
    stack::Instant wakeup() const { return wakeup_; }
    // Called once at the end of every iteration with the iteration's `now`.
    void on_tick(TickCallback cb) { tick_ = std::move(cb); }

    // One-shot timer at `at`; timers due at the same Instant fire in the order they were added.
    TimerId add_timer(stack::Instant at, TimerCallback cb);
    // Returns false if the timer already fired or was cancelled.
    bool cancel_timer(TimerId id);
    std::size_t timer_count() const { return timers_.size(); }

    // Blocks SIGINT, SIGTERM, SIGUSR1 and SIGHUP for the calling thread and delivers them through a
    // signalfd to `cb`. Call once, before starting other threads (they inherit the mask).
    stack::Result<void, Error> handle_signals(SignalCallback cb);

    // Runs iterations until stop(). Returns an error only if epoll_wait itself fails.
    stack::Result<void, Error> run();
    // One iteration (waits at most until the nearest deadline; forever if there is none).
    stack::Result<void, Error> run_once();
    // Makes run() return after the current iteration. Safe from any callback.
    void stop() { stopped_ = true; }
    bool stopped() const { return stopped_; }

    // The epoll timeout for sleeping from `now` until `deadline`: -1 for never, 0 if due, else the
    // distance in milliseconds rounded up (clamped to INT_MAX). Public for tests.
    static int timeout_ms(stack::Instant now, stack::Instant deadline);

private:
    struct Slot {
        int fd = -1;
        std::uint32_t generation = 0;
        bool active = false;
        IoCallback cb;
    };
    struct Timer {
        stack::Instant at;
        TimerId id;
        TimerCallback cb;
    };

    explicit EventLoop(int epoll_fd);
    static constexpr std::size_t kNoSlot = ~std::size_t{0};
    std::size_t find_slot(int fd) const;
    void dispatch_io(int n);
    void fire_timers(stack::Instant now);
    void on_signal_readable();
    stack::Instant next_deadline() const;

    static constexpr int kMaxEvents = 64;

    int epoll_fd_ = -1;
    int signal_fd_ = -1;
    bool signals_blocked_ = false;
    sigset_t old_mask_{};
    SignalCallback on_signal_;

    // A deque keeps Slot addresses stable while a callback adds fds (its own callback stays in
    // place).
    std::deque<Slot> slots_;
    std::vector<std::uint32_t> free_slots_;
    // Slots removed while dispatching: freed (callback destroyed) only after dispatch, so a
    // callback that removes its own fd is not destroyed while it runs.
    std::vector<std::uint32_t> pending_free_;
    bool dispatching_ = false;
    std::array<epoll_event, kMaxEvents> events_{};

    std::vector<Timer> timers_;
    TimerId next_timer_id_ = 1;

    stack::Instant wakeup_ = stack::Instant::never();
    TickCallback tick_;
    bool stopped_ = false;
};

}  // namespace drivers
