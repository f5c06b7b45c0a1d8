#include "tls/tcp_stream.hpp"

namespace tls {

StreamError TcpStream::map(stack::SocketError e) {
    switch (e) {
        case stack::SocketError::Reset:
        case stack::SocketError::Refused:
        case stack::SocketError::Aborted: return StreamError::Reset;
        case stack::SocketError::TimedOut: return StreamError::TimedOut;
        case stack::SocketError::Closed:
        case stack::SocketError::InvalidHandle: return StreamError::Closed;
        case stack::SocketError::WouldBlock:
        case stack::SocketError::NotConnected: return StreamError::WouldBlock;
        default: return StreamError::Other;
    }
}

stack::Result<std::size_t, StreamError> TcpStream::send(stack::Bytes data) {
    auto n = tcp_.send(h_, data);
    if (!n) return stack::Err(map(n.error()));
    if (*n == 0 && !data.empty()) return stack::Err(StreamError::WouldBlock);
    return *n;
}

stack::Result<std::size_t, StreamError> TcpStream::recv(stack::MutBytes out) {
    auto n = tcp_.recv(h_, out);
    if (!n) return stack::Err(map(n.error()));
    if (*n > 0) return *n;
    if (tcp_.eof(h_).value_or(false)) return stack::Err(StreamError::Eof);
    return stack::Err(StreamError::WouldBlock);
}

void TcpStream::shutdown_send() { (void)tcp_.shutdown(h_); }

}  // namespace tls
