// TcpStream: a ByteStream over one of the stack's TCP sockets (stack::tcp::TcpLayer + handle).
//
// Readiness comes from the stack's own events (kEventReadable/kEventWritable):
// a send() that could not take everything leaves the socket armed for kEventWritable, a recv() that
// found nothing waits for kEventReadable, so a session never polls.
#pragma once

#include "stack/socket/socket.hpp"
#include "stack/tcp/tcp.hpp"
#include "tls/byte_stream.hpp"

namespace tls {

class TcpStream final : public ByteStream {
public:
    TcpStream(stack::tcp::TcpLayer& tcp, stack::SocketHandle h) : tcp_(tcp), h_(h) {}

    stack::SocketHandle handle() const { return h_; }

    stack::Result<std::size_t, StreamError> send(stack::Bytes data) override;
    stack::Result<std::size_t, StreamError> recv(stack::MutBytes out) override;
    void shutdown_send() override;

    static StreamError map(stack::SocketError e);

private:
    stack::tcp::TcpLayer& tcp_;
    stack::SocketHandle h_;
};

}  // namespace tls
