// Channel: the byte pipe a service Session talks through. PlainChannel is the TCP socket itself;
// TlsChannel (tls_channel.cpp) is TLS over it, so the same echo and http sessions serve tls-echo
// and https unchanged.
//
// The ServiceHost hands every socket event to Session::handle(), which first lets the channel act
// on it (begin): TLS drives its handshake and pending output there and tells the session whether it
// may run (Ready), must wait (Wait: handshake in progress) or is over (Done: failed, reset or
// closed). recv/send then move plaintext: 0 means "nothing now, wait for the next event". close()
// is orderly (TLS: close_notify, then FIN); the channel is closed() once the socket is handed back,
// which for TLS can take more events (output the socket could not take yet). Deadlines (TLS
// handshake, close) are reported by deadline() and fired by the host through on_deadline().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "stack/base/bytes.hpp"
#include "stack/base/time.hpp"
#include "stack/socket/socket.hpp"
#include "stack/tcp/tcp.hpp"

namespace tls {
class ServerConfig;
struct Counters;
}  // namespace tls

namespace tunstackd {

class Channel {
public:
    enum class Gate : std::uint8_t { Ready, Wait, Done };
    struct Io {
        std::size_t n = 0;
        bool failed = false;  // the connection is unusable (reset, TLS error): finish the session
    };

    virtual ~Channel() = default;
    virtual Gate begin(stack::Instant now, std::uint8_t bits) = 0;
    virtual Io recv(stack::Instant now, stack::MutBytes out) = 0;
    virtual Io send(stack::Instant now, stack::Bytes data) = 0;
    // The peer will send nothing more (TCP: FIN and all read; TLS: close_notify).
    virtual bool peer_finished() const = 0;
    virtual void close(stack::Instant now) = 0;
    virtual void abort(stack::Instant now) = 0;
    virtual bool closed() const = 0;
    // Whether the channel ended in an error (for the session's counters).
    virtual bool failed() const = 0;
    virtual stack::Instant deadline() const { return stack::Instant::never(); }
    virtual void on_deadline(stack::Instant /*now*/) {}
};

class PlainChannel final : public Channel {
public:
    PlainChannel(stack::tcp::TcpLayer& tcp, stack::SocketHandle h) : tcp_(tcp), h_(h) {}
    Gate begin(stack::Instant now, std::uint8_t bits) override;
    Io recv(stack::Instant now, stack::MutBytes out) override;
    Io send(stack::Instant now, stack::Bytes data) override;
    bool peer_finished() const override;
    void close(stack::Instant now) override;
    void abort(stack::Instant now) override;
    bool closed() const override { return closed_; }
    bool failed() const override { return failed_; }

private:
    stack::tcp::TcpLayer& tcp_;
    stack::SocketHandle h_;
    bool closed_ = false;
    bool failed_ = false;
};

struct TlsChannelOptions {
    stack::Duration handshake_timeout = stack::Duration::seconds(10);
    // How long an orderly close may wait for the peer to take our last bytes before a reset.
    stack::Duration close_timeout = stack::Duration::seconds(10);
};

// A server-side TLS channel on an accepted socket (tls_channel.cpp). `counters` outlives it; `log`
// gets one line when the TLS session fails (peer address, reason, mbedTLS message).
std::unique_ptr<Channel> make_tls_channel(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                          stack::Instant now,
                                          std::shared_ptr<const tls::ServerConfig> config,
                                          tls::Counters& counters, const TlsChannelOptions& options,
                                          std::function<void(const std::string&)> log);

}  // namespace tunstackd
