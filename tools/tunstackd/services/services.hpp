// tunstackd's TCP services on the stack's socket API: echo (RFC 862), discard (RFC 863), chargen
// (RFC 864) and a static-file HTTP/1.1 server (GET/HEAD under a document root).
//
// ServiceHost owns the listeners and one Session per accepted connection. The runtime's application
// hook calls handle_events(): it drains stack.tcp().next_event(), accepts on listeners, and hands each
// connection's event bits to its Session, which makes all the progress it can (recv/send until one
// would block) and waits for the next readable/writable event. Backpressure everywhere: a session
// never buffers more than a fixed amount (echo 64 KiB, http one 64 KiB file chunk + the request head)
// and stops reading while it cannot write.
//
// Each service instance keeps counters, reported as `stat svc.<kind>.<port>.<counter> N`.
//
// Draining (SIGTERM/SIGINT, tunstackd main): ServiceHost::drain() accepts what already completed its
// handshake, closes the listeners (new SYNs get RST), then calls Session::drain() on every session:
// the hook by which each service ends gracefully. Defaults and overrides:
//   http     idle keep-alive: closed now (FIN); a response in progress, or a request being received,
//            is finished (its response says "Connection: close"), then closed (FIN)
//   echo     what was already read is echoed back, then closed (FIN); nothing more is read
//   discard  what was received is read and dropped, then closed (FIN)
//   chargen  closed now: FIN after what the send buffer already holds
//   default  (Session::drain) closed now with FIN; a TLS session overrides it (close_notify first)
// A session closed with unread input would be reset (RFC 2525 §2.17), so each drains its input first
// where it can. What is still open when --drain-timeout expires is reset by abort_all().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "stack/base/result.hpp"
#include "stack/base/time.hpp"
#include "stack/socket/socket.hpp"
#include "stack/tcp/tcp.hpp"

namespace tunstackd {

enum class ServiceKind : std::uint8_t { Echo, Discard, Chargen, Http };

struct ServiceSpec {
    ServiceKind kind = ServiceKind::Echo;
    std::uint16_t port = 0;
};

// "echo:7" → spec; nullopt with `error` set (naming the spec) otherwise.
std::optional<ServiceSpec> parse_service_spec(std::string_view text, std::string& error);
std::string_view to_string(ServiceKind kind);

struct ServiceCounters {
    std::uint64_t accepted = 0;
    std::uint64_t active = 0;     // gauge
    std::uint64_t closed = 0;     // finished normally
    std::uint64_t errors = 0;     // reset, timed out
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;  // handed to send()
    // http only
    std::uint64_t requests = 0;
    std::uint64_t status_2xx = 0;
    std::uint64_t status_4xx = 0;
    std::uint64_t status_5xx = 0;
};

class Session {
public:
    Session(stack::tcp::TcpLayer& tcp, stack::SocketHandle h, ServiceCounters& counters)
        : tcp_(tcp), h_(h), counters_(counters) {}
    virtual ~Session() = default;
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // New readiness bits (the first call after accept passes all of them). Makes what progress it can.
    virtual void on_event(stack::Instant now, std::uint8_t bits) = 0;
    // The daemon is shutting down: end gracefully, now or after the work in progress (see above).
    // The default closes at once (FIN after queued data).
    virtual void drain(stack::Instant now);
    // Drain deadline passed: reset the connection (RST) and finish.
    void abort(stack::Instant now);
    bool done() const { return done_; }

protected:
    // close() (FIN after queued data; the handle is released) and mark the session finished.
    void finish(stack::Instant now, bool error);
    // recv into `out`; returns bytes (0: nothing now). On an error the session is finished.
    std::size_t recv(stack::Instant now, stack::MutBytes out);
    // send; returns bytes taken. On an error the session is finished.
    std::size_t send(stack::Instant now, stack::Bytes data);
    bool peer_finished() const;

    stack::tcp::TcpLayer& tcp_;
    stack::SocketHandle h_;
    ServiceCounters& counters_;
    bool done_ = false;
    bool draining_ = false;
};

class ServiceHost {
public:
    // `www_fd`: an O_PATH|O_DIRECTORY fd of the document root (or -1 without http), owned by the caller.
    ServiceHost(stack::tcp::TcpLayer& tcp, std::string www_root, int www_fd);
    ~ServiceHost();
    ServiceHost(const ServiceHost&) = delete;
    ServiceHost& operator=(const ServiceHost&) = delete;

    // Opens a listener for each spec. Error: one line naming the spec.
    stack::Result<void, std::string> start(const std::vector<ServiceSpec>& specs);
    // Drains every pending TCP event; true if there was any.
    bool handle_events(stack::Instant now);
    // "stat svc.<kind>.<port>.<counter> N" lines.
    void append_stats(std::string& out) const;

    // Shutdown (see the top of this file): stop accepting, ask every session to end gracefully.
    void drain(stack::Instant now);
    // Resets every remaining session; returns how many.
    std::size_t abort_all(stack::Instant now);
    std::size_t sessions() const { return sessions_.size(); }
    bool draining() const { return draining_; }

private:
    struct Listener {
        ServiceSpec spec;
        stack::SocketHandle handle;
        ServiceCounters counters;
    };
    static std::uint64_t key(stack::SocketHandle h) {
        return std::uint64_t{h.index} << 32 | h.generation;
    }
    std::unique_ptr<Session> make_session(Listener& l, stack::SocketHandle h);

    stack::tcp::TcpLayer& tcp_;
    std::string www_root_;
    int www_fd_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::unordered_map<std::uint64_t, Listener*> by_listener_;
    std::unordered_map<std::uint64_t, std::unique_ptr<Session>> sessions_;
    std::unordered_map<std::uint64_t, Listener*> session_owner_;
    bool draining_ = false;
    void settle(std::uint64_t k);
};

// Factories (services.cpp, http_service.cpp).
std::unique_ptr<Session> make_echo(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                   ServiceCounters& c);
std::unique_ptr<Session> make_discard(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                      ServiceCounters& c);
std::unique_ptr<Session> make_chargen(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                      ServiceCounters& c);
std::unique_ptr<Session> make_http(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                   ServiceCounters& c, const std::string& root, int root_fd);

}  // namespace tunstackd
