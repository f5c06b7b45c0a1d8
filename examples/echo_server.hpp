// EchoServer: an RFC 862 echo service written against the installed libtunstack socket API only.
//
// It owns no I/O and no clock: the program's event loop feeds packets into the Stack and calls
// on_event() for every event it drains after ingress()/poll(), passing the current time. Backpressure:
// bytes the send buffer does not take stay in the connection's pending buffer and are retried on
// kEventWritable; reading stops while something is pending, so a client that does not read slows
// the server down instead of growing its memory.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "stack/stack.hpp"

namespace example {

class EchoServer {
public:
    EchoServer(stack::Stack& stack, std::uint16_t port) : stack_(stack) {
        auto l = stack_.tcp().listen(port, 64);
        ok_ = l.ok();
        if (ok_) listener_ = *l;
    }
    bool ok() const { return ok_; }
    std::size_t connections_served() const { return served_; }

    // One event drained from stack.tcp().next_event(). Returns false if it was not ours.
    bool on_event(stack::Instant now, const stack::SocketEvent& ev) {
        if (ev.handle == listener_) {
            accept_all();
            return true;
        }
        auto it = conns_.find(ev.handle.index);
        if (it == conns_.end() || !(it->second.handle == ev.handle)) return false;
        Conn& c = it->second;
        if (ev.bits & (stack::kEventError | stack::kEventClosed)) {
            finish(now, c);
            return true;
        }
        pump(now, c);
        return true;
    }

private:
    struct Conn {
        stack::SocketHandle handle;
        std::vector<std::uint8_t> pending;  // read but not yet taken by send()
        bool shut = false;
    };

    void accept_all() {
        for (;;) {
            auto h = stack_.tcp().accept(listener_);
            if (!h) return;  // WouldBlock: nothing more queued
            conns_[h->index] = Conn{*h, {}, false};
            ++served_;
        }
    }

    // Moves bytes from the receive side to the send side until one of them blocks.
    void pump(stack::Instant now, Conn& c) {
        auto& tcp = stack_.tcp();
        std::uint8_t buf[16384];
        for (;;) {
            if (!c.pending.empty()) {
                auto sent = tcp.send(c.handle, c.pending);
                if (!sent) return finish(now, c);
                c.pending.erase(c.pending.begin(), c.pending.begin() + static_cast<long>(*sent));
                if (!c.pending.empty()) return;  // wait for kEventWritable
            }
            auto got = tcp.recv(c.handle, buf);
            if (!got) return finish(now, c);
            if (*got == 0) break;
            c.pending.assign(buf, buf + *got);
        }
        // Everything read was echoed; after the client's FIN, close our side too.
        if (tcp.eof(c.handle).value_or(false) && !c.shut) {
            c.shut = true;
            (void)tcp.close(now, c.handle);
            conns_.erase(c.handle.index);
        }
    }

    void finish(stack::Instant now, Conn& c) {
        (void)stack_.tcp().close(now, c.handle);
        conns_.erase(c.handle.index);
    }

    stack::Stack& stack_;
    stack::SocketHandle listener_;
    bool ok_ = false;
    std::size_t served_ = 0;
    std::map<std::uint32_t, Conn> conns_;
};

}  // namespace example
