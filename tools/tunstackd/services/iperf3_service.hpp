// The iperf3 service (`--serve iperf3:PORT`): stock `iperf3 -c` measures TCP throughput against the
// stack, forward (client → stack), reverse (-R) and with parallel streams (-P). Protocol:
// tools/common/iperf3.hpp.
//
// Every connection to the port starts as an Iperf3Session that reads the 37-byte cookie. A cookie
// naming the test that is creating its streams makes the connection one of its data streams;
// any other cookie opens a new test on a control connection, or gets ACCESS_DENIED while a test
// runs (one test at a time, as iperf3). The control session owns the Test; data sessions point
// to it and are detached when it ends.
//
// Sessions act on each other only through the host's wake queue: a session that changes what
// another must do (a stream joined, the test started or ended) queues that session's handle, and
// the ServiceHost runs it before handle_events() returns, so each session still makes its own
// progress inside its own handle() and the host reschedules its deadline.
//
// Bounds: the cookie and the parameters must arrive within 10 s of connecting, the streams within
// 10 s of CREATE_STREAMS, TEST_END within time + omit + 10 s of TEST_START, the results exchange
// within 10 s; a control message is at most 64 KiB; at most 128 streams and 3600 s are accepted
// (ServerLimits). Bad input (a malformed cookie, unparsable or refused parameters, an unexpected
// state byte, bad results) is counted by reason, answered with SERVER_ERROR where iperf3 would,
// and the connection closed; nothing else is affected.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tools/common/iperf3.hpp"
#include "tools/tunstackd/services/services.hpp"

namespace tunstackd {

struct Iperf3Counters {
    std::uint64_t tests = 0;          // started (TEST_START sent)
    std::uint64_t tests_done = 0;     // ended with IPERF_DONE
    std::uint64_t tests_aborted = 0;  // control closed/reset early, CLIENT_TERMINATE, timeout
    std::uint64_t streams = 0;        // data streams joined
    std::uint64_t busy = 0;           // ACCESS_DENIED: a test was running
    std::uint64_t bad_cookie = 0;
    std::uint64_t bad_params = 0;      // not a JSON message, or JSON that is no parameter object
    std::uint64_t refused_params = 0;  // valid parameters we do not serve (UDP, limits, ...)
    std::uint64_t bad_message = 0;     // an unexpected state byte or bad results
    std::uint64_t timeouts = 0;
};

class Iperf3Test;

class Iperf3Hub {
public:
    Iperf3Hub(stack::tcp::TcpLayer& tcp, WakeQueue& wakes,
              const tools::iperf3::ServerLimits& limits = {});
    ~Iperf3Hub();
    Iperf3Hub(const Iperf3Hub&) = delete;
    Iperf3Hub& operator=(const Iperf3Hub&) = delete;

    std::unique_ptr<Session> make_session(stack::SocketHandle h, ServiceCounters& c,
                                          stack::Instant now);
    // "stat <prefix><counter> N" lines.
    void append_stats(const std::string& prefix, std::string& out) const;

    // For the sessions (iperf3_service.cpp).
    stack::tcp::TcpLayer& tcp() { return tcp_; }
    Iperf3Counters& counters() { return counters_; }
    const tools::iperf3::ServerLimits& limits() const { return limits_; }
    void wake(stack::SocketHandle h) { wakes_.push_back(h); }
    Iperf3Test* find(const std::string& cookie);
    bool busy() const { return !tests_.empty(); }
    void add(const std::string& cookie, Iperf3Test* t) { tests_[cookie] = t; }
    void remove(const std::string& cookie) { tests_.erase(cookie); }
    // What a sending stream writes (the same bytes for all).
    const std::vector<std::uint8_t>& pattern() const { return pattern_; }

private:
    stack::tcp::TcpLayer& tcp_;
    WakeQueue& wakes_;
    tools::iperf3::ServerLimits limits_;
    Iperf3Counters counters_;
    std::map<std::string, Iperf3Test*> tests_;
    std::vector<std::uint8_t> pattern_;
};

}  // namespace tunstackd
