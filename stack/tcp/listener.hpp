// Listener: a listening socket's state (RFC 9293 §3.10.7.2 LISTEN): its port and backlog, how many of
// its connections wait in SYN-RECEIVED (the SYN queue), the established ones waiting for accept() (the
// accept queue), and whether it recently answered with SYN cookies (RFC 4987 §3.6, syn_cookie.hpp).
// TcpLayer (tcp.hpp) applies the policy; this type only keeps the state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "stack/base/time.hpp"

namespace stack::tcp {

// FIFO of socket indices: a ring that grows by doubling. No allocation while it has never held
// anything (a std::deque allocates even empty), and pop() never shifts the rest.
class AcceptQueue {
public:
    bool empty() const { return count_ == 0; }
    std::size_t size() const { return count_; }
    void push(std::uint32_t index);
    std::uint32_t front() const { return ring_[head_]; }
    void pop();
    // Removes `index` wherever it is, keeping the others' order; false if it is not queued.
    bool remove(std::uint32_t index);

private:
    std::vector<std::uint32_t> ring_;
    std::size_t head_ = 0, count_ = 0;
};

struct Listener {
    std::uint16_t port = 0;
    std::uint32_t backlog = 0;
    std::uint32_t syn_queue = 0;  // its connections in SYN-RECEIVED (not counting cookies)
    AcceptQueue accept_queue;     // established, waiting for accept()

    bool syn_queue_full() const { return syn_queue >= backlog; }
    bool accept_queue_full() const { return accept_queue.size() >= backlog; }
    // It answered a SYN with a cookie at `now`.
    void cookie_sent(Instant now) {
        sent_cookies_ = true;
        last_cookie_ = now;
    }
    // Whether an ACK may be the third segment of a cookie handshake: a cookie was sent within
    // `recent_us` (SynCookies::kRecentUs) before `now`.
    bool cookies_recent(Instant now, std::int64_t recent_us) const {
        return sent_cookies_ && (now - last_cookie_).as_micros() <= recent_us;
    }

private:
    Instant last_cookie_;  // when this listener last sent a SYN cookie
    bool sent_cookies_ = false;
};

}  // namespace stack::tcp
