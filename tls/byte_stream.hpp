// ByteStream: the one thing TlsSession needs from a transport, a non-blocking byte pipe. The
// stack's TCP sockets are one (tls/tcp_stream.hpp); the unit tests use in-memory pipes with any
// capacity.
//
// Contract (lwIP altcp-like, DESIGN.md §3.9):
//   send(data)  the number of bytes taken (>= 1), or WouldBlock when none fit now (the stream then
//               reports writability to its owner, e.g. kEventWritable); never Ok(0) for non-empty
//               data
//   recv(out)   bytes read (>= 1), WouldBlock when nothing is buffered, Eof once the peer finished
//               sending and everything was read, or an error (Reset, ...)
//   shutdown_send()  no more sends: the peer sees end-of-stream after the queued bytes (TCP FIN)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"

namespace tls {

enum class StreamError : std::uint8_t {
    WouldBlock,  // nothing can be done now; wait for readiness
    Eof,         // recv: the peer finished sending (TCP FIN) and all data was read
    Reset,       // the connection was reset
    TimedOut,    // the transport gave up (e.g. TCP user timeout)
    Closed,      // used after shutdown/close on our side
    Other,
};

constexpr std::string_view to_string(StreamError e) {
    switch (e) {
        case StreamError::WouldBlock: return "would block";
        case StreamError::Eof: return "end of stream";
        case StreamError::Reset: return "connection reset";
        case StreamError::TimedOut: return "connection timed out";
        case StreamError::Closed: return "stream closed";
        case StreamError::Other: return "stream error";
    }
    return "stream error";
}

class ByteStream {
public:
    virtual ~ByteStream() = default;
    virtual stack::Result<std::size_t, StreamError> send(stack::Bytes data) = 0;
    virtual stack::Result<std::size_t, StreamError> recv(stack::MutBytes out) = 0;
    virtual void shutdown_send() = 0;
};

}  // namespace tls
