// Channel: the application's byte stream to one peer over one of the stack's TCP sockets, either
// the socket itself (TcpChannel) or TLS 1.2 over it (TlsChannel, a tls::TlsSession on a
// tls::TcpStream). The daemon's services (tunstackd/services/channel.hpp wraps it with their
// lifecycle: gate, lingering close, deadlines) and the client (`tunstack get`) move their bytes
// through it, so http and https, echo and tls-echo run the same code.
//
// recv/send move bytes: n == 0 means "nothing now, wait for the next socket event"; failed means
// the connection is unusable (TCP reset or error, TLS failure), and error() says why.
// peer_finished(): the peer will send nothing more (TCP: FIN and everything read; TLS:
// close_notify).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/socket/socket.hpp"
#include "stack/tcp/tcp.hpp"
#include "tls/session.hpp"
#include "tls/tcp_stream.hpp"

namespace tools {

class Channel {
public:
    struct Io {
        std::size_t n = 0;
        bool failed = false;  // the connection is unusable (reset, TLS error)
    };

    virtual ~Channel() = default;
    virtual Io recv(stack::MutBytes out) = 0;
    virtual Io send(stack::Bytes data) = 0;
    virtual bool peer_finished() const = 0;
};

// The TCP socket itself.
class TcpChannel final : public Channel {
public:
    TcpChannel(stack::tcp::TcpLayer& tcp, stack::SocketHandle h) : tcp_(tcp), h_(h) {}

    Io recv(stack::MutBytes out) override;
    Io send(stack::Bytes data) override;
    bool peer_finished() const override;
    // Why the last recv/send failed.
    std::optional<stack::SocketError> error() const { return error_; }

private:
    stack::tcp::TcpLayer& tcp_;
    stack::SocketHandle h_;
    std::optional<stack::SocketError> error_;
};

// TLS over the TCP socket: the session and the stream it runs on, kept together (the session
// holds a reference to the stream). session() drives the handshake and the close.
class TlsChannel final : public Channel {
public:
    // The server side on an accepted socket; `counters` (may be null) outlives the channel.
    static stack::Result<std::unique_ptr<TlsChannel>, tls::Error> server(
        stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
        std::shared_ptr<const tls::ServerConfig> config, tls::TlsStats* counters);
    // The client side on a connected socket, verifying `target`.
    static stack::Result<std::unique_ptr<TlsChannel>, tls::Error> client(
        stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
        std::shared_ptr<const tls::ClientConfig> config, const tls::ClientTarget& target,
        tls::TlsStats* counters);

    TlsChannel(const TlsChannel&) = delete;
    TlsChannel& operator=(const TlsChannel&) = delete;

    Io recv(stack::MutBytes out) override;
    Io send(stack::Bytes data) override;
    bool peer_finished() const override { return session_->peer_closed(); }

    tls::TlsSession& session() { return *session_; }
    const tls::TlsSession& session() const { return *session_; }
    // Why the last recv/send failed.
    const std::optional<tls::Error>& error() const { return error_; }

private:
    TlsChannel(stack::tcp::TcpLayer& tcp, stack::SocketHandle h) : stream_(tcp, h) {}

    tls::TcpStream stream_;
    std::unique_ptr<tls::TlsSession> session_;
    std::optional<tls::Error> error_;
};

}  // namespace tools
