// ConnectionEnv: everything a Connection needs from outside itself, and nothing more: the output of its
// segments, the stack-wide challenge-ACK budget (RFC 5961 §7), the path facts (MTU, TSO), its TSval
// offset, the configuration and the counters. TcpLayer implements it; a test implements it with a
// fake to drive one Connection directly (tests/tcp_parts/connection_direct_test.cpp).
//
// Nothing flows back through it: what happened to a connection (readiness bits for the application,
// handshake completed, a TIME-WAIT record to keep, output pending) accumulates in its
// ConnectionEvents (connection.hpp), which the layer takes after each call into the connection
// (TcpLayer::settle), together with what it reads off the connection itself (state, next deadline,
// buffer bytes).
#pragma once

#include <cstdint>

#include "stack/base/bytes.hpp"
#include "stack/base/time.hpp"
#include "stack/stats.hpp"
#include "stack/tcp/config.hpp"

namespace stack::tcp {

class Connection;
struct Endpoint;

class ConnectionEnv {
public:
    // One segment, `header` (TCP header with its checksum) + payload1 + payload2, to c.remote().
    // False when it could not be queued (the TX queue is full).
    virtual bool emit(const Connection& c, Bytes header, Bytes payload1, Bytes payload2) = 0;
    // A super-segment (TSO): cut by the device into segments of `gso_size` payload bytes;
    // `partial_checksum` as GsoInfo::csum_partial.
    virtual bool emit_gso(const Connection& c, Bytes header, Bytes payload1, Bytes payload2,
                          std::uint32_t gso_size, bool partial_checksum) = 0;
    // The global challenge-ACK budget (RFC 5961 §7); consumes one if true.
    virtual bool challenge_ack_allowed(Instant now) = 0;
    // The TSval offset for a connection (IsnGenerator::ts_offset).
    virtual std::uint32_t ts_offset(const Endpoint& local, const Endpoint& remote) const = 0;
    virtual std::uint16_t mtu() const = 0;
    // 0 without TSO; else the largest super-packet (StackConfig::tso_max_size).
    virtual std::uint32_t tso_max_size() const = 0;
    virtual bool tso_partial_checksum() const = 0;
    virtual const TcpConfig& config() const = 0;
    // Where the connection counts (the one accessor: its type is the counters' type).
    virtual TcpStats& stats() = 0;

protected:
    ~ConnectionEnv() = default;
};

}  // namespace stack::tcp
