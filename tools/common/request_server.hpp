// RequestServer: a tiny one-request-per-connection server on a kernel socket, run by the daemon's
// EventLoop (never by the stack): the control socket (Unix, line protocol) and the --metrics HTTP
// endpoint (TCP on loopback) both use it.
//
// Each accepted client is non-blocking: its request is read until the handler's terminator
// ("\n" for the control protocol, "\r\n\r\n" for HTTP) or `max_request` bytes, the handler turns it
// into a reply, the reply is written as the socket takes it (EPOLLOUT), and the connection is
// closed. Bounded: at most kMaxClients at once (more are accepted and closed at once), each for at
// most kClientTimeout. Nothing here blocks the loop.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "drivers/event_loop.hpp"
#include "stack/base/result.hpp"
#include "stack/wire/address.hpp"

namespace tools {

class RequestServer {
public:
    // Returns the complete reply for one complete request (terminator included).
    using Handler = std::function<std::string(const std::string& request)>;

    static constexpr std::size_t kMaxClients = 32;
    static constexpr std::int64_t kClientTimeoutMs = 5000;

    // Binds a Unix stream socket at `path` with mode 0600. An existing socket file at `path` that
    // no daemon answers on (left by a crash, or by a daemon that could not remove it after dropping
    // privileges) is replaced; one that answers is an error ("already in use").
    static stack::Result<std::unique_ptr<RequestServer>, std::string> listen_unix(
        drivers::EventLoop& loop, const std::string& path, std::string terminator,
        std::size_t max_request, Handler handler);
    // Binds a TCP socket on addr:port (SO_REUSEADDR).
    static stack::Result<std::unique_ptr<RequestServer>, std::string> listen_tcp(
        drivers::EventLoop& loop, stack::wire::Ipv4Address addr, std::uint16_t port,
        std::string terminator, std::size_t max_request, Handler handler);

    ~RequestServer();
    RequestServer(const RequestServer&) = delete;
    RequestServer& operator=(const RequestServer&) = delete;

    // Stops listening and removes the socket file (best effort: after dropping privileges the
    // directory may not allow it; the next start replaces the stale file).
    void close_listener();
    std::size_t clients() const;

private:
    struct Client;
    RequestServer(drivers::EventLoop& loop, int fd, std::string path, std::string terminator,
                  std::size_t max_request, Handler handler);
    void on_accept();
    void on_client(Client& c, drivers::IoEvents ev);
    void drop(Client& c);

    drivers::EventLoop& loop_;
    int fd_;
    std::string path_;  // Unix socket path, removed on close
    std::string terminator_;
    std::size_t max_request_;
    Handler handler_;
    std::vector<std::unique_ptr<Client>> clients_;
};

}  // namespace tools
