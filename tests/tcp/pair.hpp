// Two stacks joined by a SimLink in simulated time: the harness of the stack-to-stack TCP tests.
// Side 0 is the client stack 198.18.0.1, side 1 the server stack 198.18.0.2.
#pragma once

#include <functional>
#include <memory>

#include "drivers/sim_link.hpp"
#include "stack/stack.hpp"

namespace tunstack_test {

using stack::Duration;
using stack::Instant;

inline stack::StackConfig pair_config(std::uint32_t addr, std::uint64_t seed) {
    stack::StackConfig c;
    c.addr = stack::wire::Ipv4Address(addr);
    c.seed = seed;
    c.tcp.max_sockets = 512;
    c.tcp.send_buffer = 128 * 1024;
    c.tcp.recv_buffer = 128 * 1024;
    return c;
}

struct StackPair {
    explicit StackPair(const drivers::FaultConfig& faults = {}, std::uint64_t seed = 1,
                       std::function<void(stack::StackConfig&)> tweak = {})
        : link(faults) {
        auto ca = pair_config(0xc6120001, seed * 2 + 1);
        auto cb = pair_config(0xc6120002, seed * 2 + 2);
        if (tweak) {
            tweak(ca);
            tweak(cb);
        }
        a = std::make_unique<stack::Stack>(ca);
        b = std::make_unique<stack::Stack>(cb);
    }

    // One step at the current time: both stacks poll, then due packets are delivered.
    void step() {
        link.set_now(now);
        a->poll(now, link.side(0));
        b->poll(now, link.side(1));
        link.deliver(now, 1, [&](stack::Bytes p) {
            if (tap) tap(1, p);
            b->ingress(now, p);
        });
        link.deliver(now, 0, [&](stack::Bytes p) {
            if (tap) tap(0, p);
            a->ingress(now, p);
        });
        a->poll(now, link.side(0));
        b->poll(now, link.side(1));
    }

    Instant next_time() const {
        Instant t = std::min({a->poll_at(), b->poll_at(), link.next_delivery()});
        return t;
    }

    // Runs until `done()` or until simulated time passes `limit` from now. Returns done().
    bool run_until(const std::function<bool()>& done, Duration limit = Duration::seconds(120)) {
        const Instant end = now + limit;
        for (long i = 0; i < 50'000'000; ++i) {
            step();
            if (done()) return true;
            Instant next = next_time();
            if (next <= now) continue;  // more work at this instant
            if (next == Instant::never() || next > end) {
                now = end;
                step();
                return done();
            }
            now = next;
        }
        return done();
    }

    // Runs the simulation for exactly `d` of simulated time.
    void run_for(Duration d) {
        const Instant end = now + d;
        run_until([&] { return now >= end; }, d);
    }

    drivers::SimLink link;
    std::unique_ptr<stack::Stack> a, b;
    Instant now;
    // Sees every packet the link delivers, with the side it arrives at (tests that record the wire).
    std::function<void(int, stack::Bytes)> tap;
};

}  // namespace tunstack_test
