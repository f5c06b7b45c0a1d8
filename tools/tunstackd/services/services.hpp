// tunstackd's TCP services on the stack's socket API: echo (RFC 862), discard (RFC 863), chargen
// (RFC 864) and a static-file HTTP/1.1 server (GET/HEAD under a document root); and over TLS
// (tls/): https (the same file server) and tls-echo; and the iperf3 protocol (iperf3_service.hpp).
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
// Every accepted connection gets TCP keepalive (RFC 1122 §4.2.3.6), so a peer that vanished ends
// even a service with no timeouts of its own. A session may have its own timer (timeout_at(), e.g.
// the http header/keep-alive/body timeouts of HttpServiceOptions), kept with the channel's.
//
// Each service instance keeps counters, reported as `stat svc.<kind>.<port>.<counter> N`; TLS adds
// the `stat tls.*` lines of tls/stats.hpp.
//
// Draining (SIGTERM/SIGINT, tunstackd main): ServiceHost::drain() accepts what already completed its
// handshake, closes the listeners (new SYNs get RST), then calls Session::drain() on every session:
// the hook by which each service ends gracefully. Defaults and overrides:
//   http     idle keep-alive: closed now (FIN); a response in progress, or a request being received,
//            is finished (its response says "Connection: close"), then closed (FIN)
//   echo     what was already read is echoed back, then closed (FIN); nothing more is read
//   discard  what was received is read and dropped, then closed (FIN)
//   chargen  closed now: FIN after what the send buffer already holds
//   iperf3   a test in progress is ended with SERVER_TERMINATE on its control connection; every
//            connection then closed (FIN) after its input is drained
//   default  (Session::drain) closed now with FIN
// Over TLS every one of these closes through the channel: close_notify after the output already
// queued, then FIN (a connection still in its handshake just gets FIN).
// A session closed with unread input would be reset (RFC 2525 §2.17), so each drains its input first
// where it can, or closes lingering (channel.hpp) when a reply must reach a peer still sending.
// What is still open when --drain-timeout expires is reset by abort_all().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "stack/base/result.hpp"
#include "stack/base/time.hpp"
#include "stack/socket/socket.hpp"
#include "stack/tcp/tcp.hpp"
#include "tls/stats.hpp"
#include "tools/tunstackd/services/channel.hpp"

namespace tunstackd {

enum class ServiceKind : std::uint8_t { Echo, Discard, Chargen, Http, Https, TlsEcho, Iperf3 };

// https and tls-echo.
constexpr bool is_tls(ServiceKind k) {
    return k == ServiceKind::Https || k == ServiceKind::TlsEcho;
}
// http and https (they need --www).
constexpr bool serves_files(ServiceKind k) {
    return k == ServiceKind::Http || k == ServiceKind::Https;
}

struct ServiceSpec {
    ServiceKind kind = ServiceKind::Echo;
    std::uint16_t port = 0;
};

// "echo:7" → spec; nullopt with `error` set (naming the spec) otherwise.
std::optional<ServiceSpec> parse_service_spec(std::string_view text, std::string& error);
std::string_view to_string(ServiceKind kind);

// Where http/https sessions write one access-log line per response (--access-log); the line has
// no newline. Owned by ServiceHost.
using AccessLog = std::function<void(const std::string&)>;

struct ServiceCounters {
    const AccessLog* access_log = nullptr;  // set by ServiceHost::set_access_log (http, https)
    std::uint64_t accepted = 0;
    std::uint64_t active = 0;  // gauge
    std::uint64_t closed = 0;  // finished normally
    std::uint64_t errors = 0;  // reset, timed out
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;  // handed to send()
    // http only
    std::uint64_t requests = 0;
    std::uint64_t status_2xx = 0;
    std::uint64_t status_4xx = 0;
    std::uint64_t status_5xx = 0;
    std::uint64_t timeout_header = 0;     // request head not complete within --header-timeout
    std::uint64_t timeout_keepalive = 0;  // idle between requests past --keepalive-timeout
    std::uint64_t timeout_body = 0;       // no body progress (in or out) for --body-timeout
    std::uint64_t lingering = 0;          // closes that shut the send side and drained input first
};

// HTTP/HTTPS timeouts (defaults as nginx's client_header_timeout, keepalive_timeout and
// client_body_timeout/send_timeout). All count in the service's counters (timeout_*).
//   header:    from accept (first request) or from the first byte of a later request until the
//              request head is complete; then closed (FIN), no reply.
//   keepalive: idle after a response with nothing received; then closed (FIN).
//   body:      between two successful reads of a request body, or two successful writes of a
//              response (the peer does not read); then closed (FIN) or, with a response stuck in the
//              send buffer, reset (a FIN would wait behind bytes the peer never takes).
struct HttpServiceOptions {
    stack::Duration header_timeout = stack::Duration::seconds(60);
    stack::Duration keepalive_timeout = stack::Duration::seconds(75);
    stack::Duration body_timeout = stack::Duration::seconds(60);
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
    // The earliest of the channel's deadline and the session's own (timeout_at()), and what the
    // host calls when it passes.
    stack::Instant deadline() const;
    void on_deadline(stack::Instant now);
    // The daemon is shutting down: end gracefully, now or after the work in progress (see above).
    // The default closes at once (FIN after queued data; TLS: close_notify first).
    virtual void drain(stack::Instant now);
    // Drain deadline passed (or a local failure): reset the connection (RST), also one whose TLS
    // close is still in progress, and finish.
    void abort(stack::Instant now);
    // Finished and the channel has handed the socket back: the host may delete the session.
    bool done() const { return done_ && channel_->closed(); }

protected:
    // New readiness bits, once the channel is ready. Makes what progress it can.
    virtual void on_event(stack::Instant now, std::uint8_t bits) = 0;
    // The session's own timer (e.g. HTTP's header/keep-alive/body timeouts); never by default.
    virtual stack::Instant timeout_at() const { return stack::Instant::never(); }
    // timeout_at() passed (called once per passing, while the session is not finished).
    virtual void on_timeout(stack::Instant /*now*/) {}
    // Orderly close (TLS: close_notify, then FIN after queued data) and mark the session finished.
    // `linger`: a lingering close (channel.hpp, LingeringClose): shut the send side, read and drop
    // input until the peer finishes or a bound passes, then close; for a reply the peer must get
    // while it may still be sending.
    void finish(stack::Instant now, bool error, bool linger = false);
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
    bool draining_ = false;

private:
    std::unique_ptr<Channel> channel_;
};

struct TlsServiceOptions {
    stack::Duration handshake_timeout = stack::Duration::seconds(10);
    std::size_t max_sessions = 4096;
};

// Handles of sessions another session needs to run (iperf3: a control connection starts and stops
// its data streams); the host runs each once more, with all readiness bits, before
// handle_events() returns.
using WakeQueue = std::vector<stack::SocketHandle>;
class Iperf3Hub;  // iperf3_service.hpp

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
    // Before start(): http and https sessions report every response here (--access-log).
    void set_access_log(AccessLog log) { access_log_ = std::move(log); }
    // The TLS configuration for https/tls-echo services; required before start() when any is served.
    void set_tls(std::shared_ptr<const tls::ServerConfig> config, const TlsServiceOptions& options);
    // Timeouts of http/https sessions accepted from now on.
    void set_http_options(const HttpServiceOptions& options) { http_options_ = options; }
    // New connections use `config` from now on; existing ones keep the one they started with.
    void replace_tls_config(std::shared_ptr<const tls::ServerConfig> config);
    const tls::TlsStats& tls_counters() const { return tls_counters_; }

    // Opens a listener for each spec. Error: one line naming the spec.
    stack::Result<void, std::string> start(const std::vector<ServiceSpec>& specs);
    // Fires due deadlines, then drains every pending TCP event; true if there was any.
    bool handle_events(stack::Instant now);
    // The earliest session deadline (Instant::never() if none): the loop must wake by then.
    stack::Instant poll_at() const;
    // "stat svc.<kind>.<port>.<counter> N" lines, then the tls.* lines if TLS is served.
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
        std::shared_ptr<Iperf3Hub> iperf3;  // iperf3:PORT only
    };
    static std::uint64_t key(stack::SocketHandle h) {
        return std::uint64_t{h.index} << 32 | h.generation;
    }
    std::unique_ptr<Session> make_session(Listener& l, stack::SocketHandle h, stack::Instant now);
    void settle(std::uint64_t k, Session& s);
    void settle(std::uint64_t k);
    void reschedule(std::uint64_t k, const Session& s);
    void log_limited(stack::Instant now, const std::string& line);

    stack::tcp::TcpLayer& tcp_;
    std::string www_root_;
    int www_fd_;
    WakeQueue wakes_;  // before the sessions: their destructors may queue
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::unordered_map<std::uint64_t, Listener*> by_listener_;
    std::unordered_map<std::uint64_t, std::unique_ptr<Session>> sessions_;
    std::unordered_map<std::uint64_t, Listener*> session_owner_;
    // Session deadlines, ordered: (instant in µs, session key); scheduled_ maps key → its entry.
    std::set<std::pair<std::int64_t, std::uint64_t>> deadlines_;
    std::unordered_map<std::uint64_t, std::int64_t> scheduled_;
    std::shared_ptr<const tls::ServerConfig> tls_config_;
    TlsServiceOptions tls_options_;
    HttpServiceOptions http_options_;
    tls::TlsStats tls_counters_;
    bool serves_tls_ = false;
    Logger log_;
    AccessLog access_log_;
    stack::Instant now_;  // of the current handle_events()
    stack::Instant log_window_;
    unsigned log_lines_ = 0;
    std::uint64_t log_suppressed_ = 0;
    bool draining_ = false;
};

// Factories (services.cpp, http_service.cpp).
std::unique_ptr<Session> make_echo(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                   ServiceCounters& c);
std::unique_ptr<Session> make_discard(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                      ServiceCounters& c);
std::unique_ptr<Session> make_chargen(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                      ServiceCounters& c);
std::unique_ptr<Session> make_http(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                   ServiceCounters& c, const std::string& root, int root_fd,
                                   const HttpServiceOptions& options, stack::Instant now);

}  // namespace tunstackd
