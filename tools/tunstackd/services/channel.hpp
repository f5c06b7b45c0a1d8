// Channel: the byte pipe a service Session talks through: a tools::Channel (tools/common/channel.hpp:
// recv/send/peer_finished, plain TCP or TLS over it) with the lifecycle a server needs. PlainChannel
// is the TCP socket itself; TlsChannel (tls_channel.cpp) is TLS over it, so the same echo and http
// sessions serve tls-echo and https unchanged.
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
#include "tools/common/channel.hpp"

namespace tls {
class ServerConfig;
struct TlsStats;
}  // namespace tls

namespace tunstackd {

// Lingering close (as nginx's lingering_close). Closing a socket that still has unread input resets
// the connection (RFC 9293 §3.10.4, RFC 2525 §2.17; the stack does as Linux), and that RST makes the
// peer discard our reply even if it is already in its receive queue: a 400 or 431 sent while the
// client is still sending its request would never be seen. So the send side is shut instead (FIN
// after the queued reply), input is read and dropped until the peer finishes (FIN or RST), and only
// then is the socket closed. Bounded: at most `time` in all, `timeout` without input, `max_bytes`
// dropped; past a bound the socket is closed as it is (a reset if the peer is still sending).
struct LingerOptions {
    stack::Duration time = stack::Duration::seconds(30);    // nginx lingering_time
    stack::Duration timeout = stack::Duration::seconds(5);  // nginx lingering_timeout
    std::size_t max_bytes = std::size_t{1} << 20;
};

class LingeringClose {
public:
    bool active() const { return active_; }
    // Shuts the sending side of `h` and starts dropping its input.
    void start(stack::Instant now, stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
               const LingerOptions& options = {});
    // Drops what arrived; true once the socket is closed (the handle released): the peer finished
    // or failed, or a bound was reached.
    bool pump(stack::Instant now, stack::tcp::TcpLayer& tcp, stack::SocketHandle h);
    stack::Instant deadline() const;

private:
    void release(stack::Instant now, stack::tcp::TcpLayer& tcp, stack::SocketHandle h);

    LingerOptions options_;
    stack::Instant started_, last_input_;
    std::size_t dropped_ = 0;
    bool active_ = false;
};

// recv/send/peer_finished come from tools::Channel (Io::failed: finish the session).
class Channel : public tools::Channel {
public:
    enum class Gate : std::uint8_t { Ready, Wait, Done };

    virtual Gate begin(stack::Instant now, std::uint8_t bits) = 0;
    // Orderly close; `linger`: a LingeringClose after it (TLS: after close_notify).
    virtual void close(stack::Instant now, bool linger) = 0;
    virtual void abort(stack::Instant now) = 0;
    virtual bool closed() const = 0;
    // Whether the channel ended in an error (for the session's counters).
    virtual bool failed() const = 0;
    virtual stack::Instant deadline() const { return stack::Instant::never(); }
    virtual void on_deadline(stack::Instant /*now*/) {}
};

class PlainChannel final : public Channel {
public:
    PlainChannel(stack::tcp::TcpLayer& tcp, stack::SocketHandle h)
        : tcp_(tcp), h_(h), io_(tcp, h) {}
    Gate begin(stack::Instant now, std::uint8_t bits) override;
    Io recv(stack::MutBytes out) override { return io_.recv(out); }
    Io send(stack::Bytes data) override { return io_.send(data); }
    bool peer_finished() const override { return io_.peer_finished(); }
    void close(stack::Instant now, bool linger) override;
    void abort(stack::Instant now) override;
    bool closed() const override { return closed_; }
    bool failed() const override { return failed_; }
    stack::Instant deadline() const override;
    void on_deadline(stack::Instant now) override;

private:
    stack::tcp::TcpLayer& tcp_;
    stack::SocketHandle h_;
    tools::TcpChannel io_;
    LingeringClose linger_;
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
                                          tls::TlsStats& counters, const TlsChannelOptions& options,
                                          std::function<void(const std::string&)> log);

}  // namespace tunstackd
