// EchoClient: connects to an echo server, sends `total` bytes of a known pattern, reads the echo
// back and checks it byte for byte, then closes. Written against the installed libtunstack socket
// API only; like EchoServer it is driven by the program's event loop through on_event().
#pragma once

#include <cstdint>
#include <string>

#include "stack/stack.hpp"

namespace example {

class EchoClient {
public:
    EchoClient(stack::Stack& stack, stack::Instant now, stack::wire::Ipv4Address server,
               std::uint16_t port, std::size_t total)
        : stack_(stack), total_(total) {
        auto h = stack_.tcp().connect(now, server, port);
        if (!h) {
            fail(std::string("connect: ") + std::string(stack::to_string(h.error())));
            return;
        }
        handle_ = *h;
    }

    bool done() const { return done_; }
    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }
    std::size_t received() const { return received_; }

    bool on_event(stack::Instant now, const stack::SocketEvent& ev) {
        if (!(ev.handle == handle_) || done_) return false;
        if (ev.bits & stack::kEventError) {
            auto e = stack_.tcp().error(handle_);
            fail(std::string("connection failed: ") +
                 std::string(e ? stack::to_string(*e) : "unknown error"));
            return true;
        }
        if (ev.bits & (stack::kEventConnected | stack::kEventWritable)) send_more();
        if (ev.bits & (stack::kEventReadable | stack::kEventPeerClosed)) read_echo(now);
        return true;
    }

private:
    static std::uint8_t pattern(std::size_t i) {
        return static_cast<std::uint8_t>(i * 7 + i / 251);
    }

    void send_more() {
        std::uint8_t buf[16384];
        while (sent_ < total_) {
            std::size_t n = std::min(sizeof buf, total_ - sent_);
            for (std::size_t i = 0; i < n; ++i) buf[i] = pattern(sent_ + i);
            auto took = stack_.tcp().send(handle_, stack::Bytes(buf, n));
            if (!took) return fail("send: " + std::string(stack::to_string(took.error())));
            if (*took == 0) return;  // send buffer full: wait for kEventWritable
            sent_ += *took;
        }
        if (!shut_) {
            shut_ = true;  // everything sent: half-close, the server closes after echoing it all
            (void)stack_.tcp().shutdown(handle_);
        }
    }

    void read_echo(stack::Instant now) {
        std::uint8_t buf[16384];
        for (;;) {
            auto got = stack_.tcp().recv(handle_, buf);
            if (!got) return fail("recv: " + std::string(stack::to_string(got.error())));
            if (*got == 0) break;
            for (std::size_t i = 0; i < *got; ++i) {
                if (buf[i] != pattern(received_ + i)) {
                    return fail("echo differs at byte " + std::to_string(received_ + i));
                }
            }
            received_ += *got;
        }
        if (stack_.tcp().eof(handle_).value_or(false)) {
            if (received_ != total_) {
                return fail("echo ended after " + std::to_string(received_) + " of " +
                            std::to_string(total_) + " bytes");
            }
            (void)stack_.tcp().close(now, handle_);
            done_ = true;
        }
    }

    void fail(std::string why) {
        if (error_.empty()) error_ = std::move(why);
        done_ = true;
    }

    stack::Stack& stack_;
    stack::SocketHandle handle_;
    std::size_t total_;
    std::size_t sent_ = 0;
    std::size_t received_ = 0;
    bool shut_ = false;
    bool done_ = false;
    std::string error_;
};

}  // namespace example
