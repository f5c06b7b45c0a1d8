#include "drivers/event_loop.hpp"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>
#include <utility>

#include "stack/base/assert.hpp"

namespace drivers {

namespace {

std::uint32_t epoll_mask(Interest interest) {
    std::uint32_t mask = 0;
    if ((static_cast<unsigned>(interest) & static_cast<unsigned>(Interest::Read)) != 0) {
        mask |= EPOLLIN;
    }
    if ((static_cast<unsigned>(interest) & static_cast<unsigned>(Interest::Write)) != 0) {
        mask |= EPOLLOUT;
    }
    return mask;
}

std::uint64_t pack(std::uint32_t index, std::uint32_t generation) {
    return (static_cast<std::uint64_t>(generation) << 32) | index;
}

sigset_t handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGHUP);
    return set;
}

}  // namespace

stack::Result<EventLoop, Error> EventLoop::create() {
    int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) return stack::Err{Error::system(errno, "epoll_create1")};
    return EventLoop(fd);
}

EventLoop::EventLoop(int epoll_fd) : epoll_fd_(epoll_fd) { timers_.reserve(16); }

EventLoop::EventLoop(EventLoop&& other) noexcept
    : epoll_fd_(std::exchange(other.epoll_fd_, -1)),
      signal_fd_(std::exchange(other.signal_fd_, -1)),
      signals_blocked_(std::exchange(other.signals_blocked_, false)),
      old_mask_(other.old_mask_),
      on_signal_(std::move(other.on_signal_)),
      slots_(std::move(other.slots_)),
      free_slots_(std::move(other.free_slots_)),
      pending_free_(std::move(other.pending_free_)),
      dispatching_(other.dispatching_),
      events_(other.events_),
      timers_(std::move(other.timers_)),
      next_timer_id_(other.next_timer_id_),
      wakeup_(other.wakeup_),
      tick_(std::move(other.tick_)),
      stopped_(other.stopped_) {}

EventLoop::~EventLoop() {
    if (signal_fd_ >= 0) ::close(signal_fd_);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (signals_blocked_) {
        // Signals that arrived but were never read stay pending and are delivered (default action)
        // when unblocked; drop them first so a stray SIGUSR1 does not kill the process on exit.
        sigset_t set = handled_signals();
        struct timespec zero {};
        for (int i = 0; i < 16 && ::sigtimedwait(&set, nullptr, &zero) > 0; ++i) {
        }
        ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    }
}

stack::Instant EventLoop::now() {
    struct timespec ts {};
    // CLOCK_MONOTONIC cannot fail with a valid pointer.
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return stack::Instant::from_micros(static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 +
                                       ts.tv_nsec / 1000);
}

int EventLoop::timeout_ms(stack::Instant now, stack::Instant deadline) {
    if (deadline == stack::Instant::never()) return -1;
    if (deadline <= now) return 0;
    std::int64_t us = (deadline - now).as_micros();
    std::int64_t ms = (us + 999) / 1000;  // round up: never wake before the deadline, never spin
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

std::size_t EventLoop::find_slot(int fd) const {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].active && slots_[i].fd == fd) return i;
    }
    return kNoSlot;
}

stack::Result<void, Error> EventLoop::add_fd(int fd, Interest interest, IoCallback cb) {
    if (fd < 0) return stack::Err{Error::invalid("add_fd: negative fd")};
    if (find_slot(fd) != kNoSlot) {
        return stack::Err{Error{ErrorKind::Exists, EEXIST,
                                "add_fd: fd " + std::to_string(fd) + " is already registered"}};
    }
    std::uint32_t index;
    if (!free_slots_.empty()) {
        index = free_slots_.back();
        free_slots_.pop_back();
    } else {
        index = static_cast<std::uint32_t>(slots_.size());
        slots_.emplace_back();
    }
    Slot& slot = slots_[index];
    epoll_event ev{};
    ev.events = epoll_mask(interest);
    ev.data.u64 = pack(index, slot.generation);
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int err = errno;
        free_slots_.push_back(index);
        return stack::Err{Error::system(err, "epoll_ctl(ADD, fd " + std::to_string(fd) + ")")};
    }
    slot.fd = fd;
    slot.active = true;
    slot.cb = std::move(cb);
    return stack::Ok{};
}

stack::Result<void, Error> EventLoop::set_interest(int fd, Interest interest) {
    std::size_t index = find_slot(fd);
    if (index == kNoSlot) {
        return stack::Err{
            Error::invalid("set_interest: fd " + std::to_string(fd) + " is not registered")};
    }
    epoll_event ev{};
    ev.events = epoll_mask(interest);
    ev.data.u64 = pack(static_cast<std::uint32_t>(index), slots_[index].generation);
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) < 0) {
        return stack::Err{Error::system(errno, "epoll_ctl(MOD, fd " + std::to_string(fd) + ")")};
    }
    return stack::Ok{};
}

void EventLoop::remove_fd(int fd) {
    std::size_t index = find_slot(fd);
    if (index == kNoSlot) return;
    Slot& s = slots_[index];
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    s.active = false;
    s.fd = -1;
    ++s.generation;  // events already fetched for this slot are now stale
    if (dispatching_) {
        pending_free_.push_back(static_cast<std::uint32_t>(index));
    } else {
        s.cb = nullptr;
        free_slots_.push_back(static_cast<std::uint32_t>(index));
    }
}

TimerId EventLoop::add_timer(stack::Instant at, TimerCallback cb) {
    TimerId id = next_timer_id_++;
    timers_.push_back(Timer{at, id, std::move(cb)});
    return id;
}

bool EventLoop::cancel_timer(TimerId id) {
    for (std::size_t i = 0; i < timers_.size(); ++i) {
        if (timers_[i].id == id) {
            timers_.erase(timers_.begin() + static_cast<std::ptrdiff_t>(i));
            return true;
        }
    }
    return false;
}

stack::Result<void, Error> EventLoop::handle_signals(SignalCallback cb) {
    if (signal_fd_ >= 0) return stack::Err{Error::invalid("handle_signals: already installed")};
    sigset_t set = handled_signals();
    int rc = ::pthread_sigmask(SIG_BLOCK, &set, &old_mask_);
    if (rc != 0) return stack::Err{Error::system(rc, "pthread_sigmask")};
    signals_blocked_ = true;
    int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) return stack::Err{Error::system(errno, "signalfd")};
    signal_fd_ = fd;
    on_signal_ = std::move(cb);
    // The callback is special-cased in dispatch_io (no captured `this`, so the loop stays movable).
    return add_fd(fd, Interest::Read, nullptr);
}

void EventLoop::on_signal_readable() {
    // Bounded: at most a handful of queued signals per wakeup; the rest are read next iteration.
    for (int i = 0; i < 8; ++i) {
        signalfd_siginfo info{};
        ssize_t n = ::read(signal_fd_, &info, sizeof info);
        if (n != static_cast<ssize_t>(sizeof info)) return;
        if (on_signal_) on_signal_(static_cast<int>(info.ssi_signo));
    }
}

stack::Instant EventLoop::next_deadline() const {
    stack::Instant d = wakeup_;
    for (const Timer& t : timers_) {
        if (t.at < d) d = t.at;
    }
    return d;
}

void EventLoop::dispatch_io(int n) {
    dispatching_ = true;
    for (int i = 0; i < n; ++i) {
        const epoll_event& ev = events_[static_cast<std::size_t>(i)];
        auto index = static_cast<std::uint32_t>(ev.data.u64 & 0xffffffffu);
        auto generation = static_cast<std::uint32_t>(ev.data.u64 >> 32);
        if (index >= slots_.size()) continue;
        Slot& slot = slots_[index];
        if (!slot.active || slot.generation != generation) continue;  // removed meanwhile
        IoEvents io;
        io.readable = (ev.events & EPOLLIN) != 0;
        io.writable = (ev.events & EPOLLOUT) != 0;
        io.error = (ev.events & (EPOLLERR | EPOLLHUP)) != 0;
        if (slot.fd == signal_fd_) {
            on_signal_readable();
        } else if (slot.cb) {
            slot.cb(io);
        }
    }
    dispatching_ = false;
    for (std::uint32_t index : pending_free_) {
        slots_[index].cb = nullptr;
        free_slots_.push_back(index);
    }
    pending_free_.clear();
}

void EventLoop::fire_timers(stack::Instant now) {
    // Only timers that existed when this pass began may fire, which bounds the pass even if a
    // callback re-arms a timer that is already due.
    const TimerId limit = next_timer_id_;
    for (std::size_t round = 0; round < timers_.size() + 1; ++round) {
        std::size_t best = timers_.size();
        for (std::size_t i = 0; i < timers_.size(); ++i) {
            const Timer& t = timers_[i];
            if (t.at > now || t.id >= limit) continue;
            if (best == timers_.size() || t.at < timers_[best].at ||
                (t.at == timers_[best].at && t.id < timers_[best].id)) {
                best = i;
            }
        }
        if (best == timers_.size()) return;
        TimerCallback cb = std::move(timers_[best].cb);
        timers_.erase(timers_.begin() + static_cast<std::ptrdiff_t>(best));
        if (cb) cb(now);
    }
}

stack::Result<void, Error> EventLoop::run_once() {
    stack::Instant before = now();
    int timeout = timeout_ms(before, next_deadline());
    int n = ::epoll_wait(epoll_fd_, events_.data(), kMaxEvents, timeout);
    if (n < 0) {
        if (errno != EINTR) return stack::Err{Error::system(errno, "epoll_wait")};
        n = 0;
    }
    dispatch_io(n);
    stack::Instant t = now();
    fire_timers(t);
    if (wakeup_ <= t) wakeup_ = stack::Instant::never();
    if (tick_) tick_(t);
    return stack::Ok{};
}

stack::Result<void, Error> EventLoop::run() {
    stopped_ = false;
    while (!stopped_) {
        auto r = run_once();
        if (!r) return r;
    }
    return stack::Ok{};
}

}  // namespace drivers
