// tunstackd's TCP services on the stack's socket API: echo (RFC 862), discard (RFC 863), chargen
// (RFC 864) and a static-file HTTP/1.1 server (GET/HEAD under a document root); and over TLS
// (tls/): https (the same file server) and tls-echo.
//
// ServiceHost owns the listeners and one Session per accepted connection. The runtime's application
// hook calls handle_events(): it drains stack.tcp().next_event(), accepts on listeners, and hands each
// connection's event bits to its Session, which makes all the progress it can (recv/send until one
// would block) and waits for the next readable/writable event. Backpressure everywhere: a session
// never buffers more than a fixed amount (echo 64 KiB, http one 64 KiB file chunk + the request head)
// and stops reading while it cannot write.
//
// A Session reads and writes through a Channel (channel.hpp): the socket itself, or TLS over it. The
// TLS channel runs the handshake before the session sees any event and closes with close_notify
// before FIN. Channels may have deadlines (the TLS handshake, a close the peer does not take); the
// host keeps them ordered, reports the earliest in poll_at() and fires them from handle_events().
// Concurrent TLS sessions are bounded (each holds ~35 KB of mbedTLS buffers): beyond the limit a new
// connection on a TLS port is reset at once and counted (tls.sessions_rejected).
//
// Each service instance keeps counters, reported as `stat svc.<kind>.<port>.<counter> N`; TLS adds
// the `stat tls.*` lines of tls/counters.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <functional>
#include <set>

#include "stack/base/result.hpp"
#include "stack/base/time.hpp"
#include "stack/socket/socket.hpp"
#include "stack/tcp/tcp.hpp"
#include "tls/counters.hpp"
#include "tools/tunstackd/services/channel.hpp"

namespace tunstackd {

enum class ServiceKind : std::uint8_t { Echo, Discard, Chargen, Http, Https, TlsEcho };

// https and tls-echo.
constexpr bool is_tls(ServiceKind k) { return k == ServiceKind::Https || k == ServiceKind::TlsEcho; }
// http and https (they need --www).
constexpr bool serves_files(ServiceKind k) { return k == ServiceKind::Http || k == ServiceKind::Https; }

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
    // Talks through a PlainChannel on (tcp, h) until use_channel() replaces it.
    Session(stack::tcp::TcpLayer& tcp, stack::SocketHandle h, ServiceCounters& counters);
    virtual ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Before the first handle(): e.g. a TLS channel for https.
    void use_channel(std::unique_ptr<Channel> channel) { channel_ = std::move(channel); }
    // The host's entry point for new readiness bits (the first call after accept passes all of
    // them): the channel acts first (TLS handshake, pending output), then on_event() if it may.
    void handle(stack::Instant now, std::uint8_t bits);
    // The channel's next deadline, and what the host calls when it passes.
    stack::Instant deadline() const { return channel_->deadline(); }
    void on_deadline(stack::Instant now);
    // Graceful close (e.g. for a draining shutdown): whatever the session was doing stops; TLS sends
    // close_notify after the output already queued, then FIN. done() once the socket is released.
    void drain(stack::Instant now) { finish(now, false); }
    // Finished and the channel has handed the socket back: the host may delete the session.
    bool done() const { return done_ && channel_->closed(); }

protected:
    // New readiness bits, once the channel is ready. Makes what progress it can.
    virtual void on_event(stack::Instant now, std::uint8_t bits) = 0;
    // Orderly close (TLS: close_notify, then FIN after queued data) and mark the session finished.
    void finish(stack::Instant now, bool error);
    // Reset the connection (RST) and mark the session finished with an error.
    void abort(stack::Instant now);
    // recv into `out`; returns bytes (0: nothing now). On an error the session is finished.
    std::size_t recv(stack::Instant now, stack::MutBytes out);
    // send; returns bytes taken. On an error the session is finished.
    std::size_t send(stack::Instant now, stack::Bytes data);
    // The peer will send nothing more (TCP FIN with everything read; TLS close_notify).
    bool peer_finished() const;

    stack::tcp::TcpLayer& tcp_;
    stack::SocketHandle h_;
    ServiceCounters& counters_;
    bool done_ = false;  // finished (the channel may still be closing)

private:
    std::unique_ptr<Channel> channel_;
};

struct TlsServiceOptions {
    stack::Duration handshake_timeout = stack::Duration::seconds(10);
    std::size_t max_sessions = 512;
};

class ServiceHost {
public:
    using Logger = std::function<void(const std::string&)>;

    // `www_fd`: an O_PATH|O_DIRECTORY fd of the document root (or -1 without http), owned by the caller.
    ServiceHost(stack::tcp::TcpLayer& tcp, std::string www_root, int www_fd);
    ~ServiceHost();
    ServiceHost(const ServiceHost&) = delete;
    ServiceHost& operator=(const ServiceHost&) = delete;

    // Where connection-level problems are reported (at most 100 lines per 10 s; the rest are
    // counted as suppressed). Default: nowhere.
    void set_logger(Logger log) { log_ = std::move(log); }
    // The TLS configuration for https/tls-echo services; required before start() when any is served.
    void set_tls(std::shared_ptr<const tls::ServerConfig> config, const TlsServiceOptions& options);
    // New connections use `config` from now on; existing ones keep the one they started with.
    void replace_tls_config(std::shared_ptr<const tls::ServerConfig> config);
    const tls::Counters& tls_counters() const { return tls_counters_; }

    // Opens a listener for each spec. Error: one line naming the spec.
    stack::Result<void, std::string> start(const std::vector<ServiceSpec>& specs);
    // Fires due deadlines, then drains every pending TCP event; true if there was any.
    bool handle_events(stack::Instant now);
    // The earliest session deadline (Instant::never() if none): the loop must wake by then.
    stack::Instant poll_at() const;
    // "stat svc.<kind>.<port>.<counter> N" lines, then the tls.* lines if TLS is served.
    void append_stats(std::string& out) const;

private:
    struct Listener {
        ServiceSpec spec;
        stack::SocketHandle handle;
        ServiceCounters counters;
    };
    static std::uint64_t key(stack::SocketHandle h) {
        return std::uint64_t{h.index} << 32 | h.generation;
    }
    std::unique_ptr<Session> make_session(Listener& l, stack::SocketHandle h, stack::Instant now);
    void settle(std::uint64_t k, Session& s);
    void reschedule(std::uint64_t k, const Session& s);
    void log_limited(stack::Instant now, const std::string& line);

    stack::tcp::TcpLayer& tcp_;
    std::string www_root_;
    int www_fd_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::unordered_map<std::uint64_t, Listener*> by_listener_;
    std::unordered_map<std::uint64_t, std::unique_ptr<Session>> sessions_;
    std::unordered_map<std::uint64_t, Listener*> session_owner_;
    // Session deadlines, ordered: (instant in µs, session key); scheduled_ maps key → its entry.
    std::set<std::pair<std::int64_t, std::uint64_t>> deadlines_;
    std::unordered_map<std::uint64_t, std::int64_t> scheduled_;
    std::shared_ptr<const tls::ServerConfig> tls_config_;
    TlsServiceOptions tls_options_;
    tls::Counters tls_counters_;
    bool serves_tls_ = false;
    Logger log_;
    stack::Instant now_;  // of the current handle_events()
    stack::Instant log_window_;
    unsigned log_lines_ = 0;
    std::uint64_t log_suppressed_ = 0;
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
