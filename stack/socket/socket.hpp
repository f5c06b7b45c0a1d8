// The stack's socket API types: handles, events and errors. The TCP operations (listen, accept,
// connect, send, recv, shutdown, close, abort, ...) are methods of stack::tcp::TcpLayer
// (stack/tcp/tcp.hpp), reached through Stack::tcp() (stack/stack.hpp); this header holds what
// the application sees.
//
// Sockets are handles (slab index + generation) into a table the stack owns (SocketTable,
// stack/socket/socket_table.hpp): a handle to a freed
// socket fails cleanly with SocketError::InvalidHandle, never touches another socket. Everything is
// non-blocking and event-driven: operations return what they could do now (send() returns the bytes
// taken, possibly 0 under backpressure) and the stack reports readiness through events drained with
// Stack::tcp().next_event() after ingress()/poll().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace stack {

struct SocketHandle {
    std::uint32_t index = ~std::uint32_t{0};
    std::uint32_t generation = 0;

    bool valid() const { return index != ~std::uint32_t{0}; }
    bool operator==(const SocketHandle&) const = default;
};

enum class SocketError : std::uint8_t {
    InvalidHandle,     // never issued, or already closed and freed
    WrongKind,         // e.g. send() on a listener, accept() on a connection
    AddressInUse,      // a listener (or connection) already owns the port
    NoPortsAvailable,  // connect(): no free ephemeral port for that destination
    TooManySockets,    // the socket table is full (StackConfig limits)
    NotConnected,      // the handshake has not completed
    WouldBlock,        // accept() with nothing queued
    Closed,            // send() after shutdown()/close() on this side
    Reset,             // the peer reset the connection (RST)
    Refused,           // connect() answered by RST (port closed)
    TimedOut,          // user timeout: retransmissions went unanswered; or SYN retries exhausted
    Aborted,           // abort() by the application
    InvalidArgument,
};

constexpr std::string_view to_string(SocketError e) {
    switch (e) {
        case SocketError::InvalidHandle: return "invalid socket handle";
        case SocketError::WrongKind: return "wrong kind of socket for this operation";
        case SocketError::AddressInUse: return "address in use";
        case SocketError::NoPortsAvailable: return "no ephemeral port available";
        case SocketError::TooManySockets: return "socket table full";
        case SocketError::NotConnected: return "not connected";
        case SocketError::WouldBlock: return "would block";
        case SocketError::Closed: return "connection closed for sending";
        case SocketError::Reset: return "connection reset by peer";
        case SocketError::Refused: return "connection refused";
        case SocketError::TimedOut: return "connection timed out";
        case SocketError::Aborted: return "connection aborted";
        case SocketError::InvalidArgument: return "invalid argument";
    }
    return "?";
}

// Readiness, as a bit mask: one event per socket carries every bit that became true since the last
// event for it was taken.
enum SocketEventBits : std::uint8_t {
    kEventReadable = 1,    // data to recv(), or EOF (recv returns 0 with eof), or a listener has a
                           // connection to accept()
    kEventWritable = 2,    // send buffer space became available
    kEventConnected = 4,   // the handshake completed (active or passive open)
    kEventPeerClosed = 8,  // the peer sent FIN: no more data will arrive after what is buffered
    kEventClosed = 16,     // the connection is fully closed; the handle stays valid until release
    kEventError = 32,      // see error(): reset, refused, timed out
};

struct SocketEvent {
    SocketHandle handle;
    std::uint8_t bits = 0;
};

}  // namespace stack

// Handles as keys of unordered containers (e.g. an application's per-socket state).
template <>
struct std::hash<::stack::SocketHandle> {
    std::size_t operator()(const ::stack::SocketHandle& h) const noexcept {
        return std::hash<std::uint64_t>{}(std::uint64_t{h.generation} << 32 | h.index);
    }
};
